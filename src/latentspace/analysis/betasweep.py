"""β-VAE analyses (study section 3.5, fig. 9): which latent dimensions are active, and traversals.

Pure functions over arrays; a decoder enters only as a function from codes to images.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

ACTIVE_THRESHOLD = 0.01  # nats: a dimension whose mean KL is below this carries (almost) no information


def kl_per_dimension(mu: np.ndarray, logvar: np.ndarray) -> np.ndarray:
    """Mean over samples of KL(N(μ, σ²) || N(0, 1)) for each latent dimension (N x D in, D out), in nats."""
    mu, logvar = np.asarray(mu, dtype=np.float64), np.asarray(logvar, dtype=np.float64)
    if mu.shape != logvar.shape or mu.ndim != 2:
        raise ValueError(f"μ and log σ² must both be N x D, got {mu.shape} and {logvar.shape}")
    return (0.5 * (mu ** 2 + np.exp(logvar) - 1.0 - logvar)).mean(0)


def active_units(kl_per_dim: np.ndarray, threshold: float = ACTIVE_THRESHOLD) -> int:
    """How many dimensions have a mean KL above `threshold` nats."""
    return int((np.asarray(kl_per_dim) > threshold).sum())


def top_k_dims(kl_per_dim: np.ndarray, k: int) -> list[int]:
    """The k dimensions with the largest mean KL, largest first (ties: lower index first); k is capped at D."""
    kl = np.asarray(kl_per_dim)
    order = np.lexsort((np.arange(len(kl)), -kl))  # primary key: -KL, then index
    return [int(i) for i in order[: max(0, min(k, len(kl)))]]


def traversal_values(span: float, steps: int) -> np.ndarray:
    """`steps` evenly spaced values from -span to +span (σ of the prior N(0, 1))."""
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    return np.linspace(-span, span, steps) if steps > 1 else np.zeros(1)


def traversal_codes(code: np.ndarray, dims: list[int], values: np.ndarray) -> np.ndarray:
    """Codes for a traversal: row i sets dimension dims[i] of `code` to each of `values` in turn,
    every other dimension kept. Returns len(dims) x len(values) x D."""
    code = np.asarray(code, dtype=np.float32).reshape(-1)
    values = np.asarray(values, dtype=np.float32)
    out = np.repeat(np.repeat(code[None, None, :], len(dims), 0), len(values), 1)
    for i, d in enumerate(dims):
        if not 0 <= d < len(code):
            raise ValueError(f"dimension {d} out of range for a {len(code)}-dimensional code")
        out[i, :, d] = values
    return out


def traverse(decode: Callable[[np.ndarray], np.ndarray], code: np.ndarray, dims: list[int],
             values: np.ndarray) -> np.ndarray:
    """Decoded traversal images, len(dims) x len(values) x H x W; `decode` maps M x D codes to M x H x W."""
    codes = traversal_codes(code, dims, values)
    k, s, d = codes.shape
    images = np.asarray(decode(codes.reshape(k * s, d)))
    return images.reshape(k, s, *images.shape[1:])
