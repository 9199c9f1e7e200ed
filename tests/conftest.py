"""Shared fixtures: small real data, tiny trained runs, the test-only fake models, an isolated cache.

Tests that train or read real runs are marked `integration` (automatically, by the fixtures they use, or
explicitly); `pytest -m "not integration"` runs the fast unit tests on fakes alone.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

FMNIST = Path("/usr/share/datasets/fashion-mnist")
REAL_RUN_FIXTURES = {"tiny_ae_run", "tiny_ae2_run", "tiny_vae_run", "tiny_gan_run", "sqlite_search", "postgres_url",
                     "small_sweep", "frozen_result", "tiny_flow_run", "tiny_conditional_flow_run", "tiny_vqvae_run"}


def pytest_collection_modifyitems(items):
    import torch

    no_gpu = pytest.mark.skip(reason="needs a CUDA GPU (benchmarks/gpu_check.sh runs these on one)")
    for item in items:
        if REAL_RUN_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)
        if "cuda" in item.keywords and not torch.cuda.is_available():
            item.add_marker(no_gpu)


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
    from latentspace.models.autoencoder_config import AEConfig
    from latentspace.training.config import TrainConfig
    from latentspace.training.trainer import fit

    out = tmp_path_factory.mktemp("runs") / "ae"
    return fit("ae", AEConfig(latent_dim=4), TrainConfig(epochs=1, limit_train=512, batch_size=128), out=out,
               progress=False)


@pytest.fixture(scope="session")
def tiny_ae2_run(tmp_path_factory):
    """An autoencoder with a 2-D latent space, one epoch on 512 images (maps, grids, the explorer)."""
    from latentspace.models.autoencoder_config import AEConfig
    from latentspace.training.config import TrainConfig
    from latentspace.training.trainer import fit

    out = tmp_path_factory.mktemp("runs") / "ae2"
    return fit("ae", AEConfig(latent_dim=2), TrainConfig(epochs=1, limit_train=512, batch_size=128), out=out,
               progress=False)


def _tiny_flow(out, **config):
    from latentspace.models.flow_config import FlowConfig
    from latentspace.training.config import TrainConfig
    from latentspace.training.trainer import fit

    return fit("flow", FlowConfig(width=8, sample_steps=2, progress_images=4, **config),
               TrainConfig(epochs=1, limit_train=256, batch_size=64), out=out, progress=False)


@pytest.fixture(scope="session")
def tiny_flow_run(tmp_path_factory):
    """A flow-matching model at width 8 with 2 ODE steps, one epoch on 256 images (seconds): the commands read it."""
    return _tiny_flow(tmp_path_factory.mktemp("runs") / "flow")


@pytest.fixture(scope="session")
def tiny_conditional_flow_run(tmp_path_factory):
    """The same, class-conditional (guidance 2 by default)."""
    return _tiny_flow(tmp_path_factory.mktemp("runs") / "flow-c", conditional=True)


@pytest.fixture(scope="session")
def tiny_vqvae_run(tmp_path_factory):
    """A VQ-VAE (64 codes, so a tiny run uses most of them) trained for one epoch on 512 images; no prior."""
    from latentspace.models.vqvae_config import VQVAEConfig
    from latentspace.training.config import TrainConfig
    from latentspace.training.trainer import fit

    out = tmp_path_factory.mktemp("runs") / "vqvae"
    return fit("vqvae", VQVAEConfig(codebook_size=64), TrainConfig(epochs=1, limit_train=512, batch_size=64),
               out=out, progress=False)


@pytest.fixture
def fake_models(monkeypatch):
    """The test-only fake models (tests/fakes.py) in the registry, for one test."""
    from tests.fakes import register

    register(monkeypatch)


@pytest.fixture(scope="module")
def fake_models_in_module():
    """The fake models in the registry for a whole module (for module-scoped fixtures that serve them)."""
    from tests.fakes import register

    with pytest.MonkeyPatch.context() as mp:
        register(mp)
        yield


def pristine_copy(run, dest):
    """A copy of a shared session run without the caches other tests may have added (embeddings/),
    for tests whose expectations depend on what the run directory holds."""
    import shutil

    shutil.copytree(run.path, dest, ignore=shutil.ignore_patterns("embeddings", "classifier*", "evaluation.json"))
    return dest
