"""Search spaces per model (the study's table 1 for the autoencoder) and their `--space` overrides.

A space is a dict: parameter name (a field of the model's config dataclass) -> Optuna distribution.
`SEARCH_SPACES` holds one entry per model kind; an entry is offered only when its kind is in
`latentspace.models.MODELS`, and only the parameters that the model's config really has are kept, so
a model that lands later (VAE, GAN) needs no change here.
"""
from __future__ import annotations

import dataclasses
import json
import math
import typing

from optuna.distributions import (BaseDistribution, CategoricalDistribution, FloatDistribution,
                                  IntDistribution, distribution_to_json, json_to_distribution)

from latentspace.errors import LatentspaceError

OPTIMIZER_CHOICES = ("adam", "adamw", "sgd", "rmsprop")

# The study's table 1: latent dimension, optimizer, learning rate, weight decay, weight initialisation.
# The study's best (latent 28, Adam, lr 5e-3, weight decay 2e-4, no init) lies inside every range.
AE_SPACE: dict[str, BaseDistribution] = {
    "latent_dim": IntDistribution(2, 64),
    "optimizer": CategoricalDistribution(OPTIMIZER_CHOICES),
    "lr": FloatDistribution(1e-4, 1e-1, log=True),
    "weight_decay": FloatDistribution(1e-6, 1e-2, log=True),
    "init": CategoricalDistribution(("none", "xavier", "kaiming")),
}

SEARCH_SPACES: dict[str, dict[str, BaseDistribution]] = {
    "ae": AE_SPACE,
    # β of the β-VAE on top of the autoencoder's space (the study compares β = 1, 10, 100).
    "vae": {**AE_SPACE, "beta": FloatDistribution(0.5, 100.0, log=True)},
    # DCGAN: Adam's learning rate and β1, the two networks' widths. Its objective is FID (OBJECTIVES).
    "gan": {
        "lr": FloatDistribution(1e-5, 1e-2, log=True),
        "beta1": FloatDistribution(0.0, 0.9),
        "g_width": IntDistribution(16, 128, log=True),
        "d_width": IntDistribution(16, 128, log=True),
    },
}

# What each search minimises: None means "the model's own monitored validation metric" (val_loss);
# "fid" means the FID of FID_SAMPLES samples against the test set, on the project's feature network.
OBJECTIVES: dict[str, str | None] = {"ae": None, "vae": None, "gan": "fid"}
FID_SAMPLES = 2000

# Column headers and value spellings of the study's table 1.
TABLE1_LABELS = {"latent_dim": "Latent dim.", "optimizer": "Optimizer", "lr": "Learning rate",
                 "weight_decay": "Weight decay", "init": "Weights init.", "beta": "β",
                 "lr_g": "Learning rate G", "lr_d": "Learning rate D", "beta1": "β1", "width": "Width",
                 "g_width": "Width G", "d_width": "Width D"}
VALUE_LABELS = {"adam": "Adam", "adamw": "AdamW", "sgd": "SGD", "rmsprop": "RMSprop", "none": "None",
                "xavier": "Xavier", "kaiming": "Kaiming"}


def searchable_kinds() -> list[str]:
    from latentspace.models import MODELS

    return [k for k in SEARCH_SPACES if k in MODELS]


def default_space(kind: str) -> dict[str, BaseDistribution]:
    """The registry's space for `kind`, kept to the parameters its config dataclass has."""
    from latentspace.models import MODELS

    if kind not in MODELS or kind not in SEARCH_SPACES:
        raise LatentspaceError(f"no search space for model {kind!r}; searchable: {', '.join(searchable_kinds())}")
    fields = {f.name for f in dataclasses.fields(MODELS[kind].config_cls)}
    space = {name: dist for name, dist in SEARCH_SPACES[kind].items() if name in fields}
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
    minimum = field.metadata.get("min")
    if minimum is not None and low < minimum:
        raise LatentspaceError(f"--space {text!r}: {name} must be at least {minimum}")
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
