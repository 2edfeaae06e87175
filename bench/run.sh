#!/usr/bin/env bash
# Runs xent bench and PyTorch on the same machine, in one run, for the
# shapes of the speed goals, and prints a markdown table of medians and
# ratios. Needs Go and Debian's python3-torch python3-torchvision.
#
#   bench/run.sh            # the whole table (a few minutes)
#   RUNS=3 bench/run.sh     # fewer runs per measurement
#
# Each row times xent and PyTorch back to back, each the median of $RUNS
# runs; "× torch" is PyTorch's time over xent's, "% copy" xent's speed over
# a copy of the same bytes on as many goroutines, timed in the same process.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
PY=${PY:-/usr/bin/python3}
bin=$(mktemp -d)/xent
trap 'rm -rf "$(dirname "$bin")"' EXIT
go build -o "$bin" ./cmd/xent

rows=(
	"softmax 4096x1000 float32 1"
	"softmax 256x32000 float32 1"
	"softmax 65536x80 float32 1"
	"softmax 256x32000 float32 2"
	"sigmoid 4096x1000 float32 1"
	"sigmoid-focal 4096x1000 float32 1"
	"softmax-prob 4096x1000 float32 1"
	"multilabel-softmax 4096x1000 float32 1"
	"softmax-focal 4096x1000 float32 1"
	"softmax 4096x1000 float64 1"
	"sigmoid 4096x1000 float64 1"
)
if [ $# -gt 0 ]; then rows=("$@"); fi

field() { sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p" | tr -d '"'; }

echo "| loss | shape | dtype | workers | path | xent ns/elem | torch ns/elem | × torch | xent GB/s | copy GB/s | % copy |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for row in "${rows[@]}"; do
	read -r loss shape dtype workers <<<"$row"
	x=$("$bin" bench --loss "$loss" --shape "$shape" --dtype "$dtype" --workers "$workers" --runs "$RUNS" --json)
	t=$("$PY" bench/torch_losses.py --loss "$loss" --shape "$shape" --dtype "$dtype" --threads "$workers" --runs "$RUNS")
	xn=$(echo "$x" | field ns_per_element)
	tn=$(echo "$t" | field ns_per_element)
	awk -v l="$loss" -v s="$shape" -v d="$dtype" -v w="$workers" -v p="$(echo "$x" | field path)" \
		-v xn="$xn" -v tn="$tn" -v g="$(echo "$x" | field gb_per_s)" -v c="$(echo "$x" | field copy_gb_per_s)" \
		'BEGIN { printf "| %s | %s | %s | %s | %s | %.3f | %.2f | %.1f× | %.1f | %.1f | %.0f%% |\n", l, s, d, w, p, xn, tn, tn/xn, g, c, 100*g/c }'
done
