"""The callbacks every training gets: the per-epoch metrics CSV, the finite-loss guard, the RNG in
checkpoints, and RUN/train.log (every warning the models log while they train)."""
from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import torch
from lightning.pytorch.callbacks import Callback
from lightning.pytorch.trainer.states import TrainerFn

from latentspace.errors import LatentspaceError
from latentspace.io import CsvLog


class EpochMetrics(Callback):
    """Writes metrics.csv: one row per epoch with every logged epoch metric, time and throughput."""

    def __init__(self, path: Path):
        self.csv = CsvLog(path)
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
        self.csv.append([row])


class NonFiniteLoss(LatentspaceError):
    pass


class FiniteLossGuard(Callback):
    """Stops training at the first NaN or infinite loss; the last good checkpoint stays untouched."""

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs  # manual optimisation may return none
        if isinstance(loss, torch.Tensor) and not torch.isfinite(loss).all():
            raise NonFiniteLoss(f"loss became {float(loss)} at epoch {trainer.current_epoch} step {batch_idx}")


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


class TrainLog(Callback):
    """Copies the warnings of latentspace's loggers (a GAN's collapse, a skipped NaN step) into RUN/train.log
    while the model trains, on rank 0 (the file appears with the first warning), and to stderr unless the
    application configured logging itself."""

    def __init__(self, path: Path):
        self.handlers = [logging.FileHandler(path, delay=True)]
        if not logging.getLogger().handlers:
            self.handlers.append(logging.StreamHandler(sys.stderr))
        for h in self.handlers:
            h.setLevel(logging.WARNING)
            h.setFormatter(logging.Formatter("%(message)s"))

    def setup(self, trainer, pl_module, stage):
        if trainer.is_global_zero:
            for h in self.handlers:
                logging.getLogger("latentspace").addHandler(h)

    def teardown(self, trainer, pl_module, stage):
        for h in self.handlers:
            logging.getLogger("latentspace").removeHandler(h)
            h.close()
