"""The VQ-VAE's hyperparameters and its contract (torch-free; the network is in vqvae.py).

A grid of code indices, not a vector: `latent_shape` is (h, w), `encode` gives integer indices and the prior
is learned over them (the autoregressive sampler, `latentspace fit-prior RUN --kind autoregressive`)."""
from __future__ import annotations

from dataclasses import dataclass

from latentspace.config import option
from latentspace.errors import LatentspaceError
from latentspace.models.autoencoder_config import OptimConfig
from latentspace.models.spec import ModelSpec

QUANTIZERS = ("vq", "fsq")
MAX_CODES = 65536  # code indices the prior's embedding and the explorer's chooser are built for


def parse_levels(text: str) -> tuple[int, ...]:
    """FSQ levels "8,5,5,5" -> (8, 5, 5, 5): each at least 3 (a level of 2 needs the library's symmetric
    variant), at most MAX_CODES codes in all."""
    try:
        levels = tuple(int(v) for v in str(text).split(","))
    except ValueError:
        raise LatentspaceError(f"--levels takes integers separated by commas (e.g. 8,5,5,5), got {text!r}") from None
    if not levels or min(levels) < 3:
        raise LatentspaceError(f"--levels: every level must be at least 3, got {text!r}")
    size = 1
    for level in levels:
        size *= level
    if size > MAX_CODES:
        raise LatentspaceError(f"--levels {text}: {size} codes, more than {MAX_CODES}")
    return levels


@dataclass
class VQVAEConfig(OptimConfig):
    quantizer: str = option("vq", "vq: a codebook updated by exponential moving averages, dead codes replaced; "
                                  "fsq: finite scalar quantisation (an implicit codebook of --levels)",
                            choices=QUANTIZERS)
    codebook_size: int = option(512, "vq: number of codes", minimum=2)
    code_dim: int = option(16, "vq: size of a code vector", minimum=1)
    commitment: float = option(0.25, "vq: weight of the commitment loss (encoder output to its code)", minimum=0.0)
    ema_decay: float = option(0.8, "vq: decay of the codebook's moving averages (below 1)", minimum=0.0,
                              below=1.0)
    dead_code_threshold: float = option(2.0, "vq: a code used fewer times than this (moving average per batch) is "
                                             "replaced by a random encoder output (0: never)", minimum=0.0)
    levels: str = option("8,5,5,5", "fsq: levels per code dimension (their product is the number of codes)",
                         check=parse_levels)
    width: float = option(1.0, "multiplier of the convolution channels (8, 16, 32)", minimum=0.125)

    @property
    def num_codes(self) -> int:
        if self.quantizer == "fsq":
            size = 1
            for level in parse_levels(self.levels):
                size *= level
            return size
        return int(self.codebook_size)


SPEC = ModelSpec(
    kind="vqvae", title="VQ-VAE",
    summary="VQ-VAE (or FSQ): encode(x) -> a grid of code indices, decode(indices) -> x; a learned prior over the grid.",
    config_cls=VQVAEConfig, module="latentspace.models.vqvae:VQVAE",
    encoder=True, prior="learned", prior_sampler="autoregressive", discrete=True, latent_field=None,
    figures=("loss", "reconstructions", "codebook", "code_grids", "code_swap"),
    loss_curves=(("train_recon", "val_recon"),), loss_title="reconstruction MSE", loss_log=True,
    train_defaults={"epochs": 2, "batch_size": 96},
    search_space={"lr": ("float", 1e-4, 3e-2, True), "commitment": ("float", 0.05, 2.0, True),
                  "codebook_size": ("int", 64, 1024, True)},
)
