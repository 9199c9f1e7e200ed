"""The copy check's figure: samples beside their nearest training images, the closest pairs first."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from latentspace.figures.plots import plot_image_rows  # plots sets the Agg backend


def nearest_pairs_figure(samples: np.ndarray, train_images: np.ndarray, check: dict, path: Path, title: str,
                         pairs: int = 12) -> Path:
    """Two rows: the `pairs` samples closest to a training image (closest first) above those training images
    (`analysis.memorisation.copy_check`'s `nearest`); each column says the distance as a fraction of the
    training image's gap to its nearest other training image, so below 1 is a copy by the check."""
    from latentspace.analysis.memorisation import closest_first

    order = closest_first(check, pairs)
    ratio = check["distance"][order] / np.maximum(check["train_gap"][order], 1e-12)
    labels = [f"{r:.2f}" + (" copy" if c else "") for r, c in zip(ratio, check["copy"][order])]
    return plot_image_rows([samples[order], train_images[check["nearest"][order]]],
                           ["sample", "nearest\ntraining\nimage"],
                           f"{title}\nabove each pair: its distance ÷ the training image's distance to its nearest "
                           f"other (under 1: a copy)", path, col_labels=labels)
