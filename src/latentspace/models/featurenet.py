"""The feature network behind FID, KID and precision/recall: a compact CNN classifier per dataset.

Inception-v3 weights cannot be downloaded everywhere, and ImageNet features judge 28x28 greyscale
clothing poorly, so sample quality is measured in the penultimate layer (`feature_dim` wide) of a
small classifier trained on the dataset itself. Its weights ship inside the package
(`latentspace/weights/DATASET.pt`, a plain state_dict) with `DATASET.json` beside them: the
dataset, test accuracy, seed, architecture and the commit of the code that trained it.

`latentspace feature-net --dataset NAME` trains one for any labelled dataset, at its image shape (seeded;
`latentspace.commands.feature_net`). Weights are named by the dataset's identity (`Splits.identity`: the
name alone for a registry dataset at its own shape, otherwise with its shape or content hash), so a
network never scores another dataset's images. Weights built by a user land in the cache directory
(`cache_root()/weights`), which is searched after the package's own. An unlabelled set has none: its
samples are scored with the Inception features (`--features inception`).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import lightning as L
import torch
import torch.nn.functional as F
from torch import nn

from latentspace.data.images import native_shape
from latentspace.data.registry import STUDY_SHAPE, get_spec
from latentspace.errors import LatentspaceError
from latentspace.io import cache_root, file_hash
from latentspace.models.augment import augment

PACKAGE_WEIGHTS = Path(__file__).resolve().parent.parent / "weights"  # latentspace/weights
FORMAT = 1  # bump when the architecture's code changes in a way old weights do not fit
RECIPE = {"epochs": 8, "batch_size": 256, "lr": 0.1, "shift": 0}  # how the shipped weights were trained (seed 0)


@dataclass(frozen=True)
class FeatureNetArch:
    channels: tuple = (32, 32, 96)  # stem (2x2 patches -> 14x14), conv at 14x14, conv at 7x7
    feature_dim: int = 128          # the penultimate layer: the feature space of FID/KID/PR
    num_classes: int = 10
    dropout: float = 0.0           # the net underfits in 8 epochs: no dropout, no shifts, only flips
    image_shape: tuple = STUDY_SHAPE  # (channels, height, width) it reads; records without it are Fashion-MNIST's

    def __post_init__(self):  # from a JSON record: lists back to tuples
        object.__setattr__(self, "channels", tuple(int(c) for c in self.channels))
        object.__setattr__(self, "image_shape", tuple(int(v) for v in self.image_shape))


def _conv_bn(c_in: int, c_out: int, kernel: int = 3, stride: int = 1) -> list:
    return [nn.Conv2d(c_in, c_out, kernel, stride, kernel // 2 if kernel % 2 else 0, bias=False),
            nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]


MAX_MAP = 8  # the last convolutional map is at most this wide: larger images get more pool + conv stages


class FeatureNet(nn.Module):
    """Images (`arch.image_shape`, 1 x 28 x 28 for Fashion-MNIST) -> `feature_dim` features -> class logits.

    Stem: 2x2 patches to half size (14x14 at 28; no pixel is lost: 4 values per channel become c1
    channels); a 3x3 conv; max-pool (7x7 at 28); a 3x3 conv; on images over 32 pixels, more max-pool +
    3x3 conv (c3) stages until the map is at most 8x8; a linear layer to the features (BN, ReLU);
    dropout; the classifier. Cheap on a CPU (about 4 M multiply-adds per 28x28 image), which keeps
    evaluation fast. Input: float in [0, 1], N x C x H x W.
    """

    def __init__(self, arch: FeatureNetArch = FeatureNetArch()):
        super().__init__()
        from latentspace.models.nets import check_image_shape

        channels, size, _ = check_image_shape(arch.image_shape)
        c1, c2, c3 = arch.channels
        self.arch = arch
        m = size // 2 // 2  # after the stem and the first pool
        extra = []
        while m > MAX_MAP:
            extra += [nn.MaxPool2d(2), *_conv_bn(c3, c3)]
            m //= 2
        self.body = nn.Sequential(
            *_conv_bn(channels, c1, kernel=2, stride=2),  # 14x14
            *_conv_bn(c1, c2),
            nn.MaxPool2d(2),                              # 7x7
            *_conv_bn(c2, c3),
            *extra,
            nn.Flatten(),
            nn.Linear(c3 * m * m, arch.feature_dim, bias=False), nn.BatchNorm1d(arch.feature_dim),
            nn.ReLU(inplace=True))
        self.dropout = nn.Dropout(arch.dropout)
        self.classifier = nn.Linear(arch.feature_dim, arch.num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.dropout(self.features(x)))

    def features_and_logits(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f = self.features(x)
        return f, self.classifier(f)  # dropout is the identity in eval mode


# ---------------------------------------------------------------- loading shipped or built weights

def weight_dirs() -> list[Path]:
    return [PACKAGE_WEIGHTS, cache_root() / "weights"]


def _build_hint(build_args: str) -> str:
    return f"build it with `latentspace feature-net {build_args}` (trains a small classifier, a few minutes)"


def unlabelled_refusal(dataset: str, samples: str = "its samples") -> str:
    """What to say when an unlabelled set asks for our feature network: it is a classifier and needs labels."""
    return (f"{dataset} has no labels, so no feature network can be trained for it (it is a classifier); "
            f"score {samples} with `--features inception`")


def _registry_classes(identity: str):
    try:
        return len(get_spec(identity).classes)
    except LatentspaceError:  # not a registry dataset at its own shape (a folder, a resized set)
        return None


def find_feature_net(identity: str) -> Path | None:
    """The weights file of a dataset identity's feature network, shipped or built, or None when there is none."""
    return next((d / f"{identity}.pt" for d in weight_dirs() if (d / f"{identity}.pt").is_file()), None)


def load_feature_net(identity: str = "fashion-mnist", dataset: str | None = None, num_classes: int | None = None,
                     labelled: bool = True, image_shape=None, build_args: str | None = None) -> tuple[FeatureNet, dict]:
    """(FeatureNet in eval mode, its JSON record) for a dataset identity (`Splits.identity`: the dataset's name
    at its own shape, e.g. fashion-mnist); a clear one-line error when none fits. `dataset` is the name the
    hint tells the user to build it for (default: the identity), `build_args` the hint's flags (default:
    `--dataset DATASET`); `num_classes` and `image_shape`, when given, must match the network's."""
    dataset = dataset or identity
    hint = _build_hint(build_args or f"--dataset {dataset}")
    if not labelled:
        raise LatentspaceError(unlabelled_refusal(dataset))
    pt = find_feature_net(identity)
    if pt is None:
        raise LatentspaceError(f"no feature network for {identity} (looked in "
                               f"{', '.join(str(d) for d in weight_dirs())}); {hint}")
    meta_file = pt.with_suffix(".json")
    if not meta_file.is_file():
        raise LatentspaceError(f"{pt} has no {meta_file.name} beside it; {hint}")
    try:
        meta = json.loads(meta_file.read_text())
        arch = FeatureNetArch(**meta["architecture"])
    except (OSError, ValueError, KeyError, TypeError, LatentspaceError) as e:
        raise LatentspaceError(f"{meta_file}: unreadable feature-network record ({e}); {hint}") from None
    if meta.get("dataset") != identity or meta.get("format") != FORMAT:
        raise LatentspaceError(f"{pt} was built for dataset {meta.get('dataset')!r} (format {meta.get('format')}), "
                               f"not {identity!r} (format {FORMAT}); {hint}")
    num_classes = num_classes if num_classes is not None else _registry_classes(identity)
    if num_classes is not None and arch.num_classes != num_classes:
        raise LatentspaceError(f"{pt} has {arch.num_classes} classes but {dataset} has "
                               f"{num_classes}; {hint}")
    if image_shape is not None and tuple(image_shape) != arch.image_shape:
        raise LatentspaceError(f"{pt} reads {'x'.join(map(str, arch.image_shape))} images but {dataset}'s are "
                               f"{'x'.join(map(str, image_shape))}; {hint}")
    try:
        net = FeatureNet(arch)
        state = torch.load(pt, map_location="cpu", weights_only=True)
        net.load_state_dict(state)
    except Exception as e:  # damaged file or weights of another architecture
        detail = " ".join(str(e).split())
        detail = detail if len(detail) < 300 else detail[:300] + " ..."
        raise LatentspaceError(f"{pt}: does not fit the feature network ({type(e).__name__}: {detail}); "
                               f"{hint}") from None
    net.eval().requires_grad_(False)
    meta["weights_sha256"] = file_hash(pt)
    return net, meta


def feature_net_for(splits) -> tuple[FeatureNet, dict]:
    """The feature network of a dataset's splits (`data.images.Splits`): by its identity, for its classes and
    image shape; refused in one line for an unlabelled set or when none has been built (naming the command that
    builds it, with the shape flags when the data is resized)."""
    build_args = f"--dataset {splits.name}"
    if tuple(splits.image_shape) != native_shape(splits.name):
        c, h, _ = splits.image_shape
        build_args += f" --image-size {h} --channels {c}"
    return load_feature_net(splits.identity, splits.name, len(splits.classes), splits.labelled, splits.image_shape,
                            build_args)


class FeatureNetModule(L.LightningModule):
    """Cross-entropy (with label smoothing) on augmented batches, SGD with a one-cycle schedule."""

    def __init__(self, arch: FeatureNetArch, lr: float, epochs: int, steps_per_epoch: int, seed: int,
                 shift: int = 1):
        super().__init__()
        self.net = FeatureNet(arch)
        self.lr, self.epochs, self.steps_per_epoch, self.shift = lr, epochs, steps_per_epoch, shift
        self.aug_gen = torch.Generator().manual_seed(seed + 1)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self.net(augment(x, self.shift, flip=True, generator=self.aug_gen)), y, label_smoothing=0.1)
        self.log("train_loss", loss, on_step=False, on_epoch=True, prog_bar=True, batch_size=len(x))
        return loss

    def configure_optimizers(self):
        opt = torch.optim.SGD(self.parameters(), lr=self.lr, momentum=0.9, nesterov=True, weight_decay=5e-4)
        if self.epochs * self.steps_per_epoch * 0.25 < 2:  # too few steps for a warm-up phase: a constant rate
            return opt
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=self.lr, epochs=self.epochs,
                                                    steps_per_epoch=self.steps_per_epoch, pct_start=0.25)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}
