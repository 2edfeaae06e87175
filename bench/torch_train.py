"""Training throughput of xent's default network in PyTorch on the CPU.

The network, batch, optimiser and loss are those of `xent train` (package
nn's DefaultNetwork): conv 3x3x16, ReLU, maxpool, conv 3x3x32, ReLU,
maxpool, dense 1568->128, ReLU, dense 128->10, Adam lr 1e-3, softmax
cross-entropy, on random 28x28 batches (the data does not change the
time). Prints one JSON line with the median images/s over --runs.

    python3 bench/torch_train.py [--batch 64] [--threads 2] [--steps 200] [--runs 5]
"""
import argparse
import json
import statistics
import time

import torch
from torch import nn


def network():
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(1568, 128), nn.ReLU(), nn.Linear(128, 10))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    net = network()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    x = torch.rand(a.batch, 1, 28, 28)
    y = torch.randint(0, 10, (a.batch,))

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()

    for _ in range(20):
        step()
    rates = []
    for _ in range(a.runs):
        t = time.perf_counter()
        for _ in range(a.steps):
            step()
        rates.append(a.steps * a.batch / (time.perf_counter() - t))
    print(json.dumps({"images_per_s": statistics.median(rates), "runs": rates,
                      "torch": torch.__version__, "threads": a.threads, "batch": a.batch}))


if __name__ == "__main__":
    main()
