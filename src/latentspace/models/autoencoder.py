"""The study's convolutional autoencoder: MSE between an image and its reconstruction."""
from __future__ import annotations

from dataclasses import dataclass

import lightning as L
import torch
import torch.nn.functional as F

from latentspace.analysis.figures import loss_figure, reconstruction_figure
from latentspace.errors import LatentspaceError
from latentspace.models.base import OptimConfig, make_optimizer, option
from latentspace.nets import Decoder, Encoder, init_weights


@dataclass
class AEConfig(OptimConfig):
    latent_dim: int = option(20, "size of the latent code", minimum=1)
    width: float = option(1.0, "multiplier of the convolution channels (8, 16, 32)", minimum=0.125)
    init: str = option("none", "weight initialisation", choices=("none", "xavier", "kaiming"))


class Autoencoder(L.LightningModule):
    """encode(x) -> z, decode(z) -> x in [0, 1]. It has no prior: `sample` needs a fitted sampler."""

    kind = "ae"
    config_cls = AEConfig

    def __init__(self, config: AEConfig):
        super().__init__()
        self.config = config
        self.encoder = Encoder(config.latent_dim, config.width)
        self.decoder = Decoder(config.latent_dim, config.width)
        init_weights(self, config.init)

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    def sample(self, n: int) -> torch.Tensor:
        raise LatentspaceError("an autoencoder has no prior to sample from; "
                               "use `latentspace generate RUN --mode prior`, which fits a Gaussian mixture")

    def training_step(self, batch, batch_idx):
        x, _ = batch
        loss = F.mse_loss(self(x), x)
        self.log("train_loss", loss, on_step=False, on_epoch=True, prog_bar=True, batch_size=len(x))
        return loss

    def validation_step(self, batch, batch_idx):
        x, _ = batch
        loss = F.mse_loss(self(x), x)
        self.log("val_loss", loss, on_epoch=True, prog_bar=True, batch_size=len(x), sync_dist=True)

    def write_figures(self, run, splits) -> list:
        """loss.png (train vs validation, study fig. 3a) and reconstructions.png (fig. 1a)."""
        return [loss_figure(run, [("train_loss", "val_loss")], f"Autoencoder (latent {self.latent_dim}): MSE loss"),
                reconstruction_figure(self, splits.test, run, f"Autoencoder (latent {self.latent_dim})")]

    def configure_optimizers(self):
        c = self.config
        return make_optimizer(self.parameters(), c.optimizer, c.lr, c.weight_decay)
