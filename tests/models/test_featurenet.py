"""The feature network behind FID/KID/precision/recall: shipped, recorded, and refused when it does not fit."""
from __future__ import annotations

import json

import pytest

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


def test_the_shipped_record_reads_as_a_28x28_grey_network_and_refuses_other_shapes():
    net, meta = load_feature_net("fashion-mnist", image_shape=(1, 28, 28))
    assert "image_shape" not in meta["architecture"] and net.arch.image_shape == (1, 28, 28)
    with pytest.raises(LatentspaceError, match="reads 1x28x28 images but fashion-mnist's are 3x32x32"):
        load_feature_net("fashion-mnist", image_shape=(3, 32, 32))


def test_an_unlabelled_set_is_told_to_use_the_inception_features():
    with pytest.raises(LatentspaceError) as e:
        load_feature_net("folder-abc123", "folder:/pics", labelled=False)
    assert "\n" not in str(e.value) and "folder:/pics has no labels" in str(e.value)
    assert "--features inception" in str(e.value)


def test_a_dataset_outside_the_registry_is_looked_up_by_its_identity(tmp_path, monkeypatch):
    monkeypatch.setattr(FN, "PACKAGE_WEIGHTS", tmp_path / "pkg")
    monkeypatch.setenv("LATENTSPACE_CACHE", str(tmp_path / "cache"))
    with pytest.raises(LatentspaceError, match=r"no feature network for fake-rgb-3x32x32 .*"
                                               r"`latentspace feature-net --dataset fake-rgb`"):
        FN.load_feature_net("fake-rgb-3x32x32", "fake-rgb", 10)


def test_find_feature_net_finds_the_shipped_weights_and_none_for_a_dataset_without(monkeypatch, tmp_path):
    monkeypatch.setenv("LATENTSPACE_CACHE", str(tmp_path))
    assert FN.find_feature_net("fashion-mnist") == FN.PACKAGE_WEIGHTS / "fashion-mnist.pt"
    assert FN.find_feature_net("kmnist") is None
