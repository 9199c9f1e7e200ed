"""CIFAR-10's binary release against a local mirror: download, MD5, safe extraction, strict decoding, the cache."""
from __future__ import annotations

import dataclasses
import io
import tarfile

import numpy as np
import pytest

from latentspace.data import cifar, registry
from latentspace.data.cifar import extract, read_batch
from latentspace.data.download import md5sum
from latentspace.data.images import load_splits
from latentspace.errors import LatentspaceError
from tests.datafiles import LocalMirror, write_cifar_archive

ARCHIVE = "cifar-10-binary.tar.gz"


@pytest.fixture
def served(tmp_path, monkeypatch):
    """A generated archive on a local mirror, with the registry's spec pointing at it (its MD5 included)."""
    monkeypatch.setenv("LATENTSPACE_CACHE", str(tmp_path / "cache"))
    root = tmp_path / "mirror"
    root.mkdir()
    arrays = write_cifar_archive(root / ARCHIVE)

    def use(md5=None):
        spec = dataclasses.replace(registry.DATASETS["cifar10"], files={"archive": (ARCHIVE, md5 or md5sum(root / ARCHIVE))},
                                   mirrors=(mirror.url,))
        monkeypatch.setitem(registry.DATASETS, "cifar10", spec)

    with LocalMirror(root) as mirror:
        yield root, arrays, use


def test_download_extract_and_decode(served, tmp_path):
    root, (tr_x, tr_y, te_x, te_y), use = served
    use()
    s = load_splits("cifar10", data_dir=tmp_path / "data", seed=0)
    assert (tmp_path / "data" / ARCHIVE).is_file()
    assert (len(s.train) + len(s.val), len(s.test)) == (100, 20)
    assert s.image_shape == (3, 32, 32) and s.classes[0] == "airplane" and s.identity == "cifar10"
    assert np.array_equal(s.test.images.numpy(), te_x) and np.array_equal(s.test.labels.numpy(), te_y)
    seen = np.concatenate([s.train.images.numpy(), s.val.images.numpy()])
    assert sorted(map(bytes, seen)) == sorted(map(bytes, tr_x)), "training images are not the archive's"
    assert not list((tmp_path / "data").glob(".*")), "temporary files or directories left behind"


def test_second_open_reads_the_cache_not_the_batches(served, tmp_path, monkeypatch):
    _, _, use = served
    use()
    first = load_splits("cifar10", data_dir=tmp_path / "data")
    calls = []
    monkeypatch.setattr(cifar, "read_batch", lambda p: calls.append(p))
    second = load_splits("cifar10", data_dir=tmp_path / "data")
    assert calls == [] and np.array_equal(first.test.images.numpy(), second.test.images.numpy())


def test_checksum_mismatch_is_one_error_and_leaves_nothing(served, tmp_path):
    _, _, use = served
    use(md5="0" * 32)
    with pytest.raises(LatentspaceError, match="does not match the expected"):
        load_splits("cifar10", data_dir=tmp_path / "data")
    assert list((tmp_path / "data").iterdir()) == []


def test_a_truncated_batch_names_the_file(tmp_path):
    write_cifar_archive(tmp_path / ARCHIVE, truncate_batch=100)
    d = extract(tmp_path / ARCHIVE, tmp_path)
    with pytest.raises(LatentspaceError, match=r"test_batch\.bin: .*whole number.*truncated"):
        read_batch(d / "test_batch.bin")


def test_a_truncated_archive_is_one_error_and_extracts_nothing(tmp_path):
    write_cifar_archive(tmp_path / "full.tar.gz")
    raw = (tmp_path / "full.tar.gz").read_bytes()
    (tmp_path / ARCHIVE).write_bytes(raw[: len(raw) // 2])
    with pytest.raises(LatentspaceError, match="unreadable or truncated archive"):
        extract(tmp_path / ARCHIVE, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [ARCHIVE, "full.tar.gz"]


def _add_escape(tar):
    info = tarfile.TarInfo("../../evil.txt")
    info.size = 4
    tar.addfile(info, io.BytesIO(b"evil"))


def _add_link(tar):
    info = tarfile.TarInfo("cifar-10-batches-bin/passwd")
    info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
    tar.addfile(info)


@pytest.mark.parametrize("extra, message", [(_add_escape, "leave the target directory"),
                                            (_add_link, "link or special file")])
def test_unsafe_members_refuse_the_archive(tmp_path, extra, message):
    target = tmp_path / "a" / "b"
    target.mkdir(parents=True)
    write_cifar_archive(target / ARCHIVE, extra=extra)
    with pytest.raises(LatentspaceError, match=message):
        extract(target / ARCHIVE, target)
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "a" / "evil.txt").exists()
    assert [p.name for p in target.iterdir()] == [ARCHIVE], "something was extracted from a refused archive"


def test_bad_labels_are_refused(tmp_path):
    raw = bytearray(cifar.RECORD * 2)
    raw[cifar.RECORD] = 12
    (tmp_path / "b.bin").write_bytes(bytes(raw))
    with pytest.raises(LatentspaceError, match="label 12 out of range"):
        read_batch(tmp_path / "b.bin")


def test_extracted_batches_are_found_without_the_archive(served, tmp_path, monkeypatch):
    root, (_, _, te_x, _), use = served
    use()
    extract(root / ARCHIVE, tmp_path / "user")
    s = load_splits("cifar10", data_dir=tmp_path / "user", download=False)
    assert np.array_equal(s.test.images.numpy(), te_x) and not (tmp_path / "user" / ARCHIVE).exists()


def test_the_cli_reports_a_checksum_mismatch_in_one_line(served, tmp_path, capsys):
    from latentspace.cli import main

    _, _, use = served
    use(md5="0" * 32)
    with pytest.raises(SystemExit) as e:
        raise SystemExit(main(["data", "--dataset", "cifar10", "--data-dir", str(tmp_path / "data")]))
    err = capsys.readouterr().err
    lines = [line for line in err.replace("\r", "\n").splitlines() if line.strip()]  # the progress bar's, then it
    assert e.value.code == 2
    assert lines[-1].startswith("latentspace: error: could not download cifar-10-binary.tar.gz") and \
        "does not match the expected" in lines[-1] and "Traceback" not in err, err
