"""Network building blocks: the study's convolutional encoder and decoder, and DCGAN's G and D, built from
the image shape (channels, height, width) of the data.

Square images of 16 to 128 pixels, any size in between (`MIN_SIZE`..`MAX_SIZE`), one or more channels. At
1 x 28 x 28 every network is exactly the study's (tests/models/test_shapes.py holds them to a record):
- encoder: three stride-2 3x3 convolutions (padding 1 on an even size, 0 on an odd one, so 28 -> 14 -> 7 -> 3),
  then, while the map is larger than 4 x 4, more stride-2 convolutions doubling the channels (64 -> 4 x 4
  with one more, 128 with two), flatten, Linear(-> hidden), Linear(-> latent);
- decoder: the encoder mirrored, each transposed convolution's output padding chosen to land on the exact size;
- DCGAN generator: noise -> base x base (base 4..7: the size halved until it is under 8) -> doubled (output
  padding 1 where the size is odd) up to the image; 4w channels at the base, halved per doubling, at least w;
- DCGAN discriminator: stride-2 convolutions (4x4 on an even size, 3x3 on an odd one: 28 -> 14 -> 7 -> 4) while the
  map is larger than 4 x 4, channels w, 2w, 4w (at most 4w), then one convolution over the whole map to a logit.

Networks know nothing of losses or training; the LightningModules in `models/` own those.
"""
from __future__ import annotations

import math

import torch
from torch import nn

# the square image sizes the networks are built for (every size in between): the ones --image-size accepts
from latentspace.data.registry import MAX_SIZE, MIN_SIZE, STUDY_SHAPE
from latentspace.errors import LatentspaceError

FINAL_MAP = 4  # convolutional stacks downsample while the map is larger than this


def check_image_shape(image_shape) -> tuple[int, int, int]:
    """(channels, height, width) as ints, or a LatentspaceError saying which shapes the networks take."""
    try:
        c, h, w = (int(v) for v in image_shape)
    except (TypeError, ValueError):
        raise LatentspaceError(f"an image shape is (channels, height, width), got {image_shape!r}") from None
    if c < 1 or h != w or not MIN_SIZE <= h <= MAX_SIZE:
        raise LatentspaceError(f"the networks are built for square images of {MIN_SIZE} to {MAX_SIZE} pixels "
                               f"(any size in between; 1 or 3 channels), got {c} x {h} x {w}; "
                               f"use --image-size N to resize")
    return c, h, w


def _halving_convs(size: int, min_convs: int = 3) -> list[tuple[int, int, int]]:
    """(input size, padding, output size) of the encoder's stride-2 3x3 convolutions: padding 1 on an even size
    (exact halving), 0 on an odd one ((n - 1) / 2), at least `min_convs`, more while the map is over FINAL_MAP."""
    steps, n = [], size
    while len(steps) < min_convs or n > FINAL_MAP:
        pad = 1 - n % 2
        out = (n + 2 * pad - 3) // 2 + 1
        steps.append((n, pad, out))
        n = out
    return steps


def conv_channels(size: int, width: float = 1.0) -> list[int]:
    """Output channels of each of the encoder's stride-2 convolutions (8, 16, 32 times `width`, then doubling on
    larger images); the decoder's transposed convolutions mirror them."""
    c1, c2, c3 = (max(1, round(c * width)) for c in (8, 16, 32))
    return [c1, c2, c3] + [c3 * 2 ** i for i in range(1, len(_halving_convs(size)) - 2)]


def encoder_convs(image_shape, width: float = 1.0, depth: int | None = None) -> list[list[nn.Module]]:
    """The encoder's first `depth` stride-2 convolutions (all of them by default), each as its layers: Conv ReLU,
    Conv BN ReLU (the second), Conv ReLU ... What the study's `Encoder` groups into conv1, conv2 and conv3, and a
    model of code grids (the VQ-VAE) stops early to keep a map."""
    channels, size, _ = check_image_shape(image_shape)
    steps, outs = _halving_convs(size), conv_channels(size, width)
    ins = [channels] + outs[:-1]
    blocks = []
    for i, (_, pad, _) in enumerate(steps[:depth]):
        conv = nn.Conv2d(ins[i], outs[i], 3, 2, pad)
        blocks.append([conv, nn.BatchNorm2d(outs[i]), nn.ReLU(True)] if i == 1 else [conv, nn.ReLU(True)])
    return blocks


def decoder_convs(image_shape, width: float = 1.0, depth: int | None = None) -> list[nn.Module]:
    """The transposed convolutions that mirror `encoder_convs(image_shape, width, depth)`: from its last map back
    to the image (BN and ReLU between them, none after the last: the caller applies its own output function);
    each one's output padding lands on the encoder's sizes exactly."""
    channels, size, _ = check_image_shape(image_shape)
    steps, outs = _halving_convs(size), conv_channels(size, width)
    ins = [channels] + outs[:-1]
    layers = []
    for i in reversed(range(len(steps[:depth]))):
        n, pad, out = steps[i]
        conv = nn.ConvTranspose2d(outs[i], ins[i], 3, 2, pad, n - (2 * out - 2 * pad + 1))
        layers += [conv] if i == 0 else [conv, nn.BatchNorm2d(ins[i]), nn.ReLU(True)]
    return layers


def conv_map_shape(image_shape, width: float = 1.0, depth: int | None = None) -> tuple[int, int, int]:
    """(channels, height, width) of the map after the encoder's first `depth` convolutions (all by default)."""
    _, size, _ = check_image_shape(image_shape)
    steps = _halving_convs(size)[:depth]
    m = steps[-1][2]
    return (conv_channels(size, width)[len(steps) - 1], m, m)


class Encoder(nn.Module):
    """Conv(C->8, s2) ReLU, Conv(8->16, s2) BN ReLU, Conv(16->32, s2) ReLU [more Conv(s2) ReLU on large images],
    Linear(32*s*s->128) ReLU, Linear(128->d); at 1 x 28 x 28, the study's (s = 3: Linear(288->128)).

    `width` multiplies the channel counts. `features(x)` returns every stage's activation, so a
    classifier head can read more than the latent code while the encoder stays frozen; on images over
    32 pixels `conv3` is the last map (after the extra convolutions).
    """

    def __init__(self, latent_dim: int, width: float = 1.0, hidden: int = 128, image_shape: tuple = STUDY_SHAPE):
        super().__init__()
        self.image_shape = check_image_shape(image_shape)
        blocks = encoder_convs(self.image_shape, width)
        self.conv1 = nn.Sequential(*blocks[0])
        self.conv2 = nn.Sequential(*blocks[1])
        # larger images: downsample on to FINAL_MAP, doubling the channels
        self.conv3 = nn.Sequential(*(layer for block in blocks[2:] for layer in block))
        self.map_shape = conv_map_shape(self.image_shape, width)  # the last convolutional map: what fc flattens
        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(math.prod(self.map_shape), hidden), nn.ReLU(True))
        self.head = nn.Linear(hidden, latent_dim)
        self.channels = tuple(conv_channels(self.image_shape[1], width)[:3])
        self.hidden = hidden

    def trunk(self, x: torch.Tensor) -> torch.Tensor:
        """Everything before the latent head (N x hidden)."""
        return self.fc(self.conv3(self.conv2(self.conv1(x))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.trunk(x))

    def features(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        f1 = self.conv1(x)
        f2 = self.conv2(f1)
        f3 = self.conv3(f2)
        h = self.fc(f3)
        return {"conv1": f1, "conv2": f2, "conv3": f3, "hidden": h, "latent": self.head(h)}


class Decoder(nn.Module):
    """The encoder mirrored: Linear(d->128) ReLU, Linear(128->c*s*s) ReLU, transposed convolutions (BN, ReLU)
    back to the image, sigmoid; each one's output padding lands on the encoder's sizes exactly."""

    def __init__(self, latent_dim: int, width: float = 1.0, hidden: int = 128, image_shape: tuple = STUDY_SHAPE):
        super().__init__()
        self.image_shape = check_image_shape(image_shape)
        self.map_shape = conv_map_shape(self.image_shape, width)
        self.lin = nn.Sequential(nn.Linear(latent_dim, hidden), nn.ReLU(True),
                                 nn.Linear(hidden, math.prod(self.map_shape)), nn.ReLU(True))
        self.cnn = nn.Sequential(*decoder_convs(self.image_shape, width))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.cnn(self.lin(z).view(-1, *self.map_shape)))


def _doublings(size: int) -> list[int]:
    """The generator's map sizes from its base (4..7) up to `size`: each the next one halved (rounded down)."""
    sizes = [size]
    while sizes[-1] >= 2 * FINAL_MAP:
        sizes.append(sizes[-1] // 2)
    return sizes[::-1]


class ConditionalBatchNorm2d(nn.Module):
    """Batch norm whose scale and shift are the class's own (de Vries et al. 2017; the conditional GANs of Miyato
    & Koyama 2018): normalised without an affine part, then gamma[y] * x + beta[y], starting at 1 and 0."""

    def __init__(self, channels: int, num_classes: int):
        super().__init__()
        self.norm = nn.BatchNorm2d(channels, affine=False)
        self.gamma = nn.Embedding(num_classes, channels)
        self.beta = nn.Embedding(num_classes, channels)
        nn.init.ones_(self.gamma.weight)
        nn.init.zeros_(self.beta.weight)

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self.norm(x) * self.gamma(labels)[:, :, None, None] + self.beta(labels)[:, :, None, None]


class Generator(nn.Module):
    """DCGAN generator: noise -> base x base (7 x 7 at 28) -> doubled up to the image (28 x 28), tanh out.

    With `num_classes` its batch norms are conditional (`ConditionalBatchNorm2d`) and `forward` takes the labels."""

    def __init__(self, noise_dim: int = 100, width: int = 64, image_shape: tuple = STUDY_SHAPE, num_classes: int = 0):
        super().__init__()
        channels, size, _ = self.image_shape = check_image_shape(image_shape)
        self.noise_dim = noise_dim
        self.num_classes = num_classes
        sizes = _doublings(size)
        chans = [max(width, width * 4 // 2 ** j) for j in range(len(sizes) - 1)] + [channels]
        norm = (lambda c: ConditionalBatchNorm2d(c, num_classes)) if num_classes else nn.BatchNorm2d
        layers = [nn.ConvTranspose2d(noise_dim, chans[0], sizes[0], 1, 0, bias=False), norm(chans[0]), nn.ReLU(True)]
        for j in range(1, len(sizes)):
            layers.append(nn.ConvTranspose2d(chans[j - 1], chans[j], 4, 2, 1, sizes[j] - 2 * sizes[j - 1], bias=False))
            layers += [nn.Tanh()] if j == len(sizes) - 1 else [norm(chans[j]), nn.ReLU(True)]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        h = z.view(len(z), -1, 1, 1)
        if not self.num_classes:
            return self.net(h)
        for layer in self.net:
            h = layer(h, labels) if isinstance(layer, ConditionalBatchNorm2d) else layer(h)
        return h


class Discriminator(nn.Module):
    """DCGAN discriminator (depth 4 at 28 x 28: 28 -> 14 -> 7 -> 4 -> 1); returns logits (the loss applies the sigmoid).

    With `num_classes` it is a projection discriminator (Miyato & Koyama 2018): the logit gains the inner
    product of a learned class embedding with the last feature map summed over its positions."""

    def __init__(self, width: int = 64, spectral_norm: bool = False, image_shape: tuple = STUDY_SHAPE,
                 num_classes: int = 0):
        super().__init__()
        channels, size, _ = self.image_shape = check_image_shape(image_shape)
        sn = nn.utils.parametrizations.spectral_norm if spectral_norm else (lambda m: m)
        norm = (lambda c: nn.Identity()) if spectral_norm else nn.BatchNorm2d
        layers, c_in, n, i = [], channels, size, 0
        while n > FINAL_MAP:
            c_out = width * 2 ** min(i, 2)
            kernel = 4 if n % 2 == 0 else 3  # both halve: n / 2 when even, (n + 1) / 2 when odd
            layers.append(sn(nn.Conv2d(c_in, c_out, kernel, 2, 1, bias=False)))
            if i:
                layers.append(norm(c_out))
            layers.append(nn.LeakyReLU(0.2, True))
            c_in, n, i = c_out, (n + 1) // 2, i + 1
        layers.append(sn(nn.Conv2d(c_in, 1, n, 1, 0, bias=False)))
        self.net = nn.Sequential(*layers)
        self.num_classes = num_classes
        if num_classes:
            embed = nn.Embedding(num_classes, c_in)
            nn.init.xavier_uniform_(embed.weight)  # as Miyato & Koyama's (PyTorch's N(0, 1) swamps the logit)
            self.embed = sn(embed)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if not self.num_classes:
            return self.net(x).view(-1)
        h = self.net[:-1](x)
        return self.net[-1](h).view(-1) + (self.embed(labels) * h.sum(dim=(2, 3))).sum(1)


def init_weights(module: nn.Module, scheme: str) -> None:
    """The study's `init` choices: none (PyTorch's defaults), xavier or kaiming on conv and linear weights."""
    if scheme == "none":
        return
    fn = {"xavier": nn.init.xavier_uniform_, "kaiming": nn.init.kaiming_uniform_}[scheme]
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            fn(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


GRID_MAP = 8  # a code grid: the encoder's map once it is at most this size (7 x 7 at 28 px, 8 x 8 at 32 and 64)


def grid_depth(size: int) -> int:
    """How many of the encoder's stride-2 convolutions make a code grid of at most GRID_MAP x GRID_MAP
    (at least one): 28 -> 14 -> 7 (two), 32 -> 16 -> 8 (two), 64 -> 32 -> 16 -> 8 (three), 16 -> 8 (one)."""
    depth = 0
    for _, _, out in _halving_convs(size):
        depth += 1
        if out <= GRID_MAP:
            return depth
    return depth
