#!/usr/bin/env bash
# Training throughput of the default network (batch 64, Adam, softmax
# cross-entropy) in xent and in PyTorch on the CPU, with the same number of
# threads, in one run: the two alternate --rounds times and the medians are
# compared.
#
#   bench/train.sh [workers] [rounds]       (default 2, 3)
#
# Needs Go and Debian's python3-torch. Prints a markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
workers=${1:-2}
rounds=${2:-3}
. bench/torch.sh
torch_check
bin=$(mktemp -d)/nn.test
trap 'rm -rf "$(dirname "$bin")"' EXIT
go test -c -o "$bin" ./nn

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
xs=() ts=()
for _ in $(seq "$rounds"); do
	xs+=($("$bin" -test.run XXX -test.bench "TrainStep/workers=$workers\$" -test.benchtime 200x -test.count 3 |
		awk '/images\/s/ { for (i = 1; i < NF; i++) if ($(i+1) == "images/s") print $i }' | median))
	ts+=($(torch_run "$workers" bench/torch_train.py --threads "$workers" --steps 200 --runs 3 |
		sed -n 's/.*"images_per_s": \([0-9.]*\).*/\1/p'))
done
x=$(printf '%s\n' "${xs[@]}" | median)
t=$(printf '%s\n' "${ts[@]}" | median)
echo "| default network, batch 64, $workers threads | images/s (median of $rounds rounds) | vs PyTorch |"
echo "|---|---|---|"
awk -v x="$x" -v t="$t" -v v="$(torch_version) on OpenBLAS" 'BEGIN {
	printf "| xent (nn + xent.SoftmaxCrossEntropy) | %.0f | %.2f× |\n", x, x / t
	printf "| PyTorch %s | %.0f | 1.00× |\n", v, t }'
