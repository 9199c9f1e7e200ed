"""The VAE's hyperparameters (the autoencoder's, plus β) and its contract. Torch-free."""
from __future__ import annotations

from dataclasses import dataclass

from latentspace.config import option
from latentspace.models.autoencoder_config import (
    STUDY_OPTIM,
    STUDY_TRAIN,
    TABLE1_SPACE,
    AEConfig,
)
from latentspace.models.spec import ModelSpec


@dataclass
class VAEConfig(AEConfig):
    beta: float = option(1.0, "weight of the KL term (β-VAE; 1 is the plain VAE)", minimum=0.0)
    # the VAE's fast recipe: no weight decay (which pulls μ towards 0 on top of the KL) and the KL weight warmed
    # up over the whole run (measured in SPEC's comment)
    lr: float = option(8e-3, "learning rate (with a schedule: its peak)", above=0.0)
    weight_decay: float = option(0.0, "weight decay (L2)", minimum=0.0)
    kl_warmup: float = option(1.0, "fraction of the training steps over which the KL weight rises linearly from 0 "
                                   "to β (KL annealing; validation always uses β)", minimum=0.0)
    conditional: bool = option(False, "condition encoder and decoder on the class (a conditional VAE: generate "
                                      "--class K draws that class; needs labelled data)")


SPEC = ModelSpec(
    kind="vae", title="VAE",
    summary="Variational autoencoder: encode(x) -> μ, encode_distribution(x) -> (μ, log σ²), sample(n) from N(0, I).",
    config_cls=VAEConfig, module="latentspace.models.vae:VAE",
    encoder=True, prior="normal", gaussian_posterior=True,
    figures=("loss", "reconstructions", "kl_per_dim"),
    loss_curves=(("train_recon", "val_recon"), ("train_kl", "val_kl"), ("train_loss", "val_loss")),
    loss_title="loss = recon + β·KL", loss_label="per image: summed squared error, KL nats", loss_log=True,
    # β of the β-VAE on top of the autoencoder's space (the study compares β = 1, 10, 100)
    search_space={**TABLE1_SPACE, "beta": ("float", 0.5, 100.0, True)},
    # 2 epochs of 128, one-cycle to 8e-3, KL warmed up over the whole run: test MSE 0.0184 and a better ELBO
    # (25.32 nats against 25.58) than the same without the warm-up (0.0218); the seed loop's after 10 epochs:
    # 0.0200 (one thread each, 2026-12-02; benchmarks/time_to_quality.py measures it end to end)
    train_defaults={"epochs": 2, "batch_size": 128},
    recipes={"study": {**STUDY_OPTIM, **STUDY_TRAIN, "kl_warmup": 0.0}},
)
