"""The search spaces from the models' specs, their overrides, and the study's spelling."""

from __future__ import annotations

import pytest

from latentspace.cli import main
from latentspace.commands.search.space import (
    apply_overrides,
    default_space,
    format_value,
    searchable_kinds,
)
from latentspace.errors import LatentspaceError
from latentspace.models import MODELS
from latentspace.models.autoencoder_config import AEConfig


def test_spaces_follow_the_model_registry():
    assert set(default_space("ae")) == {"latent_dim", "optimizer", "lr", "weight_decay", "init"}
    assert set(MODELS["vae"].search_space) == set(MODELS["ae"].search_space) | {"beta"}
    assert set(searchable_kinds()) <= set(MODELS) and "ae" in searchable_kinds()
    if "gan" not in MODELS:
        with pytest.raises(LatentspaceError, match="no search space"):
            default_space("gan")
    if "vae" in MODELS:
        assert "beta" in default_space("vae")
    space = apply_overrides(default_space("ae"), ["lr=1e-4:1e-2", "init=none", "width=0.5:2:log"], AEConfig)
    assert space["lr"].log and (space["lr"].low, space["lr"].high) == (1e-4, 1e-2)
    assert space["init"].choices == ("none",) and space["width"].log


def test_values_are_spelled_as_in_the_study():
    assert format_value("lr", 5e-3) == "5·10⁻³"
    assert format_value("weight_decay", 2e-4) == "2·10⁻⁴"
    assert format_value("latent_dim", 28) == "28"
    assert format_value("optimizer", "adam") == "Adam" and format_value("init", "none") == "None"


@pytest.mark.parametrize("space, message", [
    ("lr", "expected NAME=LOW:HIGH"), ("nope=1:2", "not a parameter"), ("lr=1e-2:1e-4", "LOW must not exceed"),
    ("weight_decay=0:1e-2", "log scale needs LOW > 0"), ("optimizer=adam,lbfgs", "'lbfgs' is not one of"),
    ("lr=0:1e-2", "lr must be more than 0, got 0.0"), ("beta2=0.9:1.5", "beta2 must be in [0, 1), got 1.5"),
    ("latent_dim=2.5:8", "takes integers"),
])
def test_bad_space_is_one_line_exit_2(space, message, tmp_path, capsys):
    code = main(["search", "ae", "--space", space, "--out", str(tmp_path / "s")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and message in err[0], err
