"""The study's convolutional autoencoder: MSE between an image and its reconstruction."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from latentspace.models.autoencoder_config import AEConfig
from latentspace.models.base import STUDY_SHAPE, LatentModel
from latentspace.models.nets import Decoder, Encoder, init_weights


class Autoencoder(LatentModel):
    """encode(x) -> z, decode(z) -> x in [0, 1]. It has no prior (its spec says so): samples come from a
    Gaussian mixture fitted on its codes."""

    kind = "ae"

    def __init__(self, config: AEConfig, image_shape: tuple = STUDY_SHAPE, num_classes: int = 0):
        super().__init__(config, image_shape, num_classes)
        self.encoder = Encoder(config.latent_dim, config.width, image_shape=self.image_shape)
        self.decoder = Decoder(config.latent_dim, config.width, image_shape=self.image_shape)
        init_weights(self, config.init)

    def encode(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        self.check_labels(labels, len(x))
        return self.encoder(x)

    def decode(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        self.check_labels(labels, len(z))
        return self.decoder(z)

    def classifier_encoder(self) -> Encoder:
        return self.encoder

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    def training_step(self, batch, batch_idx):
        x, _ = batch
        loss = F.mse_loss(self(x), x)
        self.log("train_loss", loss, on_step=False, on_epoch=True, prog_bar=True, batch_size=len(x))
        return loss

    def validation_step(self, batch, batch_idx):
        x, _ = batch
        loss = F.mse_loss(self(x), x)
        self.log("val_loss", loss, on_epoch=True, prog_bar=True, batch_size=len(x), sync_dist=True)
