"""SVHN cropped digits: the train and test .mat files read with scipy's loadmat (X is 32 x 32 x 3 x N, y is
1..10 with 10 for the digit 0), decoded once into the uint8 .npy cache."""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from latentspace.errors import LatentspaceError
from latentspace.io import atomic_path, cache_root

FIX = "delete it and run `latentspace data --dataset svhn` to fetch a fresh copy"


def read_mat(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """uint8 N x 32 x 32 x 3 images and int64 labels 0..9 from one SVHN .mat file, strictly checked."""
    import scipy.io

    path = Path(path)
    try:
        mat = scipy.io.loadmat(path, variable_names=("X", "y"))
    except FileNotFoundError:
        raise LatentspaceError(f"{path}: file not found") from None
    except Exception as e:  # scipy raises ValueError, OSError, TypeError... on a truncated or foreign file
        raise LatentspaceError(f"{path}: unreadable or truncated .mat file ({type(e).__name__}: {e}); {FIX}") from None
    x, y = mat.get("X"), mat.get("y")
    if x is None or y is None:
        raise LatentspaceError(f"{path}: no X and y arrays; not an SVHN cropped-digits file; {FIX}")
    if x.ndim != 4 or x.shape[2] != 3 or x.dtype != np.uint8:
        raise LatentspaceError(f"{path}: expected uint8 X of 32 x 32 x 3 x N, got {x.dtype} {x.shape}; {FIX}")
    y = np.asarray(y).reshape(-1).astype(np.int64)
    if len(y) != x.shape[3]:
        raise LatentspaceError(f"{path}: {x.shape[3]} images but {len(y)} labels; {FIX}")
    if y.size and (y.min() < 1 or y.max() > 10):
        raise LatentspaceError(f"{path}: labels must be 1..10, found {y.min()}..{y.max()}; {FIX}")
    return np.ascontiguousarray(x.transpose(3, 0, 1, 2)), y % 10


def cached_mat(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """`read_mat`, cached as .npy keyed by the file's path, size and mtime."""
    st = path.stat()
    key = hashlib.sha1(f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:16]
    cache = cache_root() / "decoded" / f"{path.stem}.{key}"
    if (cache / "x.npy").is_file() and (cache / "y.npy").is_file():
        try:
            return np.load(cache / "x.npy", allow_pickle=False), np.load(cache / "y.npy", allow_pickle=False)
        except (OSError, ValueError):
            pass
    x, y = read_mat(path)
    try:
        for n, a in (("x", x), ("y", y)):
            with atomic_path(cache / f"{n}.npy") as tmp:
                np.save(tmp, a, allow_pickle=False)
    except OSError:
        pass
    return x, y
