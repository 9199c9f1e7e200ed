"""The dataset registry: names, files, classes, mirrors."""
from __future__ import annotations

import pytest

from latentspace.data.registry import DATASETS, SPLIT_FILES, get_spec
from latentspace.errors import LatentspaceError


def test_unknown_dataset():
    with pytest.raises(LatentspaceError, match="unknown dataset"):
        get_spec("cifar")


def test_registry_is_complete():
    for name, spec in DATASETS.items():
        assert len(spec.classes) == 10 and spec.mirrors
        assert set(spec.files) == set(SPLIT_FILES)
        assert all(len(md5) == 32 for _, md5 in spec.files.values())
