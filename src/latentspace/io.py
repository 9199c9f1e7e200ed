"""Files: the one atomic writer, JSON, the append-only CSV logs, hashes and the cache directory.

Every output goes through `atomic_path`: written to a temporary file beside its target and renamed
only when complete, so a reader (or a user after a crash) never sees half a file looking whole.
Torch-free.
"""
from __future__ import annotations

import contextlib
import csv
import dataclasses
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Iterator


def cache_root() -> Path:
    """Decoded datasets, feature statistics, user-built weights: $LATENTSPACE_CACHE or ~/.cache/latentspace."""
    return Path(os.environ.get("LATENTSPACE_CACHE", Path.home() / ".cache" / "latentspace"))


def readable(path) -> None:
    """mkstemp makes files private (0600); outputs get the usual permissions (0644 under umask 022)."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)


@contextlib.contextmanager
def atomic_path(path, suffix: str | None = None) -> Iterator[Path]:
    """A temporary path beside `path`; renamed onto `path` when the block ends without an error,
    removed otherwise. The suffix defaults to the target's, for writers that look at it (np.save)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix if suffix is not None
                               else (path.suffix or ".tmp"))
    os.close(fd)
    try:
        yield Path(tmp)
        readable(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def cached_file(path, load, compute, save):
    """A cache file's value: `load(path)`, unless the file is missing, damaged or stale (load raises or returns
    None); then `compute()`, saved by `save(tmp, value)` through `atomic_path` (a read-only cache only costs
    time: the value is still returned)."""
    try:
        value = load(path)
        if value is not None:
            return value
    except Exception:  # missing or damaged: computed again
        pass
    value = compute()
    try:
        with atomic_path(path) as tmp:
            save(tmp, value)
    except OSError:
        pass
    return value


def write_text(path, text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json(path, data) -> Path:
    return write_text(path, json.dumps(data, indent=2, default=_json_default) + "\n")


def _json_default(obj):
    if dataclasses.is_dataclass(obj):
        return dataclasses.asdict(obj)
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "item"):
        return obj.item()
    raise TypeError(f"cannot write {type(obj).__name__} as JSON")


def read_json(path):
    with open(path) as f:
        return json.load(f)


def merge_json(path, update: dict) -> dict:
    """Merge `update` into the JSON object at `path` (created when missing); returns the result."""
    path = Path(path)
    data = read_json(path) if path.is_file() else {}
    data.update(update)
    write_json(path, data)
    return data


def file_hash(path, algorithm: str = "sha256") -> str:
    """Hex digest of a file, read in 1 MiB chunks."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class CsvLog:
    """A CSV file of rows keyed by epoch, appended to while training and cut back on resume.

    The header widens when a row brings a new column (a metric that appears in a later epoch).
    """

    def __init__(self, path, columns: tuple | None = None):
        self.path = Path(path)
        self.columns = columns

    def rows(self) -> list[dict]:
        if not self.path.is_file():
            return []
        with open(self.path, newline="") as f:
            return list(csv.DictReader(f))

    def append(self, rows: list[dict]) -> None:
        if not rows:
            return
        if self.columns is None:  # the header may widen: rewrite the file
            self._write(self.rows() + list(rows))
            return
        new = not self.path.is_file() or self.path.stat().st_size == 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", newline="") as f:  # fixed columns: a plain append
            w = csv.DictWriter(f, self.columns)
            if new:
                w.writeheader()
            w.writerows(rows)

    def truncate(self, before_epoch: int) -> None:
        """Drop the rows of epochs a resumed run trains again."""
        if self.path.is_file():
            self._write([r for r in self.rows() if int(r["epoch"]) < before_epoch])

    def _write(self, rows: list[dict]) -> None:
        columns = list(self.columns or dict.fromkeys(k for r in rows for k in r))
        with atomic_path(self.path) as tmp, open(tmp, "w", newline="") as f:
            w = csv.DictWriter(f, columns)
            w.writeheader()
            w.writerows(rows)
