"""Reconstruction metrics and the ELBO terms of a Gaussian posterior, from the model contract."""
from __future__ import annotations

import pytest
import torch

from latentspace.analysis.reconstruction import elbo_terms, reconstruction_metrics
from latentspace.data.images import ImageSet
from tests.fakes import FakeVAE, fake_test_set


class _Constant(torch.nn.Module):
    """A "model" that reconstructs every image as mid-grey: MSE and PSNR have closed forms."""
    device = torch.device("cpu")

    def encode(self, x):
        return x.flatten(1)[:, :1]

    def decode(self, z):
        return torch.full((len(z), 1, 28, 28), 0.5)


def test_reconstruction_metrics_against_a_closed_form():
    images = ImageSet(torch.full((4, 28, 28), 255, dtype=torch.uint8), torch.zeros(4, dtype=torch.long), ("a",))
    m = reconstruction_metrics(_Constant(), images, batch_size=3)
    assert m["test_mse"] == pytest.approx(0.25)
    assert m["test_psnr"] == pytest.approx(10 * torch.log10(torch.tensor(1 / 0.25)).item(), rel=1e-4)
    assert -1 <= m["test_ssim"] <= 1


def test_elbo_terms_are_seeded_batch_means_of_the_models_loss_terms(fake_models):
    model, test = FakeVAE(), fake_test_set(50)
    a, b = elbo_terms(model, test, batch_size=16), elbo_terms(model, test, batch_size=16)
    assert a == b and a["test_loss"] == pytest.approx(a["test_recon"] + a["test_kl"])
    with torch.no_grad():
        mu, _ = model.encode_distribution(test.floats())
    assert a["test_kl"] == pytest.approx(float(0.5 * mu.pow(2).sum(1).mean()), rel=1e-5)  # log σ² = 0
    assert a["test_active_units"] >= 3  # the fake's dimensions 1, 3, 4 carry clearly more than 0.01 nats
