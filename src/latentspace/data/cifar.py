"""CIFAR-10's binary release: safe extraction of the archive, a strict reader of its batches, decoded once into
the uint8 .npy cache. Never the pickled Python release: nothing downloaded is ever unpickled."""
from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
import zlib
from pathlib import Path, PurePosixPath

import numpy as np

from latentspace.data.download import CIFAR_BATCHES, CIFAR_DIR
from latentspace.errors import LatentspaceError
from latentspace.io import atomic_path, cache_root

RECORD = 1 + 3 * 32 * 32  # one label byte, then the image channel by channel (CHW)
FIX = "delete it and run `latentspace data --dataset cifar10` to fetch a fresh copy"


def _safe_members(tar: tarfile.TarFile, archive: Path) -> list[tarfile.TarInfo]:
    """The archive's regular files, refusing the whole archive if any member could leave the target directory
    (absolute path, ..), is a link, or is anything but a file or a directory."""
    files = []
    for m in tar.getmembers():
        parts = PurePosixPath(m.name).parts
        if m.name.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
            raise LatentspaceError(f"{archive}: member {m.name!r} would leave the target directory; refusing it")
        if m.isdir():
            continue
        if not m.isfile():
            raise LatentspaceError(f"{archive}: member {m.name!r} is a link or special file; refusing it")
        files.append(m)
    return files


def extract(archive: Path, target: Path) -> Path:
    """Extract the archive's batches into target/cifar-10-batches-bin, all or nothing."""
    final = target / CIFAR_DIR
    target.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target, prefix=".cifar-extract."))
    try:
        try:
            with tarfile.open(archive, "r:gz") as tar:
                members = _safe_members(tar, archive)
                tar.extractall(tmp, members=members, filter="data")
        except (tarfile.TarError, EOFError, zlib.error, OSError) as e:
            raise LatentspaceError(f"{archive}: unreadable or truncated archive ({e}); {FIX}") from None
        found = {p.name: p for p in tmp.rglob("*") if p.is_file()}
        missing = [b for b in CIFAR_BATCHES if b not in found]
        if missing:
            raise LatentspaceError(f"{archive}: not the CIFAR-10 binary release (missing {', '.join(missing)}); {FIX}")
        staged = tmp / "out"
        staged.mkdir()
        for name in (*CIFAR_BATCHES, "batches.meta.txt"):
            if name in found:
                os.replace(found[name], staged / name)
        if final.exists():
            shutil.rmtree(final)
        os.replace(staged, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One .bin batch: uint8 N x 32 x 32 x 3 images and int64 labels, checking its size and labels."""
    raw = path.read_bytes()
    if not raw or len(raw) % RECORD:
        raise LatentspaceError(f"{path}: {len(raw)} bytes is not a whole number of {RECORD}-byte records "
                               f"(truncated?); {FIX}")
    rec = np.frombuffer(raw, np.uint8).reshape(-1, RECORD)
    labels = rec[:, 0].astype(np.int64)
    if labels.max() > 9:
        raise LatentspaceError(f"{path}: label {labels.max()} out of range for 10 classes; {FIX}")
    images = rec[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels


def batches_dir(directory: Path) -> Path:
    """The extracted batches of the dataset in `directory`, extracting the archive on first use."""
    d = directory / CIFAR_DIR
    if not all((d / b).is_file() for b in CIFAR_BATCHES):
        d = extract(directory / "cifar-10-binary.tar.gz", directory)
    return d


def class_names(d: Path, default: tuple) -> tuple:
    meta = d / "batches.meta.txt"
    if meta.is_file():
        names = tuple(line.strip() for line in meta.read_text(errors="replace").splitlines() if line.strip())
        if len(names) == 10:
            return names
    return default


def load_cifar(directory: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(train images, train labels, test images, test labels), decoded once into the .npy cache."""
    d = batches_dir(Path(directory))
    stamp = "|".join(f"{(d / b).resolve()}:{(d / b).stat().st_size}:{(d / b).stat().st_mtime_ns}" for b in CIFAR_BATCHES)
    key = hashlib.sha1(stamp.encode()).hexdigest()[:16]
    cache = cache_root() / "decoded" / f"cifar10.{key}"
    names = ("train_x", "train_y", "test_x", "test_y")
    if all((cache / f"{n}.npy").is_file() for n in names):
        try:
            return tuple(np.load(cache / f"{n}.npy", allow_pickle=False) for n in names)
        except (OSError, ValueError):
            pass  # a damaged cache is just rebuilt
    parts = [read_batch(d / b) for b in CIFAR_BATCHES[:-1]]
    tr_x, tr_y = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    te_x, te_y = read_batch(d / CIFAR_BATCHES[-1])
    arrays = (tr_x, tr_y, te_x, te_y)
    try:
        for n, a in zip(names, arrays):
            with atomic_path(cache / f"{n}.npy") as tmp:
                np.save(tmp, a, allow_pickle=False)
    except OSError:
        pass  # a read-only cache only costs speed
    return arrays
