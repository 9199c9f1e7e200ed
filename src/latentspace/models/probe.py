"""A classifier on top of an encoder: the study's "does the latent code know the class?" (section 2).

The encoder is a `nets.Encoder` (an autoencoder's, a VAE's whose `head` gives mu, or a fresh one for the
supervised baseline). In the default `frozen` mode its weights never change: `requires_grad` is off and
it stays in eval mode while the head trains, so its batch-norm running statistics are untouched too.
The head reads any of the encoder's activations (`Encoder.features`), flattened and concatenated:
BatchNorm -> Linear -> BatchNorm -> ReLU -> Dropout -> Linear(10).
"""
from __future__ import annotations

import lightning as L
import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics.classification import MulticlassAccuracy

from latentspace.models.augment import augment
from latentspace.models.nets import Encoder
from latentspace.models.probe_config import MODES, ProbeConfig, parse_features


class Probe(L.LightningModule):
    """Encoder (frozen, fine-tuned or trained from scratch) + a two-layer head with batch norm."""

    def __init__(self, encoder: Encoder, config: ProbeConfig, mode: str = "frozen", num_classes: int = 10):
        super().__init__()
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        self.config, self.mode, self.num_classes = config, mode, num_classes
        self.feature_names = parse_features(config.features)
        self.encoder = encoder
        self.encoder.requires_grad_(mode != "frozen")
        in_dim = self._feature_dim()
        self.head = nn.Sequential(
            nn.BatchNorm1d(in_dim),
            nn.Linear(in_dim, config.head_width), nn.BatchNorm1d(config.head_width), nn.ReLU(True),
            nn.Dropout(config.dropout),
            nn.Linear(config.head_width, num_classes))
        self.train_acc = MulticlassAccuracy(num_classes)
        self.val_acc = MulticlassAccuracy(num_classes)
        self.train()  # a loaded encoder arrives in eval mode; Lightning keeps the modes it finds

    @property
    def frozen(self) -> bool:
        return self.mode == "frozen"

    def train(self, mode: bool = True):
        """A frozen encoder stays in eval mode (its batch-norm statistics must not move) while the head trains."""
        super().train(mode)
        if self.frozen:
            self.encoder.eval()
        return self

    @torch.no_grad()
    def _feature_dim(self) -> int:
        was_training = self.encoder.training
        self.encoder.eval()
        dim = self.read_features(torch.zeros(1, *self.encoder.image_shape)).shape[1]
        self.encoder.train(was_training)
        return dim

    def read_features(self, x: torch.Tensor) -> torch.Tensor:
        feats = self.encoder.features(x)
        parts = []
        for name in self.feature_names:
            f = feats[name]
            if f.dim() == 4 and self.config.pool:
                f = F.adaptive_avg_pool2d(f, self.config.pool)
            parts.append(f.flatten(1))
        return torch.cat(parts, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.frozen:
            with torch.no_grad():
                feats = self.read_features(x)
        else:
            feats = self.read_features(x)
        return self.head(feats)

    def parameter_counts(self) -> dict:
        trainable = sum(p.numel() for p in self.parameters() if p.requires_grad)
        frozen = sum(p.numel() for p in self.parameters() if not p.requires_grad)
        return {"trainable": trainable, "frozen": frozen}

    def layer_table(self) -> list[tuple[str, int, bool]]:
        """(layer, parameters, requires_grad) for every layer that has parameters, as the study checked."""
        rows = []
        for name, module in self.named_modules():
            params = list(module.parameters(recurse=False))
            if params and not name.endswith("_acc"):
                rows.append((f"{name} ({type(module).__name__})", sum(p.numel() for p in params),
                             all(p.requires_grad for p in params)))
        return rows

    def training_step(self, batch, batch_idx):
        x, y = batch
        x = augment(x, self.config.shift, self.config.flip)
        logits = self(x)
        loss = F.cross_entropy(logits, y, label_smoothing=self.config.label_smoothing)
        self.train_acc(logits, y)
        self.log("train_loss", loss, on_step=False, on_epoch=True, batch_size=len(x))
        self.log("train_acc", self.train_acc, on_step=False, on_epoch=True, prog_bar=True, batch_size=len(x))
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.val_acc(logits, y)
        self.log("val_loss", F.cross_entropy(logits, y), on_epoch=True, prog_bar=True, batch_size=len(x),
                 sync_dist=True)
        self.log("val_acc", self.val_acc, on_epoch=True, prog_bar=True, batch_size=len(x))

    @torch.no_grad()
    def predict_logits(self, x: torch.Tensor, batch_size: int = 2000) -> torch.Tensor:
        was_training = self.training
        self.eval()
        out = torch.cat([self(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])
        self.train(was_training)
        return out

    def configure_optimizers(self):
        c = self.config
        groups = [{"params": list(self.head.parameters()), "lr": c.lr}]
        if not self.frozen:
            factor = c.encoder_lr if self.mode == "finetune" else 1.0
            groups.append({"params": list(self.encoder.parameters()), "lr": c.lr * factor})
        opt = torch.optim.AdamW(groups, lr=c.lr, weight_decay=c.weight_decay)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=[g["lr"] for g in groups],
                                                    total_steps=max(1, int(self.trainer.estimated_stepping_batches)))
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}
