"""Data files the tests make, in the real formats: IDX (gzipped or not) and small fake IDX datasets."""
from __future__ import annotations

import gzip
import struct

import numpy as np

from latentspace.data.registry import get_spec


def write_idx(path, array: np.ndarray, dtype_code=0x08, gz=True, truncate=0, header_dims=None):
    dims = header_dims if header_dims is not None else array.shape
    raw = bytes([0, 0, dtype_code, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + array.tobytes()
    raw = raw[: len(raw) - truncate] if truncate else raw
    with (gzip.open if gz else open)(path, "wb") as f:
        f.write(raw)
    return path


def fake_dataset(directory, n_train=50, n_test=20, seed=0):
    """The four IDX files of a tiny random dataset in Fashion-MNIST's file names."""
    rng = np.random.default_rng(seed)
    spec = get_spec("fashion-mnist")
    for split, n in (("train", n_train), ("test", n_test)):
        write_idx(directory / spec.files[f"{split}_images"][0], rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        write_idx(directory / spec.files[f"{split}_labels"][0], rng.integers(0, 10, n, dtype=np.uint8))
    return directory
