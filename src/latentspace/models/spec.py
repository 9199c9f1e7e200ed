"""The model contract: what a model declares it can do, read by everything outside `models/`.

Code outside `models/` never tests a model's class or kind string and never probes a capability
with try/except: it reads the model's `ModelSpec`. Every model also offers the same methods and
properties (labels: a LongTensor of class indices, or None; a conditional model needs them):

    latent_shape                the shape of one latent: (20,) for a code, (C, H, W) for a noise image,
                                (h, w) for a grid of code indices (`discrete`); latent_dim = its size
    num_classes, conditional    the classes it is conditioned on (0 and False: unconditional)
    encode(x, labels) -> z      when `encoder` (a Gaussian posterior's z is its mean μ)
    encode_distribution(x, labels) -> (μ, log σ²), when `gaussian_posterior`
    loss_terms(x, labels)       -> {"recon", "kl", "loss"} batch means, when `gaussian_posterior`
    decode(z, labels) -> x in [0, 1]  always
    prior_latents(n, generator) -> z, when `prior` is "normal" (then `sample(n)` = decode(prior_latents(n)))
    latent_vectors(z)           N x D float vectors of latents, what maps of the latent space project (for a
                                grid of code indices: each image's mean code vector)
    codebook_size               discrete latents: the number of code indices K (entries lie in 0..K-1); else None
    codebook_vectors()          discrete latents: the K x D code vectors in index order; else None
    title()                     how figures and the report name it, e.g. "VAE (latent 20, β=1)"
    classifier_encoder()        the encoder network a frozen-encoder classifier reads, or None
    progress_latents()          fixed latents decoded after every epoch, when it lists the "progress" figure
    augmented_view(x, generator) -> images in [0, 1] as its discriminator sees them (None: as they are), when it
                                lists the "augmented" figure

Latents are drawn by a sampler (`latentspace.samplers`): the model's own prior, or one fitted on its
training codes (a Gaussian mixture, a learned flow, an autoregressive model of a code grid), saved in
the run. A spec's `prior` says which is its default: "normal" its own N(0, I); "learned" the sampler
named by `prior_sampler` (fitted on its codes); None a Gaussian mixture on its codes (with an encoder).

Torch-free, like the configs: the CLI reads specs to build its flags without importing any model.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field

from latentspace.data.registry import STUDY_SHAPE

# figure callbacks the training layer knows (latentspace.training.figures); a spec lists the ones it wants
FIGURE_NAMES = ("loss", "reconstructions", "kl_per_dim", "progress", "step_losses", "trajectory", "samples",
                "class_samples", "augmented",
                "codebook", "code_grids", "code_swap")  # the last three: models of code indices (`discrete`)
OBJECTIVES = ("val_loss", "fid")
PRIORS = (None, "normal", "learned")


@dataclass(frozen=True)
class ModelSpec:
    kind: str                       # the registry key and the CLI verb: `latentspace train KIND`
    title: str                      # how it is named in figures and the report ("Autoencoder")
    summary: str                    # one line for `latentspace train --help`
    config_cls: type                # its hyperparameters: a dataclass of `config.option` fields
    module: object                  # the LightningModule class, or "package.module:Class" (imported lazily)
    encoder: bool                   # offers encode(x) -> z
    prior: str | None               # "normal": its own N(0, I) prior; "learned": `prior_sampler`; None: none
    gaussian_posterior: bool = False  # offers encode_distribution(x) -> (μ, log σ²) and loss_terms(x)
    objective: str = "val_loss"     # what a hyperparameter search minimises
    monitor: str | None = "val_loss"  # the metric of best.ckpt and early stopping; None: the last epoch
    latent_field: str | None = "latent_dim"  # the config field that sets a code's size (None: no such field)
    discrete: bool = False          # latents are integer code indices (a VQ grid), not real numbers; the model
                                    # then has `codebook_size` and `codebook_vectors()` and logs its codebook use
    prior_sampler: str | None = None  # with prior "learned": the sampler (latentspace.samplers) it is drawn by
    # config fields that only matter when images are drawn (e.g. ODE steps, guidance): generate, evaluate and
    # load_run may override them for one use without retraining
    sampling_options: tuple = ()
    # decode(encode(x)) = x but for a solver's error (an ODE solved both ways): its reconstruction metrics measure that
    # error, and decoded training codes are the training images themselves, so `evaluate` scores no floor for it
    invertible: bool = False
    # encoding an image costs as much as drawing one (an ODE solve): what would encode a whole split by default (the
    # latent maps of `embed` and the explorer, evaluate's reconstruction metrics) takes its first N images instead
    encode_limit: int | None = None
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
        if (self.prior == "learned") != (self.prior_sampler is not None):
            raise ValueError(f"{self.kind}: a learned prior names its sampler (prior_sampler), and only it does")
        if (self.invertible or self.encode_limit is not None) and not self.encoder:
            raise ValueError(f"{self.kind}: invertible and encode_limit describe an encoder, and it has none")
        if self.encode_limit is not None and self.encode_limit < 2:
            raise ValueError(f"{self.kind}: encode_limit must be at least 2 (a map needs two points)")
        unknown = [o for o in self.sampling_options if o not in _field_names(self.config_cls)]
        if unknown:
            raise ValueError(f"{self.kind}: sampling options {unknown} are not fields of {self.config_cls.__name__}")

    @property
    def can_sample(self) -> bool:
        """It has a default sampler: its prior (its own or a learned one), or a mixture fitted on its codes.
        (Which samplers can draw for it is `latentspace.samplers.samplers_for`, a layer above.)"""
        return self.default_sampler is not None

    @property
    def default_sampler(self) -> str | None:
        """The sampler its images are drawn by unless one is asked for (None: it cannot sample)."""
        if self.prior == "normal":
            return "prior"
        if self.prior == "learned":
            return self.prior_sampler
        return "gmm" if self.encoder else None

    def model_class(self) -> type:
        if isinstance(self.module, str):
            module, _, name = self.module.partition(":")
            return getattr(importlib.import_module(module), name)
        return self.module

    def build(self, config, image_shape=STUDY_SHAPE, num_classes: int = 0):
        """The model for `config`, images of `image_shape` (channels, height, width) and `num_classes` classes
        (what a conditional model is conditioned on; 0 for none)."""
        return self.model_class()(config, image_shape=tuple(image_shape), num_classes=int(num_classes))

    def wants_labels(self, config) -> bool:
        """Whether `config` asks for a class-conditional model (its `conditional` field, where it has one)."""
        return bool(getattr(config, "conditional", False))

    def run_name(self, config) -> str:
        """The stem of a default run directory's name: "ae-z20", or the kind where codes have no size field."""
        return f"{self.kind}-z{getattr(config, self.latent_field)}" if self.latent_field else self.kind


def _field_names(cls) -> set:
    import dataclasses

    return {f.name for f in dataclasses.fields(cls)} if dataclasses.is_dataclass(cls) else set()
