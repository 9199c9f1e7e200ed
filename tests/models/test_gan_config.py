"""The DCGAN's hyperparameters and contract: no encoder, an FID objective, its own batch size."""
from __future__ import annotations

import dataclasses

from latentspace.models.gan_config import SPEC, GANConfig


def test_the_studys_networks_the_fast_recipe_and_the_contract():
    c = GANConfig()
    assert (c.noise_dim, c.g_width, c.d_width) == (100, 64, 64)  # the study's networks
    # the fast recipe (Adam 4e-4, (0.5, 0.99), batch 16); the study's (2e-4, (0.5, 0.999), batch 128) by name
    assert (c.lr, c.beta1, c.beta2) == (4e-4, 0.5, 0.99) and SPEC.train_defaults["batch_size"] == 16
    assert SPEC.recipes["study"] == {"lr": 2e-4, "beta1": 0.5, "beta2": 0.999, "batch_size": 128}
    assert not SPEC.encoder and SPEC.monitor is None and SPEC.objective == "fid" and SPEC.latent_field == "noise_dim"
    assert SPEC.run_name(c) == "gan-z100"
    assert set(SPEC.search_space) <= {f.name for f in dataclasses.fields(GANConfig)}


def test_augment_policies_are_read_in_the_authors_order_and_anything_else_refused():
    import pytest

    from latentspace.errors import LatentspaceError
    from latentspace.models.gan_config import DIFFAUG_OPS, parse_augment

    assert parse_augment("none") == () and parse_augment("diffaug") == DIFFAUG_OPS == ("color", "translation", "cutout")
    assert parse_augment("diffaug:cutout,translation") == ("translation", "cutout")
    assert parse_augment(" DiffAug:color ") == ("color",)
    for bad, message in (("diffaug:rotate", "unknown augmentation 'rotate'"), ("diffaug:", "cannot read"),
                         ("mixup", "cannot read 'mixup'"), ("diffaug:color,flip", "'flip'")):
        with pytest.raises(LatentspaceError, match=message):
            parse_augment(bad)


def test_the_study_recipe_keeps_the_studys_gan_whatever_the_defaults():
    fields = {f.name for f in dataclasses.fields(GANConfig)}
    study = GANConfig(**{k: v for k, v in SPEC.recipes["study"].items() if k in fields})  # as `--recipe study`
    assert (study.loss, study.spectral_norm, study.augment, study.ema, study.lr_d) == ("bce", False, "none", False, None)
    assert (study.lr, study.beta1, study.beta2) == (2e-4, 0.5, 0.999) and SPEC.recipes["study"]["batch_size"] == 128
