#!/usr/bin/env python3
"""Times PyTorch's F.linear + cross_entropy + backward (gradients of the
hidden states, the weight and the bias) on the CPU, as
`xent bench --loss linear-softmax` times xent's fused linear loss, and
reports the process's peak resident memory.

    /usr/bin/python3 bench/torch_linear.py --shape 4096x512x32000 --threads 2
"""
import argparse
import json
import resource
import time

import torch
import torch.nn.functional as F


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shape", required=True, help="NxDxC")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    n, d, c = (int(v) for v in a.shape.split("x"))
    g = torch.Generator().manual_seed(1)
    h = torch.randn(n, d, generator=g).requires_grad_(True)
    w = (0.05 * torch.randn(c, d, generator=g)).requires_grad_(True)
    b = torch.zeros(c, requires_grad=True)
    y = torch.randint(0, c, (n,), generator=g)

    def step():
        h.grad = w.grad = b.grad = None
        F.cross_entropy(F.linear(h, w, b), y).backward()

    step()
    times = []
    for _ in range(a.runs):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    times.sort()
    t = times[len(times) // 2]
    print(json.dumps({"shape": [n, d, c], "threads": a.threads, "torch": torch.__version__,
                      "ms_per_call": t * 1e3, "gflop_per_s": 6 * n * d * c / t / 1e9,
                      "max_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))


if __name__ == "__main__":
    main()
