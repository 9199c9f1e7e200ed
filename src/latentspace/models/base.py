"""What every latent model shares: its config, latent shape, classes, title, prior sampling and optimizer."""
from __future__ import annotations

import dataclasses
import math

import lightning as L
import torch

from latentspace.config import validate_config
from latentspace.data.registry import STUDY_SHAPE
from latentspace.errors import LatentspaceError
from latentspace.models.optim import configure


class LatentModel(L.LightningModule):
    """Base of the registry's models. A subclass sets `kind` (its registry key) and builds its networks;
    `latentspace.models.spec` lists the methods the contract asks for.

    A model of a config that asks for classes (`spec.wants_labels`) is built with `num_classes` > 0 and is then
    conditional: labels go wherever its images or latents go."""

    kind: str = ""

    def __init__(self, config, image_shape: tuple = STUDY_SHAPE, num_classes: int = 0):
        super().__init__()
        if dataclasses.is_dataclass(config):
            validate_config(config)  # the ranges its config declares, also for a model built in Python
        self.config = config
        self.image_shape = tuple(int(v) for v in image_shape)  # (channels, height, width) of the data
        self.num_classes = int(num_classes)
        if self.spec.wants_labels(config) and self.num_classes < 2:
            raise LatentspaceError(f"a conditional {self.spec.title.lower()} needs labelled data with at least two "
                                   f"classes (these data have {self.num_classes})")
        if self.num_classes and not self.spec.wants_labels(config):
            self.num_classes = 0  # classes of the data an unconditional model does not use
        self.stop_reason: str | None = None  # set by a model that stops its own training (a GAN collapse)
        self.run = None  # the run directory it was loaded from (`runs.load_run` sets it)
        self.checkpoint_file = None  # and the checkpoint (what samplers fitted on its codes are keyed by)

    @property
    def spec(self):
        from latentspace.models import get_spec

        return get_spec(self.kind)

    @property
    def conditional(self) -> bool:
        return self.num_classes > 0

    @property
    def latent_shape(self) -> tuple:
        """The shape of one latent: (size,) of a code, from the spec's `latent_field`. A model whose latent is
        an image or a grid overrides it."""
        return (int(getattr(self.config, self.spec.latent_field)),)

    @property
    def latent_dim(self) -> int:
        """The number of values in one latent."""
        return math.prod(self.latent_shape)

    @property
    def codebook_size(self) -> int | None:
        """How many code indices a latent's entries take (0..K-1), for discrete latents (`spec.discrete`); None
        for real-valued ones."""
        return None

    def codebook_vectors(self) -> torch.Tensor | None:
        """Every code's vector (K x D, in index order) for discrete latents: what the indices stand for, and what
        a map of the codebook projects; None for real-valued latents."""
        return None

    def title(self) -> str:
        return f"{self.spec.title} (latent {self.latent_dim})"

    def check_labels(self, labels: torch.Tensor | None, n: int) -> torch.Tensor | None:
        """The labels a conditional model needs (n class indices on its device), or None for an unconditional
        one; wrong ones are refused in one line."""
        if not self.conditional:
            if labels is not None:
                raise LatentspaceError(f"a {self.spec.title.lower()} trained without classes takes no class")
            return None
        if labels is None:
            raise LatentspaceError(f"this {self.spec.title.lower()} is class-conditional: give the classes "
                                   f"(0..{self.num_classes - 1})")
        labels = torch.as_tensor(labels, dtype=torch.long).reshape(-1)
        if len(labels) != n:
            raise LatentspaceError(f"{len(labels)} labels for {n} images")
        if len(labels) and (int(labels.min()) < 0 or int(labels.max()) >= self.num_classes):
            raise LatentspaceError(f"class {int(labels.max()) if int(labels.max()) >= 0 else int(labels.min())} "
                                   f"out of range 0..{self.num_classes - 1}")
        return labels.to(self.device)

    def condition(self, labels: torch.Tensor | None) -> torch.Tensor | None:
        """What to pass as `labels` for images of these classes: the labels for a conditional model, None for an
        unconditional one (so a caller hands a split's labels over without asking which it is)."""
        return labels.to(self.device) if self.conditional and labels is not None else None

    def prior_latents(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n latents from the model's N(0, I) prior, on the CPU (seeded by `generator`)."""
        if self.spec.prior != "normal":
            raise LatentspaceError(f"this {self.spec.title.lower()} has no prior of its own to draw N(0, I) latents "
                                   f"from; its samples come from `latentspace generate RUN --mode prior` (sampler "
                                   f"{self.spec.default_sampler})")
        return torch.randn(n, *self.latent_shape, generator=generator)

    def latent_vectors(self, z: torch.Tensor) -> torch.Tensor:
        """Latents as N x D float vectors (what a map of the latent space projects): flattened, by default."""
        return z.reshape(len(z), -1).float()

    def adopt_parent(self, parent) -> None:
        """A second stage is trained from its parent run's model (`fit(..., parent=RUN)`, recorded in the run):
        a model that can be (a distilled flow, say) takes what it needs from `parent` here."""
        raise LatentspaceError(f"a {self.spec.title.lower()} is not trained from another run")

    def classifier_encoder(self):
        """The encoder network a frozen-encoder classifier reads (`features(x)` -> named stages), or None."""
        return None

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None,
               labels: torch.Tensor | None = None) -> torch.Tensor:
        """n images from the model's N(0, I) prior (labels: the classes of a conditional model)."""
        return self.decode(self.prior_latents(n, generator).to(self.device), labels)

    channels_last_on_cpu = False  # on a GPU every model takes the channels-last layout (cuDNN's fast path)

    def setup(self, stage=None):
        on_gpu = self.trainer is not None and self.trainer.strategy.root_device.type == "cuda"
        if on_gpu or self.channels_last_on_cpu:
            # the loader's batches are channels-last; weights to match (before the optimizers are made, so
            # their state takes the same layout)
            self.to(memory_format=torch.channels_last)

    def configure_optimizers(self):
        return configure(self, self.config)
