"""The model's own prior: N(0, I) latents of its latent shape (a VAE's code, a GAN's noise, a flow's noise image)."""
from __future__ import annotations

import torch

from latentspace.samplers.base import LatentSampler


class PriorSampler(LatentSampler):
    name = "prior"

    def fit_codes(self, codes, labels, minutes, log) -> None:
        pass  # nothing to fit

    def sample(self, n: int, generator: torch.Generator, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.model.prior_latents(n, generator)
