"""The DCGAN's hyperparameters and contract: no encoder, an FID objective, its own batch size."""
from __future__ import annotations

import dataclasses

from latentspace.models.gan_config import SPEC, GANConfig


def test_the_studys_defaults_and_the_contract():
    c = GANConfig()
    assert (c.noise_dim, c.g_width, c.d_width, c.lr, c.beta1) == (100, 64, 64, 2e-4, 0.5)
    assert not SPEC.encoder and SPEC.monitor is None and SPEC.objective == "fid" and SPEC.latent_field == "noise_dim"
    assert SPEC.latent_size(c) == 100 and SPEC.train_defaults["batch_size"] == 32
    assert set(SPEC.search_space) <= {f.name for f in dataclasses.fields(GANConfig)}
