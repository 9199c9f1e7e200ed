"""The building blocks of every figure: grids of images (grey or colour, any size), per-epoch curves, rows
of images, saving."""
from __future__ import annotations

import numpy as np
import pytest

from latentspace.figures.plots import (
    grid_pad,
    image_grid,
    is_colour,
    plot_curves,
    plot_grid_image,
    plot_image_rows,
    read_metrics,
    span_inches,
)
from tests.fakes import colour_images, grey_images
from tests.pixels import assert_coloured, assert_grey, assert_shows_something, size_of


def test_image_grid_tiles_row_by_row_with_padding():
    images = np.stack([np.full((2, 3), i, np.uint8) for i in range(1, 6)])
    grid = image_grid(images, nrow=3, pad=1, value=0)
    assert grid.shape == (2 * 3 + 1, 3 * 4 + 1)
    assert grid[1, 1] == 1 and grid[1, 5] == 2 and grid[4, 1] == 4 and grid[4, 9] == 0  # the 6th slot is empty


def test_a_colour_grid_keeps_its_channels_and_both_pad_with_white():
    images = colour_images(5, 32)
    grid = image_grid(images, nrow=3)
    pad = grid_pad(32)
    assert grid.shape == (2 * (32 + pad) + pad, 3 * (32 + pad) + pad, 3) and grid.dtype == np.uint8
    np.testing.assert_array_equal(grid[pad: pad + 32, 2 * pad + 32: 2 * pad + 64], images[1])
    assert (grid[:pad] == 255).all() and (grid[-pad:, -(32 + 2 * pad):] == 255).all()  # borders, the empty 6th slot
    grey = image_grid(grey_images(5, 32), nrow=3)
    assert grey.shape == grid.shape[:2] and (grey[:pad] == 255).all()


def test_padding_and_drawn_size_grow_with_the_image_size():
    assert grid_pad(16) == 1 and grid_pad(28) == 2 and grid_pad(64) > grid_pad(32) >= 2
    assert span_inches(8, 16, 0.6) < span_inches(8, 28, 0.6) < span_inches(8, 64, 0.6)
    # a capped grid of large images still gives every image pixel a PNG pixel (120 per inch)
    assert span_inches(20, 128, 0.6) * 120 >= 20 * 128


def test_grey_and_colour_are_told_apart_by_shape_alone():
    assert not is_colour(np.zeros((4, 28, 28))) and is_colour(np.zeros((4, 32, 32, 3)))
    assert not is_colour(np.zeros((28, 28)), batch=False) and is_colour(np.zeros((32, 32, 3)), batch=False)
    with pytest.raises(ValueError, match="N x H x W x 3"):
        is_colour(np.zeros((4, 32, 32, 2)))


def test_read_metrics_gives_float_columns_with_nan_for_empty_cells(tmp_path):
    (tmp_path / "m.csv").write_text("epoch,loss,kl\n0,1.5,\n1,0.5,0.25\n")
    m = read_metrics(tmp_path / "m.csv")
    assert m["loss"].tolist() == [1.5, 0.5] and np.isnan(m["kl"][0]) and m["kl"][1] == 0.25


def test_curves_are_drawn(tmp_path):
    metrics = {"epoch": np.arange(4.0), "train_loss": np.array([4, 3, 2, 1.0]), "val_loss": np.array([4, 3.5, 3, 2.9])}
    path = plot_curves(metrics, [("train_loss", "val_loss")], "t", tmp_path / "c.png", logy=True)
    assert size_of(path)[1] > 100
    assert_shows_something(path)


def _rows(images, tmp_path, name):
    return plot_image_rows([images[:3], images[3:6]], ["a", "b"], "t", tmp_path / name, col_labels=["x", "y", "z"])


def test_rows_and_grids_draw_grey_on_the_grey_scale_and_colour_in_colour(tmp_path):
    grey, colour = grey_images(9, 28), colour_images(9, 32)
    assert_grey(_rows(grey, tmp_path, "rows-grey.png"))
    assert_coloured(_rows(colour, tmp_path, "rows-colour.png"))
    assert_grey(plot_grid_image(grey, 3, "t", tmp_path / "grid-grey.png"))
    assert_coloured(plot_grid_image(colour, 3, "t", tmp_path / "grid-colour.png"))


def test_rows_and_grids_grow_with_the_image_size(tmp_path):
    for size_fn in (grey_images, colour_images):
        rows = [size_of(_rows(size_fn(6, s), tmp_path, f"r{s}.png")) for s in (16, 32, 64)]
        grids = [size_of(plot_grid_image(size_fn(9, s), 3, "t", tmp_path / f"g{s}.png")) for s in (16, 32, 64)]
        for sizes in (rows, grids):
            assert sizes[0][0] < sizes[1][0] < sizes[2][0] and sizes[0][1] < sizes[1][1] < sizes[2][1], sizes
