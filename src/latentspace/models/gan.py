"""The study's DCGAN, and what makes a GAN work on a few hundred images or draw the class asked for.

Images come in from the loader in [0, 1]; inside this module they live in [-1, 1] (the generator's
tanh), and `decode` hands them back in [0, 1]. Training uses Lightning's manual optimisation: per
batch, one discriminator step (real images against the generated batch), then one generator step on
the same generated batch through the updated discriminator, as the study did.

Choices (each measured before choosing its default: benchmarks/gan_probe.py's docstring):
- the loss (`--loss`): bce, the study's (the generator's side non-saturating), or hinge (SNGAN's), which turns on
  spectral normalisation in the discriminator unless `--no-spectral-norm`;
- the learning rates: `--lr` for both, or `--lr-d` for the discriminator's own (TTUR);
- DiffAugment (`--augment diffaug[:OPS]`, models/diffaug.py): the same kind of random transform on real and
  generated images in both steps, so a discriminator cannot memorise a small set;
- an exponential moving average of the generator's weights to sample from (`--ema`), one-sided label smoothing
  (`--label-smoothing 0.1`, bce only);
- `--conditional`: conditional batch norm in the generator and a projection discriminator (Miyato & Koyama
  2018), trained on the batch's labels; `decode(z, labels)` draws the classes asked for.

Failure modes are recorded, not hidden: a step whose loss is NaN or infinite is skipped (the weights
stay finite) and counted; a discriminator loss stuck near 0, or generated images that all look the
same, for `collapse_patience` steps in a row is a collapse. Both are logged as warnings (the training
layer copies them to RUN/train.log) and counted in metrics.csv (`nonfinite_steps`, `collapse_steps`);
`--stop-on-collapse` ends training at the first one (the run still finishes, summary.json says `stopped_by`).
Each training step returns its losses and discriminator outputs, which the training layer logs per step.
"""
from __future__ import annotations

import copy
import logging

import torch
import torch.nn.functional as F

from latentspace.errors import LatentspaceError
from latentspace.models.base import STUDY_SHAPE, LatentModel
from latentspace.models.diffaug import diff_augment
from latentspace.models.gan_config import GANConfig, parse_augment
from latentspace.models.nets import Discriminator, Generator
from latentspace.models.optim import ema_update, make_optimizer

log = logging.getLogger("latentspace.gan")

# a discriminator loss under this, or generated images with less spread across the batch than this,
# for `collapse_patience` consecutive steps, is a collapse
D_LOSS_COLLAPSE = 1e-2
FAKE_STD_COLLAPSE = 1e-2
# fewer training images than this, trained without augmentation, get a log line pointing at --recipe small-data
SMALL_DATA = 5000


class GAN(LatentModel):
    """DCGAN (study section 4): decode(z) = generator, sample(n) from N(0, I) noise; no encoder."""

    kind = "gan"
    channels_last_on_cpu = True  # measured faster for these convolutions on a CPU too

    def __init__(self, config: GANConfig, image_shape: tuple = STUDY_SHAPE, num_classes: int = 0):
        super().__init__(config, image_shape, num_classes)
        if config.label_smoothing and config.loss != "bce":
            raise LatentspaceError(f"--label-smoothing labels the real images of --loss bce; --loss {config.loss} "
                                   f"has no labels to smooth")
        self.automatic_optimization = False
        self.augment_ops = parse_augment(config.augment)
        self.generator = Generator(config.noise_dim, config.g_width, self.image_shape, self.num_classes)
        self.discriminator = Discriminator(config.d_width, config.spectral_norm, self.image_shape, self.num_classes)
        self.generator_ema = None
        if config.ema:
            # never trained, only averaged into; sampling switches it to eval mode
            self.generator_ema = copy.deepcopy(self.generator).requires_grad_(False)
        # the fixed noise of the per-epoch progress grid: drawn when training starts (the global RNG is
        # seeded then), saved in every checkpoint, so a resume keeps it
        self.register_buffer("fixed_noise", torch.randn(config.progress_images, config.noise_dim))
        self.register_buffer("ema_steps", torch.zeros((), dtype=torch.long))
        self._bad_run = 0  # consecutive steps looking collapsed

    # ------------------------------------------------------------------ the contract

    def title(self) -> str:
        c = self.config
        parts = [p for p, on in (("hinge", c.loss == "hinge"), ("SN", c.spectral_norm),
                                 ("DiffAugment", self.augment_ops), ("EMA generator", c.ema)) if on]
        return ("conditional " if self.conditional else "") + "DCGAN" + (f" ({', '.join(parts)})" if parts else "")

    @property
    def sampler(self) -> torch.nn.Module:
        """The generator that produces images: the EMA copy when there is one."""
        return self.generator_ema if self.generator_ema is not None else self.generator

    def decode(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Noise (N x noise_dim) to images N x C x H x W in [0, 1] (of the classes `labels`, when conditional)."""
        labels = self.check_labels(labels, len(z))
        return self.sampler(z.to(self.device), labels).add(1).mul_(0.5).clamp_(0, 1)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.decode(z, labels)

    def augmented_view(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor | None:
        """Images in [0, 1] as the discriminator sees them (its augmentation, drawn from `generator`), clamped to
        [0, 1] for showing; None when it sees them as they are (no augmentation)."""
        if not self.augment_ops:
            return None
        return diff_augment(x.to(self.device) * 2 - 1, self.augment_ops, generator).add(1).mul_(0.5).clamp_(0, 1)

    def progress_latents(self) -> torch.Tensor:
        """The fixed noise decoded after every epoch (the "progress" figure): kept in the checkpoint."""
        return self.fixed_noise

    # ------------------------------------------------------------------ training

    def configure_optimizers(self):
        c = self.config
        betas = (c.beta1, c.beta2)
        lr_d = c.lr if c.lr_d is None else c.lr_d
        return (make_optimizer(self.discriminator.parameters(), "adam", lr_d, betas=betas),
                make_optimizer(self.generator.parameters(), "adam", c.lr, betas=betas))

    def on_train_start(self):
        n = len(self.trainer.train_dataloader.dataset)
        if n < SMALL_DATA and not self.augment_ops and self.trainer.is_global_zero:
            log.warning(f"{n} training images and no augmentation: a discriminator memorises a set this small; "
                        f"`--recipe small-data` (DiffAugment) is made for it (benchmarks/gan_probe.py)")

    def _d_loss(self, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
        if self.config.loss == "hinge":
            return F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean()
        real_label = 1.0 - self.config.label_smoothing
        return (F.binary_cross_entropy_with_logits(real_logits, torch.full_like(real_logits, real_label))
                + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))

    def _g_loss(self, logits: torch.Tensor) -> torch.Tensor:
        if self.config.loss == "hinge":
            return -logits.mean()
        return F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))  # non-saturating

    def _d(self, x: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """The discriminator's logits of images in [-1, 1], through the augmentation (drawn anew every call)."""
        return self.discriminator(diff_augment(x, self.augment_ops), labels)

    def training_step(self, batch, batch_idx):
        opt_d, opt_g = self.optimizers()
        x = batch[0] * 2 - 1
        n = len(x)
        labels = batch[1].long() if self.conditional else None  # the batch's classes: G draws the same ones
        # BatchNorm's running statistics change in every forward pass: keep them to undo a non-finite step
        buffers = [b for b in (*self.generator.buffers(), *self.discriminator.buffers()) if b.is_floating_point()]
        saved = [b.clone() for b in buffers]
        fake = self.generator(torch.randn(n, self.config.noise_dim, device=x.device), labels)

        # discriminator: real images against the generated batch (each augmented alike, when asked)
        real_logits = self._d(x, labels)
        fake_logits = self._d(fake.detach(), labels)
        d_loss = self._d_loss(real_logits, fake_logits)
        finite = bool(torch.isfinite(d_loss))
        opt_d.zero_grad(set_to_none=True)
        if finite:
            self.manual_backward(d_loss)
            opt_d.step()

        # generator: the same generated batch, labelled real, through the updated discriminator;
        # the discriminator's weights need no gradient here
        self.discriminator.requires_grad_(False)
        g_logits = self._d(fake, labels)
        g_loss = self._g_loss(g_logits)
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
        # one host sync per step for everything the step log and the collapse watch need
        stats = torch.stack([d_loss, g_loss, d_real, d_fake, fake_std]).tolist()
        self._watch(finite, stats[0], stats[4], batch_idx)
        self.log_dict({"d_loss": d_loss, "g_loss": g_loss}, on_step=False, on_epoch=True, prog_bar=True,
                      batch_size=n)
        self.log_dict({"d_real": d_real, "d_fake": d_fake, "fake_std": fake_std}, on_step=False, on_epoch=True,
                      batch_size=n)
        self.log_dict({"nonfinite_steps": 0.0 if finite else 1.0,
                       "collapse_steps": 1.0 if self._bad_run >= self.config.collapse_patience else 0.0},
                      on_step=False, on_epoch=True, reduce_fx="sum", batch_size=n)
        return dict(zip(("d_loss", "g_loss", "d_real", "d_fake"), stats[:4]))

    @torch.no_grad()
    def _update_ema(self) -> None:
        if self.generator_ema is None:
            return
        ema_update(self.generator_ema, self.generator, int(self.ema_steps), self.config.ema_decay)
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
