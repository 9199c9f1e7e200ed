"""Data layer: the real Debian files, IDX validation on synthetic files, locating, splits, batches."""
from __future__ import annotations

import gzip
import struct
import time

import numpy as np
import pytest
import torch

from latentspace import data as D
from latentspace.errors import LatentspaceError


def write_idx(path, array: np.ndarray, dtype_code=0x08, gz=True, truncate=0, header_dims=None):
    dims = header_dims if header_dims is not None else array.shape
    raw = bytes([0, 0, dtype_code, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + array.tobytes()
    raw = raw[: len(raw) - truncate] if truncate else raw
    (gzip.open if gz else open)(path, "wb").write(raw)
    return path


def fake_dataset(directory, n_train=50, n_test=20, seed=0):
    rng = np.random.default_rng(seed)
    spec = D.get_spec("fashion-mnist")
    for split, n in (("train", n_train), ("test", n_test)):
        write_idx(directory / spec.files[f"{split}_images"][0], rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        write_idx(directory / spec.files[f"{split}_labels"][0], rng.integers(0, 10, n, dtype=np.uint8))
    return directory


def test_real_debian_files_load_with_expected_shapes():
    s = D.load_splits("fashion-mnist", download=False)
    assert (len(s.train), len(s.val), len(s.test)) == (54000, 6000, 10000)
    assert s.train.images.dtype == torch.uint8 and s.train.images.shape[1:] == (28, 28)
    assert s.classes[0] == "T-shirt/top" and s.classes[9] == "Ankle boot"
    assert torch.bincount(s.test.labels).tolist() == [1000] * 10


def test_second_load_uses_the_decoded_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LATENTSPACE_CACHE", str(tmp_path / "cache"))
    t0 = time.perf_counter()
    first = D.load_splits(download=False)
    cold = time.perf_counter() - t0
    assert list((tmp_path / "cache" / "decoded").glob("*.npy")), "decoded arrays were not cached"
    calls = []
    monkeypatch.setattr(D, "read_idx", lambda p: calls.append(p))
    second = D.load_splits(download=False)
    assert calls == [], "the IDX files were parsed again instead of read from the cache"
    assert torch.equal(first.test.images, second.test.images)
    assert cold > 0


def test_split_is_seeded_and_disjoint():
    a_tr, a_va = D.train_val_indices(1000, seed=3)
    b_tr, b_va = D.train_val_indices(1000, seed=3)
    c_tr, _ = D.train_val_indices(1000, seed=4)
    assert torch.equal(a_tr, b_tr) and torch.equal(a_va, b_va)
    assert not torch.equal(a_tr, c_tr)
    assert len(a_va) == 100 and len(set(a_tr.tolist()) | set(a_va.tolist())) == 1000


@pytest.mark.parametrize("case, message", [
    ("magic", "bad magic"),
    ("dtype", "data type"),
    ("truncated", "bytes"),
    ("corrupt_gzip", "unreadable or truncated"),
    ("missing", "not found"),
])
def test_idx_reader_rejects_broken_files(tmp_path, case, message):
    path = tmp_path / "x-idx3-ubyte.gz"
    arr = np.zeros((3, 28, 28), np.uint8)
    if case == "magic":
        gzip.open(path, "wb").write(b"\x01\x02\x08\x03" + b"\0" * 12)
    elif case == "dtype":
        write_idx(path, arr, dtype_code=0x42)
    elif case == "truncated":
        write_idx(path, arr, truncate=100)
    elif case == "corrupt_gzip":
        raw = gzip.compress(b"\0\0\x08\x01" + struct.pack(">I", 3) + b"abc")
        path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(LatentspaceError, match=message) as e:
        D.read_idx(path)
    assert str(path) in str(e.value)


def test_images_and_labels_must_agree_in_count(tmp_path, monkeypatch):
    monkeypatch.setenv("LATENTSPACE_CACHE", str(tmp_path / "cache"))
    fake_dataset(tmp_path)
    spec = D.get_spec("fashion-mnist")
    write_idx(tmp_path / spec.files["test_labels"][0], np.zeros(7, np.uint8))
    with pytest.raises(LatentspaceError, match="do not belong together"):
        D.load_splits(data_dir=tmp_path, download=False)


def test_locate_order_data_dir_then_env_then_cache(tmp_path, monkeypatch):
    a, b, c = (tmp_path / n for n in ("a", "b", "c"))
    for d in (a, b, c):
        d.mkdir()
        fake_dataset(d)
    monkeypatch.setenv("LATENTSPACE_DATA", str(b))
    monkeypatch.setenv("LATENTSPACE_CACHE", str(tmp_path))
    (tmp_path / "fashion-mnist").symlink_to(c)
    assert D.locate("fashion-mnist", data_dir=a, download=False) == a
    assert D.locate("fashion-mnist", download=False) == b
    monkeypatch.delenv("LATENTSPACE_DATA")
    assert D.locate("fashion-mnist", download=False) == tmp_path / "fashion-mnist"


def test_not_found_without_download_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("LATENTSPACE_CACHE", str(tmp_path))
    with pytest.raises(LatentspaceError, match="not found .* downloading is off"):
        D.locate("kmnist", data_dir=tmp_path / "nothing", download=False)


def test_unknown_dataset():
    with pytest.raises(LatentspaceError, match="unknown dataset"):
        D.get_spec("cifar")


def test_registry_is_complete():
    for name, spec in D.DATASETS.items():
        assert len(spec.classes) == 10 and spec.mirrors
        assert set(spec.files) == set(D.SPLIT_FILES)
        assert all(len(md5) == 32 for _, md5 in spec.files.values())


def test_batches_are_float_in_unit_range_and_cover_an_epoch():
    s = D.load_splits(download=False, limit_train=1000)
    loader = D.batch_loader(s.train, 256, shuffle=True, seed=1)
    batches = list(loader)
    assert [len(x) for x, _ in batches] == [256, 256, 256, 232]
    x, y = batches[0]
    assert x.dtype == torch.float32 and x.shape == (256, 1, 28, 28) and 0 <= x.min() and x.max() <= 1
    assert y.dtype == torch.int64
    seen = torch.cat([yy for _, yy in batches])
    assert torch.equal(seen.sort().values, s.train.labels.sort().values)


def test_shuffle_is_a_function_of_seed_and_epoch():
    sampler = D.EpochSeededSampler(100, seed=5)
    first = list(sampler)
    sampler.set_epoch(1)
    second = list(sampler)
    sampler.set_epoch(0)
    assert list(sampler) == first and first != second and sorted(first) == list(range(100))
