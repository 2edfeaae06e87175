#!/usr/bin/env bash
# The fused linear layer + softmax cross-entropy against the materialized
# computation and PyTorch, in one run, each in its own process so that each
# peak resident memory is its own:
#
#   bench/linear.sh [NxDxC] [workers]       (default 4096x512x32000, 2)
#
# Needs Go and Debian's python3-torch. Prints a markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
shape=${1:-4096x512x32000}
workers=${2:-2}
. bench/torch.sh
torch_check
bin=$(mktemp -d)/xent
trap 'rm -rf "$(dirname "$bin")"' EXIT
go build -o "$bin" ./cmd/xent

field() { sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p" | tr -d '"'; }
chunked=$("$bin" bench --loss linear-softmax --shape "$shape" --workers "$workers" --runs 3 --min-time 1ms --json)
direct=$("$bin" bench --loss linear-softmax --shape "$shape" --workers "$workers" --runs 3 --min-time 1ms --json --materialized)
torch=$(torch_run "$workers" bench/torch_linear.py --shape "$shape" --threads "$workers" --runs 3)

echo "| $shape, $workers workers | ms/call | GFLOP/s | extra N×C memory | peak RSS | time vs xent chunked | peak RSS vs xent chunked |"
echo "|---|---|---|---|---|---|---|"
ct=$(echo "$chunked" | field ms_per_call); cr=$(echo "$chunked" | field max_rss_bytes)
row() {
	awk -v name="$1" -v t="$2" -v g="$3" -v x="$4" -v r="$5" -v ct="$ct" -v cr="$cr" \
		'BEGIN { printf "| %s | %.0f | %.0f | %s | %.0f MiB | %.2f× | %.2f× |\n", name, t, g, x, r/1048576, t/ct, r/cr }'
}
row "xent, chunked (linear)" "$ct" "$(echo "$chunked" | field gflop_per_s)" "$(echo "$chunked" | field extra_bytes | awk '{printf "%.0f MiB", $1/1048576}')" "$cr"
row "xent, materialized" "$(echo "$direct" | field ms_per_call)" "$(echo "$direct" | field gflop_per_s)" "$(echo "$direct" | field extra_bytes | awk '{printf "%.0f MiB", $1/1048576}')" "$(echo "$direct" | field max_rss_bytes)"
row "PyTorch $(torch_version) on OpenBLAS" "$(echo "$torch" | field ms_per_call)" "$(echo "$torch" | field gflop_per_s)" "(autograd)" "$(echo "$torch" | field max_rss_bytes)"
