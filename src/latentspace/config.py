"""Config dataclasses' plumbing: fields that become CLI flags, their validation, building from JSON.

Torch-free on purpose: the CLI builds its parser from config dataclasses, and `latentspace --help`
must answer at once (no torch, Lightning, matplotlib or Optuna import).

A numeric field declares its range once (`option(..., minimum=, maximum=, above=, below=)`); that one
declaration types its flag (`cli.add_dataclass_flags`: argparse refuses a bad value before any file is
written) and validates a config built in Python or read from JSON (`validate_config`). A number is always
finite: NaN and infinities are refused wherever a range is checked.
"""
from __future__ import annotations

import dataclasses
import math
import numbers
import typing
from dataclasses import dataclass, field

from latentspace.errors import LatentspaceError

SEED_MAX = 2**32 - 1  # a seed Lightning, NumPy and PyTorch all take as given (Lightning replaces a larger one)


@dataclass(frozen=True)
class Bounds:
    """The values a number may take: finite, of `kind` (int: a whole number), `minimum`/`maximum` inclusive,
    `above`/`below` exclusive."""
    kind: type = float
    minimum: float | None = None
    maximum: float | None = None
    above: float | None = None
    below: float | None = None

    @classmethod
    def declared(cls, kind: type, metadata) -> "Bounds":
        """The range an `option` field of type `kind` declares in its metadata."""
        return cls(kind, metadata.get("min"), metadata.get("max"), metadata.get("above"), metadata.get("below"))

    def problem(self, value) -> str | None:
        """Why `value` is not allowed, in words ("must be in [0, 1), got 1.5"); None when it is."""
        if isinstance(value, bool) or not isinstance(value, numbers.Integral if self.kind is int else numbers.Real):
            return f"must be {'a whole number' if self.kind is int else 'a number'}, got {value!r}"
        if not math.isfinite(value):
            return f"must be a finite number, got {value}"
        if ((self.minimum is not None and value < self.minimum) or (self.above is not None and value <= self.above)
                or (self.maximum is not None and value > self.maximum)
                or (self.below is not None and value >= self.below)):
            return f"must be {self.describe()}, got {value}"
        return None

    def describe(self) -> str:
        """The range in words: "at least 1", "more than 0", "in [0, 1)", "between 0 and 65535"."""
        minimum, maximum, above, below = (v if v is None or isinstance(v, int) else f"{v:g}"
                                          for v in (self.minimum, self.maximum, self.above, self.below))
        low = minimum if minimum is not None else above
        high = maximum if maximum is not None else below
        if low is not None and high is not None:
            if minimum is not None and maximum is not None:
                return f"between {low} and {high}"
            return f"in {'[' if minimum is not None else '('}{low}, {high}{']' if maximum is not None else ')'}"
        if minimum is not None:
            return f"at least {minimum}"
        if above is not None:
            return f"more than {above}"
        if maximum is not None:
            return f"at most {maximum}"
        if below is not None:
            return f"less than {below}"
        return "a finite number"

    def check(self, value, name: str):
        """`value`, or a LatentspaceError naming `name` (a flag) and what is wrong with it."""
        problem = self.problem(value)
        if problem:
            raise LatentspaceError(f"{name} {problem}")
        return value


def option(default, help: str, choices=None, minimum=None, check=None, maximum=None, above=None, below=None):
    """A config field that the CLI turns into a flag: its help, choices and range (`minimum`/`maximum`
    inclusive, `above`/`below` exclusive; see `Bounds`); `check(value)` raises a LatentspaceError for what a
    range cannot say."""
    return field(default=default, metadata={"help": help, "choices": choices, "min": minimum, "max": maximum,
                                            "above": above, "below": below, "check": check})


def flag_name(name: str) -> str:
    return "--" + name.replace("_", "-")


def field_kind(cls, f) -> type:
    """A field's annotated type as a class (int, float, str, bool, ...), resolving postponed annotations."""
    hint = typing.get_type_hints(cls).get(f.name, f.type)
    return {"int": int, "float": float, "str": str, "bool": bool}.get(getattr(hint, "__name__", str(hint)), hint)


def field_bounds(cls, f) -> Bounds | None:
    """The range an int or float field declares (a finite number at least), None for other fields."""
    kind = field_kind(cls, f)
    if kind not in (int, float):
        return None
    return Bounds.declared(kind, f.metadata)


def validate_config(cfg) -> None:
    """Check a config dataclass against the choices and ranges its fields declare."""
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        choices = f.metadata.get("choices")
        if choices and value is not None and value not in choices:
            raise LatentspaceError(f"{flag_name(f.name)} must be one of {', '.join(map(str, choices))}, got {value!r}")
        bounds = field_bounds(type(cfg), f)
        if bounds is not None and value is not None and not choices:
            bounds.check(value, flag_name(f.name))
        if f.metadata.get("check") is not None:
            f.metadata["check"](value)


def config_from_dict(cls, values: dict):
    """Build a config dataclass from JSON, ignoring keys it does not know (older or newer runs)."""
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in values.items() if k in names})


def field_names(cls) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}
