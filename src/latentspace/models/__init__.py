"""The model registry: kind -> ModelSpec. A new model is one file and one `register` line here.

Models from other packages register through the `latentspace.models` entry-point group: a package declares
`[project.entry-points."latentspace.models"] mykind = "mypackage.config:SPEC"` (a ModelSpec in a torch-free
module, naming its LightningModule by import path), and every command opens its runs.

Torch-free: the specs name their LightningModule by import path, loaded only when a model is built.
"""
from __future__ import annotations

import warnings

from latentspace.errors import LatentspaceError
from latentspace.models import autoencoder_config, flow_config, gan_config, vae_config, vqvae_config
from latentspace.models.spec import ModelSpec

MODELS: dict[str, ModelSpec] = {}


def register(spec: ModelSpec) -> ModelSpec:
    MODELS[spec.kind] = spec
    return spec


register(autoencoder_config.SPEC)
register(vae_config.SPEC)
register(gan_config.SPEC)
register(flow_config.SPEC)
register(vqvae_config.SPEC)

ENTRY_POINTS = "latentspace.models"


def register_plugins() -> list[str]:
    """Register the models other installed packages declare in the entry-point group; returns their kinds. A
    broken plugin or one whose kind is taken is skipped with a warning: it must not stop latentspace."""
    from importlib.metadata import entry_points

    added = []
    for ep in entry_points(group=ENTRY_POINTS):
        try:
            spec = ep.load()
        except Exception as e:  # a plugin's own error: report it, carry on without it
            warnings.warn(f"latentspace: model plugin {ep.name!r} ({ep.value}) failed to load: {e}", stacklevel=2)
            continue
        if not isinstance(spec, ModelSpec):
            warnings.warn(f"latentspace: model plugin {ep.name!r} ({ep.value}) is not a ModelSpec", stacklevel=2)
        elif spec.kind in MODELS and MODELS[spec.kind] is not spec:
            warnings.warn(f"latentspace: model plugin {ep.name!r} uses the kind {spec.kind!r}, which is taken",
                          stacklevel=2)
        else:
            added.append(register(spec).kind)
    return added


register_plugins()


def get_spec(kind: str) -> ModelSpec:
    try:
        return MODELS[kind]
    except KeyError:
        raise LatentspaceError(f"unknown model {kind!r}; choose one of {', '.join(MODELS)}") from None


def spec_of(model) -> ModelSpec:
    """The spec of a built model (every model class names its `kind`)."""
    return get_spec(model.kind)
