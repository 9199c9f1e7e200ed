"""A run's samplers are fitted once and kept (keyed by the checkpoint), and `draw` gives the same images for the
same run, sampler, seed and classes."""
from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

from latentspace.errors import LatentspaceError
from latentspace.models.vae import VAE
from latentspace.models.vae_config import VAEConfig
from latentspace.runs import load_run
from latentspace.samplers.base import META_FILE
from latentspace.samplers.store import draw, get_sampler, sample_labels, sampler_dir


@pytest.fixture
def run_copy(tiny_ae_run, tmp_path):
    return shutil.copytree(tiny_ae_run.path, tmp_path / "ae", ignore=shutil.ignore_patterns("samplers"))


def test_a_fitted_sampler_is_kept_in_the_run_and_reused(run_copy):
    model, run = load_run(run_copy)
    lines = []
    first = draw(model, 20, seed=3, log=lines.append)
    assert (sampler_dir(run, "gmm") / META_FILE).is_file() and len(lines) == 1 and "fitting" in lines[0]
    model, _ = load_run(run_copy)  # a fresh process would do the same: read, not fitted again
    lines.clear()
    again = draw(model, 20, seed=3, log=lines.append)
    assert not lines and np.array_equal(first.images, again.images) and np.array_equal(first.latents, again.latents)
    assert not np.array_equal(draw(model, 20, seed=4).images, first.images)
    assert first.description == "a 10-component Gaussian mixture on training codes" and first.labels is None


def test_a_sampler_of_another_checkpoint_is_fitted_again(run_copy):
    model, run = load_run(run_copy)
    get_sampler(model, "gmm")
    state = torch.load(run.checkpoint(), weights_only=True)
    state["state_dict"]["decoder.lin.0.bias"] += 1.0  # the run was trained further, say
    torch.save(state, run.checkpoint())
    model, _ = load_run(run_copy)
    lines = []
    get_sampler(model, "gmm", log=lines.append)
    assert any("another checkpoint" in line for line in lines)


def test_a_model_from_no_run_fits_in_memory(tiny_ae_run, tmp_path):
    model, run = load_run(tiny_ae_run.path)
    model.run = model.checkpoint_file = None
    from latentspace.data.images import run_splits

    s = get_sampler(model, "gmm", train=run_splits(run.config()["train"]).train)
    assert s.sample(3, torch.Generator().manual_seed(0)).shape == (3, 4)
    model.run = None
    with pytest.raises(LatentspaceError, match="training images"):
        get_sampler(model, "gmm")


def test_classes_of_a_conditional_model():
    model = VAE(VAEConfig(latent_dim=3, conditional=True), num_classes=4).eval()
    assert sample_labels(model, 6).tolist() == [0, 1, 2, 3, 0, 1]  # every class in turn: balanced sets
    assert sample_labels(model, 3, [2]).tolist() == [2, 2, 2]
    with pytest.raises(LatentspaceError, match="out of range 0..3"):
        sample_labels(model, 2, [7])
    drawn = draw(model, 5, seed=0, labels=[1])
    assert drawn.labels.tolist() == [1] * 5 and drawn.images.shape == (5, 28, 28)
    plain = VAE(VAEConfig(latent_dim=3), num_classes=4)  # the data's classes, unused
    assert not plain.conditional and sample_labels(plain, 3) is None
    with pytest.raises(LatentspaceError, match="trained without classes"):
        sample_labels(plain, 3, [1])


def test_bad_counts_are_refused(fake_models):
    from tests.fakes import FakeGAN

    with pytest.raises(LatentspaceError, match="at least 1"):
        draw(FakeGAN(), 0)
