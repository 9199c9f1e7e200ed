"""The copy check's figure: samples above their nearest training images, closest first, labelled by the check."""
from __future__ import annotations

import numpy as np

from latentspace.analysis.memorisation import copy_check
from latentspace.figures import plots
from latentspace.figures.memorisation import nearest_pairs_figure
from tests.fakes import colour_images
from tests.pixels import assert_coloured, assert_grey, figure_texts, size_of


def _pairs(train):
    rng = np.random.default_rng(0)
    samples = np.concatenate([train[:4], rng.integers(0, 256, size=(8, *train.shape[1:]), dtype=np.uint8)])
    flat = lambda x: x.reshape(len(x), -1).astype(np.float64)  # noqa: E731 - pixels as the features
    return samples, copy_check(flat(samples), flat(train))


def test_the_nearest_pairs_of_grey_images_are_drawn_closest_first(tmp_path, monkeypatch):
    from latentspace.data.images import load_splits

    train = load_splits("fashion-mnist").train.arrays(slice(0, 200))
    samples, check = _pairs(train)
    texts = figure_texts(monkeypatch, plots)  # the rows are drawn by plots.plot_image_rows
    path = nearest_pairs_figure(samples, train, check, tmp_path / "figures" / "nearest.png", "copies?", pairs=6)
    assert_grey(path)
    width, height = size_of(path)
    assert width > 2 * height  # six pairs side by side, two rows
    assert texts[:4] == ["0.00 copy"] * 4 and "copy" not in texts[4] and texts[-1].startswith("copies?\n")


def test_colour_pairs_stay_in_colour(tmp_path):
    train = colour_images(40, 32)
    samples, check = _pairs(train)
    assert_coloured(nearest_pairs_figure(samples, train, check, tmp_path / "nearest.png", "colour"))
