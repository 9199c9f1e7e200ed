"""`ls.datasets`: the names latentspace knows, and a dataset's splits."""
from __future__ import annotations

from latentspace import datasets
from latentspace.data.registry import DATASETS


def test_names_and_splits():
    assert datasets.names() == list(DATASETS)
    splits = datasets.load("fashion-mnist", limit_train=100, seed=1)
    assert len(splits.train) == 100 and len(splits.val) == 6000 and splits.test.images.shape == (10000, 28, 28, 1)
    rgb = datasets.load("fashion-mnist", limit_train=10, image_size=16, channels=3)
    assert rgb.image_shape == (3, 16, 16) and rgb.identity == "fashion-mnist-3x16x16"
