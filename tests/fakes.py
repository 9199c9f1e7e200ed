"""Tiny stand-in models that speak the model contract, registered under test-only kinds: a VAE-like model
(a Gaussian posterior with a known order of active dimensions, an N(0, I) prior) and a GAN-like one (no
encoder, its own prior). Fast: linear maps, no training. `fake_run` saves one as a finished run."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch

from latentspace.data.images import ImageSet
from latentspace.models.base import LatentModel
from latentspace.models.spec import ModelSpec

CLASSES = tuple(f"class {c}" for c in range(10))
SCALES = (0.1, 3.0, 0.01, 1.0, 0.5)  # per latent dimension: the most active are 1, 3, 4, 0, 2


@dataclass
class FakeConfig:
    latent_dim: int = 5


class FakeVAE(LatentModel):
    """μ = a fixed linear map of the image with a different scale per dimension; log σ² = 0."""
    kind = "fakevae"

    def __init__(self, config: FakeConfig | None = None, image_shape: tuple = (1, 28, 28)):
        super().__init__(config or FakeConfig(), image_shape)
        d = self.latent_dim
        g = torch.Generator().manual_seed(0)
        scales = torch.tensor([SCALES[i % len(SCALES)] for i in range(d)])
        self.register_buffer("w", torch.randn(784, d, generator=g) / 28 * scales)
        self.register_buffer("d", torch.randn(d, 784, generator=g))

    def encode_distribution(self, x):
        mu = (x.reshape(len(x), -1) - 0.3) @ self.w
        return mu, torch.zeros_like(mu)

    def encode(self, x):
        return self.encode_distribution(x)[0]

    def decode(self, z):
        return torch.sigmoid(z.float() @ self.d).view(-1, 1, 28, 28)

    def loss_terms(self, x, generator=None):
        mu, logvar = self.encode_distribution(x)
        z = mu + torch.randn(mu.shape, generator=generator)
        recon = ((self.decode(z) - x) ** 2).sum() / len(x)
        kl_per_dim_sum = (0.5 * (mu ** 2 + logvar.exp() - 1 - logvar)).sum(0)
        kl = kl_per_dim_sum.sum() / len(x)
        return {"recon": recon, "kl": kl, "loss": recon + kl, "kl_per_dim_sum": kl_per_dim_sum}


class FakeGAN(LatentModel):
    """A generator only: no encoder, z ~ N(0, I)."""
    kind = "fakegan"

    def __init__(self, config: FakeConfig | None = None, image_shape: tuple = (1, 28, 28)):
        super().__init__(config or FakeConfig(latent_dim=3), image_shape)
        self.register_buffer("d", torch.randn(self.latent_dim, 784, generator=torch.Generator().manual_seed(1)))

    def encode(self, x):
        raise AssertionError("a GAN has no encoder: nothing may call it")

    def decode(self, z):
        return torch.sigmoid(z.float() @ self.d).view(-1, 1, 28, 28)


SPECS = (
    ModelSpec(kind="fakevae", title="Fake VAE", summary="a fake VAE", config_cls=FakeConfig, module=FakeVAE,
              encoder=True, prior="normal", gaussian_posterior=True),
    ModelSpec(kind="fakegan", title="Fake GAN", summary="a fake GAN", config_cls=FakeConfig, module=FakeGAN,
              encoder=False, prior="normal", monitor=None),
)


def register(monkeypatch) -> None:
    """Put the fakes into the model registry (undone with the monkeypatch)."""
    from latentspace.models import MODELS

    for spec in SPECS:
        monkeypatch.setitem(MODELS, spec.kind, spec)


def fake_test_set(n=300) -> ImageSet:
    g = torch.Generator().manual_seed(2)
    return ImageSet(torch.randint(0, 256, (n, 28, 28), dtype=torch.uint8, generator=g),
                    torch.arange(n) % 10, CLASSES, "fake")


def fake_run(path: Path, cls, latent_dim: int = 3) -> Path:
    """A finished run directory of a fake model (config.json, summary.json, checkpoints/best.ckpt)."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "checkpoints").mkdir(exist_ok=True)
    model = cls(FakeConfig(latent_dim))
    torch.save({"state_dict": model.state_dict()}, path / "checkpoints" / "best.ckpt")
    (path / "config.json").write_text(json.dumps({
        "model": cls.kind, "model_config": {"latent_dim": latent_dim},
        "train": {"dataset": "fashion-mnist", "seed": 0, "limit_train": 512}, "seed": 0}))
    (path / "summary.json").write_text(json.dumps({"finished": True}))
    return path
