"""The one sampler: new images from any trained model, the same for the same run and seed everywhere
(generate, evaluate, the search's FID, the study and the explorer).

A model with a prior draws its codes from it (`prior_latents`: N(0, I) for the VAE's and the GAN's).
A model without one but with an encoder (the autoencoder) is sampled as in Pythae: a Gaussian mixture
is fitted on the codes of (a seeded sample of at most GMM_MAX_CODES of) its training images, and its
samples are decoded. The mixture is fitted once per model with a fixed seed (FIT_SEED); the seed a
caller gives chooses the samples. All codes are drawn first, then decoded in batches, so the batch size
never changes the samples.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from latentspace.analysis.encode import encode_images
from latentspace.analysis.latents import decode_latents
from latentspace.data.images import ImageSet, seeded_subset
from latentspace.errors import LatentspaceError
from latentspace.models import spec_of

GMM_COMPONENTS = 10
GMM_MAX_CODES = 20000  # plenty for 10 components, and quick to encode and fit
FIT_SEED = 0  # the mixture of a model is the same whichever samples are drawn from it


class GaussianMixtureSampler:
    """A scikit-learn GaussianMixture (full covariances) over latent codes; sample(n) -> n x D codes."""

    def __init__(self, n_components: int = GMM_COMPONENTS, seed: int = 0):
        if n_components < 1:
            raise LatentspaceError(f"a Gaussian mixture needs at least one component, got {n_components}")
        self.n_components, self.seed = n_components, seed
        self.gmm = None

    @property
    def description(self) -> str:
        return f"a {self.n_components}-component Gaussian mixture on training codes"

    def fit(self, latents: np.ndarray) -> "GaussianMixtureSampler":
        from sklearn.mixture import GaussianMixture

        latents = np.asarray(latents, dtype=np.float64)
        if latents.ndim != 2 or len(latents) < self.n_components:
            raise LatentspaceError(f"a {self.n_components}-component mixture needs at least {self.n_components} "
                                   f"codes (N x D), got shape {latents.shape}")
        self.gmm = GaussianMixture(self.n_components, covariance_type="full", reg_covar=1e-5,
                                   random_state=self.seed).fit(latents)
        return self

    def sample(self, n: int, seed: int | None = None) -> np.ndarray:
        """n codes; the same n codes for the same seed (default: the sampler's)."""
        if self.gmm is None:
            raise RuntimeError("fit the sampler first")
        seed = self.seed if seed is None else seed
        self.gmm.random_state = seed
        z, _ = self.gmm.sample(n)
        return np.random.default_rng(seed).permutation(z).astype(np.float32)  # gmm.sample sorts by component


def fit_code_sampler(model, train: ImageSet, n_components: int = GMM_COMPONENTS) -> GaussianMixtureSampler:
    """The mixture over a model's training codes (a seeded subset of at most GMM_MAX_CODES images)."""
    subset = train.subset(torch.from_numpy(seeded_subset(len(train), GMM_MAX_CODES, FIT_SEED)))
    return GaussianMixtureSampler(n_components, FIT_SEED).fit(encode_images(model, subset, seed=FIT_SEED)["latent"])


class Sampler:
    """Codes (and images) from one model: its prior, or a mixture fitted once on its training codes.

    `train` is the model's training images, or a function that loads them: called only for a model
    without a prior."""

    def __init__(self, model, train: ImageSet | Callable[[], ImageSet] | None = None,
                 n_components: int = GMM_COMPONENTS):
        spec = spec_of(model)
        if not spec.can_sample:
            raise LatentspaceError(f"a {spec.title} model has neither a prior nor an encoder: it cannot sample")
        self.model, self.mixture = model, None
        if spec.prior is None:
            if train is None:
                raise LatentspaceError(f"a {spec.title} has no prior: sampling it needs its training images "
                                       f"(a Gaussian mixture is fitted on their codes)")
            self.mixture = fit_code_sampler(model, train() if callable(train) else train, n_components)
            self.description = self.mixture.description
        else:
            self.description = "the model's prior"

    def latents(self, n: int, seed: int | None = None) -> np.ndarray:
        """n x D float32 codes; the same for the same seed. seed None: fresh ones each call."""
        if n < 1:
            raise LatentspaceError(f"--n must be at least 1, got {n}")
        if seed is None:
            seed = int(np.random.default_rng().integers(2**31))
        if self.mixture is not None:
            return self.mixture.sample(n, seed)
        return self.model.prior_latents(n, torch.Generator().manual_seed(seed)).float().numpy()

    def images(self, n: int, seed: int | None = 0, batch_size: int = 1000) -> tuple[np.ndarray, np.ndarray]:
        """(n uint8 images, their n codes)."""
        z = self.latents(n, seed)
        return decode_latents(self.model, z, batch_size), z


def sample_images(model, n: int, train: ImageSet | Callable[[], ImageSet] | None = None,
                  seed: int = 0) -> tuple[np.ndarray, str]:
    """(n uint8 samples, how they were drawn): what generate, evaluate, the search and the study all use."""
    sampler = Sampler(model, train)
    return sampler.images(n, seed)[0], sampler.description
