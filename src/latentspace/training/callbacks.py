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
from latentspace.models.optim import budget_steps


class EpochMetrics(Callback):
    """Writes metrics.csv: one row per epoch with every logged epoch metric, time and throughput."""

    def __init__(self, path: Path):
        self.csv = CsvLog(path)
        self.last_row: dict | None = None
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
        self.last_row = row


class Tracked(Callback):
    """Hands each epoch's metrics.csv row (EpochMetrics, listed before it, has just written it) to an experiment
    tracker (`tracking.Tracker`); marks the tracked run failed, or killed on Ctrl-C, when training raises."""

    def __init__(self, tracker):
        self.tracker = tracker

    def on_train_epoch_end(self, trainer, pl_module):
        if not trainer.is_global_zero:
            return
        row = next(cb for cb in trainer.callbacks if isinstance(cb, EpochMetrics)).last_row
        if row is not None and row["epoch"] == trainer.current_epoch:
            self.tracker.log_epoch(row)

    def on_exception(self, trainer, pl_module, exception):
        self.tracker.end("KILLED" if isinstance(exception, KeyboardInterrupt) else "FAILED")


class NonFiniteLoss(LatentspaceError):
    pass


class FiniteLossGuard(Callback):
    """Stops training at the first NaN or infinite loss; the last good checkpoint stays untouched.

    On a CPU every step is checked at once. On an accelerator, reading the loss back every step would make
    the host wait for the device each time: the first bad step is recorded on the device and read back
    every CHECK_EVERY steps and at the end of the epoch (training stops then, before the next checkpoint)."""

    CHECK_EVERY = 50

    def __init__(self):
        self.first_bad: torch.Tensor | None = None  # on the device: (step, loss) of the first bad step, or step -1
        self.steps = 0

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs  # manual optimisation may return none
        if not isinstance(loss, torch.Tensor):
            return
        if loss.device.type == "cpu":
            if not torch.isfinite(loss).all():
                self._stop(trainer.current_epoch, batch_idx, float(loss))
            return
        loss = loss.detach().float()
        here = torch.stack([torch.tensor(float(batch_idx), device=loss.device), loss])
        if self.first_bad is None:
            self.first_bad = torch.tensor([-1.0, 0.0], device=loss.device)
        fresh = (~torch.isfinite(loss)) & (self.first_bad[0] < 0)
        self.first_bad = torch.where(fresh, here, self.first_bad)
        self.steps += 1
        if self.steps % self.CHECK_EVERY == 0:
            self._check(trainer)

    def on_train_epoch_end(self, trainer, pl_module):
        self._check(trainer)

    def _check(self, trainer) -> None:
        if self.first_bad is not None:
            step, value = self.first_bad.tolist()
            if step >= 0:
                self._stop(trainer.current_epoch, int(step), value)

    @staticmethod
    def _stop(epoch: int, step: int, value: float):
        raise NonFiniteLoss(f"loss became {value} at epoch {epoch} step {step}")


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


class TimeBudget(Callback):
    """Under a wall-clock budget, estimates the steps that fit in it from the speed measured so far and fits the
    learning-rate schedule to them. Without it a time-budgeted run given a large epoch cap (compare's) would
    spend its whole budget in the schedule's first warm-up steps, and a VAE's KL weight would stay near 0
    (measured in a 3-minute compare: VAE sample FID 17.1, against 8.4 for the same VAE on its epoch budget)."""

    WARMUP_S = 3.0  # seconds measured before the first estimate (the first steps are slow)

    def __init__(self):
        self.t0 = self.step0 = None

    def on_train_start(self, trainer, pl_module):
        self.t0, self.step0 = time.monotonic(), trainer.global_step

    def on_train_batch_end(self, trainer, *args):
        from lightning.pytorch.callbacks import Timer

        timer = next((c for c in trainer.callbacks if isinstance(c, Timer)), None)
        elapsed = time.monotonic() - self.t0
        done = trainer.global_step - self.step0
        if timer is None or elapsed < self.WARMUP_S or done <= 0:
            return
        # the steps taken (a resumed run's earlier ones too) and those the rest of the budget allows at this
        # speed (Lightning's Timer keeps the budget across a resume)
        left = timer.time_remaining() or 0.0
        trainer.time_budget_steps = trainer.global_step + 1 + int(done * left / elapsed)
        total = budget_steps(trainer)
        for config in trainer.lr_scheduler_configs:
            for factor in getattr(config.scheduler, "lr_lambdas", ()):
                if hasattr(factor, "total"):  # the schedule's LRFactor: its curve over the steps that fit
                    factor.total = max(1, int(total))
