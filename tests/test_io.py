"""Files: the atomic writer, JSON, the CSV logs, hashes, the cache directory."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import stat
from pathlib import Path

import pytest

from latentspace.io import (
    CsvLog,
    atomic_path,
    cache_root,
    cached_file,
    file_hash,
    merge_json,
    read_json,
    write_json,
    write_text,
)


def test_atomic_writes_appear_whole_or_not_at_all(tmp_path):
    target = tmp_path / "sub" / "out.txt"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            assert not target.exists()
            raise RuntimeError("the writer crashed")
    assert not target.exists() and list(target.parent.iterdir()) == []  # no temporary file left behind
    write_text(target, "whole")
    assert target.read_text() == "whole"
    assert target.stat().st_mode & stat.S_IROTH  # readable by others (mkstemp alone makes it private)
    with atomic_path(tmp_path / "a.npy") as tmp:
        assert tmp.suffix == ".npy"  # writers that add a suffix (np.save) see the target's


def test_json_round_trip_with_dataclasses_and_paths(tmp_path):
    @dataclasses.dataclass
    class C:
        x: int = 1

    write_json(tmp_path / "a.json", {"c": C(), "p": Path("/x"), "n": 2})
    assert read_json(tmp_path / "a.json") == {"c": {"x": 1}, "p": "/x", "n": 2}
    assert merge_json(tmp_path / "a.json", {"n": 3, "m": 4})["n"] == 3
    assert json.loads((tmp_path / "a.json").read_text())["m"] == 4
    with pytest.raises(TypeError):
        write_json(tmp_path / "b.json", {"bad": object()})
    assert not (tmp_path / "b.json").exists()


def test_csv_log_widens_its_header_and_cuts_back_on_resume(tmp_path):
    log = CsvLog(tmp_path / "metrics.csv")
    log.append([{"epoch": 0, "loss": 1.0}])
    log.append([{"epoch": 1, "loss": 0.5, "kl": 0.1}])
    assert (tmp_path / "metrics.csv").read_text().splitlines()[0] == "epoch,loss,kl"
    assert [r["kl"] for r in log.rows()] == ["", "0.1"]
    log.truncate(1)
    assert [r["epoch"] for r in log.rows()] == ["0"]
    fixed = CsvLog(tmp_path / "steps.csv", columns=("epoch", "batch", "v"))
    fixed.append([{"epoch": 0, "batch": 0, "v": 1}, {"epoch": 1, "batch": 0, "v": 2}])
    fixed.append([{"epoch": 1, "batch": 1, "v": 3}])
    fixed.truncate(1)
    assert fixed.rows() == [{"epoch": "0", "batch": "0", "v": "1"}]
    assert CsvLog(tmp_path / "none.csv").rows() == []


def test_hashes_and_the_cache_directory(tmp_path, monkeypatch):
    (tmp_path / "f").write_bytes(b"abc")
    assert file_hash(tmp_path / "f") == hashlib.sha256(b"abc").hexdigest()
    assert file_hash(tmp_path / "f", "md5") == hashlib.md5(b"abc").hexdigest()
    monkeypatch.setenv("LATENTSPACE_CACHE", str(tmp_path / "c"))
    assert cache_root() == tmp_path / "c"
    monkeypatch.delenv("LATENTSPACE_CACHE")
    assert cache_root() == Path(os.path.expanduser("~")) / ".cache" / "latentspace"


def test_a_cache_file_is_computed_once_and_again_when_damaged_or_stale(tmp_path):
    path, calls = tmp_path / "c" / "value.json", []

    def compute():
        calls.append(1)
        return {"v": len(calls)}

    def load(p):
        value = json.loads(p.read_text())
        return value if value.get("v") != "stale" else None

    def save(tmp, value):
        tmp.write_text(json.dumps(value))

    assert cached_file(path, load, compute, save) == {"v": 1}
    assert cached_file(path, load, compute, save) == {"v": 1} and len(calls) == 1  # read back
    path.write_text("{not json")
    assert cached_file(path, load, compute, save) == {"v": 2}  # damaged: computed again
    path.write_text(json.dumps({"v": "stale"}))
    assert cached_file(path, load, compute, save) == {"v": 3}
    os.chmod(path.parent, 0o500)  # a read-only cache only costs time
    try:
        assert cached_file(tmp_path / "c" / "other.json", load, compute, save) == {"v": 4}
    finally:
        os.chmod(path.parent, 0o700)
