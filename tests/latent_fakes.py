"""Tiny stand-in models for the latent-space tests: a VAE-like model (encode_distribution) and a GAN-like
one (no encoder, its own prior), registered under a test-only kind and saved as a finished run."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn


@dataclass
class FakeConfig:
    latent_dim: int = 3


class FakeVAE(nn.Module):
    """encode_distribution(x) -> (mu, logvar) from a fixed linear map; decode through a sigmoid."""
    kind = "fakevae"
    config_cls = FakeConfig
    has_encoder = True

    def __init__(self, config: FakeConfig):
        super().__init__()
        self.config = config
        g = torch.Generator().manual_seed(0)
        self.enc = nn.Linear(784, 2 * config.latent_dim)
        self.dec = nn.Linear(config.latent_dim, 784)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=g) * 0.05)

    @property
    def latent_dim(self):
        return self.config.latent_dim

    def encode_distribution(self, x):
        h = self.enc(x.reshape(len(x), -1))
        return h[:, : self.latent_dim], h[:, self.latent_dim:]

    def encode(self, x):
        return self.encode_distribution(x)[0]

    def decode(self, z):
        return torch.sigmoid(self.dec(z)).reshape(len(z), 1, 28, 28)

    def sample(self, n):
        return self.decode(torch.randn(n, self.latent_dim))


class FakeGAN(nn.Module):
    """A generator only: has_encoder=False, sample(n) from N(0, I) noise."""
    kind = "fakegan"
    config_cls = FakeConfig
    has_encoder = False

    def __init__(self, config: FakeConfig):
        super().__init__()
        self.config = config
        self.gen = nn.Linear(config.latent_dim, 784)

    @property
    def latent_dim(self):
        return self.config.latent_dim

    def decode(self, z):
        return torch.sigmoid(self.gen(z)).reshape(len(z), 1, 28, 28)

    def sample(self, n):
        return self.decode(torch.randn(n, self.latent_dim))


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


def register(monkeypatch) -> None:
    """Put the fakes into the model registry for one test."""
    from latentspace.models import MODELS

    monkeypatch.setitem(MODELS, FakeVAE.kind, FakeVAE)
    monkeypatch.setitem(MODELS, FakeGAN.kind, FakeGAN)
