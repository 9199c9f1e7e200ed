"""The sampler registry: name -> SamplerSpec. Samplers draw a model's latents; the model decodes them.

    prior           the model's own N(0, I) prior (a VAE's, a GAN's noise, a flow model's noise image)
    gmm             a Gaussian mixture fitted on the training codes (an autoencoder's default)
    flow            a learned prior: a flow fitted on the training codes (`latentspace fit-prior RUN`)
    autoregressive  a learned prior over a grid of code indices (a VQ-VAE's): a small causal transformer

A sampler declares the options of its fit (`fit_options`: `fit-prior --conditional`) and the settings of each
draw (`sampling_options`: `--temperature`) here, torch-free, so the CLI makes their flags; a setting given for a
sampler that does not declare it is refused in one line.

A fitted sampler is saved in its run (RUN/samplers/NAME/, keyed by the checkpoint's hash: see
`samplers.store`), so every command draws the same images for the same run, sampler and seed. A new
sampler is one module (a `LatentSampler` subclass) and one `register_sampler` line here.

Torch-free, like the model registry: the CLI lists the samplers in its help without importing torch.
"""
from __future__ import annotations

import importlib
import math
from dataclasses import dataclass

from latentspace.errors import LatentspaceError

LATENTS = ("any", "code", "discrete")  # what a sampler draws: any latent, real-valued codes, code indices


@dataclass(frozen=True)
class SamplerOption:
    """One option of a sampler's fit or of its draws: a flag `--NAME` of `type` (float, int or bool)."""
    name: str
    type: type
    default: object
    help: str
    minimum: float | None = None   # values below it are refused (a float option may also name `maximum`)
    maximum: float | None = None

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def check(self, value):
        """`value` as this option's type, or a one-line refusal."""
        if self.type is bool:
            if not isinstance(value, bool):
                raise LatentspaceError(f"{self.flag} takes true or false, got {value!r}")
            return value
        try:
            value = self.type(value)
        except (TypeError, ValueError):
            raise LatentspaceError(f"{self.flag} takes a {self.type.__name__}, got {value!r}") from None
        if math.isnan(value) or (self.minimum is not None and value < self.minimum) or \
                (self.maximum is not None and value > self.maximum):
            bounds = " and ".join(b for b in (f"at least {self.minimum:g}" if self.minimum is not None else "",
                                              f"at most {self.maximum:g}" if self.maximum is not None else "") if b)
            raise LatentspaceError(f"{self.flag} must be {bounds}, got {value!r}")
        return value


@dataclass(frozen=True)
class SamplerSpec:
    name: str                  # the registry key: `--sampler NAME`, RUN/samplers/NAME/
    title: str                 # how figures and the report name it ("Gaussian mixture")
    summary: str               # one line for --help
    module: str                # "package.module:Class" of its LatentSampler (imported lazily)
    latents: str = "code"      # LATENTS: which models it can draw for (with "any", those with an N(0, I) prior)
    learned: bool = False      # fitted by training a network (minutes): `fit-prior --kind NAME` fits it
    saved: bool = True         # fitted on the model's codes and kept in the run (the prior needs no fitting)
    fit_options: tuple = ()    # SamplerOptions of its fit (`fit-prior --NAME`), kept in the run with it
    sampling_options: tuple = ()  # SamplerOptions of each draw (`generate/evaluate --NAME`), passed to `sample`

    def __post_init__(self):
        if self.latents not in LATENTS:
            raise ValueError(f"{self.name}: latents must be one of {LATENTS}")

    def sampler_class(self) -> type:
        module, _, name = self.module.partition(":")
        return getattr(importlib.import_module(module), name)

    def refusal(self, model_spec) -> str | None:
        """Why this sampler cannot draw latents for models of `model_spec` (None: it can)."""
        if self.latents == "any":
            return None if model_spec.prior == "normal" else f"a {model_spec.title} has no N(0, I) prior of its own"
        if not model_spec.encoder:
            return f"a {model_spec.title} has no encoder, so no training codes to fit it on"
        if (self.latents == "discrete") != model_spec.discrete:
            return (f"it draws {'code indices' if self.latents == 'discrete' else 'real-valued codes'}, and a "
                    f"{model_spec.title}'s latents are {'code indices' if model_spec.discrete else 'real-valued'}")
        return None


SAMPLERS: dict[str, SamplerSpec] = {}


def register_sampler(spec: SamplerSpec) -> SamplerSpec:
    SAMPLERS[spec.name] = spec
    return spec


register_sampler(SamplerSpec("prior", "the model's prior", "the model's own N(0, I) prior",
                             "latentspace.samplers.prior:PriorSampler", latents="any", saved=False))
register_sampler(SamplerSpec("gmm", "Gaussian mixture", "a 10-component Gaussian mixture fitted on training codes",
                             "latentspace.samplers.gmm:GaussianMixtureSampler"))
register_sampler(SamplerSpec("flow", "learned flow prior", "a flow-matching network fitted on training codes "
                             "(a learned prior: `latentspace fit-prior RUN`)",
                             "latentspace.samplers.flow:FlowPrior", learned=True))
register_sampler(SamplerSpec(
    "autoregressive", "learned autoregressive prior", "a causal transformer over a code grid's indices fitted on the "
    "training grids (a learned prior: `latentspace fit-prior RUN --kind autoregressive`)",
    "latentspace.samplers.autoregressive:AutoregressivePrior", latents="discrete", learned=True,
    fit_options=(SamplerOption("conditional", bool, False, "condition the prior on the class (needs labelled data; "
                                                           "then generate --class K draws class K)"),),
    sampling_options=(SamplerOption("temperature", float, 1.0, "divides the prior's logits: below 1 sharper and "
                                                                "less diverse samples, above 1 more diverse",
                                    minimum=1e-3, maximum=100.0),)))


# every sampling setting some sampler declares: the API tells them from a model's own (`load_run`'s sampling)
SAMPLER_SETTINGS = frozenset(o.name for s in SAMPLERS.values() for o in s.sampling_options)


def get_sampler_spec(name: str) -> SamplerSpec:
    try:
        return SAMPLERS[name]
    except KeyError:
        raise LatentspaceError(f"unknown sampler {name!r}; choose one of {', '.join(SAMPLERS)}") from None


def check_settings(name: str, settings: dict, which: str = "sampling_options") -> dict:
    """Settings given for sampler `name` (its `sampling_options`, or its `fit_options`), checked and typed; one
    not declared by it is refused in one line, naming the samplers that have it."""
    spec = get_sampler_spec(name)
    declared = {o.name: o for o in getattr(spec, which)}
    out = {}
    for key, value in settings.items():
        if value is None:
            continue
        if key not in declared:
            flag = "--" + key.replace("_", "-")
            having = [n for n, s in SAMPLERS.items() if key in {o.name for o in getattr(s, which)}]
            raise LatentspaceError(f"{flag}: the {spec.title} ({name}) has no such "
                                   f"{'setting' if which == 'sampling_options' else 'fit option'}"
                                   + (f"; samplers with it: {', '.join(having)}" if having else ""))
        out[key] = declared[key].check(value)
    return out


def samplers_for(model_spec, codes: bool = True) -> list[str]:
    """The samplers that can draw for models of `model_spec`, its default first; with `codes` False (no training
    images at hand to fit one on) only those that need no fitting. The one rule of what can sample:
    `ModelSpec.can_sample` is whether this is non-empty (tests/samplers/test_samplers.py holds them equal)."""
    names = [n for n, s in SAMPLERS.items() if s.refusal(model_spec) is None and (codes or not s.saved)]
    default = model_spec.default_sampler
    return sorted(names, key=lambda n: n != default)


def check_sampler(model_spec, name: str | None) -> str:
    """`name`, or the model's default sampler when None; one line when it cannot draw for this model."""
    name = name or model_spec.default_sampler
    if name is None:
        raise LatentspaceError(f"a {model_spec.title} has neither a prior nor an encoder: it cannot sample")
    reason = get_sampler_spec(name).refusal(model_spec)
    if reason:
        raise LatentspaceError(f"--sampler {name}: {reason}; for this model choose one of "
                               f"{', '.join(samplers_for(model_spec)) or 'none'}")
    return name
