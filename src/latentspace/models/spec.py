"""The model contract: what a model declares it can do, read by everything outside `models/`.

Code outside `models/` never tests a model's class or kind string and never probes a capability
with try/except: it reads the model's `ModelSpec`. Every model also offers the same methods:

    latent_dim                  size of its latent space
    encode(x) -> z              when `encoder` (a Gaussian posterior's z is its mean μ)
    encode_distribution(x)      -> (μ, log σ²), when `gaussian_posterior`
    loss_terms(x)               -> {"recon", "kl", "loss"} batch means, when `gaussian_posterior`
    decode(z) -> x in [0, 1]    always
    prior_latents(n, generator) -> z, when `prior` (then `sample(n)` = decode(prior_latents(n)))
    title()                     how figures and the report name it, e.g. "VAE (latent 20, β=1)"
    classifier_encoder()        the encoder network a frozen-encoder classifier reads, or None
    progress_latents()          fixed latents decoded after every epoch, when it lists the "progress" figure

A model without a prior but with an encoder is sampled through a Gaussian mixture fitted on its
training codes (`analysis.samplers`), the same way everywhere.

Torch-free, like the configs: the CLI reads specs to build its flags without importing any model.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field

# figure callbacks the training layer knows (latentspace.training.figures); a spec lists the ones it wants
FIGURE_NAMES = ("loss", "reconstructions", "kl_per_dim", "progress", "step_losses", "trajectory", "samples")
OBJECTIVES = ("val_loss", "fid")
PRIORS = (None, "normal")


@dataclass(frozen=True)
class ModelSpec:
    kind: str                       # the registry key and the CLI verb: `latentspace train KIND`
    title: str                      # how it is named in figures and the report ("Autoencoder")
    summary: str                    # one line for `latentspace train --help`
    config_cls: type                # its hyperparameters: a dataclass of `config.option` fields
    module: object                  # the LightningModule class, or "package.module:Class" (imported lazily)
    encoder: bool                   # offers encode(x) -> z
    prior: str | None               # "normal": its own N(0, I) prior over latents; None: none
    gaussian_posterior: bool = False  # offers encode_distribution(x) -> (μ, log σ²) and loss_terms(x)
    objective: str = "val_loss"     # what a hyperparameter search minimises
    monitor: str | None = "val_loss"  # the metric of best.ckpt and early stopping; None: the last epoch
    latent_field: str | None = "latent_dim"  # the config field that sets the latent size (None: none does)
    train_defaults: dict = field(default_factory=dict)  # TrainConfig values of this model's fast recipe
    # named recipes besides the default one (`train --recipe NAME`): config and TrainConfig values in one dict
    recipes: dict = field(default_factory=dict)
    figures: tuple = ()             # FIGURE_NAMES the training layer draws for it
    loss_curves: tuple = ()         # (train metric, validation metric) pairs drawn in loss.png
    loss_label: str = "loss"        # loss.png: y axis label
    loss_title: str = "loss"        # loss.png: what follows the model's title
    loss_log: bool = False          # loss.png: logarithmic y axis
    search_space: dict = field(default_factory=dict)  # name -> ("int"|"float", low, high, log) | ("choice", values)

    def __post_init__(self):
        unknown = [f for f in self.figures if f not in FIGURE_NAMES]
        if unknown:
            raise ValueError(f"{self.kind}: unknown figures {unknown}; known: {FIGURE_NAMES}")
        if self.objective not in OBJECTIVES or self.prior not in PRIORS:
            raise ValueError(f"{self.kind}: objective must be one of {OBJECTIVES}, prior one of {PRIORS}")
        if self.gaussian_posterior and not self.encoder:
            raise ValueError(f"{self.kind}: a Gaussian posterior needs an encoder")

    @property
    def can_sample(self) -> bool:
        """From its prior, or (with an encoder) from a mixture fitted on its codes."""
        return self.prior is not None or self.encoder

    def model_class(self) -> type:
        if isinstance(self.module, str):
            module, _, name = self.module.partition(":")
            return getattr(importlib.import_module(module), name)
        return self.module

    def build(self, config, image_shape=(1, 28, 28)):
        """The model for `config` and images of `image_shape` (channels, height, width)."""
        return self.model_class()(config, image_shape=tuple(image_shape))

    def latent_size(self, config) -> int:
        return int(getattr(config, self.latent_field))
