"""Sample-quality metrics mean something: they rank corruptions of real images the right way round.

Reference: the first 2000 test images. "Fake" sets: other real images, corrupted or not. Features
are computed once per set (session fixtures); KID uses 10 subsets to stay fast.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from latentspace import data as D
from latentspace.analysis import quality as Q
from latentspace.errors import LatentspaceError

N = 2000


@pytest.fixture(scope="session")
def splits():
    return D.load_splits("fashion-mnist")


@pytest.fixture(scope="session")
def net():
    from latentspace.featurenet import load_feature_net

    return load_feature_net("fashion-mnist")[0]


@pytest.fixture(scope="session")
def reference(net, splits):
    return Q.extract_features(net, splits.test.images[:N])


@pytest.fixture(scope="session")
def other_half(splits):
    return splits.test.images[N:2 * N]


_cache: dict = {}


def score(net, reference, images) -> dict:
    """All metrics of uint8 images against the reference features (memoised per image set)."""
    key = Q._array_key(images)
    if key not in _cache:
        _cache[key] = Q.compare(net, reference, Q.extract_features(net, images), kid_subsets=10)
    return _cache[key]


def noisy(images: torch.Tensor, sigma: float) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    x = images.float() / 255 + sigma * torch.randn(images.shape, generator=g)
    return torch.from_numpy(D.to_uint8(x))


def blurred(images: torch.Tensor, sigma: float) -> torch.Tensor:
    r = torch.arange(-3, 4, dtype=torch.float32)
    k = torch.exp(-r ** 2 / (2 * sigma ** 2))
    k = (k / k.sum())
    x = images.float()[:, None] / 255
    x = F.conv2d(F.pad(x, (3, 3, 0, 0), mode="replicate"), k.view(1, 1, 1, 7))
    x = F.conv2d(F.pad(x, (0, 0, 3, 3), mode="replicate"), k.view(1, 1, 7, 1))
    return torch.from_numpy(D.to_uint8(x))


def test_feature_net_is_accurate_and_recorded():
    from latentspace.featurenet import load_feature_net

    net, meta = load_feature_net("fashion-mnist")
    assert meta["dataset"] == "fashion-mnist" and meta["test_accuracy"] >= 0.93
    assert meta["git_commit"] and meta["seed"] == 0 and meta["architecture"]["feature_dim"] == 128
    # the recorded accuracy is the real one (checked on 2000 test images, within sampling error)
    splits = D.load_splits("fashion-mnist")
    from latentspace.featurenet import accuracy
    assert accuracy(net, splits.test.head(N)) >= 0.92


def test_real_vs_real_is_small(net, reference, splits, other_half):
    halves = score(net, reference, other_half)
    train = score(net, reference, splits.train.images[:N])
    for s in (halves, train):
        assert s["fid"] < 1.0, s
        assert abs(s["kid"]) < 0.003, s
        assert s["precision"] > 0.75 and s["recall"] > 0.75, s  # k = 3 balls miss some real points too
        assert s["class_entropy"] > 0.99 * s["class_entropy_max"]
        assert s["inception_score"] == pytest.approx(s["reference_inception_score"], rel=0.1)
    # a clearly worse set is far away: "small" means small on this scale
    assert score(net, reference, noisy(other_half, 0.1))["fid"] > 10 * max(halves["fid"], train["fid"])


@pytest.mark.parametrize("corrupt, levels", [(noisy, (0.0, 0.05, 0.1, 0.2)), (blurred, (0.0, 0.7, 1.0, 1.5))],
                         ids=["noise", "blur"])
def test_metrics_worsen_monotonically_with_corruption(net, reference, other_half, corrupt, levels):
    scores = [score(net, reference, corrupt(other_half, s) if s else other_half) for s in levels]
    fid, kid = [s["fid"] for s in scores], [s["kid"] for s in scores]
    precision, recall = [s["precision"] for s in scores], [s["recall"] for s in scores]
    assert all(a < b for a, b in zip(fid, fid[1:])), fid
    assert all(a < b for a, b in zip(kid, kid[1:])), kid
    # precision and recall fall (allowing k-NN sampling noise of 0.02 between neighbouring levels)
    assert all(b < a + 0.02 for a, b in zip(precision, precision[1:])), precision
    assert all(b < a + 0.02 for a, b in zip(recall, recall[1:])), recall
    assert precision[-1] < precision[0] - 0.1 and recall[-1] < recall[0] - 0.3, (precision, recall)


def test_dropping_half_the_classes(net, reference, splits):
    rest = splits.test.subset(torch.arange(N, len(splits.test)))
    kept = rest.images[rest.labels < 5][:N]  # as many images as the full set, of 5 classes only
    full = score(net, reference, rest.images[:N])
    half = score(net, reference, kept)
    assert half["fid"] > 10 * full["fid"]
    assert half["kid"] > 10 * max(full["kid"], 1e-3)
    # recall falls (not to half: k-NN balls of kept classes still cover some shirts, close to T-shirts)
    assert half["recall"] < full["recall"] - 0.1, (half["recall"], full["recall"])
    assert half["precision"] > full["precision"] - 0.05, (half["precision"], full["precision"])  # precision holds
    # the classifier's soft outputs leak a little mass to other classes, so not quite ln 5
    assert half["class_entropy"] < full["class_entropy"] - 0.3
    assert sum(half["class_fractions"][5:]) < 0.05


def test_sample_quality_is_deterministic_and_validates(splits):
    samples = splits.train.images[:1000].numpy()
    reference = splits.test.images[:1000]
    a = Q.sample_quality(samples, reference=reference, kid_subsets=5)
    Q._MEMORY.clear()  # recompute the reference features too
    b = Q.sample_quality(samples.copy(), reference=reference.clone(), kid_subsets=5)
    assert a == b
    assert {"fid", "kid", "kid_std", "precision", "recall", "class_entropy", "inception_score"} <= set(a)
    with pytest.raises(LatentspaceError, match="N x 28 x 28"):
        Q.sample_quality(np.zeros((10, 32, 32), np.uint8))
    with pytest.raises(LatentspaceError, match="uint8"):
        Q.sample_quality(np.zeros((10, 28, 28), np.int32))


def test_precision_recall_by_hand():
    # 1-D toy case: reference points 0..9, k = 3 -> every ball has radius 3 (squared 9) or more
    real = torch.arange(10, dtype=torch.float64)[:, None]
    fake = torch.tensor([[0.5], [4.0], [100.0], [101.0], [102.0], [103.0]], dtype=torch.float64)
    pr = Q.precision_recall(real, fake, k=3)
    assert pr["precision"] == pytest.approx(2 / 6)
    # fake balls: 0.5 and 4.0 reach 101 (k = 3 neighbours), so every real point is recalled
    assert pr["recall"] == 1.0
    assert Q.knn_radii(real, 3)[0] == 9.0


def test_missing_or_mismatched_feature_net(tmp_path, monkeypatch):
    from latentspace import featurenet as FN

    monkeypatch.setattr(FN, "PACKAGE_WEIGHTS", tmp_path / "pkg")
    monkeypatch.setenv("LATENTSPACE_CACHE", str(tmp_path / "cache"))
    with pytest.raises(LatentspaceError, match="latentspace feature-net --dataset mnist"):
        FN.load_feature_net("mnist")
    # weights that claim another dataset
    (tmp_path / "pkg").mkdir()
    real_pt = FN.Path(FN.__file__).parent / "weights" / "fashion-mnist.pt"
    meta = json.loads(real_pt.with_suffix(".json").read_text())
    (tmp_path / "pkg" / "mnist.pt").write_bytes(real_pt.read_bytes())
    (tmp_path / "pkg" / "mnist.json").write_text(json.dumps(meta))
    with pytest.raises(LatentspaceError, match="built for dataset 'fashion-mnist'.*feature-net --dataset mnist"):
        FN.load_feature_net("mnist")
    # the right record, weights of another shape
    meta["dataset"] = "mnist"
    meta["architecture"]["feature_dim"] = 64
    (tmp_path / "pkg" / "mnist.json").write_text(json.dumps(meta))
    with pytest.raises(LatentspaceError, match="does not fit.*feature-net --dataset mnist"):
        FN.load_feature_net("mnist")


def test_cli_scores_a_samples_file(tmp_path, capsys, splits):
    from latentspace.cli import main

    path = tmp_path / "samples.npy"
    np.save(path, splits.train.images[:500].numpy().astype(np.float32) / 255)  # floats in [0, 1] are fine too
    assert main(["evaluate", "--samples", str(path), "--n", "1000", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["fid"] < 5 and out["precision"] > 0.8 and out["n_reference"] == 1000 and out["n_samples"] == 500
    bad = tmp_path / "bad.npy"
    np.save(bad, np.zeros((5, 28, 27), np.uint8))
    assert main(["evaluate", "--samples", str(bad)]) == 2
    assert "N x 28 x 28" in capsys.readouterr().err
    assert main(["evaluate", "--samples", str(tmp_path / "missing.npy")]) == 2
    assert main(["evaluate"]) == 2


def test_evaluate_run_adds_sample_metrics(tiny_ae_run):
    from latentspace.evaluate import evaluate_run

    results = evaluate_run(tiny_ae_run.path, n=1000)
    saved = json.loads((tiny_ae_run.path / "evaluation.json").read_text())
    assert "Gaussian mixture" in results["sampler"]
    for key in ("test_mse", "fid", "kid", "precision", "recall", "inception_score"):
        assert key in saved and np.isfinite(saved[key])
    assert saved["n_samples"] == 1000
    assert saved["fid"] > 1.0  # a one-epoch autoencoder's samples are far from real images
