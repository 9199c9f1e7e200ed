"""The autoencoder's hyperparameters and its contract (torch-free; the network is in autoencoder.py)."""
from __future__ import annotations

from dataclasses import dataclass

from latentspace.config import option
from latentspace.models.spec import ModelSpec

OPTIMIZER_NAMES = ("adam", "adamw", "sgd", "rmsprop")  # the study's table-1 choices (models/optim.py builds them)
SCHEDULES = ("constant", "onecycle", "cosine")  # models/optim.py: make_schedule


@dataclass
class OptimConfig:
    """The fast recipe by default (one-cycle to a high peak, Adam β2 0.95: the seed loop's 10-epoch test MSE in
    3 epochs, measured in benchmarks/time_to_quality.py); `--recipe study` gives the study's constant 1e-3."""
    optimizer: str = option("adam", "optimizer", choices=OPTIMIZER_NAMES)
    lr: float = option(8e-3, "learning rate (with a schedule: its peak)", above=0.0)
    weight_decay: float = option(1e-5, "weight decay (L2)", minimum=0.0)
    schedule: str = option("onecycle", "learning-rate schedule, stepped every batch: constant; onecycle (linear "
                           "warm-up to --lr, cosine down to ~0); cosine (linear warm-up, cosine to 0)",
                           choices=SCHEDULES)
    warmup: float = option(0.4, "fraction of the training steps spent warming up (onecycle, cosine)", minimum=0.0,
                          maximum=1.0)
    beta2: float = option(0.95, "Adam/AdamW β2 (RMSprop's α); the study's is 0.999", minimum=0.0, below=1.0)

# the study's own optimizer settings (its Adam at a fixed 1e-3, PyTorch's β2), for `--recipe study`
STUDY_OPTIM = {"optimizer": "adam", "lr": 1e-3, "weight_decay": 1e-5, "schedule": "constant", "beta2": 0.999}
# and its training budget: the seed loop's (../shared/reference/seed_loop.py) 10 epochs at batch 256
STUDY_TRAIN = {"epochs": 10, "batch_size": 256}


@dataclass
class AEConfig(OptimConfig):
    latent_dim: int = option(20, "size of the latent code", minimum=1)
    width: float = option(1.0, "multiplier of the convolution channels (8, 16, 32)", minimum=0.125)
    init: str = option("none", "weight initialisation", choices=("none", "xavier", "kaiming"))


# The study's table 1: latent dimension, optimizer, learning rate, weight decay, weight initialisation.
# The study's best (latent 28, Adam, lr 5e-3, weight decay 2e-4, no init) lies inside every range.
TABLE1_SPACE = {
    "latent_dim": ("int", 2, 64, False),
    "optimizer": ("choice", OPTIMIZER_NAMES),
    "lr": ("float", 1e-4, 1e-1, True),
    "weight_decay": ("float", 1e-6, 1e-2, True),
    "init": ("choice", ("none", "xavier", "kaiming")),
}

SPEC = ModelSpec(
    kind="ae", title="Autoencoder",
    summary="The study's convolutional autoencoder: encode(x) -> z, decode(z) -> x, MSE loss.",
    config_cls=AEConfig, module="latentspace.models.autoencoder:Autoencoder",
    encoder=True, prior=None,
    figures=("loss", "reconstructions"),
    loss_curves=(("train_loss", "val_loss"),), loss_title="MSE loss",
    search_space=TABLE1_SPACE,
    # the fast recipe (with AEConfig's optimizer defaults): 2 epochs of 96 reach test MSE 0.0125 against the seed
    # loop's 0.0127 after its 10 (batch 128: 0.0130 after 2, 0.0118 after 3; 80: 0.0123 but slower), measured
    # 2026-12-02 when the seed loop's 10 epochs took 77 s (benchmarks/time_to_quality.py: whole processes)
    train_defaults={"epochs": 2, "batch_size": 96},
    recipes={"study": {**STUDY_OPTIM, **STUDY_TRAIN}},
)
