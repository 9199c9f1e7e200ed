"""Training augmentation: random shifts (zero fill) and horizontal flips, per image, in one indexing op."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def augment(x: torch.Tensor, shift: int = 0, flip: bool = False, generator: torch.Generator | None = None) -> torch.Tensor:
    """Shifts of up to `shift` pixels and (with `flip`) mirrored images, each drawn per image from `generator`.
    Draws nothing when both are off, so the random stream only moves for the augmentation asked for."""
    if not shift and not flip:
        return x
    n, c, h, w = x.shape
    dev = x.device
    rand = lambda *a, **k: torch.randint(*a, **k, generator=generator).to(dev)  # noqa: E731
    cols = torch.arange(w, device=dev).expand(n, w)
    if flip:
        mirrored = torch.rand(n, 1, generator=generator).to(dev) < 0.5
        cols = torch.where(mirrored, w - 1 - cols, cols)
    dy = rand(-shift, shift + 1, (n, 1)) if shift else torch.zeros(n, 1, dtype=torch.long, device=dev)
    dx = rand(-shift, shift + 1, (n, 1)) if shift else torch.zeros(n, 1, dtype=torch.long, device=dev)
    padded = F.pad(x, (shift, shift, shift, shift))
    rows = torch.arange(h, device=dev) + shift + dy  # n x h
    cols = cols + shift + dx  # n x w
    out = padded[torch.arange(n, device=dev)[:, None, None], :, rows[:, :, None], cols[:, None, :]]
    return out.permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last)  # n x h x w x c -> n x c x h x w
