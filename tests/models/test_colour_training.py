"""Every model trains for one epoch on colour images at 32 x 32 x 3 and 64 x 64 x 3 (tests/fakes.py's coloured
pictures, a few batches): the run records its shape and `load_run` rebuilds the networks for it; the classifier
probe (through `classify`) and the feature network train on them too."""
from __future__ import annotations

import math

import pytest
import torch

from latentspace.data.images import Splits
from latentspace.models.autoencoder_config import AEConfig
from latentspace.models.gan_config import GANConfig
from latentspace.models.vae_config import VAEConfig
from latentspace.training.config import TrainConfig
from tests.fakes import fake_colour_test_set

pytestmark = pytest.mark.integration

CONFIGS = {"ae": AEConfig(latent_dim=4), "vae": VAEConfig(latent_dim=4),
           "gan": GANConfig(noise_dim=16, g_width=8, d_width=8, progress_images=4)}


def colour_splits(size: int, n: int = 96) -> Splits:
    images = fake_colour_test_set(n, shape=(3, size, size))
    return Splits(images, images.head(32), images.head(48), images.classes, images.name)


def _train(kind, size, out, monkeypatch):
    from latentspace.training import trainer

    splits = colour_splits(size)
    monkeypatch.setattr(trainer, "load_splits", lambda *a, **k: splits)
    return trainer.fit(kind, CONFIGS[kind], TrainConfig(epochs=1, batch_size=32), out=out, progress=False), splits


@pytest.mark.parametrize("size", [32, 64])
@pytest.mark.parametrize("kind", ["ae", "vae", "gan"])
def test_every_model_trains_an_epoch_on_colour_images(kind, size, tmp_path, monkeypatch):
    from latentspace.runs import load_run

    run, _ = _train(kind, size, tmp_path / "run", monkeypatch)
    assert run.summary()["finished"] and run.config()["image_shape"] == [3, size, size]
    rows = run.metrics_file.read_text().splitlines()
    assert len(rows) == 2  # the header and epoch 0
    model, _ = load_run(run.path)
    assert model.image_shape == (3, size, size)
    with torch.no_grad():
        images = model.decode(torch.zeros(5, model.latent_dim))
    assert images.shape == (5, 3, size, size) and 0 <= float(images.min()) <= float(images.max()) <= 1
    if model.spec.encoder:
        with torch.no_grad():
            z = model.encode(colour_splits(size).test.floats(slice(0, 5)))
        assert z.shape == (5, 4) and math.isfinite(float(z.abs().sum()))
    assert run.summary()["figures"]  # the figures of a colour run are drawn too


@pytest.mark.parametrize("size", [32, 64])
def test_the_probe_trains_on_a_colour_encoder_and_from_scratch(size, tmp_path, monkeypatch):
    from latentspace.commands.classify import classify_baseline, classify_run
    from latentspace.models.probe_config import ClassifyConfig

    run, splits = _train("ae", size, tmp_path / "ae", monkeypatch)
    config = ClassifyConfig(epochs=1, batch_size=32)
    frozen = classify_run(run.path, config=config, splits=splits, progress=False, log=lambda *a: None)
    assert frozen["mode"] == "frozen" and frozen["test_size"] == 48 and 0 <= frozen["test_accuracy"] <= 1
    assert frozen["parameters"]["frozen"] > 0
    scratch = classify_baseline(config=config, splits=splits, latent_dim=4, out=tmp_path / "scratch",
                                progress=False, log=lambda *a: None)
    assert scratch["mode"] == "scratch" and scratch["parameters"]["frozen"] == 0


@pytest.mark.parametrize("size", [32, 64])
def test_the_feature_network_trains_for_a_colour_dataset_under_its_identity(size, tmp_path, monkeypatch):
    from latentspace.commands.feature_net import train_feature_net
    from latentspace.models.featurenet import feature_net_for, load_feature_net

    monkeypatch.setenv("LATENTSPACE_CACHE", str(tmp_path))
    splits = colour_splits(size)
    record = train_feature_net(splits=splits, epochs=1, batch_size=32, progress=False)
    identity = f"fake-rgb-3x{size}x{size}"
    assert splits.identity == identity and record["dataset"] == identity and record["dataset_name"] == "fake-rgb"
    assert record["weights"] == str(tmp_path / "weights" / f"{identity}.pt") and record["image_shape"] == [3, size, size]
    net, meta = feature_net_for(splits)
    assert net.arch.image_shape == (3, size, size) and meta["test_accuracy"] == record["test_accuracy"]
    f, logits = net.features_and_logits(splits.test.floats(slice(0, 4)))
    assert f.shape == (4, 128) and logits.shape == (4, 10)
    other = colour_splits(48 if size == 32 else 32)  # the same name, another shape: not this network
    from latentspace.errors import LatentspaceError

    with pytest.raises(LatentspaceError, match="no feature network for fake-rgb-3x.*feature-net --dataset fake-rgb"):
        feature_net_for(other)
    with pytest.raises(LatentspaceError, match="reads 3x"):
        load_feature_net(identity, "fake-rgb", 10, True, (3, 48, 48))
