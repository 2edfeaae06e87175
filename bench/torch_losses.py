#!/usr/bin/env python3
"""Times PyTorch's CPU forward+backward of xent's losses, as xent bench does.

    /usr/bin/python3 bench/torch_losses.py --loss softmax --shape 4096x1000 --threads 1

Prints one JSON object: ns_per_element, the median of --runs runs of at
least --min-time seconds each. The inputs match xent bench's: logits in
[-4, 4], targets as internal/gradcheck.RandomInputs draws them, reduction
mean, default options. The softmax-family losses without a PyTorch module
are written as PyTorch users write them.
"""
import argparse
import json
import time

import torch
import torch.nn.functional as F
from torchvision.ops import sigmoid_focal_loss


def inputs(loss, shape, dtype, gen):
    x = (8 * torch.rand(shape, dtype=dtype, generator=gen) - 4).requires_grad_(True)
    N, C, rest = shape[0], shape[1], list(shape[2:])
    if loss in ("softmax", "softmax-focal"):
        t = torch.randint(0, C, [N] + rest, generator=gen)
    elif loss in ("sigmoid", "sigmoid-focal"):
        t = (torch.rand(shape, generator=gen) < 0.5).to(dtype)
    elif loss == "softmax-prob":
        t = torch.rand(shape, dtype=dtype, generator=gen)
    else:  # multilabel-softmax
        t = (torch.rand(shape, generator=gen) < 0.33).to(dtype)
    return x, t


def forward(loss, x, t):
    if loss in ("softmax", "softmax-prob"):
        return F.cross_entropy(x, t)
    if loss == "sigmoid":
        return F.binary_cross_entropy_with_logits(x, t)
    if loss == "sigmoid-focal":
        return sigmoid_focal_loss(x, t, reduction="mean")
    if loss == "multilabel-softmax":
        m = t.sum(1)
        per = -(t * F.log_softmax(x, 1)).sum(1) / m.clamp_min(1)
        return per[m > 0].mean()
    if loss == "softmax-focal":
        logp = F.log_softmax(x, 1).gather(1, t.unsqueeze(1)).squeeze(1)
        return (-(1 - logp.exp()) ** 2 * logp).mean()
    raise ValueError(loss)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--loss", required=True)
    ap.add_argument("--shape", required=True)
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--min-time", type=float, default=0.2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    shape = [int(d) for d in a.shape.split("x")]
    dtype = {"float32": torch.float32, "float64": torch.float64}[a.dtype]
    x, t = inputs(a.loss, shape, dtype, torch.Generator().manual_seed(1))

    def step():
        x.grad = None
        forward(a.loss, x, t).backward()

    step()
    times = []
    for _ in range(a.runs):
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < a.min_time:
            step()
            n += 1
        times.append((time.perf_counter() - start) / n)
    times.sort()
    elements = x.numel()
    print(json.dumps({"loss": a.loss, "shape": shape, "dtype": a.dtype, "threads": a.threads,
                      "torch": torch.__version__, "ns_per_element": times[len(times) // 2] * 1e9 / elements}))


if __name__ == "__main__":
    main()
