#!/usr/bin/env python3
"""Loads a checkpoint of `xent train` into PyTorch and measures its test
accuracy: the recipe of the README's "Using a trained network", run.

    /usr/bin/python3 tools/torch_predict.py xent-train/checkpoint.safetensors DIR

DIR holds the idx files of the test split (t10k-images-idx3-ubyte[.gz],
t10k-labels-idx1-ubyte[.gz]). Needs numpy and torch (Debian's
python3-torch); the checkpoint is read without the safetensors package.
"""
import gzip
import json
import os
import struct
import sys

import numpy as np
import torch
from torch import nn


def load_safetensors(path):
    """The tensors and the metadata of a safetensors file."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, t in header.items():
        assert t["dtype"] == "F32", t["dtype"]
        lo, hi = t["data_offsets"]
        tensors[name] = torch.from_numpy(np.frombuffer(data[lo:hi], dtype="<f4").reshape(t["shape"]).copy())
    return tensors, meta


def network(channels, height, width, classes):
    """xent's nn.Classifier as nn.Sequential: the same layer indices."""
    return nn.Sequential(
        nn.Conv2d(channels, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * (height // 4) * (width // 4), 128), nn.ReLU(),
        nn.Linear(128, classes))


def read_idx(path):
    if not os.path.exists(path):
        path += ".gz"
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        magic, n = struct.unpack(">II", f.read(8))
        if magic == 0x803:
            h, w = struct.unpack(">II", f.read(8))
            return np.frombuffer(f.read(), dtype=np.uint8).reshape(n, 1, h, w)
        return np.frombuffer(f.read(), dtype=np.uint8)


def main():
    checkpoint, data_dir = sys.argv[1], sys.argv[2]
    tensors, meta = load_safetensors(checkpoint)
    c, h, w = (int(v) for v in meta["input"].split("×"))
    net = network(c, h, w, int(meta["classes"]))
    # Parameters are "net.<layer>.weight|bias"; the rest is the optimiser's.
    net.load_state_dict({k[len("net."):]: v for k, v in tensors.items() if k.startswith("net.")})
    net.eval()
    images = read_idx(os.path.join(data_dir, "t10k-images-idx3-ubyte"))
    labels = read_idx(os.path.join(data_dir, "t10k-labels-idx1-ubyte"))
    x = torch.from_numpy(images.astype(np.float32) / 255)  # the scaling xent trains with
    with torch.no_grad():
        predicted = torch.cat([net(x[i:i + 500]).argmax(1) for i in range(0, len(x), 500)])
    correct = int((predicted.numpy() == labels).sum())
    print(f"PyTorch {torch.__version__}: accuracy {100 * correct / len(labels):.2f}% ({correct} of {len(labels)})")


if __name__ == "__main__":
    main()
