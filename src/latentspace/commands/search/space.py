"""Search spaces as Optuna distributions, from what each model's spec declares, and their `--space` overrides.

A spec's `search_space` is plain data (name -> ("int" | "float", low, high, log) or ("choice", values)), so
the registry stays free of Optuna; here it becomes Optuna's distributions, kept to the parameters that the
model's config really has.
"""
from __future__ import annotations

import dataclasses
import json
import math
import typing

from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
    distribution_to_json,
    json_to_distribution,
)

from latentspace.config import Bounds
from latentspace.errors import LatentspaceError
from latentspace.models import MODELS, get_spec

# Column headers and value spellings of the study's table 1.
TABLE1_LABELS = {"latent_dim": "Latent dim.", "optimizer": "Optimizer", "lr": "Learning rate",
                 "weight_decay": "Weight decay", "init": "Weights init.", "beta": "β",
                 "lr_g": "Learning rate G", "lr_d": "Learning rate D", "beta1": "β1", "width": "Width",
                 "g_width": "Width G", "d_width": "Width D"}
VALUE_LABELS = {"adam": "Adam", "adamw": "AdamW", "sgd": "SGD", "rmsprop": "RMSprop", "none": "None",
                "xavier": "Xavier", "kaiming": "Kaiming"}


def searchable_kinds() -> list[str]:
    return [kind for kind, spec in MODELS.items() if spec.search_space]


def to_distribution(entry: tuple) -> BaseDistribution:
    kind = entry[0]
    if kind == "choice":
        return CategoricalDistribution(tuple(entry[1]))
    _, low, high, log = entry
    return (IntDistribution if kind == "int" else FloatDistribution)(low, high, log=log)


def default_space(kind: str) -> dict[str, BaseDistribution]:
    """The spec's space for `kind`, kept to the parameters its config dataclass has."""
    spec = get_spec(kind)
    if not spec.search_space:
        raise LatentspaceError(f"no search space for model {kind!r}; searchable: {', '.join(searchable_kinds())}")
    fields = {f.name for f in dataclasses.fields(spec.config_cls)}
    space = {name: to_distribution(entry) for name, entry in spec.search_space.items() if name in fields}
    if not space:
        raise LatentspaceError(f"the {kind} model's config has none of the parameters of its search space")
    return space


def apply_overrides(space: dict[str, BaseDistribution], overrides, config_cls) -> dict[str, BaseDistribution]:
    """`--space NAME=LOW:HIGH[:log|:linear]`, `NAME=a,b,c` (choices) or `NAME=VALUE` (fixed).

    A range keeps the parameter's scale (log or linear) unless `:log` / `:linear` says otherwise.
    A config field outside the default space may be added (e.g. `width=0.5:2`).
    """
    space = dict(space)
    fields = {f.name: f for f in dataclasses.fields(config_cls)}
    hints = typing.get_type_hints(config_cls)
    for text in overrides or ():
        name, sep, value = text.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or not name or not value.strip():
            raise LatentspaceError(f"--space {text!r}: expected NAME=LOW:HIGH, NAME=a,b,c or NAME=VALUE")
        if name not in fields:
            raise LatentspaceError(f"--space {text!r}: {name!r} is not a parameter of the model; "
                                   f"choose from {', '.join(fields)}")
        space[name] = _parse_distribution(text, name, value.strip(), space.get(name), fields[name],
                                          hints.get(name))
    return space


def _parse_distribution(text, name, value, current, field, hint) -> BaseDistribution:
    choices = field.metadata.get("choices")
    tp = getattr(hint, "__name__", str(hint))
    if isinstance(current, CategoricalDistribution) or choices or tp == "str":
        values = tuple(v.strip() for v in value.split(","))
        if choices:
            bad = [v for v in values if v not in choices]
            if bad:
                raise LatentspaceError(f"--space {text!r}: {bad[0]!r} is not one of {', '.join(choices)}")
        if tp == "bool":
            values = tuple(v.lower() in ("1", "true", "yes") for v in values)
        return CategoricalDistribution(values)
    parts = value.split(":")
    scale = None
    if parts[-1] in ("log", "linear"):
        scale = parts.pop()
    if len(parts) not in (1, 2):
        raise LatentspaceError(f"--space {text!r}: a range is LOW:HIGH, optionally followed by :log or :linear")
    is_int = isinstance(current, IntDistribution) or tp == "int"
    try:
        nums = [int(p) if is_int else float(p) for p in parts]
    except ValueError:
        kind = "integers" if is_int else "numbers"
        raise LatentspaceError(f"--space {text!r}: {name} takes {kind}") from None
    low, high = nums[0], nums[-1]
    if not all(math.isfinite(n) for n in nums):
        raise LatentspaceError(f"--space {text!r}: the bounds must be finite")
    if low > high:
        raise LatentspaceError(f"--space {text!r}: LOW must not exceed HIGH")
    bounds = Bounds.declared(int if is_int else float, field.metadata)  # both ends inside the field's range
    for end in (low, high):
        if bounds.problem(end):
            raise LatentspaceError(f"--space {text!r}: {name} {bounds.problem(end)}")
    log = (scale == "log") if scale else bool(getattr(current, "log", False))
    if log and low <= 0:
        raise LatentspaceError(f"--space {text!r}: a log scale needs LOW > 0")
    return IntDistribution(low, high, log=log) if is_int else FloatDistribution(low, high, log=log)


def space_to_json(space: dict[str, BaseDistribution]) -> str:
    return json.dumps({k: json.loads(distribution_to_json(d)) for k, d in sorted(space.items())}, sort_keys=True)


def space_from_json(text: str) -> dict[str, BaseDistribution]:
    return {k: json_to_distribution(json.dumps(v)) for k, v in json.loads(text).items()}


def describe(dist: BaseDistribution) -> str:
    """One parameter's range in words: '0.0001 .. 0.1 (log)', 'adam | sgd', '20 (fixed)'."""
    if isinstance(dist, CategoricalDistribution):
        return " | ".join(map(str, dist.choices)) + (" (fixed)" if len(dist.choices) == 1 else "")
    if dist.low == dist.high:
        return f"{dist.low:g} (fixed)"
    return f"{dist.low:g} .. {dist.high:g}" + (" (log)" if dist.log else "")


def space_differences(ours: dict, theirs: dict) -> list[str]:
    """Human-readable differences between two spaces ('lr: 1e-05 .. 0.01 (log) here, 0.0001 .. 0.1 (log) in the
    study')."""
    out = []
    for name in sorted(set(ours) | set(theirs)):
        a, b = ours.get(name), theirs.get(name)
        if a != b:
            out.append(f"{name}: {describe(a) if a else 'not searched'} here, "
                       f"{describe(b) if b else 'not searched'} in the study")
    return out


def format_value(name: str, value) -> str:
    """A value spelled as in the study's table 1: 'Adam', 'None', '5·10⁻³', '28'."""
    if isinstance(value, str):
        return VALUE_LABELS.get(value, value)
    if isinstance(value, bool) or isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value == 0 or 0.1 <= abs(value) < 1e3:
            return f"{value:.3g}"
        exponent = math.floor(math.log10(abs(value)))
        mantissa = value / 10 ** exponent
        if round(mantissa, 1) >= 10:
            mantissa, exponent = mantissa / 10, exponent + 1
        sup = str(exponent).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))
        m = f"{mantissa:.1f}".rstrip("0").rstrip(".")
        return f"{m}·10{sup}"
    return str(value)
