"""Which latent dimensions a Gaussian posterior uses (study section 3.5): mean KL per dimension, active units.

Pure functions over arrays; the KL itself is `models.gaussian.kl_to_standard_normal`, the one definition.
"""
from __future__ import annotations

import numpy as np
import torch

from latentspace.models.gaussian import kl_to_standard_normal

ACTIVE_THRESHOLD = 0.01  # nats: a dimension whose mean KL is below this carries (almost) no information


def kl_per_dimension(mu: np.ndarray, logvar: np.ndarray) -> np.ndarray:
    """Mean over samples of KL(N(μ, σ²) || N(0, 1)) for each latent dimension (N x D in, D out), in nats."""
    mu, logvar = (torch.as_tensor(np.asarray(a, dtype=np.float64)) for a in (mu, logvar))
    if mu.shape != logvar.shape or mu.dim() != 2:
        raise ValueError(f"μ and log σ² must both be N x D, got {tuple(mu.shape)} and {tuple(logvar.shape)}")
    return kl_to_standard_normal(mu, logvar).mean(0).numpy()


def active_units(kl_per_dim: np.ndarray, threshold: float = ACTIVE_THRESHOLD) -> int:
    """How many dimensions have a mean KL above `threshold` nats."""
    return int((np.asarray(kl_per_dim) > threshold).sum())


def top_k_dims(kl_per_dim: np.ndarray, k: int) -> list[int]:
    """The k dimensions with the largest mean KL, largest first (ties: lower index first); k is capped at D."""
    kl = np.asarray(kl_per_dim)
    order = np.lexsort((np.arange(len(kl)), -kl))  # primary key: -KL, then index
    return [int(i) for i in order[: max(0, min(k, len(kl)))]]
