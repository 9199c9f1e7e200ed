"""Network building blocks: the study's convolutional encoder and decoder, and DCGAN's G and D.

Networks know nothing of losses or training; the LightningModules in `models/` own those.
"""
from __future__ import annotations

import torch
from torch import nn

from latentspace.errors import LatentspaceError

STUDY_SHAPE = (1, 28, 28)  # Fashion-MNIST's: at this shape every network is exactly the study's
MIN_SIZE, MAX_SIZE = 16, 128  # square images the networks are built for


def check_shape(image_shape) -> tuple[int, int, int]:
    """(channels, height, width) as ints, refused in one line unless square, 1 or 3 channels, 16 to 128 pixels."""
    c, h, w = (int(v) for v in image_shape)
    if c not in (1, 3) or h != w or not MIN_SIZE <= h <= MAX_SIZE:
        raise LatentspaceError(f"the networks are built for square images of 1 or 3 channels and {MIN_SIZE} to "
                               f"{MAX_SIZE} pixels, not {c} x {h} x {w} (resize with --image-size, convert with "
                               f"--channels)")
    return c, h, w


def _halve(size: int) -> int:
    """The size after a 3x3, stride-2, padding-1 convolution: ceil(size / 2)."""
    return (size - 1) // 2 + 1


def encoder_sizes(size: int) -> tuple[int, int, int]:
    """Spatial sizes after the encoder's three convolutions (28: 14, 7, 3; 32: 16, 8, 3; 64: 32, 16, 7)."""
    s1 = _halve(size)
    s2 = _halve(s1)
    return s1, s2, (s2 - 3) // 2 + 1


class Encoder(nn.Module):
    """Conv(C->8, s2) ReLU, Conv(8->16, s2) BN ReLU, Conv(16->32, s2) ReLU, Linear(32*s*s->128) ReLU, Linear(128->d).

    At 1 x 28 x 28 this is the study's encoder (s = 3: Linear 288 -> 128). `width` multiplies the channel
    counts. `features(x)` returns every stage's activation, so a classifier head can read more than the latent
    code while the encoder stays frozen.
    """

    def __init__(self, latent_dim: int, width: float = 1.0, hidden: int = 128, image_shape: tuple = STUDY_SHAPE):
        super().__init__()
        channels, size, _ = check_shape(image_shape)
        c1, c2, c3 = (max(1, round(c * width)) for c in (8, 16, 32))
        s3 = encoder_sizes(size)[2]
        self.conv1 = nn.Sequential(nn.Conv2d(channels, c1, 3, 2, 1), nn.ReLU(True))
        self.conv2 = nn.Sequential(nn.Conv2d(c1, c2, 3, 2, 1), nn.BatchNorm2d(c2), nn.ReLU(True))
        self.conv3 = nn.Sequential(nn.Conv2d(c2, c3, 3, 2, 0), nn.ReLU(True))
        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(c3 * s3 * s3, hidden), nn.ReLU(True))
        self.head = nn.Linear(hidden, latent_dim)
        self.channels = (c1, c2, c3)
        self.hidden = hidden
        self.image_shape = (channels, size, size)

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
    """The encoder mirrored: Linear(d->128) ReLU, Linear(128->32*s*s) ReLU, three ConvTranspose (BN, ReLU), sigmoid.

    Each transposed convolution's output padding is chosen to give back exactly the encoder's sizes, so any
    square size decodes to itself (at 28 the paddings are the study's: 0, 1, 1).
    """

    def __init__(self, latent_dim: int, width: float = 1.0, hidden: int = 128, image_shape: tuple = STUDY_SHAPE):
        super().__init__()
        channels, size, _ = check_shape(image_shape)
        c1, c2, c3 = (max(1, round(c * width)) for c in (8, 16, 32))
        s1, s2, s3 = encoder_sizes(size)
        self.c3, self.s3 = c3, s3
        self.lin = nn.Sequential(nn.Linear(latent_dim, hidden), nn.ReLU(True), nn.Linear(hidden, c3 * s3 * s3),
                                 nn.ReLU(True))
        self.cnn = nn.Sequential(
            nn.ConvTranspose2d(c3, c2, 3, 2, 0, s2 - (2 * s3 + 1)), nn.BatchNorm2d(c2), nn.ReLU(True),
            nn.ConvTranspose2d(c2, c1, 3, 2, 1, s1 - (2 * s2 - 1)), nn.BatchNorm2d(c1), nn.ReLU(True),
            nn.ConvTranspose2d(c1, channels, 3, 2, 1, size - (2 * s1 - 1)))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.cnn(self.lin(z).view(-1, self.c3, self.s3, self.s3)))


def generator_plan(size: int) -> tuple[int, int]:
    """(base, doublings): the generator starts at base x base (at most 7) and doubles up to at least `size`.
    28 = 7 x 2^2 (the study's), 32 = 4 x 2^3, 64 = 4 x 2^4; a size that is no such product is drawn at the next
    one and cropped to the centre."""
    doublings = 0
    while -(-size // 2 ** doublings) > 7:
        doublings += 1
    return -(-size // 2 ** doublings), doublings


class Generator(nn.Module):
    """DCGAN generator: noise -> base x base -> doubled by 4x4 transposed convolutions -> C x size x size, tanh.

    At 1 x 28 x 28 it is the study's: 7 x 7 -> 14 x 14 -> 28 x 28 with widths 4w, 2w. Larger images get one more
    doubling each (the widest layer capped at 8w).
    """

    def __init__(self, noise_dim: int = 100, width: int = 64, image_shape: tuple = STUDY_SHAPE):
        super().__init__()
        channels, size, _ = check_shape(image_shape)
        base, doublings = generator_plan(size)
        self.noise_dim, self.size = noise_dim, size
        widths = [width * min(2 ** (doublings - i), 8) for i in range(doublings)]  # 28: [4w, 2w]
        layers = [nn.ConvTranspose2d(noise_dim, widths[0], base, 1, 0, bias=False), nn.BatchNorm2d(widths[0]),
                  nn.ReLU(True)]
        for c_in, c_out in zip(widths, widths[1:]):
            layers += [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(True)]
        layers += [nn.ConvTranspose2d(widths[-1], channels, 4, 2, 1, bias=False), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        self.drawn = base * 2 ** doublings  # >= size; the excess is cropped evenly

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.net(z.view(len(z), -1, 1, 1))
        if self.drawn != self.size:
            o = (self.drawn - self.size) // 2
            x = x[:, :, o:o + self.size, o:o + self.size]
        return x


class Discriminator(nn.Module):
    """DCGAN discriminator; returns logits (the loss applies the sigmoid).

    Stride-2 convolutions (4x4 on an even size, 3x3 on an odd one: both halve it exactly, rounding up) until the
    map is at most 4 x 4, then one convolution over the whole map. At 1 x 28 x 28 it is the study's depth-4
    network (28 -> 14 -> 7 -> 4 -> 1, widths w, 2w, 4w).
    """

    def __init__(self, width: int = 64, spectral_norm: bool = False, image_shape: tuple = STUDY_SHAPE):
        super().__init__()
        channels, size, _ = check_shape(image_shape)
        sn = nn.utils.parametrizations.spectral_norm if spectral_norm else (lambda m: m)
        norm = (lambda c: nn.Identity()) if spectral_norm else nn.BatchNorm2d
        layers, c_in, i = [], channels, 0
        while size > 4:
            c_out = width * min(2 ** i, 8)
            kernel = 4 if size % 2 == 0 else 3
            layers.append(sn(nn.Conv2d(c_in, c_out, kernel, 2, 1, bias=False)))
            if i:
                layers.append(norm(c_out))
            layers.append(nn.LeakyReLU(0.2, True))
            c_in, size, i = c_out, _halve(size), i + 1
        layers.append(sn(nn.Conv2d(c_in, 1, size, 1, 0, bias=False)))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).view(-1)


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
