"""The copy check on features: exact nearest neighbours, a copying sample set scores 1 and a different one 0."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from latentspace.analysis.memorisation import closest_first, copy_check, nearest_neighbours, train_gaps


@pytest.fixture(scope="module")
def train():
    return np.random.default_rng(0).normal(size=(300, 16))


def test_nearest_neighbours_are_exact_and_do_not_depend_on_the_batch(train):
    queries = np.random.default_rng(1).normal(size=(70, 16))
    full = cdist(queries, train)
    dist, index = nearest_neighbours(queries, train, batch=32)
    np.testing.assert_array_equal(index, full.argmin(1))
    np.testing.assert_allclose(dist, full.min(1), rtol=1e-4)
    again = nearest_neighbours(queries, train, batch=1000)
    np.testing.assert_array_equal(again[1], index)
    own = cdist(train, train) + np.diag(np.full(len(train), np.inf))  # its nearest *other* point
    np.testing.assert_allclose(train_gaps(train, batch=50), own.min(1), rtol=1e-4)
    with pytest.raises(ValueError):
        nearest_neighbours(queries, train, skip_self=True)


def test_copies_of_training_points_score_one_and_points_elsewhere_zero(train):
    rng = np.random.default_rng(2)
    copies = train[rng.choice(len(train), 100)] + rng.normal(scale=1e-3, size=(100, 16))  # near-exact copies
    check = copy_check(copies, train)
    assert check["share"] == 1.0 and check["copy"].all() and (check["distance"] < check["train_gap"]).all()
    elsewhere = rng.normal(loc=25.0, size=(100, 16))  # nothing like the training points
    assert copy_check(elsewhere, train)["share"] == 0.0
    mixed = copy_check(np.concatenate([copies[:30], elsewhere[:70]]), train, gaps=train_gaps(train))
    assert mixed["share"] == pytest.approx(0.3)
    order = closest_first(mixed, 5)
    assert (order < 30).all() and (np.diff(mixed["distance"][order]) >= 0).all()  # the copies, closest first
