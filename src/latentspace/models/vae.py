"""The study's variational autoencoder (section 3), with the β of a β-VAE.

The autoencoder's convolutional encoder ends in two linear heads, μ (the encoder's own `head`,
so `encoder.features()` and a frozen-encoder classifier see μ) and log σ²; z = μ + ε·σ; the
study's decoder. Loss = squared error summed over pixels, averaged over the batch, + β · KL(q(z|x) || N(0, I)).
"""
from __future__ import annotations

from dataclasses import dataclass

import lightning as L
import torch
import torch.nn.functional as F
from lightning.pytorch.callbacks import Callback
from torch import nn

from latentspace.analysis.betasweep import ACTIVE_THRESHOLD, active_units
from latentspace.analysis.figures import reconstruction_figure
from latentspace.analysis.plots import plot_curves, read_metrics
from latentspace.analysis.vae_plots import plot_kl_per_dim
from latentspace.data import ImageSet
from latentspace.models.autoencoder import AEConfig
from latentspace.models.base import make_optimizer, option
from latentspace.nets import Decoder, Encoder, init_weights
from latentspace.runs import merge_json, read_json

LOGVAR_RANGE = (-16.0, 10.0)  # σ from 3e-4 to 148: exp() stays finite, even in float16
KL_FILE = "kl_per_dim.json"


@dataclass
class VAEConfig(AEConfig):
    beta: float = option(1.0, "weight of the KL term (β-VAE; 1 is the plain VAE)", minimum=0.0)


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(μ, σ²) || N(0, 1)) of each sample and dimension (same shape as μ), in nats."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)


def clamp_logvar(raw: torch.Tensor) -> torch.Tensor:
    """log σ² limited to LOGVAR_RANGE in value; the gradient passes as if unclamped, so a
    dimension pushed past a bound can still come back (a plain clamp would freeze it there)."""
    return raw + (raw.clamp(*LOGVAR_RANGE) - raw).detach()


class VAE(L.LightningModule):
    """Variational autoencoder: encode(x) -> μ, encode_distribution(x) -> (μ, log σ²), sample(n) from N(0, I)."""

    kind = "vae"
    config_cls = VAEConfig
    has_encoder = True
    monitor = "val_loss"

    def __init__(self, config: VAEConfig):
        super().__init__()
        self.config = config
        self.encoder = Encoder(config.latent_dim, config.width)  # encoder.head is the μ head
        self.logvar_head = nn.Linear(self.encoder.hidden, config.latent_dim)
        self.decoder = Decoder(config.latent_dim, config.width)
        init_weights(self, config.init)
        # per-dimension KL summed over an epoch's samples, per stage; KLPerDimLog turns them into means
        self.kl_sums: dict[str, torch.Tensor] = {}
        self.kl_counts: dict[str, int] = {}

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    # ------------------------------------------------------------------ the protocol

    def encode_distribution(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.encoder.trunk(x)
        return self.encoder.head(h), clamp_logvar(self.logvar_head(h))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encode_distribution(x)[0]

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    @staticmethod
    def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None):
        eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        return mu + eps * (0.5 * logvar).exp()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """A reconstruction through a sampled z (the training path); `decode(encode(x))` uses μ."""
        mu, logvar = self.encode_distribution(x)
        return self.decode(self.reparameterize(mu, logvar))

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        z = torch.randn(n, self.latent_dim, generator=generator, device=self.device)
        return self.decode(z)

    # ------------------------------------------------------------------ the loss

    def loss_terms(self, x: torch.Tensor, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """recon (summed over pixels, mean over the batch), kl (summed over dims, mean over the batch),
        kl_per_dim_sum (summed over the batch), loss = recon + β·kl."""
        mu, logvar = self.encode_distribution(x)
        recon_x = self.decode(self.reparameterize(mu, logvar, generator))
        n = len(x)
        recon = F.mse_loss(recon_x, x, reduction="sum") / n
        kl_per_dim_sum = kl_divergence(mu.float(), logvar.float()).sum(0)
        kl = kl_per_dim_sum.sum() / n
        return {"recon": recon, "kl": kl, "loss": recon + self.config.beta * kl, "kl_per_dim_sum": kl_per_dim_sum}

    def _step(self, batch, stage: str):
        x, _ = batch
        t = self.loss_terms(x)
        n = len(x)
        sync = stage != "train"
        for name in ("recon", "kl", "loss"):
            self.log(f"{stage}_{name}", t[name], on_step=False, on_epoch=True, prog_bar=name == "loss",
                     batch_size=n, sync_dist=sync)
        s = t["kl_per_dim_sum"].detach()
        self.kl_sums[stage] = self.kl_sums[stage] + s if stage in self.kl_sums else s
        self.kl_counts[stage] = self.kl_counts.get(stage, 0) + n
        return t["loss"]

    def training_step(self, batch, batch_idx):
        return self._step(batch, "train")

    def validation_step(self, batch, batch_idx):
        self._step(batch, "val")

    def on_train_epoch_start(self):
        self._reset_kl("train")

    def on_validation_epoch_start(self):
        self._reset_kl("val")

    def _reset_kl(self, stage: str) -> None:
        self.kl_sums.pop(stage, None)
        self.kl_counts.pop(stage, None)

    def configure_optimizers(self):
        c = self.config
        return make_optimizer(self.parameters(), c.optimizer, c.lr, c.weight_decay)

    def extra_callbacks(self, run) -> list:
        return [KLPerDimLog(run.path / KL_FILE)]

    # ------------------------------------------------------------------ after training

    @torch.no_grad()
    def distribution_of(self, images: ImageSet, batch_size: int = 2000) -> tuple[torch.Tensor, torch.Tensor]:
        """(μ, log σ²) of every image of a split, on the CPU."""
        mus, logvars = [], []
        for start in range(0, len(images), batch_size):
            mu, logvar = self.encode_distribution(images.floats(slice(start, start + batch_size)).to(self.device))
            mus.append(mu.float().cpu())
            logvars.append(logvar.float().cpu())
        return torch.cat(mus), torch.cat(logvars)

    @torch.no_grad()
    def extra_metrics(self, test: ImageSet, batch_size: int = 1000, seed: int = 0) -> dict:
        """The test ELBO terms: reconstruction (through a sampled z, seeded), KL, β-weighted loss, active units."""
        g = torch.Generator(device=self.device).manual_seed(seed)
        recon, kl_sum, n = 0.0, None, 0
        for start in range(0, len(test), batch_size):
            x = test.floats(slice(start, start + batch_size)).to(self.device)
            t = self.loss_terms(x, generator=g)
            recon += float(t["recon"]) * len(x)
            kl_sum = t["kl_per_dim_sum"] if kl_sum is None else kl_sum + t["kl_per_dim_sum"]
            n += len(x)
        per_dim = (kl_sum / n).cpu()
        kl = float(per_dim.sum())
        return {"test_recon": recon / n, "test_kl": kl, "test_loss": recon / n + self.config.beta * kl,
                "test_active_units": active_units(per_dim.numpy())}

    def write_figures(self, run, splits) -> list:
        """loss.png (recon, KL, total; train solid, validation dashed: study fig. 6a), reconstructions.png
        (fig. 1b) and kl_per_dim.png (mean KL of each dimension over the test set, also in kl_per_dim.json)."""
        name = f"VAE (latent {self.latent_dim}, β={self.config.beta:g})"
        loss = plot_curves(read_metrics(run.metrics_file),
                           [("train_recon", "val_recon"), ("train_kl", "val_kl"), ("train_loss", "val_loss")],
                           f"{name}: loss = recon + β·KL", run.figures / "loss.png",
                           ylabel="per image: summed squared error, KL nats", logy=True)
        recon = reconstruction_figure(self, splits.test, run, name)
        mu, logvar = self.distribution_of(splits.test)
        per_dim = kl_divergence(mu, logvar).mean(0).numpy()
        merge_json(run.path / KL_FILE, {"test": per_dim.tolist(), "threshold": ACTIVE_THRESHOLD,
                                        "test_active_units": active_units(per_dim)})
        kl = plot_kl_per_dim(per_dim, f"{name}: mean KL per latent dimension (test set)",
                             run.figures / "kl_per_dim.png", threshold=ACTIVE_THRESHOLD)
        return [loss, recon, kl]


class KLPerDimLog(Callback):
    """Mean KL of each latent dimension, train and validation, per epoch -> kl_per_dim.json ("epochs").

    Runs at the end of the training epoch (after validation); sums are reduced over processes under DDP.
    A resumed run overwrites the epochs it trains again.
    """

    def __init__(self, path):
        self.path = path

    def on_train_epoch_end(self, trainer, pl_module):
        row = {"epoch": trainer.current_epoch}
        for stage in ("train", "val"):
            if stage not in pl_module.kl_sums:
                continue
            total = trainer.strategy.reduce(pl_module.kl_sums[stage].clone(), reduce_op="sum")
            count = trainer.strategy.reduce(torch.tensor(float(pl_module.kl_counts[stage]), device=total.device),
                                            reduce_op="sum")
            row[stage] = (total / count).cpu().tolist()
        if not trainer.is_global_zero:
            return
        data = read_json(self.path) if self.path.is_file() else {}
        epochs = [e for e in data.get("epochs", []) if e["epoch"] < row["epoch"]]
        data["epochs"] = epochs + [row]
        merge_json(self.path, data)
