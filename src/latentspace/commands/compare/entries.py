"""What `compare` can compare, derived from the registries (models and samplers), never from a list of kinds:
a family that registers joins.

An entry is a family and the sampler its images are drawn by:
- every family that can sample, by its default sampler: named by its kind where the spec has a prior of its
  own (normal or learned: `vae`, `gan`, `flow`, `vqvae`), else `kind+sampler` (`ae+gmm`);
- and, for a family with real-valued codes, one entry per learned sampler that applies (`ae+flow`,
  `vae+flow`): a second stage on the same trained model. Not for an invertible family: its latent is its
  noise, distributed as its own prior by construction, so a learned prior over it has nothing to learn.

Torch-free: the CLI lists the entries in its help.
"""
from __future__ import annotations

from dataclasses import dataclass

from latentspace.errors import LatentspaceError


@dataclass(frozen=True)
class Entry:
    name: str       # how --models and the report name it: "ae+gmm", "vae", "vae+flow"
    kind: str       # the family trained (one training per family, shared by its entries)
    sampler: str    # the sampler its images are drawn by
    learned: bool   # a learned sampler fitted after training (its fit is timed apart from the budget)
    default: bool   # the family's own default sampler


def all_entries() -> list[Entry]:
    """Every entry the registered families and samplers allow, in registry order."""
    from latentspace.models import MODELS
    from latentspace.samplers import SAMPLERS, samplers_for

    out = []
    for kind, spec in MODELS.items():
        if not spec.can_sample:
            continue
        default = spec.default_sampler
        if default not in SAMPLERS:  # a family naming a sampler that has not registered (yet): it cannot sample
            continue
        out.append(Entry(kind if spec.prior is not None else f"{kind}+{default}", kind, default,
                         SAMPLERS[default].learned, True))
        if spec.invertible:
            continue
        out += [Entry(f"{kind}+{name}", kind, name, True, False) for name in samplers_for(spec)
                if name != default and SAMPLERS[name].learned]
    return out


def choose(models: str | None) -> list[Entry]:
    """The entries `--models` names (a comma list; None or empty: all), in the order given; one line listing the
    choices for an unknown name."""
    entries = {e.name: e for e in all_entries()}
    if not models:
        return list(entries.values())
    names = [m.strip() for m in models.split(",") if m.strip()]
    unknown = [m for m in names if m not in entries]
    if unknown:
        raise LatentspaceError(f"--models: unknown {', '.join(map(repr, unknown))}; choose from "
                               f"{', '.join(entries)}")
    if not names:
        raise LatentspaceError(f"--models names no model; choose from {', '.join(entries)}")
    return [entries[m] for m in dict.fromkeys(names)]
