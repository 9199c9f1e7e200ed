"""The datasets latentspace knows, for notebooks: `ls.datasets.names()`, `ls.datasets.load(name)`."""
from __future__ import annotations


def names() -> list[str]:
    from latentspace.data.registry import DATASETS

    return list(DATASETS)


def load(name: str = "fashion-mnist", data_dir=None, download: bool = True, seed: int = 0,
         limit_train: int | None = None, image_size: int | None = None, channels: int | None = None):
    """Train / validation (a seeded 90/10 split) / test, as `Splits` of uint8 images (in memory, or memory-mapped
    for a `folder:PATH`; `splits.test.images`, `.labels`, `.classes`; `.floats(index)` gives float batches in
    [0, 1]); `image_size` and `channels` resize and convert them as they are decoded."""
    from latentspace.data.images import load_splits

    return load_splits(name, data_dir, download, seed=seed, limit_train=limit_train, image_size=image_size,
                       channels=channels)
