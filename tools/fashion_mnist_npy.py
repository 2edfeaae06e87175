#!/usr/bin/env python3
"""Writes Fashion-MNIST from Debian's dataset-fashion-mnist package as .npy
files, to show `xent train --images` on a data set of one's own:

    /usr/bin/python3 tools/fashion_mnist_npy.py [DIR]

writes train-images.npy (60000, 28, 28) uint8, train-labels.npy (60000,)
int64, test-images.npy and test-labels.npy (10000 each) into DIR (default .).
Needs numpy.
"""
import gzip
import os
import sys

import numpy as np

SOURCE = "/usr/share/datasets/fashion-mnist/"


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "."
    for split, name in (("train", "train"), ("t10k", "test")):
        with gzip.open(SOURCE + split + "-images-idx3-ubyte.gz") as f:
            x = np.frombuffer(f.read()[16:], np.uint8).reshape(-1, 28, 28)
        with gzip.open(SOURCE + split + "-labels-idx1-ubyte.gz") as f:
            y = np.frombuffer(f.read()[8:], np.uint8).astype(np.int64)
        np.save(os.path.join(out, name + "-images.npy"), x)
        np.save(os.path.join(out, name + "-labels.npy"), y)
        print(f"{name}: {x.shape[0]} images of {x.shape[1]}×{x.shape[2]}")


if __name__ == "__main__":
    main()
