"""Which latent dimensions a Gaussian posterior uses: mean KL per dimension, active units, the top k."""
from __future__ import annotations

import numpy as np
import pytest

from latentspace.analysis.activity import active_units, kl_per_dimension, top_k_dims


def test_kl_per_dimension_is_the_mean_closed_form():
    mu = np.array([[1.0, 0.0], [-1.0, 0.0]])
    logvar = np.array([[0.0, np.log(4.0)], [0.0, np.log(4.0)]])
    np.testing.assert_allclose(kl_per_dimension(mu, logvar), [0.5, 0.5 * (4 - 1 - np.log(4))])
    with pytest.raises(ValueError):
        kl_per_dimension(np.zeros((2, 3)), np.zeros((2, 2)))


def test_active_units_counts_dimensions_above_the_threshold():
    kl = np.array([0.5, 0.0, 0.011, 0.009, 2.0])
    assert active_units(kl) == 3
    assert active_units(kl, threshold=1.0) == 1
    assert active_units(np.zeros(4)) == 0


def test_top_k_dims_orders_by_kl():
    kl = np.array([0.1, 3.0, 0.1, 2.0, 0.0])
    assert top_k_dims(kl, 2) == [1, 3]
    assert top_k_dims(kl, 4) == [1, 3, 0, 2]  # ties: lower index first
    assert top_k_dims(kl, 10) == [1, 3, 0, 2, 4]  # capped at the number of dimensions
