"""Training: builds the Lightning Trainer (devices, precision, checkpoints, loggers) and fits a model.

The engine is Lightning's; this file only decides its settings, keeps the run directory in step
with it and finishes the run (figures, summary.json) on rank 0.
"""
from __future__ import annotations

import csv
import dataclasses
import logging
import math
import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback, EarlyStopping, ModelCheckpoint, TQDMProgressBar
from lightning.pytorch.trainer.states import TrainerFn

from latentspace import data as D
from latentspace.errors import LatentspaceError
from latentspace.models import MODELS
from latentspace.models.base import config_from_dict, option, validate_config
from latentspace.runs import Run, default_run_path, environment, load_weights, write_json

RUN_DIR_ENV = "LATENTSPACE_RUN_DIR"  # tells DDP child processes (which re-run the command) which run is theirs


@dataclass
class TrainConfig:
    epochs: int = option(10, "number of epochs", minimum=1)
    batch_size: int = option(256, "batch size per device (with --devices N, N times it per step)", minimum=1)
    seed: int = option(0, "random seed (weights, split, shuffling)")
    limit_train: int = option(None, "train on the first N training images only", minimum=1)
    max_time: float = option(None, "stop training after this many minutes (the run still finishes)", minimum=0.0)
    early_stopping: int = option(0, "stop after this many epochs without validation improvement (0: off)",
                                 minimum=0)
    device: str = option("auto", "where to train", choices=("auto", "cpu", "cuda", "gpu", "mps"))
    devices: int = option(1, "number of devices (processes on the CPU); more than 1 trains with DDP", minimum=1)
    precision: str = option("32-true", "numeric precision",
                            choices=("32-true", "32", "16-mixed", "bf16-mixed", "64-true"))
    dataset: str = option("fashion-mnist", "dataset name", choices=tuple(D.DATASETS))
    data_dir: str = option(None, "directory holding the IDX files")
    download: bool = option(True, "download the dataset when it is not found")


class EpochMetrics(Callback):
    """Writes metrics.csv: one row per epoch with every logged epoch metric, time and throughput."""

    def __init__(self, path: Path):
        self.path = path
        self.t0 = self.train_time = 0.0
        self.seen = 0

    def on_train_epoch_start(self, trainer, pl_module):
        self.t0, self.seen, self.train_time = time.perf_counter(), 0, 0.0

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self.seen += len(batch[0]) * trainer.world_size

    def on_validation_epoch_start(self, trainer, pl_module):
        # the epoch's training loop ends where its validation starts (trainer.training is False by now)
        if trainer.state.fn == TrainerFn.FITTING and not trainer.sanity_checking and self.t0 and not self.train_time:
            self.train_time = time.perf_counter() - self.t0

    def on_train_epoch_end(self, trainer, pl_module):
        if not trainer.is_global_zero:
            return
        train_time = self.train_time or (time.perf_counter() - self.t0)
        row = {"epoch": trainer.current_epoch, "train_time_s": round(train_time, 3),
               "images_per_s": round(self.seen / max(train_time, 1e-9), 1)}
        for k, v in sorted(trainer.callback_metrics.items()):
            if not k.endswith("_step"):
                row[k.removesuffix("_epoch")] = float(v)
        append_metrics_row(self.path, row)


def append_metrics_row(path: Path, row: dict) -> None:
    """Append a row, widening the header when a new column appears."""
    rows = []
    if path.is_file():
        with open(path) as f:
            rows = list(csv.DictReader(f))
    rows.append(row)
    columns = list(dict.fromkeys(k for r in rows for k in r))
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, columns)
        w.writeheader()
        w.writerows(rows)
    os.replace(tmp, path)


def truncate_metrics(path: Path, before_epoch: int) -> None:
    """On resume, drop rows of epochs the checkpoint does not hold (they will be trained again)."""
    if not path.is_file():
        return
    with open(path) as f:
        reader = csv.DictReader(f)
        columns, rows = reader.fieldnames, [r for r in reader if int(r["epoch"]) < before_epoch]
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, columns)
        w.writeheader()
        w.writerows(rows)


class FiniteLossGuard(Callback):
    """Stops training at the first NaN or infinite loss; the last good checkpoint stays untouched."""

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs  # manual optimisation may return none
        if loss is not None and not torch.isfinite(loss).all():
            raise NonFiniteLoss(f"loss became {float(loss)} at epoch {trainer.current_epoch} step {batch_idx}")


class NonFiniteLoss(LatentspaceError):
    pass


class RNGState(Callback):
    """Saves and restores the torch RNG (CPU and CUDA) in checkpoints, so a resume draws the same noise."""

    def state_dict(self):
        state = {"cpu": torch.get_rng_state()}
        if torch.cuda.is_available():
            state["cuda"] = torch.cuda.get_rng_state_all()
        return state

    def load_state_dict(self, state_dict):
        torch.set_rng_state(state_dict["cpu"])
        if "cuda" in state_dict and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state_dict["cuda"])


def quiet_lightning() -> None:
    warnings.filterwarnings("ignore", ".*does not have many workers.*")
    warnings.filterwarnings("ignore", ".*GPU available but not used.*")
    warnings.filterwarnings("ignore", ".*The number of training batches.*")
    warnings.filterwarnings("ignore", ".*LeafSpec.*")
    warnings.filterwarnings("ignore", ".*Checkpoint directory .* exists and is not empty.*")
    warnings.filterwarnings("ignore", ".*but have no `validation_step`.*")  # models without a validation loss
    for name in ("lightning.pytorch.utilities.rank_zero", "lightning.pytorch.accelerators.cuda",
                 "lightning.fabric.utilities.seed", "lightning.pytorch.utilities.upgrade_checkpoint"):
        logging.getLogger(name).setLevel(logging.WARNING)


def check_device(cfg: TrainConfig) -> str:
    """Lightning's accelerator name for --device, or a clear error when that device is absent."""
    accelerator = {"auto": "auto", "cuda": "cuda", "gpu": "cuda"}.get(cfg.device, cfg.device)
    if accelerator == "cuda" and not torch.cuda.is_available():
        raise LatentspaceError("--device cuda: no CUDA device is available here (try --device auto)")
    if accelerator == "mps" and not torch.backends.mps.is_available():
        raise LatentspaceError("--device mps: MPS is not available here (try --device auto)")
    return accelerator


def build_trainer(cfg: TrainConfig, run: Run, progress: bool = True, extra_callbacks=(),
                  monitor: str = "val_loss", max_epochs: int | None = None, log_version: str = "") -> L.Trainer:
    accelerator = check_device(cfg)
    callbacks = [
        ModelCheckpoint(dirpath=run.checkpoints, filename="best", monitor=monitor, mode="min", save_last=True,
                        save_top_k=1, enable_version_counter=False),
        EpochMetrics(run.metrics_file),
        FiniteLossGuard(),
        RNGState(),
        *extra_callbacks,
    ]
    if cfg.early_stopping and monitor:
        callbacks.append(EarlyStopping(monitor=monitor, patience=cfg.early_stopping, mode="min"))
    if progress:
        callbacks.append(TQDMProgressBar(refresh_rate=10))
    loggers = [L.pytorch.loggers.CSVLogger(run.path, name="logs", version=log_version)]
    try:
        import tensorboard  # noqa: F401
        loggers.append(L.pytorch.loggers.TensorBoardLogger(run.path, name="logs", version=f"tb{log_version}"))
    except ImportError:
        pass
    return L.Trainer(
        accelerator=accelerator,
        devices=cfg.devices,
        strategy="ddp" if cfg.devices > 1 else "auto",
        precision=cfg.precision,
        max_epochs=max_epochs or cfg.epochs,
        max_time={"minutes": cfg.max_time} if cfg.max_time else None,
        callbacks=callbacks,
        logger=loggers,
        enable_progress_bar=progress,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        log_every_n_steps=25,
        default_root_dir=run.path,
    )


def prepare_run(kind: str, model_config, train_config: TrainConfig, out=None, resume: bool = False) -> tuple:
    """Create (or reopen, with resume) the run directory; returns (Run, model_config, train_config)."""
    child_dir = os.environ.get(RUN_DIR_ENV)
    if child_dir and os.environ.get("LOCAL_RANK", "0") != "0":  # a DDP child: rank 0 already set the run up
        run = Run(Path(child_dir))
        cfg = run.config()
        return run, config_from_dict(MODELS[kind].config_cls, cfg["model_config"]), \
            config_from_dict(TrainConfig, cfg["train"])
    if resume:
        if out is None:
            raise LatentspaceError("--resume needs --out RUN (the run directory to continue)")
        run = Run(Path(out))
        if not run.config_file.is_file():
            raise LatentspaceError(f"{out}: nothing to resume (no config.json)")
        if not run.last_checkpoint.is_file():
            raise LatentspaceError(f"{out}: nothing to resume (no checkpoints/last.ckpt); train it afresh")
        saved = run.config()
        if saved["model"] != kind:
            raise LatentspaceError(f"{out} is a {saved['model']} run, not {kind}")
        model_config = config_from_dict(MODELS[kind].config_cls, saved["model_config"])
        # a resume may extend the budget; everything else is the run's own
        train_config = dataclasses.replace(config_from_dict(TrainConfig, saved["train"]),
                                           epochs=train_config.epochs, max_time=train_config.max_time,
                                           device=train_config.device, devices=train_config.devices)
    else:
        run = Run(Path(out) if out else default_run_path(kind, getattr(model_config, "latent_dim",
                                                                       getattr(model_config, "noise_dim", 0))))
        if run.config_file.exists():
            raise LatentspaceError(f"{run.path} already holds a run; continue it with --resume or choose another --out")
    validate_config(model_config)
    validate_config(train_config)
    check_device(train_config)
    run.path.mkdir(parents=True, exist_ok=True)
    if run.summary_file.exists():
        run.summary_file.unlink()  # the run is being changed: it is unfinished until the new summary
    write_json(run.config_file, {
        "model": kind,
        "model_config": dataclasses.asdict(model_config),
        "train": dataclasses.asdict(train_config),
        "seed": train_config.seed,
        "dataset": train_config.dataset,
        "environment": environment(),
    })
    return run, model_config, train_config


def fit(kind: str, model_config=None, train_config: TrainConfig | None = None, out=None, resume: bool = False,
        progress: bool = True, callbacks=()) -> Run:
    """Train a model of `kind` into a run directory and finish it (figures, summary.json). Returns the Run.

    `callbacks` are extra Lightning callbacks (a search's pruning callback, for example).
    """
    if kind not in MODELS:
        raise LatentspaceError(f"unknown model {kind!r}; choose one of {', '.join(MODELS)}")
    cls = MODELS[kind]
    model_config = model_config or cls.config_cls()
    train_config = train_config or TrainConfig(**getattr(cls, "train_defaults", {}))
    run, model_config, train_config = prepare_run(kind, model_config, train_config, out, resume)
    os.environ[RUN_DIR_ENV] = str(run.path.resolve())
    quiet_lightning()
    L.seed_everything(train_config.seed, workers=True, verbose=False)
    splits = D.load_splits(train_config.dataset, train_config.data_dir, train_config.download,
                           seed=train_config.seed, limit_train=train_config.limit_train)
    model = cls(model_config)
    datamodule = ImageDataModule(splits, train_config.batch_size, train_config.seed)
    ckpt_path, log_version = None, ""
    if resume:
        ckpt_path = str(run.last_checkpoint)
        start_epoch = torch.load(ckpt_path, map_location="cpu", weights_only=True)["epoch"] + 1
        truncate_metrics(run.metrics_file, start_epoch)
        log_version = f"resumed-at-epoch-{start_epoch}"  # keep the step logs of the earlier session
    elif run.metrics_file.exists():
        run.metrics_file.unlink()
    model_callbacks = model.extra_callbacks(run) if hasattr(model, "extra_callbacks") else []
    trainer = build_trainer(train_config, run, progress, extra_callbacks=[*model_callbacks, *callbacks],
                            monitor=getattr(model, "monitor", "val_loss"), log_version=log_version)
    t0 = time.time()
    try:
        trainer.fit(model, datamodule=datamodule, ckpt_path=ckpt_path)
    except NonFiniteLoss as e:
        raise LatentspaceError(f"training stopped: {e}; the last good checkpoint is {run.last_checkpoint}") from None
    if trainer.interrupted:
        raise LatentspaceError(f"training interrupted; continue with `latentspace train {kind} --resume "
                               f"--out {run.path}`")
    if not trainer.is_global_zero:
        return run
    finish_run(model, trainer, run, splits, time.time() - t0)
    return run


def finish_run(model, trainer, run: Run, splits, wall_s: float) -> None:
    """Best weights back in, the model's figures, then summary.json last."""
    if run.best_checkpoint.is_file():
        model.load_state_dict(load_weights(run.best_checkpoint))
    model.eval()
    if trainer.strategy.root_device.type != "cpu":
        model.cpu()
    figures = model.write_figures(run, splits)
    ckpt_cb = trainer.checkpoint_callback
    best = ckpt_cb.best_model_score if ckpt_cb is not None else None
    rows = _metrics_rows(run.metrics_file)
    train_time = sum(float(r.get("train_time_s") or 0) for r in rows)
    images = sum(float(r.get("images_per_s") or 0) * float(r.get("train_time_s") or 0) for r in rows)
    write_json(run.summary_file, {
        "finished": True,
        "epochs_completed": trainer.current_epoch,
        "best_val_loss": None if best is None or not math.isfinite(float(best)) else float(best),
        "stopped_by": _stop_reason(trainer),
        "train_time_s": round(train_time, 2),
        "wall_time_s": round(wall_s, 2),
        "images_per_s": round(images / train_time, 1) if train_time else None,
        "device": str(trainer.strategy.root_device),
        "devices": trainer.world_size,
        "figures": [str(Path(f).relative_to(run.path)) for f in figures],
    })


def _metrics_rows(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    with open(path) as f:
        return list(csv.DictReader(f))


def _stop_reason(trainer) -> str:
    if getattr(trainer.lightning_module, "stop_reason", None):  # a model that stopped itself (GAN collapse)
        return trainer.lightning_module.stop_reason
    for cb in trainer.callbacks:
        if isinstance(cb, EarlyStopping) and cb.stopped_epoch:
            return "early_stopping"
    if trainer.current_epoch < trainer.max_epochs:
        return "max_time"
    return "max_epochs"


class ImageDataModule(L.LightningDataModule):
    """Train / validation / test batches straight from the in-memory uint8 tensors.

    On an accelerator the images move to it once, so a batch is one indexing op on the device.
    """

    def __init__(self, splits: D.Splits, batch_size: int, seed: int):
        super().__init__()
        self.splits, self.batch_size, self.seed = splits, batch_size, seed

    def setup(self, stage=None):
        device = self.trainer.strategy.root_device if self.trainer is not None else torch.device("cpu")
        if device.type == "cuda":
            for part in (self.splits.train, self.splits.val):
                part.images, part.labels = part.images.to(device), part.labels.to(device)

    def train_dataloader(self):
        return D.batch_loader(self.splits.train, self.batch_size, shuffle=True, seed=self.seed)

    def val_dataloader(self):
        return D.batch_loader(self.splits.val, 1024)
