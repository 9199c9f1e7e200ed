"""The IDX format (MNIST and its kin): a strict reader, and decoded arrays cached as .npy."""
from __future__ import annotations

import gzip
import hashlib
import os
from pathlib import Path

import numpy as np

from latentspace.errors import LatentspaceError
from latentspace.io import atomic_path, cache_root

_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
               0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (gzipped or not), checking magic number, dtype, dimensions and size."""
    path = Path(path)
    fix = "delete it and run `latentspace data` to fetch a fresh copy"
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise LatentspaceError(f"{path}: file not found") from None
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise LatentspaceError(f"{path}: unreadable or truncated ({e}); {fix}") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise LatentspaceError(f"{path}: not an IDX file (bad magic number); {fix}")
    dtype, ndim = _IDX_DTYPES.get(raw[2]), raw[3]
    if dtype is None:
        raise LatentspaceError(f"{path}: unknown IDX data type 0x{raw[2]:02x}; {fix}")
    if ndim < 1 or len(raw) < 4 + 4 * ndim:
        raise LatentspaceError(f"{path}: IDX header truncated; {fix}")
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    expected = 4 + 4 * ndim + int(np.prod(dims)) * np.dtype(dtype).itemsize
    if len(raw) != expected:
        raise LatentspaceError(f"{path}: {len(raw)} bytes, but its header {dims} says {expected}; {fix}")
    return np.frombuffer(raw, dtype=dtype, offset=4 + 4 * ndim).reshape(dims)


def cached_idx(path: Path) -> np.ndarray:
    """Decoded IDX arrays cached as .npy, keyed by the source file's path, size and mtime."""
    st = path.stat()
    key = hashlib.sha1(f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:16]
    cache = cache_root() / "decoded" / f"{path.name}.{key}.npy"
    if cache.is_file():
        try:
            return np.load(cache, allow_pickle=False)
        except (OSError, ValueError):
            pass  # a damaged cache is just rebuilt
    arr = read_idx(path)
    try:
        with atomic_path(cache) as tmp:
            np.save(tmp, np.ascontiguousarray(arr), allow_pickle=False)
    except OSError:
        pass  # a read-only cache only costs speed
    return arr
