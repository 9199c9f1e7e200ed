"""The autoencoder's hyperparameters: the study's defaults, its table-1 search space, its contract."""
from __future__ import annotations

import dataclasses

from latentspace.models.autoencoder_config import SPEC, TABLE1_SPACE, AEConfig


def test_the_studys_defaults_and_space():
    c = AEConfig()
    assert (c.latent_dim, c.optimizer, c.lr, c.weight_decay, c.init) == (20, "adam", 1e-3, 1e-5, "none")
    fields = {f.name for f in dataclasses.fields(AEConfig)}
    assert set(TABLE1_SPACE) <= fields and SPEC.search_space is TABLE1_SPACE
    low, high = TABLE1_SPACE["lr"][1:3]
    assert low < 5e-3 < high  # the study's best learning rate lies inside
    assert SPEC.figures == ("loss", "reconstructions") and SPEC.loss_curves == (("train_loss", "val_loss"),)
