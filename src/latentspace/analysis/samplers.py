"""Samplers: new images from a trained model, apart from the model (as in Pythae).

A model with a prior samples itself (`sample(n)`: N(0, I) for a VAE, the generator's noise for a GAN).
An autoencoder has none; for it a Gaussian mixture is fitted on the codes of its training images and
its samples are decoded.
"""
from __future__ import annotations

import numpy as np
import torch

from latentspace.errors import LatentspaceError


class GaussianMixtureSampler:
    """A scikit-learn GaussianMixture (full covariances) over latent codes; sample(n) -> n x D codes."""

    name = "Gaussian mixture"

    def __init__(self, n_components: int = 10, seed: int = 0):
        if n_components < 1:
            raise LatentspaceError(f"a Gaussian mixture needs at least one component, got {n_components}")
        self.n_components, self.seed = n_components, seed
        self.gmm = None

    def fit(self, latents: np.ndarray) -> "GaussianMixtureSampler":
        from sklearn.mixture import GaussianMixture

        latents = np.asarray(latents, dtype=np.float64)
        if latents.ndim != 2 or len(latents) < self.n_components:
            raise LatentspaceError(f"a {self.n_components}-component mixture needs at least {self.n_components} "
                                   f"codes (N x D), got shape {latents.shape}")
        self.gmm = GaussianMixture(self.n_components, covariance_type="full", reg_covar=1e-5,
                                   random_state=self.seed).fit(latents)
        return self

    def sample(self, n: int) -> np.ndarray:
        if self.gmm is None:
            raise RuntimeError("fit the sampler first")
        self.gmm.random_state = self.seed  # the same n samples every time
        z, _ = self.gmm.sample(n)
        return np.random.default_rng(self.seed).permutation(z).astype(np.float32)  # gmm.sample sorts by component


def model_samples(model, n: int, seed: int = 0) -> np.ndarray | None:
    """n x 28 x 28 uint8 images from the model's own prior, or None when it has none (raises in sample)."""
    from latentspace.data import to_uint8

    if n < 1:
        raise LatentspaceError(f"--n must be at least 1, got {n}")
    torch.manual_seed(seed)
    try:
        with torch.no_grad():
            x = model.sample(n)
    except (LatentspaceError, NotImplementedError):
        return None
    return to_uint8(x)


def prior_samples(model, n: int, train_latents_fn, seed: int = 0, n_components: int = 10) -> tuple[np.ndarray, str]:
    """(n x 28 x 28 uint8 images, the sampler's name). `train_latents_fn()` gives the training codes; it is
    called only for a model without a prior."""
    from latentspace.analysis.generate import decode_latents

    images = model_samples(model, n, seed)
    if images is not None:
        return images, "the model's prior"
    sampler = GaussianMixtureSampler(n_components, seed).fit(train_latents_fn())
    return decode_latents(model, sampler.sample(n)), f"a {n_components}-component Gaussian mixture on training codes"
