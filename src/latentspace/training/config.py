"""How a model trains (epochs, batch, devices, data): the flags every `latentspace train MODEL` shares. Torch-free."""
from __future__ import annotations

from dataclasses import dataclass

from latentspace.config import SEED_MAX, option
from latentspace.data.registry import (
    DATASETS,
    MAX_SIZE,
    MIN_SIZE,
    absolute_dataset,
    check_dataset_name,
    check_image_size,
)
from latentspace.training.tracking import LOGGERS, absolute_uri, check_logger, check_uri

DEVICES = ("auto", "cpu", "cuda", "gpu", "mps")
PRECISIONS = ("auto", "32-true", "32", "16-mixed", "bf16-mixed", "64-true")


@dataclass
class TrainConfig:
    epochs: int = option(10, "number of epochs", minimum=1)
    batch_size: int = option(256, "batch size per device (with --devices N, N times it per step)", minimum=1)
    seed: int = option(0, "random seed (weights, split, shuffling)", minimum=0, maximum=SEED_MAX)
    limit_train: int = option(None, "train on the first N training images only", minimum=1)
    max_time: float = option(None, "stop training after this many minutes (the run still finishes)", above=0.0)
    early_stopping: int = option(0, "stop after this many epochs without validation improvement (0: off)",
                                 minimum=0)
    device: str = option("auto", "where to train", choices=DEVICES)
    devices: int = option(1, "number of devices (processes on the CPU); more than 1 trains with DDP", minimum=1)
    precision: str = option("auto", "numeric precision (auto: bf16-mixed on a GPU that has it, else 32-true)",
                            choices=PRECISIONS)
    dataset: str = option("fashion-mnist", f"dataset: {', '.join(DATASETS)}, or folder:PATH (your own images)",
                          check=check_dataset_name)
    data_dir: str = option(None, "directory holding the dataset's files (the only place looked in and "
                                 "downloaded to); with --dataset folder, the image folder")
    download: bool = option(True, "download the dataset when it is not found")
    image_size: int = option(None, f"center-crop and resize images to N x N, {MIN_SIZE} to {MAX_SIZE} "
                                   "(default: the dataset's own size; a folder's most common)", check=check_image_size)
    channels: int = option(None, "1 (grey) or 3 (RGB) (default: the data's own)", choices=(1, 3))
    logger: str = option("local", "local: metrics to RUN/logs (CSV, and TensorBoard when installed); mlflow: also "
                                  "to an MLflow run (params, per-epoch metrics, figures; pip install "
                                  "'latentspace[mlflow]')", choices=LOGGERS, check=check_logger)
    mlflow_uri: str = option(None, "MLflow tracking URI with --logger mlflow (default: $MLFLOW_TRACKING_URI, else "
                                   "sqlite:///mlflow.db in the working directory)", check=check_uri)

    def __post_init__(self):
        self.dataset = absolute_dataset(self.dataset)  # a run records where its folder is, from anywhere
        self.mlflow_uri = absolute_uri(self.mlflow_uri)  # and where its MLflow database is
