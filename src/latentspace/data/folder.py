"""A folder of the user's own images (PNG, JPEG, WebP, read with Pillow) as a dataset.

- class subfolders give labels (their sorted names are the class names); a flat folder is unlabelled;
- `train/` and `test/` (or `val/`) subfolders are respected; otherwise a seeded 80/10/10 split;
- decoded once (progress bar on stderr) into a cache keyed by the folder's content (relative names, sizes,
  modification times) and the requested shape, stored as .npy and memory-mapped: a second open reads only
  the listing, and a folder larger than memory still trains. The cache holds the images in split order
  (train, validation, test), so each part is a contiguous slice of the memory map and nothing is copied;
  training batches are read from the file with pread (`FileRows` says why), not through the map.
The split is seeded once (seed 0) when the folder is decoded, so it is the same for every run on it.
"""
from __future__ import annotations

import collections
import hashlib
import json
import math
import os
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from latentspace.data.registry import MAX_SIZE, MIN_SIZE, check_channels, check_image_size
from latentspace.data.transform import conform_image, log
from latentspace.errors import LatentspaceError
from latentspace.io import atomic_path, cache_root, write_json

MIN_IMAGES = 10
SPLIT_SEED = 0
GREY_MODES = {"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F"}
CACHE_VERSION = 1


@dataclass
class FolderData:
    images: np.ndarray  # uint8 N x S x S x C, memory-mapped, in split order
    labels: np.ndarray  # int64, -1 without classes
    classes: tuple
    counts: tuple  # (train, validation, test) images
    content: str  # hash of the folder's listing
    path: Path
    skipped: int = 0

    def part(self, i: int) -> tuple[np.ndarray, np.ndarray, "FileRows"]:
        """(images, labels, a pread reader of the same images) of part i (0 train, 1 validation, 2 test)."""
        start = sum(self.counts[:i])
        rows = FileRows(str(self.images.filename), self.images.offset, self.images.shape[1:], start,
                        self.counts[i])
        return self.images[start:start + self.counts[i]], self.labels[start:start + self.counts[i]], rows


@dataclass(frozen=True)
class FileRows:
    """Rows [start, start + count) of a C-ordered uint8 .npy file whose data begins at byte `offset`, read with
    os.preadv into a fresh array.

    Why batches are not read through the memory map: the pages a process touches through a map count as its
    resident memory, and this kernel maps the page cache's large folios, so one batch of 128 random 64 x 64
    images mapped ~290 MB and training on a 50k-image folder stayed at 1.86x the decoded size (madvise did
    not help). A read copies only the batch; the file's pages stay in the page cache, shared and droppable.
    Picklable (a path, not a descriptor), so worker processes can read too.
    """
    path: str
    offset: int
    row_shape: tuple
    start: int
    count: int

    def __len__(self) -> int:
        return self.count

    def head(self, n: int) -> "FileRows":
        return FileRows(self.path, self.offset, self.row_shape, self.start, min(n, self.count))

    def read(self, index) -> np.ndarray:
        """uint8 len(index) x *row_shape: the rows at `index` (relative to `start`), in that order."""
        index = np.asarray(index, dtype=np.int64).reshape(-1)
        if index.size and (index.min() < 0 or index.max() >= self.count):
            raise IndexError(f"row index out of range for {self.count} rows")
        out = np.empty((len(index), *self.row_shape), dtype=np.uint8)
        size = math.prod(self.row_shape)
        fd = os.open(self.path, os.O_RDONLY)
        try:
            for j, i in enumerate(index.tolist()):
                view = memoryview(out[j].reshape(-1))
                if os.preadv(fd, [view], self.offset + (self.start + i) * size) != size:
                    raise LatentspaceError(f"{self.path}: the decoded cache is truncated; delete it to decode again")
        finally:
            os.close(fd)
        return out


def is_image_file(path: Path) -> bool:
    """By its first bytes: PNG, JPEG or WebP (a file's name alone does not make it an image)."""
    try:
        with open(path, "rb") as f:
            head = f.read(12)
    except OSError as e:
        raise LatentspaceError(f"{path}: unreadable ({e.strerror or e})") from None
    return head.startswith(b"\x89PNG\r\n\x1a\n") or head.startswith(b"\xff\xd8\xff") or \
        (head[:4] == b"RIFF" and head[8:12] == b"WEBP")


def _visible(p: Path) -> bool:
    return not p.name.startswith(".")


def _files(d: Path) -> list[tuple[str, int, int]]:
    """(path, size, mtime_ns) of every visible file under d, sorted: one scandir pass, one stat a file."""
    out, stack = [], [str(d)]
    while stack:
        with os.scandir(stack.pop()) as it:
            for e in it:
                if e.name.startswith("."):
                    continue
                if e.is_dir():
                    stack.append(e.path)
                elif e.is_file():
                    st = e.stat()
                    out.append((e.path, st.st_size, st.st_mtime_ns))
    return sorted(out)


def _loose(d: Path) -> list[tuple[str, int, int]]:
    out = []
    with os.scandir(d) as it:
        for e in it:
            if not e.name.startswith(".") and e.is_file():
                st = e.stat()
                out.append((e.path, st.st_size, st.st_mtime_ns))
    return sorted(out)


def _part_layout(d: Path) -> tuple[dict, list[Path]]:
    """{class name: files} from class subfolders, or ({}, files) for a flat folder."""
    subdirs = sorted(p for p in d.iterdir() if p.is_dir() and _visible(p))
    classes = {s.name: _files(s) for s in subdirs}
    classes = {k: v for k, v in classes.items() if v}
    loose = _loose(d)
    if classes:
        if any(is_image_file(Path(p)) for p, _, _ in loose):
            raise LatentspaceError(f"{d}: images both directly in it and in class subfolders "
                                   f"({', '.join(list(classes)[:3])}...); put every image in a class folder, "
                                   f"or none")
        return classes, []
    return {}, loose


def scan(root: Path) -> dict:
    """The folder's layout: {"parts": {train/val/test or all: ({class: files}, flat files)}, "split": bool}."""
    if not root.exists():
        raise LatentspaceError(f"{root}: no such folder")
    if not root.is_dir():
        raise LatentspaceError(f"{root}: not a folder")
    names = {p.name for p in root.iterdir() if p.is_dir()}
    if "train" in names and names & {"test", "val"}:
        parts = {"train": root / "train"}
        if "val" in names and "test" in names:
            parts["val"] = root / "val"
        parts["test"] = root / ("test" if "test" in names else "val")
        return {"split": True, "parts": {k: _part_layout(v) for k, v in parts.items()}}
    return {"split": False, "parts": {"all": _part_layout(root)}}


def content_hash(root: Path, layout: dict) -> str:
    """A hash of every file's relative name, size and modification time: changes when the pictures do."""
    h = hashlib.sha1(f"v{CACHE_VERSION}".encode())
    cut = len(str(root)) + 1
    for classes, flat in layout["parts"].values():
        for path, size, mtime in sorted([f for fs in classes.values() for f in fs] + flat):
            h.update(f"{path[cut:]}\0{size}\0{mtime}\n".encode())
    return h.hexdigest()


def cache_dir(content: str, image_size, channels) -> Path:
    return cache_root() / "folders" / f"{content[:20]}-{image_size or 'auto'}-{channels or 'auto'}"


def load_folder(path, image_size: int | None = None, channels: int | None = None,
                progress: bool | None = None) -> FolderData:
    """The folder's images, decoded once into the cache and memory-mapped from it."""
    check_image_size(image_size)
    check_channels(channels)
    root = Path(path).expanduser().resolve()
    layout = scan(root)
    content = content_hash(root, layout)
    cache = cache_dir(content, image_size, channels)
    data = _open_cache(cache, root, content)
    if data is None:
        _decode(root, layout, cache, image_size, channels, progress)
        data = _open_cache(cache, root, content)
        if data is None:
            raise LatentspaceError(f"{cache}: the decoded cache could not be read back")
    return data


def _open_cache(cache: Path, root: Path, content: str) -> FolderData | None:
    meta_file = cache / "meta.json"
    if not meta_file.is_file():
        return None
    try:
        meta = json.loads(meta_file.read_text())
        # copy-on-write: pages are shared with the page cache, tensors over it are writable (no torch warning),
        # and a stray in-place write touches this process's memory only, never the cache file
        images = np.load(cache / "images.npy", mmap_mode="c", allow_pickle=False)
        labels = np.load(cache / "labels.npy", allow_pickle=False)
    except (OSError, ValueError, json.JSONDecodeError):
        return None
    if len(images) != len(labels) or sum(meta["counts"]) != len(images):
        return None
    return FolderData(images, labels.astype(np.int64), tuple(meta["classes"]), tuple(meta["counts"]), content,
                      root, meta.get("skipped", 0))


def _ordered(layout: dict) -> tuple[dict, tuple]:
    """({part: [(file, label)]}, class names); labels -1 for a flat folder."""
    parts = layout["parts"]
    labelled = [bool(c) for c, _ in parts.values()]
    if any(labelled) and not all(labelled):
        raise LatentspaceError("train/ and test/ must both have class subfolders, or both be flat")
    classes = tuple(sorted({name for c, _ in parts.values() for name in c}))
    index = {name: i for i, name in enumerate(classes)}

    def items(part):
        c, flat = part
        return [(Path(f[0]), index[k]) for k, fs in c.items() for f in fs] if c else [(Path(f[0]), -1) for f in flat]

    return {k: items(v) for k, v in parts.items()}, classes


def _split(parts: dict, rng: np.random.Generator) -> list[list]:
    """[train, validation, test] item lists, each in a seeded order."""
    def shuffled(xs):
        return [xs[i] for i in rng.permutation(len(xs))]

    if "all" in parts:
        xs = shuffled(parts["all"])
        n_test = n_val = max(1, round(len(xs) * 0.1))
        return [xs[n_val + n_test:], xs[:n_val], xs[n_val:n_val + n_test]]
    train = shuffled(parts["train"])
    test = shuffled(parts["test"])
    if "val" in parts:
        return [train, shuffled(parts["val"]), test]
    n_val = max(1, round(len(train) * 0.1))
    return [train[n_val:], train[:n_val], test]


def _headers(items: list) -> tuple[list, int, list]:
    """The image items (non-images skipped and counted) and each image's (size, mode) from its header."""
    from PIL import Image

    kept, sizes, skipped = [], [], 0
    for path, label in items:
        if not is_image_file(path):
            skipped += 1
            continue
        try:
            with Image.open(path) as img:
                sizes.append((img.size, img.mode))
        except Exception as e:
            raise LatentspaceError(f"{path}: unreadable image ({type(e).__name__}: {e})") from None
        kept.append((path, label))
    return kept, skipped, sizes


def _decode(root: Path, layout: dict, cache: Path, image_size, channels, progress) -> None:
    from PIL import Image
    from tqdm import tqdm

    parts, classes = _ordered(layout)
    total = sum(len(v) for v in parts.values())
    if total == 0:
        raise LatentspaceError(f"{root}: no files in this folder (PNG, JPEG or WebP images expected)")
    kept, skipped, info = {}, 0, []
    for k, items in parts.items():
        kept[k], s, i = _headers(items)
        skipped += s
        info += i
    n = sum(len(v) for v in kept.values())
    note = f" ({skipped} file{'s' if skipped != 1 else ''} that are not images skipped)" if skipped else ""
    if n == 0:
        raise LatentspaceError(f"{root}: no PNG, JPEG or WebP images{note}")
    if n < MIN_IMAGES:
        raise LatentspaceError(f"{root}: only {n} image{'s' if n != 1 else ''}{note}; a dataset needs at least "
                               f"{MIN_IMAGES}")
    for k, v in kept.items():
        if not v:
            raise LatentspaceError(f"{root / k}: no images in this part")
    common = collections.Counter(size for size, _ in info).most_common(1)[0][0]
    size, notes = image_size, []
    if size is None:
        size = min(common)
        if not MIN_SIZE <= size <= MAX_SIZE:
            clamped = min(max(size, MIN_SIZE), MAX_SIZE)
            notes.append(f"{root}: the most common size is {common[0]} x {common[1]}; using {clamped} x {clamped} "
                         f"(--image-size sets it, {MIN_SIZE} to {MAX_SIZE})")
            size = clamped
    colour = any(mode not in GREY_MODES for _, mode in info)
    ch = channels or (3 if colour else 1)
    split = _split(kept, np.random.default_rng(SPLIT_SEED))
    ordered = [it for part in split for it in part]
    labels = np.array([label for _, label in ordered], np.int64)
    with atomic_path(cache / "images.npy") as tmp:
        out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=(n, size, size, ch))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            for i, (path, _) in enumerate(tqdm(ordered, desc="decoding", unit="img", file=sys.stderr,
                                               disable=(not progress) if progress is not None else None,
                                               leave=False)):
                try:
                    with Image.open(path) as img:
                        img.load()
                        out[i] = conform_image(img, size, ch)
                except Exception as e:
                    raise LatentspaceError(f"{path}: unreadable or truncated image ({type(e).__name__}: {e})") \
                        from None
        out.flush()
        del out
    with atomic_path(cache / "labels.npy") as tmp:
        np.save(tmp, labels, allow_pickle=False)
    write_json(cache / "meta.json", {"source": str(root), "classes": list(classes),
                                     "counts": [len(p) for p in split], "skipped": skipped,
                                     "shape": [ch, size, size], "version": CACHE_VERSION})
    # said once the cache is whole, so that an error is the only line a failed decode prints
    for note in notes:
        log(note)
    if skipped:
        log(f"{root}: skipped {skipped} file{'s' if skipped != 1 else ''} that {'are' if skipped != 1 else 'is'} "
            f"not an image")
    resized = sum(1 for s, _ in info if s != (size, size))
    converted = sum(1 for _, m in info if (m not in GREY_MODES) != (ch == 3))
    if resized:
        log(f"{root}: center-cropping and resizing {resized} of {n} images to {size} x {size}")
    if converted:
        log(f"{root}: converting {converted} of {n} images to {'RGB' if ch == 3 else 'grey'}")
    log(f"{root}: {n} images decoded into {cache}")
    _drop_stale(cache, root)


def _drop_stale(cache: Path, root: Path) -> None:
    """Remove the caches of this folder's earlier contents (a changed folder would otherwise leave copies)."""
    import shutil

    content = cache.name.split("-")[0]
    for d in cache.parent.iterdir():
        if d.name.split("-")[0] == content or not (d / "meta.json").is_file():
            continue
        try:
            if json.loads((d / "meta.json").read_text()).get("source") == str(root):
                shutil.rmtree(d)
        except (OSError, ValueError):
            pass


