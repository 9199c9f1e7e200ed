"""Training: builds the Lightning Trainer (devices, precision, checkpoints, loggers) and fits a model.

The engine is Lightning's; this file only decides its settings, keeps the run directory in step
with it and finishes the run (figures, summary.json) on rank 0. Everything model-specific comes from
the model's spec: its checkpoint monitor, its training defaults and the figures it wants.
"""
from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import os
import time
import warnings
from pathlib import Path

import lightning as L
import torch
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint, TQDMProgressBar

from latentspace.config import config_from_dict, flag_name, validate_config
from latentspace.data.images import load_splits
from latentspace.data.loader import ImageDataModule
from latentspace.errors import LatentspaceError
from latentspace.io import CsvLog, merge_json, write_json
from latentspace.models import get_spec
from latentspace.runs import Run, default_run_path, environment, load_weights
from latentspace.training import tracking
from latentspace.training.callbacks import (
    EpochMetrics,
    FiniteLossGuard,
    NonFiniteLoss,
    RNGState,
    TimeBudget,
    Tracked,
    TrainLog,
)
from latentspace.training.config import TrainConfig
from latentspace.training.figures import figure_callbacks

RUN_DIR_ENV = "LATENTSPACE_RUN_DIR"  # tells DDP child processes (which re-run the command) which run is theirs


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


def resolve_precision(cfg: TrainConfig, accelerator: str) -> str:
    """--precision auto: bf16 mixed precision on a CUDA device that supports it (the matrix units' fast path,
    no loss scaling needed), full float32 everywhere else (on a CPU bf16 is slower for these small networks)."""
    if cfg.precision != "auto":
        return cfg.precision
    cuda = accelerator == "cuda" or (accelerator == "auto" and torch.cuda.is_available())
    return "bf16-mixed" if cuda and torch.cuda.is_bf16_supported() else "32-true"


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
        TrainLog(run.path / "train.log"),
        *extra_callbacks,
    ]
    if cfg.max_time:
        callbacks.append(TimeBudget())
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
        precision=resolve_precision(cfg, accelerator),
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


# a run recorded before the optimizer had a schedule trained at a constant rate with PyTorch's Adam β2
_LEGACY_OPTIM = {"schedule": "constant", "beta2": 0.999}

# what a resume may change: the budget and where it trains; everything else is the run's own
RESUMABLE = ("epochs", "max_time", "device", "devices")


def prepare_run(kind: str, model_config, train_config: TrainConfig, out=None, resume: bool = False,
                given: set | None = None, parent=None) -> tuple:
    """Create (or reopen, with resume) the run directory; returns (Run, model_config, train_config, discard):
    `discard()` removes what this call created for a fresh run (None on resume), so a run that fails before
    its first checkpoint leaves nothing that would block a retry.

    On resume the run's recorded configs are used. `given` names the settings the user set explicitly
    (the CLI's flags): of the budget and devices only those replace the run's own, and any other one that
    differs from the run's is refused. Without `given` (a Python caller), the passed train_config's budget
    and devices are used.
    """
    spec = get_spec(kind)
    child_dir = os.environ.get(RUN_DIR_ENV)
    if child_dir and os.environ.get("LOCAL_RANK", "0") != "0":  # a DDP child: rank 0 already set the run up
        run = Run(Path(child_dir))
        cfg = run.config()
        return (run, config_from_dict(spec.config_cls, cfg["model_config"]), config_from_dict(TrainConfig, cfg["train"]),
                None)
    if resume:
        if out is None:
            raise LatentspaceError("--resume needs --out RUN (the run directory to continue)")
        run = Run(Path(out))
        if not run.config_file.is_file():
            raise LatentspaceError(f"{out}: nothing to resume (no config.json)")
        if not run.last_checkpoint.is_file():
            raise LatentspaceError(f"{out}: nothing to resume (no checkpoints/last.ckpt); train it afresh")
        saved = run.config()
        parent = saved.get("parent")  # a second stage stays one
        if saved["model"] != kind:
            raise LatentspaceError(f"{out} is a {saved['model']} run, not {kind}")
        saved_model = config_from_dict(spec.config_cls, {**_LEGACY_OPTIM, **saved["model_config"]})
        saved_train = config_from_dict(TrainConfig, saved["train"])
        if given is not None:
            _refuse_changes(given, (model_config, saved_model), (train_config, saved_train))
        changes = {k: getattr(train_config, k) for k in RESUMABLE if given is None or k in given}
        model_config, train_config = saved_model, dataclasses.replace(saved_train, **changes)
    else:
        run = Run(Path(out) if out else default_run_path(spec.run_name(model_config)))
        if run.config_file.exists():
            raise LatentspaceError(f"{run.path} already holds a run; continue it with --resume or choose another --out")
        train_config = tracking.settle(train_config)  # the MLflow store it tracks into, when it does
    validate_config(model_config)
    validate_config(train_config)
    check_device(train_config)
    discard = None if resume else _discarder(run.path)
    run.path.mkdir(parents=True, exist_ok=True)
    if run.summary_file.exists():
        run.summary_file.unlink()  # the run is being changed: it is unfinished until the new summary
    write_json(run.config_file, {
        **(saved if resume else {}),  # what else the run recorded (its MLflow run) stays
        "model": kind,
        "model_config": dataclasses.asdict(model_config),
        "train": dataclasses.asdict(train_config),
        "seed": train_config.seed,
        "dataset": train_config.dataset,
        **({"parent": str(Path(parent).resolve())} if parent is not None else {}),
        "environment": environment(),
    })
    return run, model_config, train_config, discard


def _discarder(path: Path):
    """A function removing what is created in `path` from now on (and `path` itself when it does not exist yet)."""
    import shutil

    before = set(os.listdir(path)) if path.is_dir() else None

    def discard() -> None:
        if not path.is_dir():
            return
        for entry in set(os.listdir(path)) - (before or set()):
            target = path / entry
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target, ignore_errors=True)
            else:
                target.unlink(missing_ok=True)
        if before is None:
            with contextlib.suppress(OSError):
                path.rmdir()

    return discard


def _refuse_changes(given: set, *pairs) -> None:
    """A resume continues the run as it was trained: a flag that would change anything but RESUMABLE is an error."""
    for asked, saved in pairs:
        for f in dataclasses.fields(saved):
            if f.name in given and f.name not in RESUMABLE and getattr(asked, f.name) != getattr(saved, f.name):
                raise LatentspaceError(
                    f"{flag_name(f.name)} {getattr(asked, f.name)} differs from the run's own "
                    f"{getattr(saved, f.name)}: a resume continues the run as it was trained (only "
                    f"{', '.join(map(flag_name, RESUMABLE))} may change)")


def fit(kind: str, model_config=None, train_config: TrainConfig | None = None, out=None, resume: bool = False,
        progress: bool = True, callbacks=(), given: set | None = None, parent=None) -> Run:
    """Train a model of `kind` into a run directory and finish it (figures, summary.json). Returns the Run.

    `callbacks` are extra Lightning callbacks (a search's pruning callback, for example); `given` is
    what `prepare_run` says; `parent` is the run a second stage is trained from (recorded in the run, and
    its model handed to the new one's `adopt_parent`).
    """
    spec = get_spec(kind)
    model_config = model_config or spec.config_cls()
    train_config = train_config or TrainConfig(**spec.train_defaults)
    parent_model = None
    if parent is not None and not resume:
        from latentspace.runs import load_run

        parent_model, parent_run = load_run(parent)  # a missing or unfinished parent: refused before any file
        parent = parent_run.path
    run, model_config, train_config, discard = prepare_run(kind, model_config, train_config, out, resume, given,
                                                           parent)
    try:
        return _fit_run(spec, kind, run, model_config, train_config, resume, progress, callbacks, parent_model)
    except BaseException:
        if discard is not None and not run.last_checkpoint.is_file():  # nothing to resume: nothing half-born kept
            discard()
        raise


def _fit_run(spec, kind, run, model_config, train_config, resume, progress, callbacks, parent_model) -> Run:
    os.environ[RUN_DIR_ENV] = str(run.path.resolve())
    quiet_lightning()
    L.seed_everything(train_config.seed, workers=True, verbose=False)
    splits = load_splits(train_config.dataset, train_config.data_dir, train_config.download,
                         seed=train_config.seed, limit_train=train_config.limit_train,
                         image_size=train_config.image_size, channels=train_config.channels)
    model = spec.build(model_config, splits.image_shape, len(splits.classes) if splits.labelled else 0)
    if resume and run.config().get("parent"):
        from latentspace.runs import load_run

        parent_model = load_run(run.config()["parent"])[0]
    if parent_model is not None:
        model.adopt_parent(parent_model)
    # what load_run rebuilds the model for
    merge_json(run.config_file, {"image_shape": list(splits.image_shape), "num_classes": model.num_classes})
    datamodule = ImageDataModule(splits, train_config.batch_size, train_config.seed)
    ckpt_path, log_version = None, ""
    if resume:
        ckpt_path = str(run.last_checkpoint)
        start_epoch = torch.load(ckpt_path, map_location="cpu", weights_only=True)["epoch"] + 1
        CsvLog(run.metrics_file).truncate(start_epoch)
        log_version = f"resumed-at-epoch-{start_epoch}"  # keep the step logs of the earlier session
    elif run.metrics_file.exists():
        run.metrics_file.unlink()
    tracker = tracking.start(run, resume)  # an MLflow run with --logger mlflow, else None
    figures = figure_callbacks(spec, run)
    trainer = build_trainer(train_config, run, progress, extra_callbacks=[*figures, *callbacks,
                                                                         *([Tracked(tracker)] if tracker else [])],
                            monitor=spec.monitor, log_version=log_version)
    t0 = time.time()
    try:
        trainer.fit(model, datamodule=datamodule, ckpt_path=ckpt_path)
    except NonFiniteLoss as e:
        kept = f"the last good checkpoint is {run.last_checkpoint}" if run.last_checkpoint.is_file() else \
            "no checkpoint was written, so the run is not kept"
        raise LatentspaceError(f"training stopped: {e}; {kept}") from None
    if trainer.interrupted:
        raise LatentspaceError(f"training interrupted; continue with `latentspace train {kind} --resume --out "
                               f"{run.path}`" if run.last_checkpoint.is_file() else
                               "training interrupted before its first checkpoint; the run is not kept")
    if not trainer.is_global_zero:
        return run
    finish_run(model, trainer, run, splits, figures, time.time() - t0)
    if tracker is not None:
        tracker.finish(run)
    return run


def finish_run(model, trainer, run: Run, splits, figures, wall_s: float) -> None:
    """Best weights back in, the figures drawn, then summary.json last."""
    if run.best_checkpoint.is_file():
        model.load_state_dict(load_weights(run.best_checkpoint))
    model.eval()
    if trainer.strategy.root_device.type != "cpu":
        model.cpu()
    written = [path for figure in figures for path in figure.finish(model, splits)]
    ckpt_cb = trainer.checkpoint_callback
    best = ckpt_cb.best_model_score if ckpt_cb is not None else None
    rows = CsvLog(run.metrics_file).rows()
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
        "figures": [str(Path(f).relative_to(run.path)) for f in written],
    })


def _stop_reason(trainer) -> str:
    if trainer.lightning_module.stop_reason:  # a model that stopped itself (a GAN's collapse)
        return trainer.lightning_module.stop_reason
    for cb in trainer.callbacks:
        if isinstance(cb, EarlyStopping) and cb.stopped_epoch:
            return "early_stopping"
    if trainer.current_epoch < trainer.max_epochs:
        return "max_time"
    return "max_epochs"
