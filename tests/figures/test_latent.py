"""Figures of latent spaces: class-coloured maps and decoded lattices on the latent axes."""
from __future__ import annotations

import numpy as np
from PIL import Image

from latentspace.figures.latent import (
    centred_extent,
    plot_embedding,
    plot_lattice,
    plot_lattice_beside_scatter,
)


def test_centred_extent_puts_each_image_on_its_value():
    assert centred_extent((0.0, 4.0, -1.0, 1.0), 5) == (-0.5, 4.5, -1.25, 1.25)


def test_maps_and_lattices_are_drawn(tmp_path):
    rng = np.random.default_rng(0)
    points, labels = rng.normal(size=(200, 2)), rng.integers(0, 3, 200)
    one = plot_embedding({"z": points}, labels, ("a", "b", "c"), "t", "pca", 20, tmp_path / "one.png")
    three = plot_embedding({"mu": points, "logvar": points, "z": points}, labels, ("a", "b", "c"), "t", "tsne", 20,
                           tmp_path / "three.png")
    w1, h1 = Image.open(one).size
    w3, h3 = Image.open(three).size
    assert w3 > 2 * w1 and abs(h3 - h1) < 0.2 * h1  # three panels side by side
    images = rng.integers(0, 256, (16, 28, 28), dtype=np.uint8)
    for path in (plot_lattice(images, 4, (0, 1, 0, 1), "z[0]", "z[1]", "t", tmp_path / "l.png"),
                 plot_lattice_beside_scatter(points, labels, ("a", "b", "c"), images, 4, (-2, 2, -2, 2), "t",
                                             tmp_path / "s.png")):
        assert np.asarray(Image.open(path).convert("L")).std() > 10
