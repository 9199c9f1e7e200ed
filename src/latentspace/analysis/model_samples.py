"""New images from a trained model, for sample-quality metrics: uint8 N x 28 x 28, seeded, batched.

A model that can sample (`model.sample(n)`: VAE prior, GAN noise) is used as is. An autoencoder
has no prior; it is sampled through a Gaussian mixture fitted on its training latents (10
components, as in Pythae's GMM sampler).
"""
from __future__ import annotations

import numpy as np
import torch

from latentspace import data as D
from latentspace.errors import LatentspaceError


def can_sample(model) -> bool:
    """Whether `model.sample` works (an autoencoder's raises: it has no prior)."""
    try:
        with torch.no_grad():
            model.sample(2)
        return True
    except (LatentspaceError, NotImplementedError, AttributeError):
        return False


def has_sampler(model) -> bool:
    """Whether `model_samples` can draw from this model (its prior, or a GMM on its latents)."""
    return can_sample(model) or (getattr(model, "has_encoder", True) and hasattr(model, "encode")
                                 and hasattr(model, "decode"))


@torch.no_grad()
def model_samples(model, n: int, train: D.ImageSet | None = None, seed: int = 0, batch_size: int = 1000,
                  gmm_components: int = 10, max_fit: int = 10000) -> tuple[np.ndarray, str]:
    """(uint8 samples N x 28 x 28, how they were drawn); seeded, drawn in batches.

    Without a prior, the mixture is fitted on the codes of a seeded subset of at most `max_fit`
    training images: plenty for 10 components, and quick.
    """
    from latentspace.analysis.embed import encode_images
    from latentspace.analysis.generate import decode_latents
    from latentspace.analysis.samplers import GaussianMixtureSampler

    model.eval()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if can_sample(model):
            torch.manual_seed(seed)
            out = [D.to_uint8(model.sample(min(batch_size, n - start))) for start in range(0, n, batch_size)]
            return np.concatenate(out), "model prior"
        if not (has_sampler(model) and train is not None):
            raise LatentspaceError(f"model {getattr(model, 'kind', type(model).__name__)!r} cannot sample")
        if len(train) > max_fit:
            train = train.subset(torch.randperm(len(train), generator=torch.Generator().manual_seed(seed))[:max_fit])
        sampler = GaussianMixtureSampler(gmm_components, seed).fit(encode_images(model, train, seed=seed)["latent"])
        return (decode_latents(model, sampler.sample(n), batch_size),
                f"Gaussian mixture ({gmm_components} components) on training latents")
