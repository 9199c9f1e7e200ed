"""Walking a latent space: traversals, lattices, interpolations, rows of one varied dimension, decoding."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from latentspace.analysis import latents as G
from latentspace.analysis.latents import (
    decode_latents,
    dimension_codes,
    traversal_values,
)
from latentspace.errors import LatentspaceError

# ---------------------------------------------------------------- pure functions

def test_traverse_varies_only_the_chosen_dimensions():
    z0 = np.array([0.5, -1.0, 2.0, 3.0, -4.0], np.float32)
    low, high = np.full(5, -2.0), np.full(5, 2.0)
    low[3], high[3] = 1.0, 5.0
    z = G.traverse(z0, (3, 1), low, high, steps=4)
    assert z.shape == (16, 5)
    for d in (0, 2, 4):
        np.testing.assert_array_equal(z[:, d], z0[d])
    # dim 3 across each row (low to high), dim 1 down the rows (high to low)
    np.testing.assert_allclose(z[:4, 3], np.linspace(1, 5, 4))
    np.testing.assert_allclose(z[::4, 1], np.linspace(2, -2, 4))
    np.testing.assert_allclose(np.unique(z[:, 3]), np.linspace(1, 5, 4), rtol=1e-6)
    with pytest.raises(LatentspaceError, match="out of range"):
        G.traverse(z0, (0, 5), low, high)
    with pytest.raises(LatentspaceError, match="different"):
        G.traverse(z0, (2, 2), low, high)


def test_grid_covers_the_bounds():
    pts = G.grid((-1.0, 3.0, 0.5, 2.5), steps=5)
    assert pts.shape == (25, 2)
    assert pts[:, 0].min() == pytest.approx(-1) and pts[:, 0].max() == pytest.approx(3)
    assert pts[:, 1].min() == pytest.approx(0.5) and pts[:, 1].max() == pytest.approx(2.5)
    np.testing.assert_allclose(pts[0], [-1, 2.5])  # top left first, as drawn
    np.testing.assert_allclose(pts[-1], [3, 0.5])
    codes = np.random.default_rng(0).normal(size=(500, 2)) * [1, 3] + [4, 0]
    x0, x1, y0, y1 = G.square_bounds(codes)
    assert x1 - x0 == pytest.approx(y1 - y0)  # a square
    assert (codes[:, 0] >= x0).all() and (codes[:, 0] <= x1).all()
    assert (codes[:, 1] >= y0).all() and (codes[:, 1] <= y1).all()
    with pytest.raises(LatentspaceError, match="x0 < x1"):
        G.grid((1, 0, 0, 1))


def test_interpolations():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=8), rng.normal(size=8) * 2
    for fn in (G.lerp, G.slerp):
        path = fn(a, b, steps=7)
        assert path.shape == (7, 8)
        np.testing.assert_allclose(path[0], a, atol=1e-5)
        np.testing.assert_allclose(path[-1], b, atol=1e-5)
    # linear: evenly spaced on the segment; spherical: norms interpolated linearly, off the segment
    lin, sph = G.lerp(a, b, 7), G.slerp(a, b, 7)
    np.testing.assert_allclose(np.diff(lin, axis=0), np.broadcast_to((b - a) / 6, (6, 8)), atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(sph, axis=1),
                               np.linspace(np.linalg.norm(a), np.linalg.norm(b), 7), rtol=1e-5)
    assert np.linalg.norm(sph[3]) > np.linalg.norm(lin[3])
    e0, e1 = np.eye(2)
    np.testing.assert_allclose(G.slerp(e0, e1, 3)[1], [np.sqrt(0.5), np.sqrt(0.5)], atol=1e-6)
    assert set(G.interpolate(a, b, 5, spherical=True)) == {"linear", "spherical"}
    assert set(G.interpolate(a, b, 5)) == {"linear"}


def test_traversal_values_span_the_range():
    np.testing.assert_allclose(traversal_values(3.0, 7), [-3, -2, -1, 0, 1, 2, 3])
    assert len(traversal_values(2.0, 1)) == 1
    with pytest.raises(ValueError):
        traversal_values(3.0, 0)


def test_traversal_codes_vary_one_dimension_per_row():
    code = np.array([0.5, -1.0, 2.0, 0.0])
    values = np.array([-1.0, 0.0, 1.0])
    codes = dimension_codes(code, [2, 0], values)
    assert codes.shape == (2, 3, 4)
    np.testing.assert_allclose(codes[0, :, 2], values)
    np.testing.assert_allclose(codes[1, :, 0], values)
    np.testing.assert_allclose(codes[0][:, [0, 1, 3]], np.tile(code[[0, 1, 3]], (3, 1)))  # the rest kept
    np.testing.assert_allclose(codes[1][:, [1, 2, 3]], np.tile(code[[1, 2, 3]], (3, 1)))
    with pytest.raises(ValueError):
        dimension_codes(code, [4], values)


class _Dim1Decoder(torch.nn.Module):
    """A "model" whose image has every pixel at its code's dimension 1 (in [0, 1]: so -2 -> 0, 5 -> 1)."""
    latent_dim, latent_shape, device = 3, (3,), torch.device("cpu")

    class spec:  # noqa: N801 (the contract's spec, as data)
        discrete = False

    def decode(self, z, labels=None):
        return z[:, 1:2, None, None].expand(len(z), 1, 3, 2)


def test_dimension_rows_decode_every_code_in_place():
    codes = dimension_codes(np.zeros(3), [1, 0], np.array([-2.0, 5.0]))
    images = decode_latents(_Dim1Decoder(), codes.reshape(-1, 3)).reshape(2, 2, 3, 2)
    assert images.shape == (2, 2, 3, 2)
    assert np.all(images[0, 0] == 0) and np.all(images[0, 1] == 255)  # row 0 varies dimension 1
    assert np.all(images[1] == 0)  # row 1 varies dimension 0, which this decoder ignores
