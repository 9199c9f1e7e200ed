"""Figures of latent spaces: class-coloured maps ("unlabelled" for a set without classes) and decoded
lattices (grey or colour images) on the latent axes."""
from __future__ import annotations

import numpy as np
import pytest

from latentspace.figures import latent
from latentspace.figures.latent import (
    UNLABELLED,
    centred_extent,
    plot_embedding,
    plot_lattice,
    plot_lattice_beside_scatter,
    scatter_classes,
)
from latentspace.figures.plots import plt
from tests.fakes import colour_images, grey_images
from tests.pixels import (
    assert_coloured,
    assert_grey,
    assert_shows_something,
    figure_texts,
    size_of,
)

RNG = np.random.default_rng(0)
POINTS, LABELS = RNG.normal(size=(200, 2)), RNG.integers(0, 3, 200)


@pytest.fixture
def texts(monkeypatch):
    """The legend entries and titles of every figure saved in a test."""
    return figure_texts(monkeypatch, latent)


def test_centred_extent_puts_each_image_on_its_value():
    assert centred_extent((0.0, 4.0, -1.0, 1.0), 5) == (-0.5, 4.5, -1.25, 1.25)


def test_scatter_colours_by_class_or_names_the_one_colour_unlabelled():
    fig, ax = plt.subplots()
    scatter_classes(ax, POINTS, LABELS, ("a", "b", "c"))
    assert ax.get_legend_handles_labels()[1] == ["a", "b", "c"]
    assert len(np.unique(ax.collections[0].get_facecolors(), axis=0)) == 3
    ax.clear()
    scatter_classes(ax, POINTS, np.full(200, -1), ())
    assert ax.get_legend_handles_labels()[1] == [UNLABELLED]
    assert len(np.unique(ax.collections[0].get_facecolors(), axis=0)) == 1
    plt.close(fig)


def test_maps_are_drawn_one_panel_per_code(tmp_path, texts):
    one = plot_embedding({"z": POINTS}, LABELS, ("a", "b", "c"), "t", "pca", 20, tmp_path / "one.png")
    three = plot_embedding({"mu": POINTS, "logvar": POINTS, "z": POINTS}, LABELS, ("a", "b", "c"), "t", "tsne", 20,
                           tmp_path / "three.png")
    w1, h1 = size_of(one)
    w3, h3 = size_of(three)
    assert w3 > 2 * w1 and abs(h3 - h1) < 0.2 * h1  # three panels side by side
    assert {"a", "b", "c"} <= set(texts) and UNLABELLED not in " ".join(texts)


def test_a_map_of_an_unlabelled_set_says_so(tmp_path, texts):
    path = plot_embedding({"z": POINTS}, np.full(200, -1), (), "t", "pca", 20, tmp_path / "unlabelled.png")
    assert_shows_something(path)
    assert UNLABELLED in texts and any(f"200 {UNLABELLED} test images" in t for t in texts)
    texts.clear()
    plot_lattice_beside_scatter(POINTS, np.full(200, -1), (), colour_images(16, 32), 4, (-2, 2, -2, 2), "t",
                                tmp_path / "s.png")
    assert UNLABELLED in texts and "decoded square" in texts


@pytest.mark.parametrize("images, check", [(grey_images(16, 28), assert_grey), (colour_images(16, 32), assert_coloured)],
                         ids=["grey", "colour"])
def test_lattices_draw_grey_and_colour_images(tmp_path, images, check):
    check(plot_lattice(images, 4, (0, 1, 0, 1), "z[0]", "z[1]", "t", tmp_path / "l.png"))
    beside = plot_lattice_beside_scatter(POINTS, LABELS, ("a", "b", "c"), images, 4, (-2, 2, -2, 2), "t",
                                         tmp_path / "s.png")
    assert_shows_something(beside)  # the scatter is coloured either way
    if check is assert_coloured:
        check(beside)


def test_lattices_grow_with_the_image_size(tmp_path):
    for make in (grey_images, colour_images):
        lattices = [size_of(plot_lattice(make(36, s), 6, (0, 1, 0, 1), "x", "y", "t", tmp_path / f"l{s}.png"))
                    for s in (16, 32, 64)]
        beside = [size_of(plot_lattice_beside_scatter(POINTS, LABELS, ("a",), make(36, s), 6, (-2, 2, -2, 2), "t",
                                                      tmp_path / f"s{s}.png")) for s in (16, 64, 128)]
        for sizes in (lattices, beside):
            assert sizes[0][0] < sizes[2][0] and sizes[0][1] < sizes[2][1], sizes
            assert sizes[0][0] <= sizes[1][0] <= sizes[2][0], sizes
