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
    assert set(choices["dataset"]) == set(DATASETS)
    with pytest.raises(LatentspaceError, match="--precision must be one of"):
        validate_config(TrainConfig(precision="8-bit"))
