"""What every latent model shares: its config, latent size, title, prior sampling and optimizer."""
from __future__ import annotations

import lightning as L
import torch

from latentspace.errors import LatentspaceError
from latentspace.models.nets import STUDY_SHAPE
from latentspace.models.optim import configure


class LatentModel(L.LightningModule):
    """Base of the registry's models. A subclass sets `kind` (its registry key) and builds its networks;
    `latentspace.models.spec` lists the methods the contract asks for."""

    kind: str = ""

    def __init__(self, config, image_shape: tuple = STUDY_SHAPE):
        super().__init__()
        self.config = config
        self.image_shape = tuple(int(v) for v in image_shape)  # (channels, height, width) of the data
        self.stop_reason: str | None = None  # set by a model that stops its own training (a GAN collapse)
        self.run = None  # the run directory it was loaded from (`runs.load_run` sets it)

    @property
    def spec(self):
        from latentspace.models import get_spec

        return get_spec(self.kind)

    @property
    def latent_dim(self) -> int:
        return self.spec.latent_size(self.config)

    def title(self) -> str:
        return f"{self.spec.title} (latent {self.latent_dim})"

    def prior_latents(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n codes from the model's N(0, I) prior, on the CPU (seeded by `generator`)."""
        if self.spec.prior is None:
            raise LatentspaceError(f"a {self.spec.title.lower()} has no prior to sample from; draw samples with "
                                   f"`latentspace generate RUN --mode prior` (a Gaussian mixture on its codes)")
        return torch.randn(n, self.latent_dim, generator=generator)

    def classifier_encoder(self):
        """The encoder network a frozen-encoder classifier reads (`features(x)` -> named stages), or None."""
        return None

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.decode(self.prior_latents(n, generator).to(self.device))

    channels_last_on_cpu = False  # on a GPU every model takes the channels-last layout (cuDNN's fast path)

    def setup(self, stage=None):
        on_gpu = self.trainer is not None and self.trainer.strategy.root_device.type == "cuda"
        if on_gpu or self.channels_last_on_cpu:
            # the loader's batches are channels-last; weights to match (before the optimizers are made, so
            # their state takes the same layout)
            self.to(memory_format=torch.channels_last)

    def configure_optimizers(self):
        return configure(self, self.config)
