"""Small fake models that speak the model protocol: a VAE (encode_distribution) and a GAN (no encoder)."""
from __future__ import annotations

import torch

from latentspace.data import ImageSet

CLASSES = tuple(f"class {c}" for c in range(10))


class FakeVAE(torch.nn.Module):
    """mu = a fixed linear map of the image with a different scale per dimension; log var = 0."""
    kind = "fakevae"
    has_encoder = True
    latent_dim = 5
    SCALES = (0.1, 3.0, 0.01, 1.0, 0.5)  # so the most active dimensions are 1, 3, 4, 0, 2

    def __init__(self):
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.register_buffer("w", torch.randn(784, self.latent_dim, generator=g) / 28 * torch.tensor(self.SCALES))
        self.register_buffer("d", torch.randn(self.latent_dim, 784, generator=g))

    def encode_distribution(self, x):
        mu = (x.reshape(len(x), -1) - 0.3) @ self.w
        return mu, torch.zeros_like(mu)

    def encode(self, x):
        return self.encode_distribution(x)[0]

    def decode(self, z):
        return torch.sigmoid(z @ self.d).view(-1, 1, 28, 28)

    def sample(self, n):
        return self.decode(torch.randn(n, self.latent_dim))


class FakeGAN(torch.nn.Module):
    kind = "fakegan"
    has_encoder = False
    latent_dim = 3

    def __init__(self):
        super().__init__()
        self.register_buffer("d", torch.randn(self.latent_dim, 784, generator=torch.Generator().manual_seed(1)))

    def encode(self, x):
        raise AssertionError("a GAN has no encoder: the explorer must not call it")

    def decode(self, z):
        return torch.sigmoid(z @ self.d).view(-1, 1, 28, 28)

    def sample(self, n):
        return self.decode(torch.randn(n, self.latent_dim))


def fake_test_set(n=300) -> ImageSet:
    g = torch.Generator().manual_seed(2)
    return ImageSet(torch.randint(0, 256, (n, 28, 28), dtype=torch.uint8, generator=g),
                    torch.arange(n) % 10, CLASSES, "fake")
