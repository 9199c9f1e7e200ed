"""Images in memory: uint8 at rest, float in [0, 1] only when a batch is drawn; the seeded splits.

Conventions, everywhere in latentspace:
- at rest, an ImageSet holds uint8 N x H x W x C (C = 1 or 3), possibly backed by a memory map;
- a model sees float N x C x H x W in [0, 1] (`to_float`; its memory is channels-last for free);
- an image array given back to the user (figures, .npy files, PNGs) is uint8 N x H x W for grey images and
  N x H x W x 3 for colour ones (`to_uint8`, `ImageSet.arrays`), as PIL and matplotlib expect.
An unlabelled set has no classes and every label -1.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from latentspace.data.download import locate
from latentspace.data.idx import cached_idx
from latentspace.data.registry import DatasetSpec, check_channels, check_image_size, folder_path, get_spec
from latentspace.data.transform import conform
from latentspace.errors import LatentspaceError


@dataclass
class ImageSet:
    """uint8 images (N x H x W x C) and int64 labels (-1 without labels), with the dataset's class names."""
    images: torch.Tensor
    labels: torch.Tensor
    classes: tuple
    name: str = ""
    # a folder's images: batches are read from the cache file with pread rather than through the memory map
    # (data/folder.FileRows says why); None for images in memory
    rows: object = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        if self.images.dim() == 3:  # N x H x W: grey images
            self.images = self.images.unsqueeze(-1)
        if self.images.dim() != 4 or self.images.shape[-1] not in (1, 3):
            raise ValueError(f"images must be N x H x W x C with C 1 or 3, got {tuple(self.images.shape)}")

    def __len__(self) -> int:
        return len(self.images)

    @property
    def shape(self) -> tuple[int, int, int]:
        """(channels, height, width) of one image: what the networks are built for."""
        _, h, w, c = self.images.shape
        return int(c), int(h), int(w)

    @property
    def labelled(self) -> bool:
        return bool(self.classes)

    def arrays(self, index=None) -> np.ndarray:
        """The images as the user sees them: uint8 N x H x W (grey) or N x H x W x 3."""
        x = self.images if index is None else self.images[index]
        return display(x.numpy() if isinstance(x, torch.Tensor) else np.asarray(x))

    def subset(self, index) -> "ImageSet":
        index = torch.as_tensor(index, dtype=torch.long)
        return ImageSet(self.images[index], self.labels[index], self.classes, self.name)

    def head(self, n: int | None) -> "ImageSet":
        if n is None or n >= len(self):
            return self
        return ImageSet(self.images[:n], self.labels[:n], self.classes, self.name,
                        None if self.rows is None else self.rows.head(n))

    def floats(self, index=None) -> torch.Tensor:
        """Images as float N x C x H x W in [0, 1]."""
        x = self.images if index is None else self.images[index]
        return to_float(x)

    # the batched Dataset protocol: DataLoader calls __getitems__ with a whole batch of indices
    def __getitem__(self, i):
        return to_float(self.images[i : i + 1])[0], self.labels[i]

    def __getitems__(self, indices):
        if self.rows is not None and self.images.device.type == "cpu":
            x = torch.from_numpy(self.rows.read(indices))
            return to_float(x), self.labels[torch.as_tensor(indices, dtype=torch.long)]
        # with the images on a GPU, only the batch's indices travel to it
        index = torch.as_tensor(indices, dtype=torch.long, device=self.images.device)
        return to_float(self.images[index]), self.labels[index]


def to_float(images_u8: torch.Tensor) -> torch.Tensor:
    """uint8 N x H x W x C (or N x H x W) to float N x C x H x W in [0, 1], channels-last in memory."""
    x = images_u8 if images_u8.dim() == 4 else images_u8.unsqueeze(-1)
    return x.permute(0, 3, 1, 2).float().div_(255.0).contiguous(memory_format=torch.channels_last)


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """Float images in [0, 1], N x C x H x W (or N x H x W), to uint8 image arrays (see `display`)."""
    x = images.detach().float().cpu()
    if x.dim() == 3:
        x = x.unsqueeze(1)
    return display((x.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy())


def display(images: np.ndarray) -> np.ndarray:
    """uint8 (N x) H x W x C as image arrays: the channel axis dropped when C is 1, kept when it is 3."""
    images = np.asarray(images)
    return images[..., 0] if images.ndim >= 3 and images.shape[-1] == 1 else images


@dataclass
class Splits:
    train: ImageSet
    val: ImageSet
    test: ImageSet
    classes: tuple
    name: str
    directory: Path = field(default=None)
    content: str | None = None  # a folder's content hash: its identity changes when the pictures do
    skipped: int = 0  # files of a folder that were not images

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return self.test.shape

    @property
    def labelled(self) -> bool:
        return bool(self.classes)

    @property
    def identity(self) -> str:
        """A file-name-safe key for what was learned from this data (feature networks, references):
        the dataset's name, plus its shape when that is not the dataset's own; for a folder
        `folder-<content hash>-CxHxW`, so it changes when the folder's pictures do."""
        if self.content:
            c, h, w = self.image_shape
            return f"folder-{self.content[:12]}-{c}x{h}x{w}"
        return dataset_identity(self.name, self.image_shape)


def dataset_identity(name: str, image_shape=None) -> str:
    """`name` alone for a registry dataset at its own shape; otherwise name-CxHxW. A folder's Splits have their
    own identity from a hash of their content (`Splits.identity`), so the key changes when the pictures do."""
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in name)
    if image_shape is None or tuple(image_shape) == native_shape(name):
        return safe
    c, h, w = image_shape
    return f"{safe}-{c}x{h}x{w}"


def native_shape(name: str):
    """The shape a registry dataset comes in (None for datasets that have no fixed one)."""
    try:
        return get_spec(name).image_shape
    except LatentspaceError:
        return None


def train_val_indices(n: int, seed: int, val_fraction: float = 0.1) -> tuple[torch.Tensor, torch.Tensor]:
    """A seeded split of range(n); identical for the same (n, seed)."""
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    n_val = int(round(n * val_fraction))
    return perm[n_val:].sort().values, perm[:n_val].sort().values


def _load_split(directory: Path, spec: DatasetSpec, split: str) -> tuple[np.ndarray, np.ndarray]:
    img_path = directory / spec.files[f"{split}_images"][0]
    lbl_path = directory / spec.files[f"{split}_labels"][0]
    images, labels = cached_idx(img_path), cached_idx(lbl_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise LatentspaceError(f"{img_path}: expected uint8 images N x H x W, got {images.dtype} {images.shape}")
    if labels.ndim != 1:
        raise LatentspaceError(f"{lbl_path}: expected a 1-D label array, got shape {labels.shape}")
    if len(images) != len(labels):
        raise LatentspaceError(f"{img_path} holds {len(images)} images but {lbl_path} {len(labels)} labels; "
                               f"the files do not belong together")
    if labels.size and labels.max() >= len(spec.classes):
        raise LatentspaceError(f"{lbl_path}: label {labels.max()} out of range for {len(spec.classes)} classes")
    return images, labels.astype(np.int64)


def _registry_arrays(spec: DatasetSpec, directory: Path):
    """(train images, train labels, test images, test labels, class names) of a registry dataset, N x H x W x C."""
    if spec.format == "cifar":
        from latentspace.data.cifar import batches_dir, class_names, load_cifar

        return (*load_cifar(directory), class_names(batches_dir(directory), spec.classes))
    if spec.format == "svhn":
        from latentspace.data.svhn import cached_mat

        return (*cached_mat(directory / spec.files["train"][0]), *cached_mat(directory / spec.files["test"][0]),
                spec.classes)
    tr_x, tr_y = _load_split(directory, spec, "train")
    te_x, te_y = _load_split(directory, spec, "test")
    return tr_x[..., None], tr_y, te_x[..., None], te_y, spec.classes


def _limited(train: ImageSet, limit_train: int | None) -> ImageSet:
    if limit_train is None:
        return train
    if limit_train < 1:
        raise LatentspaceError(f"--limit-train must be at least 1, got {limit_train}")
    return train.head(limit_train)


def _tensor(a: np.ndarray) -> torch.Tensor:
    """A tensor over the array's memory, never a copy (a memory map stays one)."""
    return torch.from_numpy(a)


def load_splits(name: str = "fashion-mnist", data_dir=None, download: bool = True, seed: int = 0,
                val_fraction: float = 0.1, limit_train: int | None = None, image_size: int | None = None,
                channels: int | None = None, progress: bool | None = None) -> Splits:
    """Train / validation / test of a registry dataset (validation: a seeded 90/10 split of the training
    file, in memory) or of a folder (`folder:PATH`, or `folder` with data_dir: memory-mapped, its split fixed
    when it is decoded, see data/folder).

    `limit_train` keeps the first N images of the training part (after the split), for quick runs;
    `image_size` and `channels` center-crop, resize and convert the images as they are decoded (default: the
    data's own). An explicit `data_dir` is the only place looked in.
    """
    check_image_size(image_size)
    check_channels(channels)
    folder = folder_path(name, data_dir)
    if folder is not None:
        return _folder_splits(folder, limit_train, image_size, channels, progress)
    spec = get_spec(name)
    directory = locate(name, data_dir, download)
    tr_x, tr_y, te_x, te_y, classes = _registry_arrays(spec, directory)
    tr_x, te_x = (conform(x, image_size, channels, f"{name} {part}") for x, part in ((tr_x, "train"), (te_x, "test")))
    full = ImageSet(_tensor(np.array(tr_x)), torch.from_numpy(tr_y), classes, name)
    tr_idx, va_idx = train_val_indices(len(full), seed, val_fraction)
    train = _limited(full.subset(tr_idx), limit_train)
    test = ImageSet(_tensor(np.array(te_x)), torch.from_numpy(te_y), classes, name)
    return Splits(train, full.subset(va_idx), test, classes, name, directory)


def _folder_splits(folder, limit_train, image_size, channels, progress) -> Splits:
    from latentspace.data.folder import load_folder

    data = load_folder(folder, image_size, channels, progress)
    name = f"folder:{data.path}"
    parts = []
    for i in range(3):
        x, y, rows = data.part(i)
        parts.append(ImageSet(_tensor(x), torch.from_numpy(np.array(y)), data.classes, name, rows))
    return Splits(_limited(parts[0], limit_train), parts[1], parts[2], data.classes, name, data.path,
                  content=data.content, skipped=data.skipped)


def seeded_subset(n_total: int, n: int | None, seed: int = 0) -> np.ndarray:
    """All indices of range(n_total), or a seeded sorted sample of n of them (int64)."""
    if n is None or n >= n_total:
        return np.arange(n_total, dtype=np.int64)
    return np.sort(np.random.default_rng(seed).choice(n_total, size=n, replace=False)).astype(np.int64)


def run_splits(train: dict, limit_train: bool = True) -> Splits:
    """The splits a run was trained on, from its recorded training config (dataset, data dir, seed, image size
    and channels and, when asked, its limit on training images)."""
    return load_splits(train["dataset"], train.get("data_dir"), train.get("download", True), seed=train["seed"],
                       limit_train=train.get("limit_train") if limit_train else None,
                       image_size=train.get("image_size"), channels=train.get("channels"))
