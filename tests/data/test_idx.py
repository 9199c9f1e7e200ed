"""The IDX reader and its decoded-array cache."""
from __future__ import annotations

import gzip
import struct
import time

import numpy as np
import pytest
import torch

from latentspace.data import idx
from latentspace.data.idx import read_idx
from latentspace.data.images import load_splits
from latentspace.errors import LatentspaceError
from tests.datafiles import write_idx


@pytest.mark.parametrize("case, message", [
    ("magic", "bad magic"),
    ("dtype", "data type"),
    ("truncated", "bytes"),
    ("corrupt_gzip", "unreadable or truncated"),
    ("missing", "not found"),
])
def test_idx_reader_rejects_broken_files(tmp_path, case, message):
    path = tmp_path / "x-idx3-ubyte.gz"
    arr = np.zeros((3, 28, 28), np.uint8)
    if case == "magic":
        gzip.open(path, "wb").write(b"\x01\x02\x08\x03" + b"\0" * 12)
    elif case == "dtype":
        write_idx(path, arr, dtype_code=0x42)
    elif case == "truncated":
        write_idx(path, arr, truncate=100)
    elif case == "corrupt_gzip":
        raw = gzip.compress(b"\0\0\x08\x01" + struct.pack(">I", 3) + b"abc")
        path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(LatentspaceError, match=message) as e:
        read_idx(path)
    assert str(path) in str(e.value)


def test_second_load_uses_the_decoded_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LATENTSPACE_CACHE", str(tmp_path / "cache"))
    t0 = time.perf_counter()
    first = load_splits(download=False)
    cold = time.perf_counter() - t0
    assert list((tmp_path / "cache" / "decoded").glob("*.npy")), "decoded arrays were not cached"
    calls = []
    monkeypatch.setattr(idx, "read_idx", lambda p: calls.append(p))
    second = load_splits(download=False)
    assert calls == [], "the IDX files were parsed again instead of read from the cache"
    assert torch.equal(first.test.images, second.test.images)
    assert cold > 0
