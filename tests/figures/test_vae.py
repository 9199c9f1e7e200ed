"""VAE figures: KL per dimension with the active ones coloured, and the β sweep's traversal blocks (grey or
colour images, any size)."""
from __future__ import annotations

import numpy as np
import pytest

from latentspace.figures.vae import plot_beta_traversals, plot_kl_per_dim
from tests.fakes import colour_images, grey_images
from tests.pixels import assert_coloured, assert_grey, assert_shows_something, size_of


def test_kl_bars_are_drawn(tmp_path):
    assert_shows_something(plot_kl_per_dim(np.array([0.5, 0.001, 2.0, 0.0]), "t", tmp_path / "kl.png"))


def traversals(make, size, path):
    images = make(2 * 2 * 5, size)
    blocks = [{"beta": b, "dims": [0, 2], "kl": [1.0, 0.5],
               "images": images[i * 10:(i + 1) * 10].reshape(2, 5, *images.shape[1:])} for i, b in enumerate((1, 10))]
    return plot_beta_traversals(blocks, np.linspace(-3, 3, 5), images[0], "t", path)


@pytest.mark.parametrize("make, check", [(grey_images, assert_grey), (colour_images, assert_coloured)],
                         ids=["grey", "colour"])
def test_traversal_blocks_side_by_side_grow_with_the_image_size(tmp_path, make, check):
    sizes = []
    for s in (16, 32, 64):
        path = traversals(make, s, tmp_path / f"tr{s}.png")
        check(path)
        sizes.append(size_of(path))
    assert all(w > h for w, h in sizes)  # the blocks side by side
    assert sizes[0][0] < sizes[1][0] < sizes[2][0] and sizes[0][1] < sizes[1][1] < sizes[2][1], sizes
