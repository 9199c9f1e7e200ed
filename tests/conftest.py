"""Shared fixtures: small real data, a tiny trained run, an isolated cache."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

FMNIST = Path("/usr/share/datasets/fashion-mnist")


@pytest.fixture(autouse=True, scope="session")
def _quiet_env(tmp_path_factory):
    """Keep the real decoded-array cache (fast), but never write runs outside tmp dirs."""
    os.environ.setdefault("LATENTSPACE_CACHE", str(Path.home() / ".cache" / "latentspace"))
    os.environ.pop("LATENTSPACE_DATA", None)
    os.environ.pop("LATENTSPACE_RUN_DIR", None)
    yield


@pytest.fixture(scope="session")
def tiny_ae_run(tmp_path_factory):
    """An autoencoder trained for one epoch on 512 images: enough for the later steps to read."""
    from latentspace.models.autoencoder import AEConfig
    from latentspace.train import TrainConfig, fit

    out = tmp_path_factory.mktemp("runs") / "ae"
    return fit("ae", AEConfig(latent_dim=4), TrainConfig(epochs=1, limit_train=512, batch_size=128), out=out,
               progress=False)


@pytest.fixture(scope="session")
def tiny_ae2_run(tmp_path_factory):
    """An autoencoder with a 2-D latent space, one epoch on 512 images (maps, grids, the explorer)."""
    from latentspace.models.autoencoder import AEConfig
    from latentspace.train import TrainConfig, fit

    out = tmp_path_factory.mktemp("runs") / "ae2"
    return fit("ae", AEConfig(latent_dim=2), TrainConfig(epochs=1, limit_train=512, batch_size=128), out=out,
               progress=False)


def pristine_copy(run, dest):
    """A copy of a shared session run without the caches other tests may have added (embeddings/),
    for tests whose expectations depend on what the run directory holds."""
    import shutil

    shutil.copytree(run.path, dest, ignore=shutil.ignore_patterns("embeddings", "classifier*", "evaluation.json"))
    return dest
