"""Projections of codes to 2-D: PCA, t-SNE, UMAP; a 2-D space as it is; clear errors."""
from __future__ import annotations

import sys

import numpy as np
import pytest

from latentspace.analysis import projection as P
from latentspace.errors import LatentspaceError


def test_tsne_kl_and_small_sets():
    x = np.random.default_rng(0).normal(size=(60, 5)).astype(np.float32)
    points, kl = P.tsne_embedding(x, n_jobs=1)
    assert points.shape == (60, 2) and np.isfinite(kl) and kl > 0


def test_a_two_dimensional_space_is_its_own_map_and_constant_codes_one_point():
    x = np.random.default_rng(0).normal(size=(10, 2)).astype(np.float32)
    for method in P.METHODS:
        np.testing.assert_array_equal(P.project(x, method), x)
    constant = np.ones((20, 5), np.float32)
    np.testing.assert_array_equal(P.project(constant, "pca"), np.zeros((20, 2), np.float32))


def test_pca_keeps_the_largest_variance_first():
    rng = np.random.default_rng(1)
    x = (rng.normal(size=(300, 4)) * [5, 1, 0.2, 0.1]).astype(np.float32)
    points = P.project(x, "pca")
    assert points.dtype == np.float32 and points[:, 0].var() > 10 * points[:, 1].var()


def test_bad_inputs_and_a_missing_umap_are_clear_errors(monkeypatch):
    with pytest.raises(LatentspaceError, match="unknown projection"):
        P.project(np.zeros((5, 3)), "mds")
    with pytest.raises(LatentspaceError, match="at least 3 codes"):
        P.project(np.zeros((2, 3)), "pca")
    monkeypatch.setitem(sys.modules, "umap", None)  # `import umap` now raises ImportError
    with pytest.raises(LatentspaceError, match="umap-learn"):
        P.project(np.random.default_rng(0).normal(size=(50, 6)).astype(np.float32), "umap")
