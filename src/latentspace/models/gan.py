"""The study's DCGAN: a generator and a discriminator trained against each other with BCE (section 4).

Images come in from the loader in [0, 1]; inside this module they live in [-1, 1] (the generator's
tanh), and `decode` hands them back in [0, 1]. Training uses Lightning's manual optimisation: per
batch, one discriminator step (real images labelled 1, the generated batch labelled 0), then one
generator step on the same generated batch labelled 1, as the study did.

Options (each measured before choosing its default, see the notes in `benchmarks/gan_fid.py`; all off):
an exponential moving average of the generator's weights (`--ema`), spectral normalisation in the
discriminator (`--spectral-norm`), one-sided label smoothing (`--label-smoothing 0.1`).

Failure modes are recorded, not hidden: a step whose loss is NaN or infinite is skipped (the weights
stay finite) and counted; a discriminator loss stuck near 0, or generated images that all look the
same, for `collapse_patience` steps in a row is a collapse. Both go to the log (stderr and
RUN/train.log) and to metrics.csv (`nonfinite_steps`, `collapse_steps`); `--stop-on-collapse` ends
training at the first one (the run still finishes, summary.json says `stopped_by`).
"""
from __future__ import annotations

import copy
import csv
import logging
import math
from dataclasses import dataclass
from pathlib import Path

import lightning as L
import torch
import torch.nn.functional as F
from lightning.pytorch.callbacks import Callback

from latentspace.errors import LatentspaceError
from latentspace.models.base import option
from latentspace.nets import Discriminator, Generator

log = logging.getLogger("latentspace.gan")

# a discriminator loss under this, or generated images with less spread across the batch than this,
# for `collapse_patience` consecutive steps, is a collapse
D_LOSS_COLLAPSE = 1e-2
FAKE_STD_COLLAPSE = 1e-2


@dataclass
class GANConfig:
    noise_dim: int = option(100, "size of the generator's noise vector (its latent space)", minimum=1)
    g_width: int = option(64, "generator width (channels: 4w, 2w, 1)", minimum=1)
    d_width: int = option(64, "discriminator width (channels: w, 2w, 4w, 1)", minimum=1)
    lr: float = option(2e-4, "Adam learning rate of both networks", minimum=0.0)
    beta1: float = option(0.5, "Adam beta1 of both networks", minimum=0.0)
    beta2: float = option(0.999, "Adam beta2 of both networks", minimum=0.0)
    ema: bool = option(False, "sample from an exponential moving average of the generator's weights")
    ema_decay: float = option(0.999, "decay of the generator EMA (warmed up: min(decay, (1+t)/(10+t)))",
                              minimum=0.0)
    spectral_norm: bool = option(False, "spectral normalisation in the discriminator (replaces its BatchNorm)")
    label_smoothing: float = option(0.0, "one-sided label smoothing: real images are labelled 1 - this",
                                    minimum=0.0)
    progress_images: int = option(64, "images of the fixed-noise grid drawn after every epoch", minimum=1)
    collapse_patience: int = option(200, "steps in a row of a near-zero D loss (or identical samples) "
                                         "that count as a collapse", minimum=1)
    stop_on_collapse: bool = option(False, "end training at a collapse or a NaN/infinite loss")


class GAN(L.LightningModule):
    """DCGAN (study section 4): decode(z) = generator, sample(n) from N(0, I) noise; no encoder."""

    kind = "gan"
    config_cls = GANConfig
    has_encoder = False
    monitor = None  # no validation loss: the checkpoint kept is the last one
    # the reference DCGAN uses 128; smaller batches give more updates per CPU-minute and a far lower FID
    # for the same wall clock (measurements in benchmarks/gan_fid.py's docstring)
    train_defaults = {"batch_size": 32}

    def __init__(self, config: GANConfig):
        super().__init__()
        if not 0.0 <= config.label_smoothing < 1.0:
            raise LatentspaceError(f"--label-smoothing must be in [0, 1), got {config.label_smoothing}")
        if not (0.0 <= config.beta1 < 1.0 and 0.0 <= config.beta2 < 1.0 and 0.0 <= config.ema_decay < 1.0):
            raise LatentspaceError("--beta1, --beta2 and --ema-decay must be in [0, 1)")
        self.config = config
        self.automatic_optimization = False
        self.generator = Generator(config.noise_dim, config.g_width)
        self.discriminator = Discriminator(config.d_width, spectral_norm=config.spectral_norm)
        self.generator_ema = None
        if config.ema:
            # never trained, only averaged into; sampling switches it to eval mode
            self.generator_ema = copy.deepcopy(self.generator).requires_grad_(False)
        # the fixed noise of the per-epoch progress grid: drawn when training starts (the global RNG is
        # seeded then), saved in every checkpoint, so a resume keeps it
        self.register_buffer("fixed_noise", torch.randn(config.progress_images, config.noise_dim))
        self.register_buffer("ema_steps", torch.zeros((), dtype=torch.long))
        self.events: list[str] = []  # collapse / NaN messages, drained into RUN/train.log by the callback
        self.stop_reason: str | None = None
        self.step_history: list[tuple] = []  # (epoch, batch, d_loss, g_loss, d_real, d_fake), per step
        self._bad_run = 0  # consecutive steps looking collapsed
        self._channels_last = True

    # ------------------------------------------------------------------ the model protocol

    @property
    def latent_dim(self) -> int:
        return self.config.noise_dim

    @property
    def sampler(self) -> torch.nn.Module:
        """The generator that produces images: the EMA copy when there is one."""
        return self.generator_ema if self.generator_ema is not None else self.generator

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        raise LatentspaceError("a GAN has no encoder: it cannot map images to noise vectors, so embeddings, "
                               "reconstructions and the frozen-encoder classifier do not apply; "
                               "use `latentspace generate RUN` (samples, traversals) instead")

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Noise (N x noise_dim) to images N x 1 x 28 x 28 in [0, 1]."""
        return self.sampler(z.to(self.device)).add(1).mul_(0.5).clamp_(0, 1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.decode(z)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        z = torch.randn(n, self.latent_dim, generator=generator).to(self.device)
        return torch.cat([self.decode(chunk) for chunk in z.split(1000)]) if n else self.decode(z)

    # ------------------------------------------------------------------ training

    def configure_optimizers(self):
        c = self.config
        betas = (c.beta1, c.beta2)
        # one fused kernel per step instead of a loop of small ops, where PyTorch has it
        fused = {"fused": True} if self.device.type in ("cpu", "cuda") else {}
        opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=c.lr, betas=betas, **fused)
        opt_g = torch.optim.Adam(self.generator.parameters(), lr=c.lr, betas=betas, **fused)
        return opt_d, opt_g

    def setup(self, stage=None):
        if self._channels_last:
            # the loader's batches are channels_last; the convolutions are faster with weights to match
            # (before the optimizers are made, so their state takes the same layout)
            self.to(memory_format=torch.channels_last)

    def training_step(self, batch, batch_idx):
        opt_d, opt_g = self.optimizers()
        x = batch[0] * 2 - 1
        n = len(x)
        real_label = 1.0 - self.config.label_smoothing
        # BatchNorm's running statistics change in every forward pass: keep them to undo a non-finite step
        buffers = [b for b in (*self.generator.buffers(), *self.discriminator.buffers()) if b.is_floating_point()]
        saved = [b.clone() for b in buffers]
        fake = self.generator(torch.randn(n, self.config.noise_dim, device=x.device))

        # discriminator: real images towards 1 (or 1 - smoothing), the generated batch towards 0
        real_logits = self.discriminator(x)
        fake_logits = self.discriminator(fake.detach())
        d_loss = (F.binary_cross_entropy_with_logits(real_logits, torch.full_like(real_logits, real_label))
                  + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))
        finite = bool(torch.isfinite(d_loss))
        opt_d.zero_grad(set_to_none=True)
        if finite:
            self.manual_backward(d_loss)
            opt_d.step()

        # generator: the same generated batch, labelled real, through the updated discriminator;
        # the discriminator's weights need no gradient here
        self.discriminator.requires_grad_(False)
        g_logits = self.discriminator(fake)
        g_loss = F.binary_cross_entropy_with_logits(g_logits, torch.ones_like(g_logits))
        finite = finite and bool(torch.isfinite(g_loss))
        opt_g.zero_grad(set_to_none=True)
        if finite:
            self.manual_backward(g_loss)
            opt_g.step()
            self._update_ema()
        self.discriminator.requires_grad_(True)
        if not finite:
            torch._foreach_copy_(buffers, saved)

        with torch.no_grad():
            d_loss, g_loss = d_loss.detach(), g_loss.detach()
            d_real = torch.sigmoid(real_logits.detach()).mean()
            d_fake = torch.sigmoid(fake_logits.detach()).mean()
            fake_std = fake.detach().std(0).mean()
        # one host sync per step for everything the history and the collapse watch need
        stats = torch.stack([d_loss, g_loss, d_real, d_fake, fake_std]).tolist()
        self.step_history.append((self.current_epoch, batch_idx, *stats[:4]))
        self._watch(finite, stats[0], stats[4], batch_idx)
        self.log_dict({"d_loss": d_loss, "g_loss": g_loss}, on_step=False, on_epoch=True, prog_bar=True,
                      batch_size=n)
        self.log_dict({"d_real": d_real, "d_fake": d_fake, "fake_std": fake_std}, on_step=False, on_epoch=True,
                      batch_size=n)
        self.log_dict({"nonfinite_steps": 0.0 if finite else 1.0,
                       "collapse_steps": 1.0 if self._bad_run >= self.config.collapse_patience else 0.0},
                      on_step=False, on_epoch=True, reduce_fx="sum", batch_size=n)

    @torch.no_grad()
    def _update_ema(self) -> None:
        if self.generator_ema is None:
            return
        t = int(self.ema_steps)
        decay = min(self.config.ema_decay, (1 + t) / (10 + t))
        ema_p = list(self.generator_ema.parameters())
        torch._foreach_lerp_(ema_p, list(self.generator.parameters()), 1.0 - decay)
        for b_ema, b in zip(self.generator_ema.buffers(), self.generator.buffers()):
            b_ema.copy_(b)
        self.ema_steps += 1

    def _watch(self, finite: bool, d_loss: float, fake_std: float, batch_idx: int) -> None:
        """Counts collapse-looking steps; records and (with --stop-on-collapse) acts on failures."""
        where = f"epoch {self.current_epoch} step {batch_idx}"
        if not finite:
            self._event(f"non-finite loss at {where}: the step was skipped", "nonfinite")
            return
        looks_collapsed = d_loss < D_LOSS_COLLAPSE or fake_std < FAKE_STD_COLLAPSE
        self._bad_run = self._bad_run + 1 if looks_collapsed else 0
        if self._bad_run == self.config.collapse_patience:
            self._event(f"collapse at {where}: for {self._bad_run} steps the discriminator loss stayed under "
                        f"{D_LOSS_COLLAPSE} or the generated images had a spread under {FAKE_STD_COLLAPSE} "
                        f"(last D loss {d_loss:.3g}, spread {fake_std:.3g})", "collapse")

    def _event(self, message: str, reason: str) -> None:
        if self.config.stop_on_collapse and self.trainer is not None and not self.trainer.should_stop:
            message += "; stopping (--stop-on-collapse)"
            self.trainer.should_stop = True
            self.stop_reason = reason
        log.warning(message)
        self.events.append(message)

    # ------------------------------------------------------------------ run directory

    def extra_callbacks(self, run) -> list:
        return [GANProgress(run)]

    def write_figures(self, run, splits) -> list:
        """progress.gif (study fig. 11 and its GIF), loss.png (fig. 10), samples.png (fig. 12)."""
        from latentspace.analysis.gan_figures import gan_loss_figure, progress_gif, samples_figure

        figures = [gan_loss_figure(run, steps_file(run), "DCGAN")]
        gif = progress_gif(progress_dir(run), run.figures / "progress.gif")
        if gif is not None:
            figures.append(gif)
        with torch.no_grad():
            images = self.sample(64, generator=torch.Generator().manual_seed(12345))
        figures.append(samples_figure(images, run.figures / "samples.png",
                                      f"DCGAN: 64 samples from fresh noise{' (EMA generator)' if self.config.ema else ''}"))
        return figures


def steps_file(run) -> Path:
    return run.path / "gan_steps.csv"


def progress_dir(run) -> Path:
    return run.figures / "progress"


STEP_COLUMNS = ("epoch", "batch", "d_loss", "g_loss", "d_real", "d_fake")


class GANProgress(Callback):
    """Per epoch: the fixed-noise grid (figures/progress/epoch_NNN.png), the per-step losses
    (RUN/gan_steps.csv) and failure events (RUN/train.log). Also saves the fixed noise as RUN/fixed_noise.pt."""

    def __init__(self, run):
        self.run = run

    def on_train_start(self, trainer, pl_module):
        if not trainer.is_global_zero:
            return
        start = trainer.current_epoch  # after a resume (restored by now): the first epoch to train again
        noise_file = self.run.path / "fixed_noise.pt"
        if start > 0 and noise_file.is_file():
            saved = torch.load(noise_file, map_location="cpu", weights_only=True)
            if not torch.equal(saved, pl_module.fixed_noise.cpu()):
                raise LatentspaceError(f"{noise_file} differs from the checkpoint's fixed noise")
        torch.save(pl_module.fixed_noise.detach().cpu().clone(), noise_file)
        # drop what epochs not in the checkpoint left behind (they are trained again)
        _truncate_steps(steps_file(self.run), start)
        for png in progress_dir(self.run).glob("epoch_*.png"):
            if int(png.stem.split("_")[1]) >= start:
                png.unlink()

    def on_train_epoch_end(self, trainer, pl_module):
        history, pl_module.step_history = pl_module.step_history, []
        events, pl_module.events = pl_module.events, []
        if not trainer.is_global_zero:
            return
        _append_steps(steps_file(self.run), history)
        if events:
            with open(self.run.path / "train.log", "a") as f:
                f.writelines(e + "\n" for e in events)
        from latentspace.analysis.gan_figures import progress_frame

        gen = pl_module.sampler
        was_training = gen.training
        gen.eval()
        with torch.no_grad():
            images = pl_module.decode(pl_module.fixed_noise)
        gen.train(was_training)
        progress_frame(images, progress_dir(self.run) / f"epoch_{trainer.current_epoch:03d}.png",
                       trainer.current_epoch)


def _append_steps(path: Path, rows: list[tuple]) -> None:
    new = not path.is_file()
    with open(path, "a", newline="") as f:
        w = csv.writer(f)
        if new:
            w.writerow(STEP_COLUMNS)
        w.writerows([r[0], r[1], *(f"{v:.6g}" if math.isfinite(v) else str(v) for v in r[2:])] for r in rows)


def _truncate_steps(path: Path, before_epoch: int) -> None:
    if not path.is_file():
        return
    with open(path) as f:
        rows = [r for r in csv.reader(f)][1:]
    keep = [r for r in rows if int(r[0]) < before_epoch]
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(STEP_COLUMNS)
        w.writerows(keep)
