"""Training augmentation: shifts and flips per image, in one indexing op."""
from __future__ import annotations

import torch

from latentspace.models.augment import augment


def test_augment_shifts_and_flips():
    x = torch.zeros(64, 1, 28, 28)
    x[:, :, 10, 5] = 1.0
    assert torch.equal(augment(x, 0, False), x)
    y = augment(x, 2, True, generator=torch.Generator().manual_seed(0))
    assert y.shape == x.shape and torch.equal(y.sum((1, 2, 3)), x.sum((1, 2, 3)))  # the dot stays inside
    rows, cols = y[:, 0].nonzero()[:, 1], y[:, 0].nonzero()[:, 2]
    assert rows.min() >= 8 and rows.max() <= 12
    assert set(cols.tolist()) - set(range(3, 8)) and set(cols.tolist()) <= set(range(3, 8)) | set(range(20, 25))


def test_flips_alone_mirror_about_half_and_draw_only_the_flips():
    x = torch.arange(28.0).expand(100, 1, 28, 28).contiguous()
    g1, g2 = torch.Generator().manual_seed(4), torch.Generator().manual_seed(4)
    y = augment(x, 0, True, generator=g1)
    mirrored = (y[:, 0, 0, 0] == 27).sum()
    assert 30 < mirrored < 70 and torch.equal(y[y[:, 0, 0, 0] == 27], x.flip(3)[: int(mirrored)])
    assert torch.equal((torch.rand(100, 1, generator=g2) < 0.5).squeeze(1), y[:, 0, 0, 0] == 27)
