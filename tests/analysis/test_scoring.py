"""Scoring images in a feature space: deterministic, validated, and the reference features cached on disk."""
from __future__ import annotations

import numpy as np
import pytest

from latentspace.analysis import scoring
from latentspace.analysis.scoring import sample_quality
from latentspace.data.images import load_splits
from latentspace.errors import LatentspaceError


@pytest.fixture(scope="module")
def splits():
    return load_splits("fashion-mnist")


def test_sample_quality_is_deterministic_and_validates(splits):
    samples = splits.train.images[:1000].numpy()
    reference = splits.test.images[:1000]
    a = sample_quality(samples, reference=reference, kid_subsets=5)
    scoring._MEMORY.clear()  # recompute the reference features too
    b = sample_quality(samples.copy(), reference=reference.clone(), kid_subsets=5)
    assert a == b
    assert {"fid", "kid", "kid_std", "precision", "recall", "class_entropy", "inception_score"} <= set(a)
    with pytest.raises(LatentspaceError, match="N x 28 x 28"):
        sample_quality(np.zeros((10, 32, 32), np.uint8))
    with pytest.raises(LatentspaceError, match="uint8"):
        sample_quality(np.zeros((10, 28, 28), np.int32))


def test_the_inception_reference_is_cached_and_keyed_by_n_and_protocol(tmp_path, monkeypatch):
    from latentspace.analysis import inception as I

    monkeypatch.setenv("LATENTSPACE_CACHE", str(tmp_path))
    calls = []

    def fake_extractor(images, **kwargs):  # the cache logic, not the network, is under test here
        calls.append(len(images))
        return np.random.default_rng(len(calls)).normal(size=(len(images), I.FEATURE_DIM))

    monkeypatch.setattr(I, "inception_features", fake_extractor)
    first, path = scoring.inception_reference("fashion-mnist", n=6)
    assert calls == [6] and path.is_file() and path.parent == tmp_path / "inception"
    with np.load(path) as saved:
        assert saved["features"].dtype == np.float32 and str(saved["protocol"]) == I.PROTOCOL
        assert np.allclose(saved["mu"], first.mean(0)) and saved["sigma"].shape == (I.FEATURE_DIM, I.FEATURE_DIM)
    assert not list(tmp_path.glob("inception/.*"))  # written atomically: no leftovers

    def failing(*args, **kwargs):
        raise AssertionError("recomputed although cached")

    monkeypatch.setattr(I, "inception_features", failing)
    again, same = scoring.inception_reference("fashion-mnist", n=6)
    assert np.array_equal(again, first) and same == path
    monkeypatch.setattr(I, "inception_features", fake_extractor)
    assert scoring.inception_reference("fashion-mnist", n=7)[1] != path  # another N, another file
    monkeypatch.setattr(I, "PROTOCOL", I.PROTOCOL + " (changed)")
    assert scoring.inception_reference("fashion-mnist", n=6)[1] != path  # another protocol, another reference
    assert calls == [6, 7, 6]
    path.write_bytes(b"not an npz")  # a damaged cache is computed again
    monkeypatch.setattr(I, "PROTOCOL", I.PROTOCOL.removesuffix(" (changed)"))
    assert scoring.inception_reference("fashion-mnist", n=6)[0].shape == (6, I.FEATURE_DIM) and calls[-1] == 6


def test_the_inception_reference_of_given_splits_is_theirs_and_keyed_by_their_identity(tmp_path, monkeypatch):
    """A resized set (or a folder) is measured against its own test images, in a file of its own identity."""
    from latentspace.analysis import inception as I
    from latentspace.data.images import load_splits

    monkeypatch.setenv("LATENTSPACE_CACHE", str(tmp_path))
    seen = []

    def fake_extractor(images, **kwargs):
        seen.append(tuple(images.shape))
        return np.zeros((len(images), I.FEATURE_DIM))

    monkeypatch.setattr(I, "inception_features", fake_extractor)
    native = scoring.inception_reference("fashion-mnist", n=4)[1]
    resized = load_splits("fashion-mnist", image_size=32)
    feats, path = scoring.inception_reference("fashion-mnist", n=4, splits=resized)
    assert seen[-1][1:3] == (32, 32) and feats.shape == (4, I.FEATURE_DIM)
    assert path != native and path.name.startswith("fashion-mnist-1x32x32-test4-")


def test_the_copy_check_finds_copied_training_images_and_passes_noise(splits, tmp_path, monkeypatch):
    """In our feature network's features: samples that are training images score ~1, noise ~0, and held-out test
    images (a model that generalises) land between, reported beside the samples' share."""
    from latentspace.data.images import seeded_subset

    monkeypatch.setenv("LATENTSPACE_CACHE", str(tmp_path))
    scoring._MEMORY.clear()
    index = seeded_subset(len(splits.train), 1000, 0)  # the subset the check compares with, at n_train=1000
    copies = splits.train.arrays(index[:300])
    metrics, check, used = scoring.copy_metrics(copies, splits, seed=0, n_train=1000)
    assert metrics["copy_share"] >= 0.99 and check["copy"].mean() == metrics["copy_share"]
    np.testing.assert_array_equal(used, index)
    assert metrics["copy_train_images"] == 1000 and metrics["nearest_train_distance"] < 0.01 < metrics["train_gap"]
    assert 0.05 < metrics["copy_share_test"] < 0.8  # real, unseen images: some, not all, inside a neighbour ball
    assert list((tmp_path / "quality").glob("train-*.pt"))  # the training reference is cached on disk
    noise = np.random.default_rng(0).integers(0, 256, size=(300, 28, 28), dtype=np.uint8)
    assert scoring.copy_metrics(noise, splits, seed=0, n_train=1000)[0]["copy_share"] <= 0.05
