"""The autoencoder's hyperparameters and its contract (torch-free; the network is in autoencoder.py)."""
from __future__ import annotations

from dataclasses import dataclass

from latentspace.config import option
from latentspace.models.spec import ModelSpec

OPTIMIZER_NAMES = ("adam", "adamw", "sgd", "rmsprop")  # the study's table-1 choices (models/optim.py builds them)


@dataclass
class OptimConfig:
    optimizer: str = option("adam", "optimizer", choices=OPTIMIZER_NAMES)
    lr: float = option(1e-3, "learning rate", minimum=0.0)
    weight_decay: float = option(1e-5, "weight decay (L2)", minimum=0.0)


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
)
