"""The study's variational autoencoder (section 3), with the β of a β-VAE.

The autoencoder's convolutional encoder ends in two linear heads, μ (the encoder's own `head`,
so `encoder.features()` and a frozen-encoder classifier see μ) and log σ²; z = μ + ε·σ; the
study's decoder. Loss = squared error summed over pixels, averaged over the batch, + β · KL(q(z|x) || N(0, I)).

With `conditional` (Sohn et al. 2015's CVAE) both ends see the class y: the encoder adds a learned embedding
of y to its hidden layer before the μ and log σ² heads, q(z|x, y), and the decoder reads [z, one-hot y]. The
code is then free to hold what the class does not say (width, shade, pattern), and decode(z, y) draws
class y in the style z.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from latentspace.models.base import STUDY_SHAPE, LatentModel
from latentspace.models.gaussian import (
    clamp_logvar,
    kl_to_standard_normal,
    reparameterize,
)
from latentspace.models.nets import Decoder, Encoder, init_weights
from latentspace.models.optim import budget_steps
from latentspace.models.vae_config import VAEConfig


class VAE(LatentModel):
    """Variational autoencoder: encode(x) -> μ, encode_distribution(x) -> (μ, log σ²), sample(n) from N(0, I)."""

    kind = "vae"

    def __init__(self, config: VAEConfig, image_shape: tuple = STUDY_SHAPE, num_classes: int = 0):
        super().__init__(config, image_shape, num_classes)
        self.encoder = Encoder(config.latent_dim, config.width, image_shape=self.image_shape)  # encoder.head is the μ head
        self.logvar_head = nn.Linear(self.encoder.hidden, config.latent_dim)
        self.decoder = Decoder(config.latent_dim + self.num_classes, config.width, image_shape=self.image_shape)
        # conditional: the class's embedding joins the encoder's hidden layer (None for a plain VAE)
        self.class_embedding = nn.Embedding(self.num_classes, self.encoder.hidden) if self.conditional else None
        init_weights(self, config.init)

    def title(self) -> str:
        return f"{'conditional ' if self.conditional else ''}VAE (latent {self.latent_dim}, β={self.config.beta:g})"

    # ------------------------------------------------------------------ the contract

    def encode_distribution(self, x: torch.Tensor, labels: torch.Tensor | None = None
                            ) -> tuple[torch.Tensor, torch.Tensor]:
        labels = self.check_labels(labels, len(x))
        h = self.encoder.trunk(x)
        if labels is not None:
            h = h + self.class_embedding(labels)
        return self.encoder.head(h), clamp_logvar(self.logvar_head(h))

    def encode(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.encode_distribution(x, labels)[0]

    def decode(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        labels = self.check_labels(labels, len(z))
        if labels is not None:
            z = torch.cat([z, F.one_hot(labels, self.num_classes).to(z.dtype)], 1)
        return self.decoder(z)

    def classifier_encoder(self) -> Encoder:
        return self.encoder

    reparameterize = staticmethod(reparameterize)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """A reconstruction through a sampled z (the training path); `decode(encode(x))` uses μ."""
        mu, logvar = self.encode_distribution(x, labels)
        return self.decode(reparameterize(mu, logvar), labels)

    # ------------------------------------------------------------------ the loss

    def loss_terms(self, x: torch.Tensor, labels: torch.Tensor | None = None,
                   generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """recon (summed over pixels, mean over the batch), kl (summed over dims, mean over the batch),
        kl_per_dim_sum (summed over the batch), loss = recon + β·kl."""
        mu, logvar = self.encode_distribution(x, labels)
        recon_x = self.decode(reparameterize(mu, logvar, generator), labels)
        n = len(x)
        recon = F.mse_loss(recon_x, x, reduction="sum") / n
        kl_per_dim_sum = kl_to_standard_normal(mu.float(), logvar.float()).sum(0)
        kl = kl_per_dim_sum.sum() / n
        return {"recon": recon, "kl": kl, "loss": recon + self.kl_weight() * kl, "kl_per_dim_sum": kl_per_dim_sum}

    def kl_weight(self) -> float:
        """β, or during the KL warm-up of training (`kl_warmup` of the steps) β times the fraction of it done: the
        decoder learns to use the code before the KL pulls it towards the prior. Evaluation always uses β."""
        trainer = getattr(self, "_trainer", None)
        if self.config.kl_warmup <= 0 or not self.training or trainer is None:
            return self.config.beta
        total = budget_steps(trainer)  # the budget's steps (epochs or wall clock), as the learning-rate schedule's
        if not math.isfinite(total):  # no budget to warm up over
            return self.config.beta
        ramp = self.config.kl_warmup * max(1, total)
        return self.config.beta * min(1.0, (trainer.global_step + 1) / ramp)

    def _step(self, batch, stage: str) -> dict:
        x, y = batch
        t = self.loss_terms(x, y if self.conditional else None)
        for name in ("recon", "kl", "loss"):
            self.log(f"{stage}_{name}", t[name], on_step=False, on_epoch=True, prog_bar=name == "loss",
                     batch_size=len(x), sync_dist=stage != "train")
        # the per-dimension KL of the batch: the training layer's KL-per-dimension log sums it per epoch
        return {"loss": t["loss"], "kl_per_dim_sum": t["kl_per_dim_sum"].detach()}

    def training_step(self, batch, batch_idx):
        return self._step(batch, "train")

    def validation_step(self, batch, batch_idx):
        return self._step(batch, "val")
