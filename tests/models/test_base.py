"""What every model shares: latent size and title from its spec, N(0, I) prior codes, no encoder to classify."""
from __future__ import annotations

import pytest
import torch

from latentspace.errors import LatentspaceError
from latentspace.models.autoencoder import Autoencoder
from latentspace.models.autoencoder_config import AEConfig
from latentspace.models.gan import GAN
from latentspace.models.gan_config import GANConfig


def test_latent_size_and_title_come_from_the_spec():
    gan = GAN(GANConfig(noise_dim=7, g_width=4, d_width=4))
    assert gan.latent_dim == 7 and gan.title() == "DCGAN" and gan.classifier_encoder() is None
    assert Autoencoder(AEConfig(latent_dim=3)).title() == "Autoencoder (latent 3)"


def test_prior_codes_are_seeded_normal_and_refused_without_a_prior():
    gan = GAN(GANConfig(noise_dim=5, g_width=4, d_width=4))
    z = gan.prior_latents(4, torch.Generator().manual_seed(1))
    assert torch.equal(z, torch.randn(4, 5, generator=torch.Generator().manual_seed(1)))
    assert gan.sample(3, generator=torch.Generator().manual_seed(1)).shape == (3, 1, 28, 28)
    with pytest.raises(LatentspaceError, match="has no prior of its own"):
        Autoencoder(AEConfig()).prior_latents(2)


def test_the_optimizer_follows_the_config():
    opt = Autoencoder(AEConfig(optimizer="adamw", lr=0.02, weight_decay=0.1, schedule="constant")).configure_optimizers()
    assert type(opt).__name__ == "AdamW" and opt.param_groups[0]["lr"] == 0.02
