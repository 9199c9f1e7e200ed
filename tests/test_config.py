"""Config plumbing: fields that become flags, their checks, configs from JSON."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from latentspace.config import (
    Bounds,
    config_from_dict,
    field_names,
    flag_name,
    option,
    validate_config,
)
from latentspace.errors import LatentspaceError


@dataclass
class Example:
    width: int = option(4, "how wide", minimum=1)
    mode: str = option("a", "which", choices=("a", "b"))
    limit: int = option(None, "optional", minimum=1)
    rate: float = option(0.5, "a fraction", minimum=0.0, below=1.0)
    step: float = option(1.0, "positive", above=0.0)


def test_options_carry_their_help_choices_and_bounds():
    from dataclasses import fields

    meta = {f.name: f.metadata for f in fields(Example)}
    assert meta["width"]["help"] == "how wide" and meta["width"]["min"] == 1 and meta["mode"]["choices"] == ("a", "b")
    assert flag_name("latent_dim") == "--latent-dim" and field_names(Example) == {"width", "mode", "limit", "rate", "step"}


@pytest.mark.parametrize("values, message", [
    ({"width": 0}, "--width must be at least 1, got 0"),
    ({"mode": "c"}, "--mode must be one of a, b, got 'c'"),
    ({"rate": 1.0}, r"--rate must be in \[0, 1\), got 1.0"),
    ({"rate": float("nan")}, "--rate must be a finite number, got nan"),
    ({"step": 0.0}, "--step must be more than 0, got 0.0"),
    ({"step": float("inf")}, "--step must be a finite number, got inf"),
    ({"width": 2.5}, "--width must be a whole number, got 2.5"),
    ({"width": True}, "--width must be a whole number, got True"),
    ({"rate": "0.5"}, "--rate must be a number, got '0.5'"),
])
def test_validation_names_the_flag(values, message):
    with pytest.raises(LatentspaceError, match=message):
        validate_config(Example(**values))
    validate_config(Example(limit=None))  # an unset optional value passes


def test_configs_from_json_ignore_unknown_keys():
    assert config_from_dict(Example, {"width": 9, "from_a_newer_version": True}) == Example(width=9)


def test_bounds_say_their_range_and_take_numpy_numbers():
    import numpy as np

    assert Bounds(int, 0, 65535).describe() == "between 0 and 65535"
    assert Bounds(float, 0.0, below=1.0).describe() == "in [0, 1)" and Bounds(float, above=0.0).describe() == "more than 0"
    assert Bounds(float, maximum=2.0).problem(2.0) is None and Bounds(float, maximum=2.0).problem(2.5)
    assert Bounds(int, 1).problem(np.int64(3)) is None and Bounds(float, 0.0).problem(np.float32(0.5)) is None
    validate_config(Example(rate=0.0, step=1e-9))  # the edges a range includes pass


def test_model_configs_declare_the_ranges_their_optimizers_need():
    """Adam's β in [0, 1) and a positive learning rate are declared, so they are refused in one line, never by
    Adam's ValueError after a run directory exists."""
    from latentspace.models.autoencoder_config import AEConfig
    from latentspace.models.gan_config import GANConfig

    for cfg, message in ((AEConfig(beta2=1.5), "--beta2 must be in"), (GANConfig(beta1=1.0), "--beta1 must be in"),
                         (GANConfig(ema_decay=1.0), "--ema-decay must be in"), (AEConfig(lr=0.0), "--lr must be more"),
                         (GANConfig(lr=float("nan")), "--lr must be a finite")):
        with pytest.raises(LatentspaceError, match=message):
            validate_config(cfg)
