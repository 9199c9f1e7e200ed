"""A Gaussian mixture over a model's training codes (as Pythae's GaussianMixtureSampler): the default sampler
of a model without a prior, e.g. the autoencoder.

Fitted by scikit-learn (full covariances) on a seeded subset of at most `max_codes` codes and kept as its
parameters (weights, means, Cholesky factors of the covariances), not as a pickled estimator. Sampling is
done here from those parameters with a torch Generator, so the same seed gives the same codes everywhere.
"""
from __future__ import annotations

import numpy as np
import torch

from latentspace.errors import LatentspaceError
from latentspace.samplers.base import FIT_SEED, LatentSampler

COMPONENTS = 10
MAX_CODES = 20000  # plenty for 10 components, and quick to encode and fit


class GaussianMixtureSampler(LatentSampler):
    name = "gmm"
    max_codes = MAX_CODES

    def __init__(self, model, n_components: int = COMPONENTS):
        if int(n_components) < 1:
            raise LatentspaceError(f"a Gaussian mixture needs at least one component, got {n_components}")
        super().__init__(model, n_components=int(n_components))
        self.weights = self.means = self.chol = None

    @property
    def description(self) -> str:
        return f"a {self.options['n_components']}-component Gaussian mixture on training codes"

    def fit_codes(self, codes, labels, minutes, log) -> None:
        from sklearn.mixture import GaussianMixture

        k = self.options["n_components"]
        codes = np.asarray(codes, dtype=np.float64)
        codes = codes.reshape(len(codes), -1) if codes.ndim > 2 else codes  # a map-shaped code: its values
        if codes.ndim != 2 or len(codes) < k:
            raise LatentspaceError(f"a {k}-component mixture needs at least {k} codes (N x D), got shape {codes.shape}")
        gmm = GaussianMixture(k, covariance_type="full", reg_covar=1e-5, random_state=FIT_SEED).fit(codes)
        self.load_state({"weights": torch.from_numpy(gmm.weights_), "means": torch.from_numpy(gmm.means_),
                         "chol": torch.linalg.cholesky(torch.from_numpy(gmm.covariances_))})

    def state(self) -> dict[str, torch.Tensor]:
        return {"weights": self.weights, "means": self.means, "chol": self.chol}

    def load_state(self, state) -> None:
        try:
            weights, means, chol = (state[k].double() for k in ("weights", "means", "chol"))
        except KeyError as e:
            raise LatentspaceError(f"a Gaussian mixture's state lacks {e}") from None
        k, d = means.shape
        if weights.shape != (k,) or chol.shape != (k, d, d) or not all(bool(torch.isfinite(t).all()) for t in (weights, means, chol)):
            raise LatentspaceError("a Gaussian mixture's state has inconsistent shapes or non-finite values")
        self.weights, self.means, self.chol = weights / weights.sum(), means, chol

    def sample(self, n: int, generator: torch.Generator, labels: torch.Tensor | None = None) -> torch.Tensor:
        if self.means is None:
            raise RuntimeError("fit the sampler first")
        component = torch.multinomial(self.weights, n, replacement=True, generator=generator)
        eps = torch.randn(n, self.means.shape[1], 1, generator=generator, dtype=torch.float64)
        return (self.means[component] + (self.chol[component] @ eps)[..., 0]).float()
