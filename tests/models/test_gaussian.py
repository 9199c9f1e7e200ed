"""Diagonal Gaussian posteriors: the KL to N(0, I), the reparameterisation, the clamped log-variance."""
from __future__ import annotations

import math

import torch

from latentspace.models.gaussian import LOGVAR_RANGE, clamp_logvar, reparameterize
from latentspace.models.gaussian import kl_to_standard_normal as kl_divergence


def test_kl_matches_closed_form():
    # μ = 1, σ = 2: ½(μ² + σ² − 1 − ln σ²) = ½(1 + 4 − 1 − ln 4)
    mu = torch.tensor([[1.0, 0.0, -0.5]])
    logvar = torch.tensor([[math.log(4.0), 0.0, math.log(0.25)]])
    kl = kl_divergence(mu, logvar)
    expected = [0.5 * (4 - math.log(4)), 0.0, 0.5 * (0.25 + 0.25 - 1 - math.log(0.25))]
    assert torch.allclose(kl[0], torch.tensor(expected), atol=1e-6)
    # and against torch.distributions for random values
    mu, logvar = torch.randn(64, 6), torch.randn(64, 6)
    ref = torch.distributions.kl_divergence(torch.distributions.Normal(mu, (0.5 * logvar).exp()),
                                            torch.distributions.Normal(0.0, 1.0))
    assert torch.allclose(kl_divergence(mu, logvar), ref, atol=1e-5)


def test_reparameterisation_samples_around_mu():
    mu = torch.full((20000, 2), 3.0)
    logvar = torch.full((20000, 2), math.log(0.25))
    z = reparameterize(mu, logvar, torch.Generator().manual_seed(0))
    assert abs(float(z.mean()) - 3.0) < 0.02
    assert abs(float(z.std()) - 0.5) < 0.02


def test_clamped_log_variance_keeps_its_gradient():
    raw = torch.tensor([-100.0, 0.0, 100.0], requires_grad=True)
    clamped = clamp_logvar(raw)
    assert clamped.tolist() == [LOGVAR_RANGE[0], 0.0, LOGVAR_RANGE[1]]
    clamped.sum().backward()
    assert raw.grad.tolist() == [1.0, 1.0, 1.0]  # straight through: a dimension past a bound can come back


def test_reparameterisation_is_seeded():
    mu, logvar = torch.zeros(4, 3), torch.zeros(4, 3)
    a = reparameterize(mu, logvar, torch.Generator().manual_seed(7))
    b = reparameterize(mu, logvar, torch.Generator().manual_seed(7))
    assert torch.equal(a, b) and not torch.equal(a, reparameterize(mu, logvar, torch.Generator().manual_seed(8)))
