"""A VQ-VAE (van den Oord et al. 2017), or an FSQ autoencoder (Mentzer et al. 2023), on the study's networks.

The study's encoder without its dense head: its stride-2 convolutions until the map is at most 8 x 8 (7 x 7 at
28 px, 8 x 8 at 32 and at 64 px: `nets.grid_depth`), a 1x1 convolution to the code size, a quantiser from
vector-quantize-pytorch, a 1x1 convolution back and the study's transposed convolutions to the image. Each cell
of the grid is one code index: `encode(x)` is an N x h x w LongTensor, `decode(indices)` the images.

- vq: a codebook of `codebook_size` vectors, updated by exponential moving averages of the encoder outputs
  assigned to them (no codebook gradient), gradients through the quantiser by the library's rotation trick,
  the commitment loss weighted by `commitment`, and codes whose moving use falls under `dead_code_threshold`
  replaced by random encoder outputs of the batch (the library's `threshold_ema_dead_code`);
- fsq: each of len(levels) channels bounded and rounded to its number of levels; the codebook is the implicit
  grid of their products, with no loss of its own.

Codebook use is counted every epoch, on the training batches and on the validation set: the perplexity
exp(entropy) of the code frequencies and the share of codes used at least once (metrics.csv:
train_/val_code_perplexity, train_/val_codes_used).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from latentspace.errors import LatentspaceError
from latentspace.models.base import STUDY_SHAPE, LatentModel
from latentspace.models.nets import conv_map_shape, decoder_convs, encoder_convs, grid_depth
from latentspace.models.vqvae_config import VQVAEConfig, parse_levels


def code_use(counts: torch.Tensor) -> tuple[float, float]:
    """(perplexity, share of codes used) of code counts: exp of the entropy of their frequencies (the number
    of equally used codes it equals), and the share counted at least once."""
    counts = counts.double()
    total = counts.sum()
    if total <= 0:
        return 0.0, 0.0
    p = counts[counts > 0] / total
    return float(torch.exp(-(p * p.log()).sum())), float((counts > 0).double().mean())


class VQVAE(LatentModel):
    """encode(x) -> N x h x w code indices, decode(indices) -> x in [0, 1]; the prior over the grid is a
    sampler fitted on the training grids (`spec.prior_sampler`)."""

    kind = "vqvae"

    def __init__(self, config: VQVAEConfig, image_shape: tuple = STUDY_SHAPE, num_classes: int = 0):
        super().__init__(config, image_shape, num_classes)
        depth = grid_depth(self.image_shape[1])
        channels, h, w = conv_map_shape(self.image_shape, config.width, depth)
        self.grid = (h, w)
        if config.quantizer == "fsq":
            from vector_quantize_pytorch import FSQ

            levels = parse_levels(config.levels)
            code_dim = len(levels)
            self.quantizer = FSQ(list(levels))
        else:
            from vector_quantize_pytorch import VectorQuantize

            code_dim = config.code_dim
            self.quantizer = VectorQuantize(dim=code_dim, codebook_size=config.codebook_size,
                                            decay=config.ema_decay, commitment_weight=config.commitment,
                                            threshold_ema_dead_code=config.dead_code_threshold,
                                            accept_image_fmap=True)
        self.code_dim = code_dim
        self.encoder = nn.Sequential(*(layer for block in encoder_convs(self.image_shape, config.width, depth)
                                       for layer in block), nn.Conv2d(channels, code_dim, 1))
        self.decoder = nn.Sequential(nn.Conv2d(code_dim, channels, 1), nn.ReLU(True),
                                     *decoder_convs(self.image_shape, config.width, depth))
        self._counts: dict[str, torch.Tensor] = {}

    # ------------------------------------------------------------------ the contract

    @property
    def latent_shape(self) -> tuple:
        return self.grid

    @property
    def codebook_size(self) -> int:
        return self.config.num_codes

    def title(self) -> str:
        h, w = self.grid
        what = f"FSQ {self.config.levels}" if self.config.quantizer == "fsq" else "VQ-VAE"
        return f"{what} ({h} x {w} codes of {self.codebook_size})"

    def quantize(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(quantised map N x D x h x w, indices N x h x w, the quantiser's loss) of images."""
        features = self.encoder(x)
        if self.config.quantizer == "fsq":
            quantized, indices = self.quantizer(features)
            return quantized, indices, features.new_zeros(())
        if not self.training:  # the nearest code, as the library picks it, without its training-time work
            indices = self.nearest_codes(features)
            return self.code_vectors(indices), indices, features.new_zeros(())
        quantized, indices, loss = self.quantizer(features)
        return quantized, indices, loss

    def nearest_codes(self, features: torch.Tensor) -> torch.Tensor:
        """The index of the nearest codebook vector (Euclidean, the first of ties) of each cell of an N x D x h x w
        map. The library's own evaluation pass gives the same indices but copies the codebook per image: 3.2 s
        against 0.34 s for 1,000 images (one thread), which made encoding a training set for the prior minutes."""
        n, d, h, w = features.shape
        flat = features.permute(0, 2, 3, 1).reshape(-1, d).float()
        return torch.cdist(flat, self.quantizer.codebook.float()).argmin(1).view(n, h, w)

    def encode(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        self.check_labels(labels, len(x))
        return self.quantize(x)[1].long()

    def code_vectors(self, indices: torch.Tensor) -> torch.Tensor:
        """The code vectors of a grid of indices: N x D x h x w."""
        indices = torch.as_tensor(indices, device=self.device).long()
        if indices.shape[1:] != self.grid:
            raise LatentspaceError(f"code grids of shape {tuple(indices.shape[1:])} do not fit this model's "
                                   f"{self.grid[0]} x {self.grid[1]} grid")
        if len(indices) and (int(indices.min()) < 0 or int(indices.max()) >= self.codebook_size):
            raise LatentspaceError(f"code indices must lie in 0..{self.codebook_size - 1}, got "
                                   f"{int(indices.min())}..{int(indices.max())}")
        if self.config.quantizer == "fsq":
            return self.quantizer.indices_to_codes(indices)
        return self.quantizer.get_output_from_indices(indices)

    def decode(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        self.check_labels(labels, len(z))
        return self.decode_vectors(self.code_vectors(z))

    def decode_vectors(self, quantized: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.decoder(quantized))

    def latent_vectors(self, z: torch.Tensor) -> torch.Tensor:
        """An image's mean code vector (N x D): what maps of its grids project."""
        return self.code_vectors(z).float().mean(dim=(2, 3))

    def codebook_vectors(self) -> torch.Tensor:
        """Every code's vector, K x D, in index order (FSQ: the implicit grid of levels)."""
        if self.config.quantizer == "fsq":
            return self.quantizer.indices_to_codes(torch.arange(self.codebook_size, device=self.device)[None])[0]
        return self.quantizer.codebook.detach()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode_vectors(self.quantize(x)[0])

    # ------------------------------------------------------------------ training

    def _step(self, batch, stage: str):
        x, _ = batch
        quantized, indices, aux = self.quantize(x)
        recon = F.mse_loss(self.decode_vectors(quantized), x)
        loss = recon + aux
        counts = torch.bincount(indices.reshape(-1).long(), minlength=self.codebook_size)
        self._counts[stage] = self._counts[stage] + counts if stage in self._counts else counts
        sync = stage != "train"
        self.log(f"{stage}_recon", recon, on_step=False, on_epoch=True, batch_size=len(x), sync_dist=sync)
        self.log(f"{stage}_loss", loss if stage == "train" else recon, on_step=False, on_epoch=True,
                 prog_bar=True, batch_size=len(x), sync_dist=sync)
        return loss

    def training_step(self, batch, batch_idx):
        return self._step(batch, "train")

    def validation_step(self, batch, batch_idx):
        self._step(batch, "val")

    def on_train_epoch_start(self):
        self._counts.pop("train", None)

    def on_validation_epoch_start(self):
        self._counts.pop("val", None)

    def on_validation_epoch_end(self):
        """Log the epoch's codebook use (before the metrics row is written: validation ends the epoch)."""
        if self.trainer is not None and self.trainer.sanity_checking:
            return
        for stage in ("train", "val"):
            if stage not in self._counts:
                continue
            counts = self.trainer.strategy.reduce(self._counts[stage].double(), reduce_op="sum") \
                if self.trainer is not None else self._counts[stage]
            perplexity, used = code_use(counts)
            self.log(f"{stage}_code_perplexity", perplexity, sync_dist=False)
            self.log(f"{stage}_codes_used", used, sync_dist=False)

