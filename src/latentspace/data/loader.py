"""Batches for Lightning: cut from the in-memory uint8 tensors in one indexing op, behind a real DataLoader."""
from __future__ import annotations

from typing import Iterator

import lightning as L
import torch

from latentspace.data.images import ImageSet, Splits


def _identity(batch):
    return batch


class EpochSeededSampler(torch.utils.data.Sampler):
    """A random permutation per epoch from (seed, epoch): the same order after a resume."""

    def __init__(self, n: int, seed: int):
        self.n, self.seed, self.epoch = n, seed, 0

    def set_epoch(self, epoch: int) -> None:  # Lightning calls this at every epoch start
        self.epoch = epoch

    def __iter__(self) -> Iterator[int]:
        g = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        return iter(torch.randperm(self.n, generator=g).tolist())

    def __len__(self) -> int:
        return self.n


def batch_loader(images: ImageSet, batch_size: int, shuffle: bool = False, seed: int = 0,
                 drop_last: bool = False) -> torch.utils.data.DataLoader:
    """A DataLoader whose batches are made in one indexing operation (`__getitems__`).

    It stays a real DataLoader so Lightning can swap in a DistributedSampler under DDP.
    """
    sampler = EpochSeededSampler(len(images), seed) if shuffle else None
    return torch.utils.data.DataLoader(images, batch_size=batch_size, sampler=sampler, shuffle=False,
                                       drop_last=drop_last, collate_fn=_identity, num_workers=0)


def eval_batch_size(images: ImageSet) -> int:
    """Validation batches of 1024 images at 28 x 28 and as many pixels at larger sizes (196 at 64 x 64), so the
    activations of one batch do not outgrow the data."""
    _, h, w = images.shape
    return max(64, min(1024, 1024 * 28 * 28 // (h * w)))


class ImageDataModule(L.LightningDataModule):
    """Train / validation batches straight from the in-memory uint8 tensors.

    On an accelerator the images move to it once, so a batch is one indexing op on the device.
    """

    def __init__(self, splits: Splits, batch_size: int, seed: int):
        super().__init__()
        self.splits, self.batch_size, self.seed = splits, batch_size, seed

    def setup(self, stage=None):
        device = self.trainer.strategy.root_device if self.trainer is not None else torch.device("cpu")
        if device.type == "cuda":
            for part in (self.splits.train, self.splits.val):
                part.images, part.labels = part.images.to(device), part.labels.to(device)

    def train_dataloader(self):
        return batch_loader(self.splits.train, self.batch_size, shuffle=True, seed=self.seed)

    def val_dataloader(self):
        return batch_loader(self.splits.val, eval_batch_size(self.splits.val))
