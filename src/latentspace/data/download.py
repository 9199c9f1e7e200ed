"""Finding a dataset's files, or downloading them from the official mirrors, MD5-checked. Torch-free."""
from __future__ import annotations

import hashlib
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Sequence

from latentspace.data.registry import DatasetSpec, get_spec
from latentspace.errors import LatentspaceError
from latentspace.io import atomic_path, cache_root, file_hash


def candidate_dirs(name: str, data_dir: str | os.PathLike | None = None) -> list[Path]:
    """Where a dataset is looked for: an explicit --data-dir alone (never silently replaced by another copy);
    without one, in order: $LATENTSPACE_DATA, the user cache, Debian's."""
    if data_dir:
        return [Path(data_dir)]
    dirs = []
    if os.environ.get("LATENTSPACE_DATA"):
        dirs.append(Path(os.environ["LATENTSPACE_DATA"]))
    dirs.append(cache_root() / name)
    dirs.append(Path("/usr/share/datasets") / name)
    return dirs


CIFAR_DIR = "cifar-10-batches-bin"
CIFAR_BATCHES = tuple(f"data_batch_{i}.bin" for i in range(1, 6)) + ("test_batch.bin",)


def _has_all(spec: DatasetSpec, d: Path) -> bool:
    if spec.format == "cifar" and all((d / CIFAR_DIR / b).is_file() for b in CIFAR_BATCHES):
        return True  # already extracted (by us, or by the user without the archive)
    return all((d / fname).is_file() for fname, _ in spec.files.values())


def md5sum(path: Path) -> str:
    return file_hash(path, "md5")


def locate(name: str, data_dir=None, download: bool = True, mirrors: Sequence[str] | None = None,
           progress: bool = True) -> Path:
    """The directory holding the files of `name`, downloading them when none has them.

    An explicit --data-dir is the only place looked in, and where a download lands; otherwise the first
    of $LATENTSPACE_DATA and the user cache.
    """
    spec = get_spec(name)
    dirs = candidate_dirs(name, data_dir)
    for d in dirs:
        if _has_all(spec, d):
            return d
    if not download:
        raise LatentspaceError(
            f"{name} not found in {', '.join(map(str, dirs))} and downloading is off "
            f"(drop --no-download, or point --data-dir at the dataset's files)")
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
                fetch(url, dest, md5, progress)
                break
            except (OSError, urllib.error.URLError, ChecksumError) as e:
                errors.append(f"{url}: {e}")
        else:
            raise LatentspaceError(f"could not download {fname} for {spec.name}: " + "; ".join(errors))


class ChecksumError(Exception):
    pass


def fetch(url: str, dest: Path, md5: str, progress: bool) -> None:
    """Download with a progress bar, check the MD5, and only then put the file in place: never a half file."""
    from tqdm import tqdm

    h = hashlib.md5()
    with atomic_path(dest, suffix=".part") as tmp:
        req = urllib.request.Request(url, headers={"User-Agent": "latentspace"})
        with urllib.request.urlopen(req, timeout=60) as resp, open(tmp, "wb") as out:
            total = int(resp.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=dest.name, disable=not progress,
                      file=sys.stderr, leave=False) as bar:
                for chunk in iter(lambda: resp.read(1 << 16), b""):
                    out.write(chunk)
                    h.update(chunk)
                    bar.update(len(chunk))
        if h.hexdigest() != md5:
            raise ChecksumError(f"MD5 {h.hexdigest()} does not match the expected {md5}")
