"""The feature network behind FID/KID/precision/recall: shipped, recorded, and refused when it does not fit."""
from __future__ import annotations

import json

import pytest
import torch

from latentspace.commands.feature_net import accuracy
from latentspace.data.images import load_splits
from latentspace.errors import LatentspaceError
from latentspace.models import featurenet as FN
from latentspace.models.featurenet import load_feature_net

N = 2000


def test_feature_net_is_accurate_and_recorded():
    net, meta = load_feature_net("fashion-mnist")
    assert meta["dataset"] == "fashion-mnist" and meta["test_accuracy"] >= 0.93
    assert meta["git_commit"] and meta["seed"] == 0 and meta["architecture"]["feature_dim"] == 128
    # the recorded accuracy is the real one (checked on 2000 test images, within sampling error)
    splits = load_splits("fashion-mnist")
    assert accuracy(net, splits.test.head(N)) >= 0.92


def test_missing_or_mismatched_feature_net(tmp_path, monkeypatch):
    real_pt = FN.PACKAGE_WEIGHTS / "fashion-mnist.pt"
    monkeypatch.setattr(FN, "PACKAGE_WEIGHTS", tmp_path / "pkg")
    monkeypatch.setenv("LATENTSPACE_CACHE", str(tmp_path / "cache"))
    with pytest.raises(LatentspaceError, match="latentspace feature-net --dataset mnist"):
        FN.load_feature_net("mnist")
    # weights that claim another dataset
    (tmp_path / "pkg").mkdir()
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


def test_find_feature_net_finds_the_shipped_weights_and_none_for_a_dataset_without(monkeypatch, tmp_path):
    from latentspace.models.featurenet import PACKAGE_WEIGHTS, find_feature_net

    monkeypatch.setenv("LATENTSPACE_CACHE", str(tmp_path))
    assert find_feature_net("fashion-mnist") == PACKAGE_WEIGHTS / "fashion-mnist.pt"
    assert find_feature_net("kmnist") is None


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32), (3, 64, 64), (1, 16, 16)])
def test_the_feature_network_reads_any_shape_into_the_same_feature_size(shape):
    from latentspace.models.featurenet import FeatureNet, FeatureNetArch

    net = FeatureNet(FeatureNetArch(image_shape=shape)).eval()
    features, logits = net.features_and_logits(torch.rand(3, *shape))
    assert features.shape == (3, 128) and logits.shape == (3, 10)
