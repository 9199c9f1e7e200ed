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

    def condition(self, labels):
        return None

    def encode(self, x, labels=None):
        return x.flatten(1)[:, :1]

    def decode(self, z, labels=None):
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


class _ChannelShift(torch.nn.Module):
    """Reconstructs a colour image with each channel moved by its own amount: MSE has a closed form, and one
    channel's error shows in the average."""
    device = torch.device("cpu")
    shifts = torch.tensor([0.0, 0.1, 0.3]).view(1, 3, 1, 1)

    def condition(self, labels):
        return None

    def encode(self, x, labels=None):
        self.x = x
        return x.flatten(1)[:, :1]

    def decode(self, z, labels=None):
        return (self.x - self.shifts).clamp(0, 1)


def test_mse_psnr_and_ssim_of_colour_images():
    from torchmetrics.functional.image import structural_similarity_index_measure

    from tests.fakes import fake_colour_test_set

    ssim = structural_similarity_index_measure
    images = fake_colour_test_set(6, shape=(3, 32, 32))
    x = images.floats()
    recon = (x - _ChannelShift.shifts).clamp(0, 1)
    m = reconstruction_metrics(_ChannelShift(), images, batch_size=4)
    mse = float(((recon - x) ** 2).mean())
    assert m["test_mse"] == pytest.approx(mse, rel=1e-6) and mse > 0.01
    assert m["test_psnr"] == pytest.approx(10 * torch.log10(torch.tensor(1 / mse)).item(), rel=1e-3)
    # SSIM over the three channels: the mean of the channels' own (the red one is perfect)
    per_channel = [float(ssim(recon[:, c:c + 1], x[:, c:c + 1], data_range=1.0)) for c in range(3)]
    assert per_channel[0] == pytest.approx(1.0) and min(per_channel) < 0.99
    assert m["test_ssim"] == pytest.approx(sum(per_channel) / 3, rel=1e-4)
