"""The one encode loop: latents of every image of a split, batched, seeded, on the model's device."""
from __future__ import annotations

import numpy as np
import torch

from latentspace.data.images import ImageSet
from latentspace.errors import LatentspaceError
from latentspace.models import spec_of
from latentspace.models.gaussian import reparameterize


def require_encoder(model, what: str) -> None:
    spec = spec_of(model)
    if not spec.encoder:
        raise LatentspaceError(f"{what} needs an encoder, and a {spec.title} model has none (it only generates)")


@torch.no_grad()
def encode_images(model, images: ImageSet, batch_size: int = 1000, seed: int = 0) -> dict[str, np.ndarray]:
    """Latents of every image, on the CPU: {"latent": N x *latent_shape (float32, or int64 code indices),
    "vector": N x D float32 (`model.latent_vectors`: what maps project; the latent itself for a code)} and,
    for a Gaussian posterior, "latent" = μ, "logvar" = log σ², "z" = a draw μ + σ·ε with a seeded ε, once per
    image. The ε of all images are drawn at once, so the batch size never changes them. A conditional model
    is given each image's class."""
    require_encoder(model, "encoding images")
    spec = spec_of(model)
    gaussian = spec.gaussian_posterior
    parts: dict[str, list] = {}
    eps = torch.randn(len(images), model.latent_dim, generator=torch.Generator().manual_seed(seed)) if gaussian else None
    for start in range(0, len(images), batch_size):
        part = slice(start, start + batch_size)
        x, c = images.floats(part).to(model.device), model.condition(images.labels[part])
        if gaussian:
            mu, logvar = model.encode_distribution(x, c)
            mu, logvar = mu.float().cpu(), logvar.float().cpu()
            z = reparameterize(mu, logvar, eps=eps[start:start + len(x)].view_as(mu))
            batch = {"latent": mu, "logvar": logvar, "z": z}
        else:
            latent = model.encode(x, c)
            batch = {"latent": latent.long().cpu() if spec.discrete else latent.float().cpu()}
            if len(model.latent_shape) > 1 or spec.discrete:
                batch["vector"] = model.latent_vectors(latent).float().cpu()
        for k, v in batch.items():
            parts.setdefault(k, []).append(v.numpy())
    if not parts:
        raise LatentspaceError("no images to encode")
    out = {k: np.concatenate(v) for k, v in parts.items()}
    out.setdefault("vector", out["latent"])  # a code is its own vector
    return out
