"""The Gaussian mixture sampler: fitted by scikit-learn, kept and drawn from its parameters."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from latentspace.errors import LatentspaceError
from latentspace.samplers.gmm import GaussianMixtureSampler


def two_clusters(n=2000):
    rng = np.random.default_rng(0)
    return np.concatenate([rng.normal(-5, 0.5, (n // 2, 2)), rng.normal(5, 1.0, (n // 2, 2))]).astype(np.float32)


def test_it_fits_the_clusters_and_draws_seeded_samples_from_its_parameters():
    s = GaussianMixtureSampler(None, n_components=2)
    s.fit_codes(two_clusters(), None, None, print)
    z = s.sample(4000, torch.Generator().manual_seed(1)).numpy()
    assert z.dtype == np.float32 and z.shape == (4000, 2)
    left, right = z[z[:, 0] < 0], z[z[:, 0] > 0]
    assert 0.45 < len(left) / len(z) < 0.55  # both components, in their proportions
    assert left.std(0) == pytest.approx([0.5, 0.5], rel=0.1) and right.std(0) == pytest.approx([1, 1], rel=0.1)
    assert torch.equal(s.sample(10, torch.Generator().manual_seed(1)), s.sample(10, torch.Generator().manual_seed(1)))


def test_its_state_is_tensors_and_round_trips():
    s = GaussianMixtureSampler(None, n_components=2)
    s.fit_codes(two_clusters(), None, None, print)
    t = GaussianMixtureSampler(None, n_components=2)
    t.load_state(s.state())
    assert all(isinstance(v, torch.Tensor) for v in s.state().values())
    assert torch.equal(t.sample(7, torch.Generator().manual_seed(2)), s.sample(7, torch.Generator().manual_seed(2)))


def test_bad_parameters_are_refused():
    with pytest.raises(LatentspaceError, match="at least one component"):
        GaussianMixtureSampler(None, n_components=0)
    with pytest.raises(LatentspaceError, match="at least 10 codes"):
        GaussianMixtureSampler(None).fit_codes(np.zeros((5, 2)), None, None, print)
    s = GaussianMixtureSampler(None, n_components=2)
    with pytest.raises(LatentspaceError, match="inconsistent shapes"):
        s.load_state({"weights": torch.ones(2), "means": torch.zeros(3, 2), "chol": torch.eye(2).repeat(2, 1, 1)})
    with pytest.raises(LatentspaceError, match="lacks"):
        s.load_state({"weights": torch.ones(2)})
