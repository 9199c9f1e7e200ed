"""The datasets latentspace knows: their files, checksums, classes and official mirrors. Torch-free."""
from __future__ import annotations

from dataclasses import dataclass

from latentspace.errors import LatentspaceError

SPLIT_FILES = ("train_images", "train_labels", "test_images", "test_labels")


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    files: dict  # role -> (file name, md5 of that file)
    classes: tuple
    mirrors: tuple
    image_shape: tuple = (1, 28, 28)  # (channels, height, width) as the files hold them


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
    )
}


def get_spec(name: str) -> DatasetSpec:
    try:
        return DATASETS[name]
    except KeyError:
        raise LatentspaceError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}") from None
