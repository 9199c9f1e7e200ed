"""SVHN cropped digits against a local mirror: download, MD5, strict .mat reading (10 is the digit 0), the cache."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from latentspace.data import registry, svhn
from latentspace.data.download import md5sum
from latentspace.data.images import load_splits
from latentspace.data.svhn import read_mat
from latentspace.errors import LatentspaceError
from tests.datafiles import LocalMirror, write_svhn_mat


@pytest.fixture
def served(tmp_path, monkeypatch):
    monkeypatch.setenv("LATENTSPACE_CACHE", str(tmp_path / "cache"))
    root = tmp_path / "mirror"
    root.mkdir()
    train = write_svhn_mat(root / "train_32x32.mat", 40, seed=1)
    test = write_svhn_mat(root / "test_32x32.mat", 15, seed=2)

    def use(bad_md5=False):
        files = {role: (name, "0" * 32 if bad_md5 else md5sum(root / name))
                 for role, (name, _) in registry.DATASETS["svhn"].files.items()}
        monkeypatch.setitem(registry.DATASETS, "svhn", dataclasses.replace(registry.DATASETS["svhn"], files=files,
                                                                           mirrors=(mirror.url,)))

    with LocalMirror(root) as mirror:
        yield train, test, use


def test_download_and_decode(served, tmp_path):
    (tr_x, tr_y), (te_x, te_y), use = served
    use()
    s = load_splits("svhn", data_dir=tmp_path / "data")
    assert s.image_shape == (3, 32, 32) and s.classes == tuple(str(i) for i in range(10))
    assert (len(s.train) + len(s.val), len(s.test)) == (40, 15)
    assert np.array_equal(s.test.images.numpy(), te_x) and np.array_equal(s.test.labels.numpy(), te_y)
    assert s.test.labels[0] == 0, "the files' label 10 must be the digit 0"
    assert int(s.test.labels.max()) <= 9


def test_second_open_reads_the_cache(served, tmp_path, monkeypatch):
    *_, use = served
    use()
    load_splits("svhn", data_dir=tmp_path / "data")
    calls = []
    monkeypatch.setattr(svhn, "read_mat", lambda p: calls.append(p))
    load_splits("svhn", data_dir=tmp_path / "data")
    assert calls == []


def test_checksum_mismatch(served, tmp_path):
    *_, use = served
    use(bad_md5=True)
    with pytest.raises(LatentspaceError, match="does not match the expected"):
        load_splits("svhn", data_dir=tmp_path / "data")
    assert list((tmp_path / "data").iterdir()) == []


def test_a_truncated_mat_file_names_it(tmp_path):
    write_svhn_mat(tmp_path / "full.mat", 20)
    raw = (tmp_path / "full.mat").read_bytes()
    (tmp_path / "test_32x32.mat").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(LatentspaceError, match=r"test_32x32\.mat: unreadable or truncated"):
        read_mat(tmp_path / "test_32x32.mat")


def test_a_foreign_mat_file_is_refused(tmp_path):
    import scipy.io

    scipy.io.savemat(tmp_path / "x.mat", {"X": np.zeros((4, 4), np.uint8), "y": np.ones((1, 1))})
    with pytest.raises(LatentspaceError, match="expected uint8 X of 32 x 32 x 3 x N"):
        read_mat(tmp_path / "x.mat")
