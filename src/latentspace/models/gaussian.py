"""Diagonal Gaussian posteriors: the KL to N(0, I), the reparameterisation, a safe log-variance.

The one KL-per-dimension of the project: the VAE's loss, its per-epoch logs and every analysis of
active units use `kl_to_standard_normal`.
"""
from __future__ import annotations

import torch

LOGVAR_RANGE = (-16.0, 10.0)  # σ from 3e-4 to 148: exp() stays finite, even in float16


def kl_to_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(μ, σ²) || N(0, 1)) of each sample and dimension (same shape as μ), in nats."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)


def clamp_logvar(raw: torch.Tensor) -> torch.Tensor:
    """log σ² limited to LOGVAR_RANGE in value; the gradient passes as if unclamped, so a
    dimension pushed past a bound can still come back (a plain clamp would freeze it there)."""
    return raw + (raw.clamp(*LOGVAR_RANGE) - raw).detach()


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None,
                   eps: torch.Tensor | None = None) -> torch.Tensor:
    """z = μ + ε·σ with ε ~ N(0, I): `eps` when given (drawn ahead, e.g. one per image of a whole split), else
    drawn here (seeded by `generator` when given)."""
    if eps is None:
        eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
    return mu + eps * (0.5 * logvar).exp()
