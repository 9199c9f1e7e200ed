"""Network building blocks: the study's convolutional encoder and decoder, and DCGAN's G and D.

Networks know nothing of losses or training; the LightningModules in `models/` own those.
"""
from __future__ import annotations

import torch
from torch import nn


class Encoder(nn.Module):
    """Conv(1->8, s2) ReLU, Conv(8->16, s2) BN ReLU, Conv(16->32, s2) ReLU, Linear(288->128) ReLU, Linear(128->d).

    `width` multiplies the channel counts. `features(x)` returns every stage's activation, so a
    classifier head can read more than the latent code while the encoder stays frozen.
    """

    def __init__(self, latent_dim: int, width: float = 1.0, hidden: int = 128):
        super().__init__()
        c1, c2, c3 = (max(1, round(c * width)) for c in (8, 16, 32))
        self.conv1 = nn.Sequential(nn.Conv2d(1, c1, 3, 2, 1), nn.ReLU(True))
        self.conv2 = nn.Sequential(nn.Conv2d(c1, c2, 3, 2, 1), nn.BatchNorm2d(c2), nn.ReLU(True))
        self.conv3 = nn.Sequential(nn.Conv2d(c2, c3, 3, 2, 0), nn.ReLU(True))
        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(c3 * 9, hidden), nn.ReLU(True))
        self.head = nn.Linear(hidden, latent_dim)
        self.channels = (c1, c2, c3)
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
    """The encoder mirrored: Linear(d->128) ReLU, Linear(128->288) ReLU, three ConvTranspose (BN, ReLU), sigmoid."""

    def __init__(self, latent_dim: int, width: float = 1.0, hidden: int = 128):
        super().__init__()
        c1, c2, c3 = (max(1, round(c * width)) for c in (8, 16, 32))
        self.c3 = c3
        self.lin = nn.Sequential(nn.Linear(latent_dim, hidden), nn.ReLU(True), nn.Linear(hidden, c3 * 9), nn.ReLU(True))
        self.cnn = nn.Sequential(
            nn.ConvTranspose2d(c3, c2, 3, 2, 0), nn.BatchNorm2d(c2), nn.ReLU(True),
            nn.ConvTranspose2d(c2, c1, 3, 2, 1, 1), nn.BatchNorm2d(c1), nn.ReLU(True),
            nn.ConvTranspose2d(c1, 1, 3, 2, 1, 1))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.cnn(self.lin(z).view(-1, self.c3, 3, 3)))


class Generator(nn.Module):
    """DCGAN generator for 28x28: noise -> 7x7 -> 14x14 -> 28x28, tanh out."""

    def __init__(self, noise_dim: int = 100, width: int = 64):
        super().__init__()
        self.noise_dim = noise_dim
        self.net = nn.Sequential(
            nn.ConvTranspose2d(noise_dim, width * 4, 7, 1, 0, bias=False), nn.BatchNorm2d(width * 4), nn.ReLU(True),
            nn.ConvTranspose2d(width * 4, width * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(width * 2), nn.ReLU(True),
            nn.ConvTranspose2d(width * 2, 1, 4, 2, 1, bias=False), nn.Tanh())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z.view(len(z), -1, 1, 1))


class Discriminator(nn.Module):
    """DCGAN discriminator of depth 4 for 28x28; returns logits (the loss applies the sigmoid)."""

    def __init__(self, width: int = 64, spectral_norm: bool = False):
        super().__init__()
        sn = nn.utils.parametrizations.spectral_norm if spectral_norm else (lambda m: m)
        norm = (lambda c: nn.Identity()) if spectral_norm else nn.BatchNorm2d
        self.net = nn.Sequential(
            sn(nn.Conv2d(1, width, 4, 2, 1, bias=False)), nn.LeakyReLU(0.2, True),
            sn(nn.Conv2d(width, width * 2, 4, 2, 1, bias=False)), norm(width * 2), nn.LeakyReLU(0.2, True),
            sn(nn.Conv2d(width * 2, width * 4, 3, 2, 1, bias=False)), norm(width * 4), nn.LeakyReLU(0.2, True),
            sn(nn.Conv2d(width * 4, 1, 4, 1, 0, bias=False)))

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
