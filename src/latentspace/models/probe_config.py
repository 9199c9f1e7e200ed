"""The frozen-encoder classifier's hyperparameters, and how `latentspace classify` trains it. Torch-free."""
from __future__ import annotations

from dataclasses import dataclass

from latentspace.config import SEED_MAX, option
from latentspace.errors import LatentspaceError

FEATURES = ("conv1", "conv2", "conv3", "hidden", "latent")
MODES = ("frozen", "finetune", "scratch")


@dataclass
class ProbeConfig:
    features: str = option("conv2,conv3,hidden,latent",
                           f"encoder activations the head reads, comma separated, from {','.join(FEATURES)}")
    pool: int = option(0, "average-pool the convolutional maps to PxP before flattening (0: keep them whole)",
                       minimum=0)
    head_width: int = option(512, "width of the head's hidden layer", minimum=1)
    dropout: float = option(0.2, "dropout before the head's last layer", minimum=0.0, below=1.0)
    lr: float = option(3e-3, "peak learning rate of the head (one-cycle schedule)", above=0.0)
    weight_decay: float = option(1e-4, "weight decay (AdamW)", minimum=0.0)
    label_smoothing: float = option(0.1, "label smoothing of the cross-entropy", minimum=0.0, below=1.0)
    shift: int = option(0, "training augmentation: random shifts of up to this many pixels (0: off)", minimum=0)
    flip: bool = option(False, "training augmentation: random horizontal flips")
    encoder_lr: float = option(0.1, "with --finetune: the encoder's learning rate as a fraction of --lr",
                               minimum=0.0)


def parse_features(spec: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(s.strip() for s in spec.split(",") if s.strip()))
    bad = [n for n in names if n not in FEATURES]
    if not names or bad:
        raise LatentspaceError(f"--features must be a comma-separated list of {', '.join(FEATURES)}; "
                               f"got {spec!r}")
    return names


@dataclass
class ClassifyConfig:
    epochs: int = option(20, "number of epochs", minimum=1)
    batch_size: int = option(256, "batch size", minimum=1)
    seed: int = option(0, "random seed of the head's weights and the batch order", minimum=0, maximum=SEED_MAX)
    limit_train: int = option(None, "train on the first N training images only", minimum=1)
    limit_test: int = option(None, "test on the first N test images only", minimum=1)
    device: str = option("auto", "where to train", choices=("auto", "cpu", "cuda", "gpu", "mps"))
