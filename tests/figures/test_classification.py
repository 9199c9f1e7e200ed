"""The confusion matrix as a heatmap with counts and class names."""
from __future__ import annotations

import numpy as np
from PIL import Image

from latentspace.figures.classification import plot_confusion


def test_confusion_heatmap_is_drawn(tmp_path):
    path = plot_confusion([[5, 1, 0], [0, 6, 0], [2, 0, 4]], ("a", "b", "c"), "test", tmp_path / "cm.png")
    assert np.asarray(Image.open(path).convert("L")).std() > 10
