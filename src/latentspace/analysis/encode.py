"""The one encode loop: codes of every image of a split, batched, seeded, on the model's device."""
from __future__ import annotations

import numpy as np
import torch

from latentspace.data.images import ImageSet
from latentspace.errors import LatentspaceError
from latentspace.models import spec_of


def require_encoder(model, what: str) -> None:
    spec = spec_of(model)
    if not spec.encoder:
        raise LatentspaceError(f"{what} needs an encoder, and a {spec.title} model has none (it only generates)")


@torch.no_grad()
def encode_images(model, images: ImageSet, batch_size: int = 1000, seed: int = 0) -> dict[str, np.ndarray]:
    """Codes of every image, float32 on the CPU: {"latent": z} or, for a Gaussian posterior,
    {"latent": μ, "logvar": log σ², "z": a draw μ + σ·ε with a seeded ε, once per image}. The ε of all images
    are drawn at once, so the batch size never changes them."""
    require_encoder(model, "encoding images")
    gaussian = spec_of(model).gaussian_posterior
    parts: dict[str, list] = {}
    eps = torch.randn(len(images), model.latent_dim, generator=torch.Generator().manual_seed(seed)) if gaussian else None
    for start in range(0, len(images), batch_size):
        x = images.floats(slice(start, start + batch_size)).to(model.device)
        if gaussian:
            mu, logvar = model.encode_distribution(x)
            mu, logvar = mu.float().cpu(), logvar.float().cpu()
            z = mu + torch.exp(0.5 * logvar) * eps[start:start + len(x)]
            batch = {"latent": mu, "logvar": logvar, "z": z}
        else:
            batch = {"latent": model.encode(x).float().cpu()}
        for k, v in batch.items():
            parts.setdefault(k, []).append(v.reshape(len(x), -1).numpy())
    if not parts:
        raise LatentspaceError("no images to encode")
    return {k: np.concatenate(v).astype(np.float32) for k, v in parts.items()}
