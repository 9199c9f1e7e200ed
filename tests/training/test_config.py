"""TrainConfig: the study's training defaults and choices that follow the dataset registry."""
from __future__ import annotations

import pytest

from latentspace.config import validate_config
from latentspace.data.registry import DATASETS
from latentspace.errors import LatentspaceError
from latentspace.training.config import TrainConfig


def test_defaults_and_choices():
    c = TrainConfig()
    assert (c.epochs, c.batch_size, c.seed, c.device, c.dataset) == (10, 256, 0, "auto", "fashion-mnist")
    from dataclasses import fields

    choices = {f.name: f.metadata["choices"] for f in fields(TrainConfig) if f.metadata.get("choices")}
    assert "dataset" not in choices and choices["channels"] == (1, 3)
    for name in (*DATASETS, "folder:/some/where", "folder"):
        validate_config(TrainConfig(dataset=name))
    with pytest.raises(LatentspaceError, match="unknown dataset 'imagenet'"):
        validate_config(TrainConfig(dataset="imagenet"))
    with pytest.raises(LatentspaceError, match="--image-size must be between 16 and 128"):
        validate_config(TrainConfig(image_size=256))
    with pytest.raises(LatentspaceError, match="--channels must be one of 1, 3"):
        validate_config(TrainConfig(channels=2))
    assert (c.image_size, c.channels) == (None, None)


def test_a_relative_folder_is_recorded_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert TrainConfig(dataset="folder:imgs").dataset == f"folder:{tmp_path / 'imgs'}"
    assert TrainConfig(dataset="cifar10").dataset == "cifar10"
    with pytest.raises(LatentspaceError, match="--precision must be one of"):
        validate_config(TrainConfig(precision="8-bit"))
