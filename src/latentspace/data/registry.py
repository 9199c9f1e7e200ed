"""The datasets latentspace knows: their files, checksums, classes and official mirrors; and the names a user
may give (`folder:PATH` besides the registry's), with the image-size and channel bounds. Torch-free."""
from __future__ import annotations

from dataclasses import dataclass

from latentspace.errors import LatentspaceError

SPLIT_FILES = ("train_images", "train_labels", "test_images", "test_labels")
FOLDER = "folder"
MIN_SIZE, MAX_SIZE = 16, 128
# (channels, height, width) of Fashion-MNIST, the study's data: at this shape every network is exactly the study's,
# and a run or record from before image shapes were recorded has it
STUDY_SHAPE = (1, 28, 28)


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    files: dict  # role -> (file name, md5 of that file)
    classes: tuple
    mirrors: tuple
    image_shape: tuple = STUDY_SHAPE  # (channels, height, width) as the files hold them
    format: str = "idx"  # idx, cifar (the binary archive) or svhn (.mat files)


_IDX = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}


def _idx_spec(name, md5s, classes, mirrors):
    return DatasetSpec(name, {role: (_IDX[role], md5) for role, md5 in zip(SPLIT_FILES, md5s)},
                       tuple(classes), tuple(mirrors))


DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        _idx_spec("fashion-mnist",
                  ("8d4fb7e6c68d591d4c3dfef9ec88bf0d", "25c81989df183df01b3e8a0aad5dffbe",
                   "bef4ecab320f06d8554ea6380940ec79", "bb300cfdad3c16e7a12a480ee83cd310"),
                  ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
                  ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
                   "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/")),
        _idx_spec("mnist",
                  ("f68b3c2dcbeaaa9fbdd348bbdeb94873", "d53e105ee54ea40749a09fcbcd1e9432",
                   "9fb629c4189551a2d022fa330f9573f3", "ec29112dd5afa0611ce80d1b7f02629c"),
                  [str(i) for i in range(10)],
                  ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/")),
        _idx_spec("kmnist",
                  ("bdb82020997e1d708af4cf47b453dcf7", "e144d726b3acfaa3e44228e80efcd344",
                   "5c965bf0a639b31b8f53240b1b52f4d7", "7320c461ea6c1c855c0b718fb2a4b134"),
                  ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"),
                  ("http://codh.rois.ac.jp/kmnist/dataset/kmnist/",)),
        # the binary release (never the pickled Python one): one archive of six .bin batches
        DatasetSpec("cifar10", {"archive": ("cifar-10-binary.tar.gz", "c32a1d4ab5d03f1284b67883e8d87530")},
                    ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"),
                    ("https://www.cs.toronto.edu/~kriz/",), (3, 32, 32), "cifar"),
        # cropped digits; label 10 in the files is the digit 0
        DatasetSpec("svhn", {"train": ("train_32x32.mat", "e26dedcc434d2e4c54c9b2d4a06d8373"),
                             "test": ("test_32x32.mat", "eb5a983be6a315427106f1b164d9cef3")},
                    tuple(str(i) for i in range(10)), ("http://ufldl.stanford.edu/housenumbers/",), (3, 32, 32),
                    "svhn"),
    )
}


def get_spec(name: str) -> DatasetSpec:
    try:
        return DATASETS[name]
    except KeyError:
        raise LatentspaceError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)} or folder:PATH") \
            from None


def folder_path(name: str, data_dir=None) -> str | None:
    """The folder of `folder:PATH` (or of `folder` with --data-dir PATH); None for a registry name."""
    if name == FOLDER:
        if not data_dir:
            raise LatentspaceError("--dataset folder needs --data-dir PATH (or write --dataset folder:PATH)")
        return str(data_dir)
    if name.startswith(FOLDER + ":"):
        path = name[len(FOLDER) + 1:]
        if not path:
            raise LatentspaceError("--dataset folder:PATH needs a path after 'folder:'")
        return path
    return None


def absolute_dataset(name: str) -> str:
    """`folder:PATH` with PATH made absolute (what a run records, so it reloads from any directory)."""
    import os

    if isinstance(name, str) and name.startswith(FOLDER + ":") and len(name) > len(FOLDER) + 1:
        return FOLDER + ":" + os.path.abspath(os.path.expanduser(name[len(FOLDER) + 1:]))
    return name


def check_dataset_name(name) -> None:
    """A registry name, `folder` or `folder:PATH`; anything else is one clear error."""
    if not isinstance(name, str) or not name:
        raise LatentspaceError(f"--dataset must be a name, got {name!r}")
    if name == FOLDER or name.startswith(FOLDER + ":"):
        if name != FOLDER:
            folder_path(name)
        return
    get_spec(name)


def dataset_arg(text: str) -> str:
    """argparse `type=` for --dataset: the name, or a one-line usage error."""
    import argparse

    try:
        check_dataset_name(text)
    except LatentspaceError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return text


def check_image_size(size) -> None:
    if size is not None and not (MIN_SIZE <= size <= MAX_SIZE):
        raise LatentspaceError(f"--image-size must be between {MIN_SIZE} and {MAX_SIZE} pixels, got {size}")


def check_channels(channels) -> None:
    if channels is not None and channels not in (1, 3):
        raise LatentspaceError(f"--channels must be 1 or 3, got {channels}")
