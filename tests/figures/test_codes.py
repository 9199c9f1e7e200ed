"""Figures of code grids: codebook use, grids beside reconstructions, one cell swept, the codebook's map."""
from __future__ import annotations

import numpy as np

from latentspace.figures.codes import plot_code_grids, plot_code_swap, plot_codebook_map, plot_codebook_use
from tests.pixels import assert_shows_something, rgb


def test_codebook_use(tmp_path):
    metrics = {"epoch": np.arange(3.0), "train_code_perplexity": np.array([10.0, 30, 40]),
               "val_code_perplexity": np.array([8.0, 25, 35]), "train_codes_used": np.array([0.5, 0.9, 1.0]),
               "val_codes_used": np.array([0.4, 0.8, 0.9])}
    counts = np.random.default_rng(0).integers(0, 50, 64)
    counts[:5] = 0
    out = plot_codebook_use(metrics, counts, "VQ-VAE: codebook use", tmp_path / "codebook.png")
    assert_shows_something(out)
    assert plot_codebook_use({}, counts, "no epochs logged", tmp_path / "empty.png").is_file()


def test_code_grids_and_a_swept_cell(tmp_path):
    g = np.random.default_rng(1)
    images = g.integers(0, 256, (4, 28, 28), dtype=np.uint8)
    grids = g.integers(0, 512, (4, 7, 7))
    out = plot_code_grids(images, grids, images[::-1], 512, "grids", tmp_path / "grids.png",
                          col_labels=list("abcd"))
    pixels = rgb(out)
    assert_shows_something(out)
    assert (np.abs(pixels[..., 0] - pixels[..., 1]) > 40).mean() > 0.02  # the grids are drawn in colour
    rows = [g.integers(0, 256, (5, 28, 28), dtype=np.uint8) for _ in range(2)]
    out = plot_code_swap(rows, [[1, 2, 3, 4]] * 2, (3, 3), (7, 7), "swap", tmp_path / "swap.png", ["x", "y"])
    assert_shows_something(out)


def test_a_map_of_the_codebook(tmp_path):
    g = np.random.default_rng(2)
    points, usage = g.normal(size=(64, 2)), g.integers(0, 20, 64)
    labels = np.where(usage > 0, g.integers(0, 10, 64), -1)
    out = plot_codebook_map(points, labels, usage, [f"class {c}" for c in range(10)], "codebook", "PC 1", "PC 2",
                            tmp_path / "map.png")
    assert_shows_something(out)
    assert plot_codebook_map(points, np.full(64, -1), usage, (), "unlabelled", "PC 1", "PC 2",
                             tmp_path / "unlabelled.png").is_file()
