"""Config plumbing: fields that become flags, their checks, configs from JSON."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from latentspace.config import (
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


def test_options_carry_their_help_choices_and_bounds():
    from dataclasses import fields

    meta = {f.name: f.metadata for f in fields(Example)}
    assert meta["width"]["help"] == "how wide" and meta["width"]["min"] == 1 and meta["mode"]["choices"] == ("a", "b")
    assert flag_name("latent_dim") == "--latent-dim" and field_names(Example) == {"width", "mode", "limit"}


@pytest.mark.parametrize("values, message", [
    ({"width": 0}, "--width must be at least 1, got 0"),
    ({"mode": "c"}, "--mode must be one of a, b, got 'c'"),
])
def test_validation_names_the_flag(values, message):
    with pytest.raises(LatentspaceError, match=message):
        validate_config(Example(**values))
    validate_config(Example(limit=None))  # an unset optional value passes


def test_configs_from_json_ignore_unknown_keys():
    assert config_from_dict(Example, {"width": 9, "from_a_newer_version": True}) == Example(width=9)
