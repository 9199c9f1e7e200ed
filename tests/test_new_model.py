"""The model contract, proved: a new model is one file and one registry line, and train, embed, generate,
evaluate and the explorer's API work for it unchanged.

The models here exist in this test only: a linear autoencoder (no prior, so it is sampled through the
Gaussian mixture on its codes) registered under the kind "linear-ae", and an autoencoder whose latent is not a
vector but a small image (latent_shape (1, 7, 7)), "pooled-ae". tests/models/test_models.py shows a model from
another package registering through the entry-point group.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from latentspace.config import option
from latentspace.models import MODELS, register
from latentspace.models.base import LatentModel
from latentspace.models.spec import ModelSpec

pytestmark = pytest.mark.integration


@dataclass
class LinearAEConfig:
    latent_dim: int = option(3, "size of the code", minimum=1)
    optimizer: str = option("adam", "optimizer")
    lr: float = option(3e-3, "learning rate")
    weight_decay: float = option(0.0, "weight decay")


class LinearAE(LatentModel):
    kind = "linear-ae"

    def __init__(self, config: LinearAEConfig, image_shape: tuple = (1, 28, 28), num_classes: int = 0):
        super().__init__(config, image_shape, num_classes)
        self.enc = torch.nn.Linear(784, config.latent_dim)
        self.dec = torch.nn.Linear(config.latent_dim, 784)

    def encode(self, x, labels=None):
        return self.enc(x.reshape(len(x), -1))

    def decode(self, z, labels=None):
        return torch.sigmoid(self.dec(z)).view(-1, 1, 28, 28)

    def training_step(self, batch, batch_idx):
        loss = F.mse_loss(self.decode(self.encode(batch[0])), batch[0])
        self.log("train_loss", loss, on_step=False, on_epoch=True, batch_size=len(batch[0]))
        return loss

    def validation_step(self, batch, batch_idx):
        self.log("val_loss", F.mse_loss(self.decode(self.encode(batch[0])), batch[0]), batch_size=len(batch[0]))


SPEC = ModelSpec(kind="linear-ae", title="Linear autoencoder", summary="a linear autoencoder",
                 config_cls=LinearAEConfig, module=LinearAE, encoder=True, prior=None,
                 figures=("loss", "reconstructions"), loss_curves=(("train_loss", "val_loss"),), loss_title="MSE")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from latentspace.training.config import TrainConfig
    from latentspace.training.trainer import fit

    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(MODELS, SPEC.kind, SPEC)  # the one registry line, undone after this module
        register(SPEC)
        out = tmp_path_factory.mktemp("new-model") / "run"
        yield fit("linear-ae", LinearAEConfig(), TrainConfig(epochs=1, limit_train=1024, batch_size=128), out=out,
                  progress=False)


def test_it_trains_into_an_ordinary_run_directory(run):
    summary = run.summary()
    assert summary["finished"] and summary["figures"] == ["figures/loss.png", "figures/reconstructions.png"]
    assert run.config()["model"] == "linear-ae" and run.config()["model_config"]["latent_dim"] == 3


def test_embed_generate_and_evaluate_work_unchanged(run):
    from latentspace.commands.embed import embed_run
    from latentspace.commands.evaluate import evaluate_run
    from latentspace.commands.generate import generate_run

    emb = embed_run(run.path, "pca", n=300)
    assert emb["points"].shape == (300, 2) and set(emb["panels"]) == {"z"} and emb["title"].startswith("Linear")
    traverse = generate_run(run.path, "traverse", dims=(0, 2), steps=3)
    prior = generate_run(run.path, "prior", n=9, seed=1)
    line = generate_run(run.path, "interpolate", src=0, dst=1, steps=4)
    assert traverse["images"].shape == (9, 28, 28) and "Gaussian mixture" in prior["title"]
    assert list(line["rows"]) == ["linear"]  # no N(0, I) prior: no spherical path
    metrics = evaluate_run(run.path, n=300)
    assert {"test_mse", "test_psnr", "fid", "kid", "precision", "recall"} <= set(metrics)
    assert "test_kl" not in metrics  # no Gaussian posterior, no ELBO terms
    assert metrics["sampler"].startswith("a 10-component Gaussian mixture")


def test_the_explorer_serves_it(run):
    from fastapi.testclient import TestClient

    from latentspace.explorer.app import create_app

    client = TestClient(create_app([run.path], limit_test=200))
    (info,) = client.get("/api/runs").json()["runs"]
    assert (info["kind"], info["latent_dim"], info["has_map"], info["can_sample"]) == ("linear-ae", 3, True, True)
    m = client.get(f"/api/runs/{info['name']}/map").json()  # the map `embed` cached above, for the served images
    assert m["method"] == "pca" and m["cached"] and m["x"] and max(m["index"]) < 200
    image = client.get(f"/api/runs/{info['name']}/image/5").json()
    assert len(image["z"]) == 3 and image["reconstruction"].startswith("data:image/png")
    assert client.post("/api/decode", json={"run": info["name"], "z": [0.1, 0.2, 0.3]}).status_code == 200
    samples = client.post("/api/sample", json={"run": info["name"], "n": 4, "seed": 2}).json()["images"]
    assert np.array(samples[0]["z"]).shape == (3,)
    assert len(client.post("/api/interpolate", json={"run": info["name"], "from": 0, "to": 9}).json()["images"]) == 10


# ---------------------------------------------------------------- a latent that is not a vector

@dataclass
class PooledAEConfig:
    pool: int = option(4, "the code is the image averaged over pool x pool blocks", minimum=1)
    optimizer: str = option("adam", "optimizer")
    lr: float = option(1e-2, "learning rate")
    weight_decay: float = option(0.0, "weight decay")


class PooledAE(LatentModel):
    """Its code is a small image (1 x 7 x 7 at 28 px, pool 4): encode averages blocks, decode blows them up
    through a learned 3x3 convolution. A latent shape of three axes, through every command unchanged."""
    kind = "pooled-ae"

    def __init__(self, config: PooledAEConfig, image_shape: tuple = (1, 28, 28), num_classes: int = 0):
        super().__init__(config, image_shape, num_classes)
        self.up = torch.nn.Conv2d(1, 1, 3, padding=1)

    @property
    def latent_shape(self) -> tuple:
        c, h, w = self.image_shape
        return (c, h // self.config.pool, w // self.config.pool)

    def encode(self, x, labels=None):
        return F.avg_pool2d(x, self.config.pool)

    def decode(self, z, labels=None):
        return torch.sigmoid(self.up(F.interpolate(z, scale_factor=self.config.pool) * 6 - 3))

    def training_step(self, batch, batch_idx):
        loss = F.mse_loss(self.decode(self.encode(batch[0])), batch[0])
        self.log("train_loss", loss, on_step=False, on_epoch=True, batch_size=len(batch[0]))
        return loss

    def validation_step(self, batch, batch_idx):
        self.log("val_loss", F.mse_loss(self.decode(self.encode(batch[0])), batch[0]), batch_size=len(batch[0]))


POOLED = ModelSpec(kind="pooled-ae", title="Pooled autoencoder", summary="a code that is a small image",
                   config_cls=PooledAEConfig, module=PooledAE, encoder=True, prior=None, latent_field=None,
                   figures=("loss", "reconstructions"), loss_curves=(("train_loss", "val_loss"),), loss_title="MSE")


@pytest.fixture(scope="module")
def pooled_run(tmp_path_factory):
    from latentspace.training.config import TrainConfig
    from latentspace.training.trainer import fit

    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(MODELS, POOLED.kind, POOLED)
        out = tmp_path_factory.mktemp("pooled") / "run"
        yield fit("pooled-ae", PooledAEConfig(), TrainConfig(epochs=1, limit_train=1024, batch_size=128), out=out,
                  progress=False)


def test_a_map_shaped_latent_goes_through_every_command(pooled_run):
    from fastapi.testclient import TestClient

    from latentspace.commands.embed import embed_run
    from latentspace.commands.evaluate import evaluate_run
    from latentspace.commands.generate import generate_run
    from latentspace.explorer.app import create_app
    from latentspace.runs import load_run

    model, _ = load_run(pooled_run.path)
    assert model.latent_shape == (1, 7, 7) and model.latent_dim == 49 and pooled_run.path.name == "run"
    prior = generate_run(pooled_run.path, "prior", n=8, seed=1)
    assert prior["latents"].shape == (8, 1, 7, 7) and prior["images"].shape == (8, 28, 28)
    assert "Gaussian mixture" in prior["title"]  # fitted on its flattened codes
    line = generate_run(pooled_run.path, "interpolate", src=0, dst=1, steps=3)
    assert line["images"].shape == (3, 28, 28)
    with pytest.raises(Exception, match="varies dimensions of a code"):
        generate_run(pooled_run.path, "traverse")
    emb = embed_run(pooled_run.path, "pca", n=200)
    assert emb["points"].shape == (200, 2) and emb["latent"].shape == (200, 49)
    metrics = evaluate_run(pooled_run.path, n=200)
    assert {"test_mse", "fid", "floor_fid", "sample_seconds_per_1000"} <= set(metrics)
    client = TestClient(create_app([pooled_run.path], limit_test=100))
    (info,) = client.get("/api/runs").json()["runs"]
    assert info["latent_shape"] == [1, 7, 7] and info["latent_dim"] == 49
    assert client.post("/api/decode", json={"run": info["name"], "z": [0.5] * 49}).status_code == 200
    assert client.post("/api/decode", json={"run": info["name"], "z": [0.5] * 48}).status_code == 422
    samples = client.post("/api/sample", json={"run": info["name"], "n": 2, "seed": 1}).json()["images"]
    assert len(samples[0]["z"]) == 49
