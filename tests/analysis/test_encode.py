"""The one encode loop: every image's code, batched and seeded; a Gaussian posterior's μ, log σ² and a draw z."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from latentspace.analysis.encode import encode_images, require_encoder
from latentspace.errors import LatentspaceError
from tests.fakes import FakeGAN, FakeVAE, fake_test_set


def test_gaussian_codes_are_mu_logvar_and_a_seeded_draw(fake_models):
    model, images = FakeVAE(), fake_test_set(70)
    codes = encode_images(model, images, batch_size=32, seed=3)
    with torch.no_grad():
        mu, logvar = model.encode_distribution(images.floats())
    np.testing.assert_allclose(codes["latent"], mu.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(codes["logvar"], logvar.numpy())
    assert codes["latent"].dtype == np.float32 and codes["z"].shape == (70, 5)
    # the batch size does not change the draw (only the last bit of a matrix product may differ)
    np.testing.assert_allclose(codes["z"], encode_images(model, images, batch_size=7, seed=3)["z"], rtol=1e-6, atol=1e-6)
    assert not np.array_equal(codes["z"], encode_images(model, images, seed=4)["z"])


def test_an_encoder_without_a_posterior_gives_its_codes_and_a_gan_none(tiny_ae_run, fake_models):
    from latentspace.runs import load_run

    model, _ = load_run(tiny_ae_run.path)
    images = fake_test_set(10)
    codes = encode_images(model, images)
    assert set(codes) == {"latent", "vector"} and codes["latent"].shape == (10, 4)
    assert codes["vector"] is codes["latent"]  # a code is its own vector
    with pytest.raises(LatentspaceError, match="needs an encoder, and a Fake GAN model has none"):
        encode_images(FakeGAN(), images)
    with pytest.raises(LatentspaceError, match="a latent map needs an encoder"):
        require_encoder(FakeGAN(), "a latent map")
