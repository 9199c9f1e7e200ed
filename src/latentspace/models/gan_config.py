"""The DCGAN's hyperparameters and its contract (torch-free; the networks are in gan.py)."""
from __future__ import annotations

from dataclasses import dataclass

from latentspace.config import option
from latentspace.models.spec import ModelSpec


@dataclass
class GANConfig:
    noise_dim: int = option(100, "size of the generator's noise vector (its latent space)", minimum=1)
    g_width: int = option(64, "generator width (channels: 4w, 2w, 1)", minimum=1)
    d_width: int = option(64, "discriminator width (channels: w, 2w, 4w, 1)", minimum=1)
    # the study's Adam is 2e-4, (0.5, 0.999); at batch 16 a higher rate and a shorter second-moment memory went
    # further per CPU-minute (benchmarks/gan_fid.py's docstring)
    lr: float = option(4e-4, "Adam learning rate of both networks", above=0.0)
    beta1: float = option(0.5, "Adam beta1 of both networks", minimum=0.0, below=1.0)
    beta2: float = option(0.99, "Adam beta2 of both networks", minimum=0.0, below=1.0)
    ema: bool = option(False, "sample from an exponential moving average of the generator's weights")
    ema_decay: float = option(0.999, "decay of the generator EMA (warmed up: min(decay, (1+t)/(10+t)))",
                              minimum=0.0, below=1.0)
    spectral_norm: bool = option(False, "spectral normalisation in the discriminator (replaces its BatchNorm)")
    label_smoothing: float = option(0.0, "one-sided label smoothing: real images are labelled 1 - this",
                                    minimum=0.0, below=1.0)
    progress_images: int = option(64, "images of the fixed-noise grid drawn after every epoch", minimum=1)
    collapse_patience: int = option(200, "steps in a row of a near-zero D loss (or identical samples) "
                                         "that count as a collapse", minimum=1)
    stop_on_collapse: bool = option(False, "end training at a collapse or a NaN/infinite loss")


SPEC = ModelSpec(
    kind="gan", title="DCGAN",
    summary="DCGAN (study section 4): decode(z) = generator, sample(n) from N(0, I) noise; no encoder.",
    config_cls=GANConfig, module="latentspace.models.gan:GAN",
    encoder=False, prior="normal",
    objective="fid",   # no validation loss to minimise: a search scores the FID of samples
    monitor=None,      # the checkpoint kept is the last one
    latent_field="noise_dim",
    # the reference DCGAN uses 128; smaller batches give more updates per CPU-minute and a far lower FID
    # for the same wall clock (measurements in benchmarks/gan_fid.py's docstring)
    train_defaults={"batch_size": 16},
    recipes={"study": {"lr": 2e-4, "beta1": 0.5, "beta2": 0.999, "batch_size": 128}},
    figures=("step_losses", "progress", "samples"),
    loss_label="BCE loss",
    # DCGAN: Adam's learning rate and β1, the two networks' widths
    search_space={"lr": ("float", 1e-5, 1e-2, True), "beta1": ("float", 0.0, 0.9, False),
                  "g_width": ("int", 16, 128, True), "d_width": ("int", 16, 128, True)},
)
