"""The VAE's hyperparameters: the autoencoder's plus β; its contract declares a Gaussian posterior."""
from __future__ import annotations

from latentspace.models.autoencoder_config import TABLE1_SPACE
from latentspace.models.vae_config import SPEC, VAEConfig


def test_beta_and_the_contract():
    assert VAEConfig().beta == 1.0 and VAEConfig().latent_dim == 20
    # the VAE's fast recipe: peak 8e-3, no weight decay, the KL warmed up over the run, 2 epochs of batch 128;
    # the study's by name (no warm-up)
    assert (VAEConfig().lr, VAEConfig().weight_decay, VAEConfig().schedule) == (8e-3, 0.0, "onecycle")
    assert VAEConfig().kl_warmup == 1.0 and SPEC.recipes["study"]["kl_warmup"] == 0.0
    assert SPEC.train_defaults == {"epochs": 2, "batch_size": 128} and SPEC.recipes["study"]["lr"] == 1e-3
    assert SPEC.gaussian_posterior and SPEC.prior == "normal" and SPEC.loss_log
    assert set(SPEC.search_space) == set(TABLE1_SPACE) | {"beta"}
    assert "kl_per_dim" in SPEC.figures
    assert [pair[0] for pair in SPEC.loss_curves] == ["train_recon", "train_kl", "train_loss"]
