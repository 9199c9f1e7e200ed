"""The classifier's options: the head's hyperparameters and how `classify` trains it."""
from __future__ import annotations

import pytest

from latentspace.config import validate_config
from latentspace.errors import LatentspaceError
from latentspace.models.probe_config import FEATURES, ClassifyConfig, ProbeConfig, parse_features


def test_defaults_read_the_measured_features_and_train_20_epochs():
    assert parse_features(ProbeConfig().features) == ("conv2", "conv3", "hidden", "latent")
    assert set(parse_features(",".join(FEATURES))) == set(FEATURES)
    assert ClassifyConfig().epochs == 20
    with pytest.raises(LatentspaceError, match="--device must be one of"):
        validate_config(ClassifyConfig(device="tpu"))
