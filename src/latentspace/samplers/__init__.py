"""The sampler registry: name -> SamplerSpec. Samplers draw a model's latents; the model decodes them.

    prior           the model's own N(0, I) prior (a VAE's, a GAN's noise, a flow model's noise image)
    gmm             a Gaussian mixture fitted on the training codes (an autoencoder's default)
    flow            a learned prior: a flow fitted on the training codes (`latentspace fit-prior RUN`)

A fitted sampler is saved in its run (RUN/samplers/NAME/, keyed by the checkpoint's hash: see
`samplers.store`), so every command draws the same images for the same run, sampler and seed. A new
sampler is one module (a `LatentSampler` subclass) and one `register_sampler` line here.

Torch-free, like the model registry: the CLI lists the samplers in its help without importing torch.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass

from latentspace.errors import LatentspaceError

LATENTS = ("any", "code", "discrete")  # what a sampler draws: any latent, real-valued codes, code indices


@dataclass(frozen=True)
class SamplerSpec:
    name: str                  # the registry key: `--sampler NAME`, RUN/samplers/NAME/
    title: str                 # how figures and the report name it ("Gaussian mixture")
    summary: str               # one line for --help
    module: str                # "package.module:Class" of its LatentSampler (imported lazily)
    latents: str = "code"      # LATENTS: which models it can draw for (with "any", those with an N(0, I) prior)
    learned: bool = False      # fitted by training a network (minutes): `fit-prior --kind NAME` fits it
    saved: bool = True         # fitted on the model's codes and kept in the run (the prior needs no fitting)

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


def get_sampler_spec(name: str) -> SamplerSpec:
    try:
        return SAMPLERS[name]
    except KeyError:
        raise LatentspaceError(f"unknown sampler {name!r}; choose one of {', '.join(SAMPLERS)}") from None


def samplers_for(model_spec) -> list[str]:
    """The samplers that can draw for models of `model_spec`, its default first."""
    names = [n for n, s in SAMPLERS.items() if s.refusal(model_spec) is None]
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
