"""The one sampler: a model's prior, or a Gaussian mixture on its training codes; seeded."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from latentspace.analysis.samplers import GaussianMixtureSampler, Sampler, sample_images
from latentspace.errors import LatentspaceError
from tests.fakes import FakeConfig, FakeVAE


def test_gmm_sampling_reproduces_the_latent_mean_and_spread():
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(3, 4)) * 5
    data = np.concatenate([c + rng.normal(size=(400, 4)) for c in centres])
    sampler = GaussianMixtureSampler(n_components=3, seed=0).fit(data)
    z = sampler.sample(3000)
    assert z.shape == (3000, 4) and z.dtype == np.float32
    np.testing.assert_allclose(z.mean(0), data.mean(0), atol=0.3)
    np.testing.assert_allclose(z.std(0), data.std(0), rtol=0.1)
    np.testing.assert_array_equal(sampler.sample(10), sampler.sample(10))  # seeded
    with pytest.raises(LatentspaceError, match="at least"):
        GaussianMixtureSampler(10).fit(data[:5])


def test_prior_uses_the_models_own_sampler(fake_models):
    model = FakeVAE(FakeConfig(3))

    def never():
        raise AssertionError("a model with a prior needs no training codes")

    images, how = sample_images(model, 9, never)
    assert images.shape == (9, 28, 28) and how == "the model's prior"
    np.testing.assert_array_equal(images, sample_images(model, 9, never)[0])  # seeded
    z = Sampler(model).latents(9, seed=0)
    np.testing.assert_array_equal(z, torch.randn(9, 3, generator=torch.Generator().manual_seed(0)).numpy())
