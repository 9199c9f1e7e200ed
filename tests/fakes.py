"""Tiny stand-in models that speak the model contract, registered under test-only kinds: a VAE-like model
(a Gaussian posterior with a known order of active dimensions, an N(0, I) prior), the same for colour
images (3 x 32 x 32, clearly coloured) and a GAN-like one (no encoder, its own prior). Fast: linear maps,
no training. `fake_run` saves one as a finished run; `fake_colour_test_set` gives colour images to encode."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from latentspace.data.images import ImageSet, Splits
from latentspace.models.base import LatentModel
from latentspace.models.spec import ModelSpec

CLASSES = tuple(f"class {c}" for c in range(10))
SCALES = (0.1, 3.0, 0.01, 1.0, 0.5)  # per latent dimension: the most active are 1, 3, 4, 0, 2
RGB_SHAPE = (3, 32, 32)


@dataclass
class FakeConfig:
    latent_dim: int = 5


class FakeVAE(LatentModel):
    """μ = a fixed linear map of the image with a different scale per dimension; log σ² = 0."""
    kind = "fakevae"

    def __init__(self, config: FakeConfig | None = None, image_shape: tuple = (1, 28, 28), num_classes: int = 0):
        super().__init__(config or FakeConfig(), image_shape, num_classes)
        d, size = self.latent_dim, self.image_shape[0] * self.image_shape[1] * self.image_shape[2]
        g = torch.Generator().manual_seed(0)
        scales = torch.tensor([SCALES[i % len(SCALES)] for i in range(d)])
        self.register_buffer("w", torch.randn(size, d, generator=g) / size ** 0.5 * scales)
        self.register_buffer("d", torch.randn(d, size, generator=g))

    def encode_distribution(self, x, labels=None):
        mu = (x.reshape(len(x), -1) - 0.3) @ self.w
        return mu, torch.zeros_like(mu)

    def encode(self, x, labels=None):
        return self.encode_distribution(x)[0]

    def decode(self, z, labels=None):
        return torch.sigmoid(z.float() @ self.d).view(-1, *self.image_shape)

    def loss_terms(self, x, labels=None, generator=None):
        mu, logvar = self.encode_distribution(x)
        z = mu + torch.randn(mu.shape, generator=generator)
        recon = ((self.decode(z) - x) ** 2).sum() / len(x)
        kl_per_dim_sum = (0.5 * (mu ** 2 + logvar.exp() - 1 - logvar)).sum(0)
        kl = kl_per_dim_sum.sum() / len(x)
        return {"recon": recon, "kl": kl, "loss": recon + kl, "kl_per_dim_sum": kl_per_dim_sum}


def colour_pattern(shape: tuple = RGB_SHAPE) -> torch.Tensor:
    """C x H x W in {0, 1}: red on the left half, green on the top half, blue in a centred disc, so every
    channel differs from the others (red, yellow, green, black quarters; magenta, white, cyan, blue disc)."""
    _, h, w = shape
    y, x = torch.meshgrid(torch.linspace(-1, 1, h), torch.linspace(-1, 1, w), indexing="ij")
    return torch.stack([(x < 0).float(), (y < 0).float(), (x ** 2 + y ** 2 < 0.4).float()])


class FakeRGB(FakeVAE):
    """The fake VAE for colour images (3 x 32 x 32 unless told): it decodes `colour_pattern` tinted by the
    code, so its images are clearly coloured and differ from code to code."""
    kind = "fakergb"

    def __init__(self, config: FakeConfig | None = None, image_shape: tuple = RGB_SHAPE, num_classes: int = 0):
        super().__init__(config, image_shape, num_classes)
        self.register_buffer("pattern", colour_pattern(self.image_shape).reshape(-1) * 5 - 2.5)

    def decode(self, z, labels=None):
        return torch.sigmoid(self.pattern + 0.7 * (z.float() @ self.d)).view(-1, *self.image_shape)


class FakeGAN(LatentModel):
    """A generator only: no encoder, z ~ N(0, I)."""
    kind = "fakegan"

    def __init__(self, config: FakeConfig | None = None, image_shape: tuple = (1, 28, 28), num_classes: int = 0):
        super().__init__(config or FakeConfig(latent_dim=3), image_shape, num_classes)
        self.register_buffer("d", torch.randn(self.latent_dim, 784, generator=torch.Generator().manual_seed(1)))

    def encode(self, x, labels=None):
        raise AssertionError("a GAN has no encoder: nothing may call it")

    def decode(self, z, labels=None):
        return torch.sigmoid(z.float() @ self.d).view(-1, 1, 28, 28)


SPECS = (
    ModelSpec(kind="fakevae", title="Fake VAE", summary="a fake VAE", config_cls=FakeConfig, module=FakeVAE,
              encoder=True, prior="normal", gaussian_posterior=True),
    ModelSpec(kind="fakergb", title="Fake RGB VAE", summary="a fake VAE of colour images", config_cls=FakeConfig,
              module=FakeRGB, encoder=True, prior="normal", gaussian_posterior=True),
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


def fake_colour_test_set(n: int = 300, labelled: bool = True, shape: tuple = RGB_SHAPE) -> ImageSet:
    """n colour images (H x W x 3): `colour_pattern` shifted by a seeded offset, with noise; ten classes, or
    none (an unlabelled set: labels -1)."""
    g = torch.Generator().manual_seed(3)
    _, h, w = shape
    pattern = colour_pattern(shape).permute(1, 2, 0) * 200 + 20
    shifts = torch.randint(-h // 4, h // 4 + 1, (n, 2), generator=g)
    noise = torch.randint(-20, 21, (n, h, w, 3), generator=g)
    images = torch.stack([pattern.roll((int(dy), int(dx)), (0, 1)) for dy, dx in shifts]) + noise
    labels = torch.arange(n) % 10 if labelled else torch.full((n,), -1)
    return ImageSet(images.clamp(0, 255).to(torch.uint8), labels, CLASSES if labelled else (), "fake-rgb")


def fake_splits(test: ImageSet) -> Splits:
    """Splits that are all `test`: what a command loading a fake run's data gets (see `use_fake_data`)."""
    return Splits(test, test, test, test.classes, test.name)


def use_fake_data(monkeypatch, test: ImageSet, *modules) -> None:
    """Make `run_splits` in each of `modules` (e.g. latentspace.commands.generate) return `fake_splits(test)`:
    a fake run of colour images needs no colour data set on disk."""
    for module in modules:
        monkeypatch.setattr(module, "run_splits", lambda train, limit_train=True: fake_splits(test))


def fake_run(path: Path, cls, latent_dim: int = 3) -> Path:
    """A finished run directory of a fake model (config.json with its image shape, summary.json,
    checkpoints/best.ckpt)."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "checkpoints").mkdir(exist_ok=True)
    model = cls(FakeConfig(latent_dim))
    torch.save({"state_dict": model.state_dict()}, path / "checkpoints" / "best.ckpt")
    (path / "config.json").write_text(json.dumps({
        "model": cls.kind, "model_config": {"latent_dim": latent_dim}, "image_shape": list(model.image_shape),
        "train": {"dataset": "fashion-mnist", "seed": 0, "limit_train": 512}, "seed": 0}))
    (path / "summary.json").write_text(json.dumps({"finished": True}))
    return path


def colour_images(n: int, size: int = 32) -> np.ndarray:
    """n colour image arrays (n x size x size x 3 uint8): the fake colour test set's pictures."""
    return fake_colour_test_set(n, shape=(3, size, size)).arrays()


def grey_images(n: int, size: int = 28) -> np.ndarray:
    """n grey image arrays (n x size x size uint8): the same pictures in grey (distinct grey levels)."""
    return colour_images(n, size).mean(-1).astype(np.uint8)
