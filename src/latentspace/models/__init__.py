"""The model registry: kind -> ModelSpec. A new model is one file and one `register` line here.

Torch-free: the specs name their LightningModule by import path, loaded only when a model is built.
"""
from __future__ import annotations

from latentspace.errors import LatentspaceError
from latentspace.models import autoencoder_config, flow_config, gan_config, vae_config
from latentspace.models.spec import ModelSpec

MODELS: dict[str, ModelSpec] = {}


def register(spec: ModelSpec) -> ModelSpec:
    MODELS[spec.kind] = spec
    return spec


register(autoencoder_config.SPEC)
register(vae_config.SPEC)
register(gan_config.SPEC)
register(flow_config.SPEC)


def get_spec(kind: str) -> ModelSpec:
    try:
        return MODELS[kind]
    except KeyError:
        raise LatentspaceError(f"unknown model {kind!r}; choose one of {', '.join(MODELS)}") from None


def spec_of(model) -> ModelSpec:
    """The spec of a built model (every model class names its `kind`)."""
    return get_spec(model.kind)
