"""Datasets: registry, locating, downloading and verifying, the IDX reader, in-memory batches.

Images stay uint8 in memory; batches are made by indexing the whole tensor at once (no
per-sample Python), turned into float in [0, 1] only when a batch is drawn.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import sys
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import torch

from latentspace.errors import LatentspaceError

SPLIT_FILES = ("train_images", "train_labels", "test_images", "test_labels")


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    files: dict  # role -> (file name, md5 of that file)
    classes: tuple
    mirrors: tuple


_IDX = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}


def _spec(name, md5s, classes, mirrors):
    return DatasetSpec(name, {role: (_IDX[role], md5) for role, md5 in zip(SPLIT_FILES, md5s)},
                       tuple(classes), tuple(mirrors))


DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        _spec("fashion-mnist",
              ("8d4fb7e6c68d591d4c3dfef9ec88bf0d", "25c81989df183df01b3e8a0aad5dffbe",
               "bef4ecab320f06d8554ea6380940ec79", "bb300cfdad3c16e7a12a480ee83cd310"),
              ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
              ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
               "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/")),
        _spec("mnist",
              ("f68b3c2dcbeaaa9fbdd348bbdeb94873", "d53e105ee54ea40749a09fcbcd1e9432",
               "9fb629c4189551a2d022fa330f9573f3", "ec29112dd5afa0611ce80d1b7f02629c"),
              [str(i) for i in range(10)],
              ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/")),
        _spec("kmnist",
              ("bdb82020997e1d708af4cf47b453dcf7", "e144d726b3acfaa3e44228e80efcd344",
               "5c965bf0a639b31b8f53240b1b52f4d7", "7320c461ea6c1c855c0b718fb2a4b134"),
              ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"),
              ("http://codh.rois.ac.jp/kmnist/dataset/kmnist/",)),
    )
}


def get_spec(name: str) -> DatasetSpec:
    try:
        return DATASETS[name]
    except KeyError:
        raise LatentspaceError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}") from None


# ---------------------------------------------------------------- locating and downloading

def candidate_dirs(name: str, data_dir: str | os.PathLike | None = None) -> list[Path]:
    """Where a dataset is looked for, in order: --data-dir, $LATENTSPACE_DATA, the user cache, Debian's."""
    dirs = []
    if data_dir:
        dirs.append(Path(data_dir))
    if os.environ.get("LATENTSPACE_DATA"):
        dirs.append(Path(os.environ["LATENTSPACE_DATA"]))
    dirs.append(cache_root() / name)
    dirs.append(Path("/usr/share/datasets") / name)
    return dirs


def cache_root() -> Path:
    return Path(os.environ.get("LATENTSPACE_CACHE", Path.home() / ".cache" / "latentspace"))


def _has_all(spec: DatasetSpec, d: Path) -> bool:
    return all((d / fname).is_file() for fname, _ in spec.files.values())


def file_hash(path: Path, algorithm: str = "md5") -> str:
    """Hex digest of a file, read in 1 MiB chunks."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def md5sum(path: Path) -> str:
    return file_hash(path, "md5")


def locate(name: str, data_dir=None, download: bool = True, mirrors: Sequence[str] | None = None,
           progress: bool = True) -> Path:
    """The directory holding all four IDX files of `name`, downloading them when none has them.

    An explicit --data-dir or $LATENTSPACE_DATA is where a download lands; otherwise the user cache.
    """
    spec = get_spec(name)
    dirs = candidate_dirs(name, data_dir)
    for d in dirs:
        if _has_all(spec, d):
            return d
    if not download:
        raise LatentspaceError(
            f"{name} not found in {', '.join(map(str, dirs))} and downloading is off "
            f"(drop --no-download, or point --data-dir at the IDX files)")
    target = dirs[0]
    download_dataset(spec, target, mirrors or spec.mirrors, progress=progress)
    return target


def download_dataset(spec: DatasetSpec, target: Path, mirrors: Sequence[str], progress: bool = True) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for fname, md5 in spec.files.values():
        dest = target / fname
        if dest.is_file() and md5sum(dest) == md5:
            continue
        errors = []
        for mirror in mirrors:
            url = mirror.rstrip("/") + "/" + fname
            try:
                _fetch(url, dest, md5, progress)
                break
            except (OSError, urllib.error.URLError, _ChecksumError) as e:
                errors.append(f"{url}: {e}")
        else:
            raise LatentspaceError(f"could not download {fname} for {spec.name}: " + "; ".join(errors))


class _ChecksumError(Exception):
    pass


def _fetch(url: str, dest: Path, md5: str, progress: bool) -> None:
    """Download to a temporary file beside `dest`, check its MD5, then rename: never a half file."""
    from tqdm import tqdm

    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=dest.name + ".", suffix=".part")
    try:
        h = hashlib.md5()
        req = urllib.request.Request(url, headers={"User-Agent": "latentspace"})
        with urllib.request.urlopen(req, timeout=60) as resp, os.fdopen(fd, "wb") as out:
            total = int(resp.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=dest.name, disable=not progress,
                      file=sys.stderr, leave=False) as bar:
                for chunk in iter(lambda: resp.read(1 << 16), b""):
                    out.write(chunk)
                    h.update(chunk)
                    bar.update(len(chunk))
        if h.hexdigest() != md5:
            raise _ChecksumError(f"MD5 {h.hexdigest()} does not match the expected {md5}")
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


# ---------------------------------------------------------------- IDX files

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


def _load_split(directory: Path, spec: DatasetSpec, split: str) -> tuple[np.ndarray, np.ndarray]:
    img_path = directory / spec.files[f"{split}_images"][0]
    lbl_path = directory / spec.files[f"{split}_labels"][0]
    images, labels = _cached_idx(img_path), _cached_idx(lbl_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise LatentspaceError(f"{img_path}: expected uint8 images N x H x W, got {images.dtype} {images.shape}")
    if labels.ndim != 1:
        raise LatentspaceError(f"{lbl_path}: expected a 1-D label array, got shape {labels.shape}")
    if len(images) != len(labels):
        raise LatentspaceError(f"{img_path} holds {len(images)} images but {lbl_path} {len(labels)} labels; "
                               f"the files do not belong together")
    if labels.size and labels.max() >= len(spec.classes):
        raise LatentspaceError(f"{lbl_path}: label {labels.max()} out of range for {len(spec.classes)} classes")
    return images, labels.astype(np.int64)


def _cached_idx(path: Path) -> np.ndarray:
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
        cache.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache.parent, suffix=".npy")
        with os.fdopen(fd, "wb") as f:
            np.save(f, np.ascontiguousarray(arr), allow_pickle=False)
        os.replace(tmp, cache)
    except OSError:
        pass  # a read-only cache only costs speed
    return arr


# ---------------------------------------------------------------- in-memory image sets

@dataclass
class ImageSet:
    """uint8 images (N x H x W) and int64 labels, in memory, with the dataset's class names."""
    images: torch.Tensor
    labels: torch.Tensor
    classes: tuple
    name: str = ""

    def __len__(self) -> int:
        return len(self.images)

    def subset(self, index) -> "ImageSet":
        index = torch.as_tensor(index, dtype=torch.long)
        return ImageSet(self.images[index], self.labels[index], self.classes, self.name)

    def head(self, n: int | None) -> "ImageSet":
        return self if n is None or n >= len(self) else ImageSet(self.images[:n], self.labels[:n], self.classes,
                                                                 self.name)

    def floats(self, index=None) -> torch.Tensor:
        """Images as float N x 1 x H x W in [0, 1]."""
        x = self.images if index is None else self.images[index]
        return to_float(x)

    # the batched Dataset protocol: DataLoader calls __getitems__ with a whole batch of indices
    def __getitem__(self, i):
        return to_float(self.images[i : i + 1])[0], self.labels[i]

    def __getitems__(self, indices):
        index = torch.as_tensor(indices, dtype=torch.long)
        return to_float(self.images[index]), self.labels[index]


def to_float(images_u8: torch.Tensor) -> torch.Tensor:
    return images_u8.unsqueeze(1).float().div_(255.0).contiguous(memory_format=torch.channels_last)


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """Float images in [0, 1] (N x 1 x H x W or N x H x W) to a uint8 N x H x W array."""
    x = images.detach().float().cpu()
    if x.dim() == 4:
        x = x[:, 0]
    return (x.clamp(0, 1) * 255).round().to(torch.uint8).numpy()


@dataclass
class Splits:
    train: ImageSet
    val: ImageSet
    test: ImageSet
    classes: tuple
    name: str
    directory: Path = field(default=None)


def train_val_indices(n: int, seed: int, val_fraction: float = 0.1) -> tuple[torch.Tensor, torch.Tensor]:
    """A seeded split of range(n); identical for the same (n, seed)."""
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    n_val = int(round(n * val_fraction))
    return perm[n_val:].sort().values, perm[:n_val].sort().values


def load_splits(name: str = "fashion-mnist", data_dir=None, download: bool = True, seed: int = 0,
                val_fraction: float = 0.1, limit_train: int | None = None) -> Splits:
    """Train / validation (seeded 90/10 split of the training file) / test, all in memory.

    `limit_train` keeps the first N images of the training part (after the split), for quick runs.
    """
    spec = get_spec(name)
    directory = locate(name, data_dir, download)
    tr_x, tr_y = _load_split(directory, spec, "train")
    te_x, te_y = _load_split(directory, spec, "test")
    full = ImageSet(torch.from_numpy(np.array(tr_x)), torch.from_numpy(tr_y), spec.classes, name)
    tr_idx, va_idx = train_val_indices(len(full), seed, val_fraction)
    train = full.subset(tr_idx)
    if limit_train is not None:
        if limit_train < 1:
            raise LatentspaceError(f"--limit-train must be at least 1, got {limit_train}")
        train = train.head(limit_train)
    test = ImageSet(torch.from_numpy(np.array(te_x)), torch.from_numpy(te_y), spec.classes, name)
    return Splits(train, full.subset(va_idx), test, spec.classes, name, directory)


# ---------------------------------------------------------------- batches for Lightning

def _identity(batch):
    return batch


class EpochSeededSampler(torch.utils.data.Sampler):
    """A random permutation per epoch from (seed, epoch): the same order after a resume."""

    def __init__(self, n: int, seed: int):
        self.n, self.seed, self.epoch = n, seed, 0

    def set_epoch(self, epoch: int) -> None:  # Lightning calls this at every epoch start
        self.epoch = epoch

    def __iter__(self) -> Iterator[int]:
        g = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        return iter(torch.randperm(self.n, generator=g).tolist())

    def __len__(self) -> int:
        return self.n


def batch_loader(images: ImageSet, batch_size: int, shuffle: bool = False, seed: int = 0,
                 drop_last: bool = False) -> torch.utils.data.DataLoader:
    """A DataLoader whose batches are made in one indexing operation (`__getitems__`).

    It stays a real DataLoader so Lightning can swap in a DistributedSampler under DDP.
    """
    sampler = EpochSeededSampler(len(images), seed) if shuffle else None
    return torch.utils.data.DataLoader(images, batch_size=batch_size, sampler=sampler, shuffle=False,
                                       drop_last=drop_last, collate_fn=_identity, num_workers=0)
