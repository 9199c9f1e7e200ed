"""The autoencoder's hyperparameters: the fast recipe by default, the study's by name, table 1's space, its contract."""
from __future__ import annotations

import dataclasses

from latentspace.models.autoencoder_config import SPEC, TABLE1_SPACE, AEConfig
from latentspace.training.config import TrainConfig


def test_the_fast_defaults_the_studys_recipe_and_the_space():
    c = AEConfig()
    assert (c.latent_dim, c.optimizer, c.lr, c.weight_decay, c.init) == (20, "adam", 8e-3, 1e-5, "none")
    assert (c.schedule, c.warmup, c.beta2) == ("onecycle", 0.4, 0.95)
    assert SPEC.train_defaults == {"epochs": 2, "batch_size": 96}
    study = SPEC.recipes["study"]  # the study's and the seed loop's: Adam at a constant 1e-3, 10 epochs of 256
    assert AEConfig(**{k: v for k, v in study.items() if k in {f.name for f in dataclasses.fields(AEConfig)}}) == \
        AEConfig(lr=1e-3, schedule="constant", beta2=0.999)
    assert TrainConfig(**{k: v for k, v in study.items() if k in {"epochs", "batch_size"}}) == TrainConfig()
    fields = {f.name for f in dataclasses.fields(AEConfig)}
    assert set(TABLE1_SPACE) <= fields and SPEC.search_space is TABLE1_SPACE
    low, high = TABLE1_SPACE["lr"][1:3]
    assert low < 5e-3 < high  # the study's best learning rate lies inside
    assert SPEC.figures == ("loss", "reconstructions") and SPEC.loss_curves == (("train_loss", "val_loss"),)
