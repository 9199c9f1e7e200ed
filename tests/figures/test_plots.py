"""The building blocks of every figure: grids of images, per-epoch curves, rows of images, saving."""
from __future__ import annotations

import numpy as np
from PIL import Image

from latentspace.figures.plots import (
    image_grid,
    plot_curves,
    plot_grid_image,
    plot_image_rows,
    read_metrics,
)


def test_image_grid_tiles_row_by_row_with_padding():
    images = np.stack([np.full((2, 3), i, np.uint8) for i in range(1, 6)])
    grid = image_grid(images, nrow=3, pad=1, value=0)
    assert grid.shape == (2 * 3 + 1, 3 * 4 + 1)
    assert grid[1, 1] == 1 and grid[1, 5] == 2 and grid[4, 1] == 4 and grid[4, 9] == 0  # the 6th slot is empty


def test_read_metrics_gives_float_columns_with_nan_for_empty_cells(tmp_path):
    (tmp_path / "m.csv").write_text("epoch,loss,kl\n0,1.5,\n1,0.5,0.25\n")
    m = read_metrics(tmp_path / "m.csv")
    assert m["loss"].tolist() == [1.5, 0.5] and np.isnan(m["kl"][0]) and m["kl"][1] == 0.25


def _looks_like_a_figure(path) -> None:
    pixels = np.asarray(Image.open(path).convert("L"))
    assert pixels.shape[0] > 100 and pixels.std() > 5, f"{path.name} is blank"


def test_curves_rows_and_grids_are_drawn(tmp_path):
    metrics = {"epoch": np.arange(4.0), "train_loss": np.array([4, 3, 2, 1.0]), "val_loss": np.array([4, 3.5, 3, 2.9])}
    _looks_like_a_figure(plot_curves(metrics, [("train_loss", "val_loss")], "t", tmp_path / "c.png", logy=True))
    rng = np.random.default_rng(0)
    rows = [rng.integers(0, 256, (3, 28, 28), dtype=np.uint8) for _ in range(2)]
    _looks_like_a_figure(plot_image_rows(rows, ["a", "b"], "t", tmp_path / "r.png", col_labels=["x", "y", "z"]))
    _looks_like_a_figure(plot_grid_image(rng.integers(0, 256, (9, 28, 28), dtype=np.uint8), 3, "t", tmp_path / "g.png"))
