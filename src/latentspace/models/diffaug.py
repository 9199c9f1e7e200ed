"""DiffAugment (Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient GAN Training"): random,
differentiable transforms a GAN puts in front of its discriminator, for real and generated images alike, in the
discriminator's step and in the generator's. A discriminator that only ever sees transformed images cannot
memorise a few hundred pictures, and since generated images pass through the same kind of transform (with the
gradient flowing back through it), the generator is not taught to draw the transforms.

Kept apart from `models/augment.py` on purpose: that one augments the *data* of the other models (a shift and
a flip a real image may have, drawn once per batch, the model learns the augmented images); these are part of
the discriminator's input path, may produce images unlike any real one (cutout, colour shifts), and must carry
gradients. Translation is the same per-image shift with an empty border, so it is that module's `augment`.

Images are the GAN's, in [-1, 1]; every parameter is drawn per image. The operations, as in the authors'
DiffAugment_pytorch.py:
- color: brightness (add U(-0.5, 0.5)), saturation (scale each pixel's spread across channels by U(0, 2); one
  channel has no spread, so a grey image skips it), contrast (scale the spread around the image mean by
  U(0.5, 1.5));
- translation: shift by up to 1/8 of the size in each direction, the border left empty (0: mid-grey);
- cutout: a square of half the size, centred anywhere in the image (partly outside it at the edges), set to 0.
"""
from __future__ import annotations

import torch

from latentspace.models.augment import augment
from latentspace.models.gan_config import DIFFAUG_OPS


def _uniform(x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """One U(0, 1) draw per image, shaped to broadcast over its pixels."""
    return torch.rand(len(x), 1, 1, 1, generator=generator).to(device=x.device, dtype=x.dtype)


def color(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    x = x + (_uniform(x, generator) - 0.5)
    if x.shape[1] > 1:  # saturation: the identity on one channel (its mean across channels is itself)
        mean = x.mean(dim=1, keepdim=True)
        x = (x - mean) * (_uniform(x, generator) * 2) + mean
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (_uniform(x, generator) + 0.5) + mean


def translation(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    return augment(x, shift=max(1, x.shape[2] // 8), generator=generator)


def cutout(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    n, _, h, w = x.shape
    ch, cw = h // 2, w // 2
    # the square's top-left corner, so that its centre falls anywhere in the image (as the authors draw it)
    top = torch.randint(0, h + 1 - ch % 2, (n, 1, 1), generator=generator).to(x.device) - ch // 2
    left = torch.randint(0, w + 1 - cw % 2, (n, 1, 1), generator=generator).to(x.device) - cw // 2
    rows = torch.arange(h, device=x.device).view(1, h, 1)
    cols = torch.arange(w, device=x.device).view(1, 1, w)
    inside = (rows >= top) & (rows < top + ch) & (cols >= left) & (cols < left + cw)
    return x * (~inside).unsqueeze(1).to(x.dtype)


OPS = {"color": color, "translation": translation, "cutout": cutout}
assert tuple(OPS) == DIFFAUG_OPS


def diff_augment(x: torch.Tensor, ops: tuple[str, ...], generator: torch.Generator | None = None) -> torch.Tensor:
    """`x` (N x C x H x W in [-1, 1]) through the named operations, in DIFFAUG_OPS order (the authors'), each
    drawn anew per image; `()` returns `x` itself."""
    for name in DIFFAUG_OPS:
        if name in ops:
            x = OPS[name](x, generator)
    return x
