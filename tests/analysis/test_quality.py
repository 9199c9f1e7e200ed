"""Sample-quality metrics mean something: they rank corruptions of real images the right way round.

Reference: the first 2000 test images. "Fake" sets: other real images, corrupted or not. Features
are computed once per set (session fixtures); KID uses 10 subsets to stay fast.
"""
from __future__ import annotations

import hashlib

import pytest
import torch
import torch.nn.functional as F

from latentspace.analysis import quality as Q
from latentspace.data.images import load_splits, to_uint8
from latentspace.models.featurenet import load_feature_net

N = 2000


@pytest.fixture(scope="session")
def splits():
    return load_splits("fashion-mnist")


@pytest.fixture(scope="session")
def net():
    return load_feature_net("fashion-mnist")[0]


@pytest.fixture(scope="session")
def reference(net, splits):
    return Q.extract_features(net, splits.test.images[:N])


@pytest.fixture(scope="session")
def other_half(splits):
    return torch.from_numpy(splits.test.arrays(slice(N, 2 * N)))  # N x 28 x 28, as the corruptions expect


_cache: dict = {}


def score(net, reference, images) -> dict:
    """All metrics of uint8 images against the reference features (memoised per image set)."""
    key = hashlib.sha1(images.contiguous().numpy().tobytes()).hexdigest()
    if key not in _cache:
        _cache[key] = Q.compare(reference, Q.extract_features(net, images), kid_subsets=10)
    return _cache[key]


def noisy(images: torch.Tensor, sigma: float) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    x = images.float() / 255 + sigma * torch.randn(images.shape, generator=g)
    return torch.from_numpy(to_uint8(x))


def blurred(images: torch.Tensor, sigma: float) -> torch.Tensor:
    r = torch.arange(-3, 4, dtype=torch.float32)
    k = torch.exp(-r ** 2 / (2 * sigma ** 2))
    k = (k / k.sum())
    x = images.float()[:, None] / 255
    x = F.conv2d(F.pad(x, (3, 3, 0, 0), mode="replicate"), k.view(1, 1, 1, 7))
    x = F.conv2d(F.pad(x, (0, 0, 3, 3), mode="replicate"), k.view(1, 1, 7, 1))
    return torch.from_numpy(to_uint8(x))


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


def test_precision_recall_by_hand():
    # 1-D toy case: reference points 0..9, k = 3 -> every ball has radius 3 (squared 9) or more
    real = torch.arange(10, dtype=torch.float64)[:, None]
    fake = torch.tensor([[0.5], [4.0], [100.0], [101.0], [102.0], [103.0]], dtype=torch.float64)
    pr = Q.precision_recall(real, fake, k=3)
    assert pr["precision"] == pytest.approx(2 / 6)
    # fake balls: 0.5 and 4.0 reach 101 (k = 3 neighbours), so every real point is recalled
    assert pr["recall"] == 1.0
    assert Q.knn_radii(real, 3)[0] == 9.0




def test_asked_classes_counts_hits_and_scores_each_class_on_its_own():
    import torch

    from latentspace.analysis.quality import Features, asked_classes

    g = torch.Generator().manual_seed(0)
    centres = torch.eye(3, 8) * 10
    real_labels = torch.arange(300) % 3
    real = Features(centres[real_labels] + torch.randn(300, 8, generator=g), torch.eye(3)[real_labels].double())
    asked = torch.arange(300) % 3
    drawn = (asked + (torch.arange(300) % 10 == 0).long()) % 3  # one in ten drawn from the wrong class
    fake = Features(centres[drawn] + torch.randn(300, 8, generator=g), torch.eye(3)[drawn].double())
    out = asked_classes(real, real_labels, fake, asked, ("a", "b", "c"))
    assert out["class_accuracy"] == pytest.approx(0.9, abs=0.01)
    assert set(out["class_accuracy_per_class"]) == {"a", "b", "c"}
    perfect = asked_classes(real, real_labels, Features(real.features, real.probs), real_labels, ("a", "b", "c"))
    assert perfect["class_accuracy"] == 1.0
    assert max(perfect["class_fid_per_class"].values()) < min(out["class_fid_per_class"].values())
