"""Config dataclasses' plumbing: fields that become CLI flags, their validation, building from JSON.

Torch-free on purpose: the CLI builds its parser from config dataclasses, and `latentspace --help`
must answer at once (no torch, Lightning, matplotlib or Optuna import).
"""
from __future__ import annotations

import dataclasses
from dataclasses import field

from latentspace.errors import LatentspaceError


def option(default, help: str, choices=None, minimum=None, check=None):
    """A config field that the CLI turns into a flag (name, type, help, choices, lower bound; `check(value)`
    raises a LatentspaceError for what bounds cannot say)."""
    return field(default=default, metadata={"help": help, "choices": choices, "min": minimum, "check": check})


def flag_name(name: str) -> str:
    return "--" + name.replace("_", "-")


def validate_config(cfg) -> None:
    """Check a config dataclass against the choices and bounds its fields declare."""
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        choices, minimum = f.metadata.get("choices"), f.metadata.get("min")
        if choices and value is not None and value not in choices:
            raise LatentspaceError(f"{flag_name(f.name)} must be one of {', '.join(map(str, choices))}, got {value!r}")
        if minimum is not None and value is not None and value < minimum:
            raise LatentspaceError(f"{flag_name(f.name)} must be at least {minimum}, got {value}")
        if f.metadata.get("check") is not None:
            f.metadata["check"](value)


def config_from_dict(cls, values: dict):
    """Build a config dataclass from JSON, ignoring keys it does not know (older or newer runs)."""
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in values.items() if k in names})


def field_names(cls) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}
