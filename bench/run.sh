#!/usr/bin/env bash
# Runs xent bench and PyTorch on the same machine, in one run, for the
# shapes of the speed goals — the dense (N, C, H, W) maps and short rows
# convolutional networks train on first, then long rows — and prints a
# markdown table of medians and ratios, with the CPU and PyTorch's BLAS.
# Needs Go and Debian's python3-torch python3-torchvision
# libopenblas0-pthread.
#
#   bench/run.sh            # the whole table (a few minutes)
#   RUNS=3 bench/run.sh     # fewer runs per measurement
#   BASE=v1 bench/run.sh    # and a build of revision v1, in the same run
#
# With BASE, each row also times that revision's xent (built in a
# temporary worktree) right after this tree's: "base ns/elem" and "base/xent"
# say whether a change made anything slower.
#
# Each row times xent and PyTorch back to back, each the median of $RUNS
# runs; "× torch" is PyTorch's time over xent's, "% copy" xent's speed over
# a copy of the same bytes on as many goroutines, timed in the same process.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
. bench/torch.sh
torch_check
tmp=$(mktemp -d)
bin=$tmp/xent
trap 'if [ -n "${BASE:-}" ]; then git worktree remove --force "$tmp/base" 2>/dev/null; fi; rm -rf "$tmp"' EXIT
go build -o "$bin" ./cmd/xent
if [ -n "${BASE:-}" ]; then
	git worktree add -q --detach "$tmp/base" "$BASE"
	(cd "$tmp/base" && go build -o "$tmp/xent-base" ./cmd/xent)
fi

rows=(
	"softmax 16x21x64x64 float32 1"
	"softmax 8x19x128x128 float32 1"
	"softmax-focal 16x21x64x64 float32 1"
	"multilabel-softmax 16x21x64x64 float32 1"
	"softmax 65536x10 float32 1"
	"softmax 65536x21 float32 1"
	"sigmoid-focal 16x80x32x32 float32 1"
	"softmax 16x21x64x64 float64 1"
	"softmax 65536x10 float64 1"
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

echo "CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1); PyTorch $(torch_version) on OpenBLAS"
if [ -n "${BASE:-}" ]; then
	echo "| loss | shape | dtype | workers | path | xent ns/elem | torch ns/elem | × torch | xent GB/s | copy GB/s | % copy | base ns/elem | base/xent |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
else
	echo "| loss | shape | dtype | workers | path | xent ns/elem | torch ns/elem | × torch | xent GB/s | copy GB/s | % copy |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|"
fi
for row in "${rows[@]}"; do
	read -r loss shape dtype workers <<<"$row"
	x=$("$bin" bench --loss "$loss" --shape "$shape" --dtype "$dtype" --workers "$workers" --runs "$RUNS" --json)
	bn=
	if [ -n "${BASE:-}" ]; then
		bn=$("$tmp/xent-base" bench --loss "$loss" --shape "$shape" --dtype "$dtype" --workers "$workers" --runs "$RUNS" --json | field ns_per_element)
	fi
	t=$(torch_run "$workers" bench/torch_losses.py --loss "$loss" --shape "$shape" --dtype "$dtype" --threads "$workers" --runs "$RUNS")
	xn=$(echo "$x" | field ns_per_element)
	tn=$(echo "$t" | field ns_per_element)
	awk -v l="$loss" -v s="$shape" -v d="$dtype" -v w="$workers" -v p="$(echo "$x" | field path)" \
		-v xn="$xn" -v tn="$tn" -v g="$(echo "$x" | field gb_per_s)" -v c="$(echo "$x" | field copy_gb_per_s)" -v bn="$bn" \
		'BEGIN { printf "| %s | %s | %s | %s | %s | %.3f | %.2f | %.1f× | %.1f | %.1f | %.0f%% |", l, s, d, w, p, xn, tn, tn/xn, g, c, 100*g/c
			if (bn != "") printf " %.3f | %.2f |", bn, bn/xn
			printf "\n" }'
done
