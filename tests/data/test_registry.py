"""The dataset registry: names, files, classes, mirrors; the names a user may give and the shape bounds."""
from __future__ import annotations

import argparse

import pytest

from latentspace.data.registry import (
    DATASETS,
    SPLIT_FILES,
    check_dataset_name,
    check_image_size,
    dataset_arg,
    folder_path,
    get_spec,
)
from latentspace.errors import LatentspaceError


def test_unknown_dataset():
    with pytest.raises(LatentspaceError, match="unknown dataset .* or folder:PATH"):
        get_spec("cifar")


def test_registry_is_complete():
    for name, spec in DATASETS.items():
        assert len(spec.classes) == 10 and spec.mirrors
        assert all(len(md5) == 32 for _, md5 in spec.files.values())
        if spec.format == "idx":
            assert set(spec.files) == set(SPLIT_FILES)
    assert DATASETS["cifar10"].files["archive"] == ("cifar-10-binary.tar.gz", "c32a1d4ab5d03f1284b67883e8d87530")
    assert DATASETS["svhn"].files["train"][1] == "e26dedcc434d2e4c54c9b2d4a06d8373"
    assert DATASETS["cifar10"].image_shape == DATASETS["svhn"].image_shape == (3, 32, 32)


def test_folder_names():
    assert folder_path("folder:/a/b") == "/a/b" and folder_path("folder", "/c") == "/c"
    assert folder_path("cifar10") is None
    for bad, message in (("folder", "needs --data-dir"), ("folder:", "needs a path"), ("imagenet", "unknown")):
        with pytest.raises(LatentspaceError, match=message):
            folder_path(bad) if bad.startswith("folder") else check_dataset_name(bad)
    check_dataset_name("folder")  # --data-dir may come with it
    check_dataset_name("folder:x")
    assert dataset_arg("svhn") == "svhn"
    with pytest.raises(argparse.ArgumentTypeError, match="unknown dataset"):
        dataset_arg("cifar100")


def test_image_size_bounds():
    check_image_size(None)
    check_image_size(16)
    check_image_size(128)
    for size in (15, 129):
        with pytest.raises(LatentspaceError, match="between 16 and 128"):
            check_image_size(size)
