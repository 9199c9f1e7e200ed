"""latentspace feature-net: trains a metric network that load_feature_net then finds and loads."""
from __future__ import annotations

import pytest

from latentspace.commands.feature_net import accuracy, train_feature_net
from latentspace.data.images import load_splits
from latentspace.models.featurenet import load_feature_net


@pytest.mark.integration
def test_a_small_feature_net_is_written_where_it_is_found(tmp_path, monkeypatch):
    monkeypatch.setenv("LATENTSPACE_CACHE", str(tmp_path))
    record = train_feature_net("fashion-mnist", epochs=1, limit_train=1024, progress=False,
                               out_dir=tmp_path / "weights")
    assert record["epochs"] == 1 and record["train_images"] == 1024 and 0.1 < record["test_accuracy"] <= 1
    net, meta = load_feature_net("fashion-mnist")  # the shipped network is found first
    assert meta["train_images"] != 1024
    monkeypatch.setattr("latentspace.models.featurenet.PACKAGE_WEIGHTS", tmp_path / "nothing")
    net, meta = load_feature_net("fashion-mnist")
    assert meta["train_images"] == 1024 and meta["test_accuracy"] == record["test_accuracy"]
    # the weights loaded are the ones trained: they score the recorded accuracy, better than chance
    assert round(accuracy(net, load_splits().test), 5) == record["test_accuracy"] > 0.1
