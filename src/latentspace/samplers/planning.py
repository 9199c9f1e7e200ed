"""A learned prior's fit within a wall-clock budget: how many steps fit in it, planned from the measured speed.

Shared by the samplers that train a network (`latent_flow`, `autoregressive`): their learning rate anneals over
the planned steps, so the plan must be known early and must hold. The first TIMING_WARMUP steps are not timed
(slower: allocations, caches), the next TIMING_STEPS are; the plan is the steps that fit in what is left of the
budget, less `reserve` steps' worth of time kept for work after the loop (a flow's moment matching). If the
machine slows down, the plan shrinks at REPLAN_AT shares of it, so the learning rate still anneals inside the
budget; the fit never runs past the deadline. With a fixed number of steps nothing is timed: the same steps
make the same fit, bit for bit.

    plan = StepPlan(minutes, steps=None, log=log, name="flow prior")
    while plan.next():
        lr = base_lr * plan.cosine()   # warm-up is the caller's
        ...one step...
        plan.done(loss.item())
    plan.finish()                       # logs how it ended; plan.record() for the hparams
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np

from latentspace.errors import LatentspaceError

TIMING_WARMUP, TIMING_STEPS = 5, 30  # steps timed (after the first, slower ones) to plan the fit's length
REPLAN_AT = (0.1, 0.3, 0.5, 0.7)  # shares of the plan where a slowed-down machine shrinks it to meet the deadline
LOG_EVERY = 10.0  # seconds between progress lines


def check_budget(minutes, steps) -> None:
    """A budget is a positive, finite number of minutes; fixed steps a positive integer (or None)."""
    if isinstance(minutes, bool) or not (isinstance(minutes, (int, float)) and math.isfinite(minutes) and minutes > 0):
        raise LatentspaceError(f"--minutes must be a positive number, got {minutes!r}")
    if steps is not None and (not isinstance(steps, (int, np.integer)) or isinstance(steps, bool) or steps < 1):
        raise LatentspaceError(f"steps must be a positive integer, got {steps!r}")


class StepPlan:
    """The steps of one fit: `next()` before each step says whether to take it, `done(loss)` after it."""

    def __init__(self, minutes: float, steps: int | None = None, reserve: int = 0,
                 log: Callable[[str], None] | None = None, name: str = "prior"):
        check_budget(minutes, steps)
        self.log, self.name, self.reserve, self.minutes = log or (lambda line: None), name, int(reserve), minutes
        self.fixed = steps
        self.planned = self.first_plan = steps  # None until timed
        self.step = 0
        self.t_start = time.perf_counter()
        self.deadline = self.t_start + minutes * 60.0
        self.replans = list(REPLAN_AT)
        self.mark = (0, self.t_start)  # (step, time) the speed is measured from: after the first steps' warm-up
        self.next_log = self.t_start + LOG_EVERY
        self.loss_sum, self.loss_n = 0.0, 0

    def next(self) -> bool:
        """Whether to take another step: plans (and replans) from the speed so far, stops at the plan's end or
        at the deadline."""
        now = self.now = time.perf_counter()
        step = self.step
        if self.fixed is None:
            if step == TIMING_WARMUP:
                self.mark = (step, now)
            elif self.planned is None and step == TIMING_WARMUP + TIMING_STEPS:
                per_step = (now - self.mark[1]) / (step - self.mark[0])
                self.planned = self.first_plan = max(step + 1, step + int((self.deadline - now) / per_step)
                                                     - self.reserve)
                self.mark = (step, now)
                self.log(f"{self.name}: {per_step * 1000:.1f} ms a step, planning {self.planned} steps in "
                         f"{self.minutes:g} min")
            elif self.planned is not None and self.replans and step >= self.replans[0] * self.planned:
                self.replans.pop(0)
                per_step = (now - self.mark[1]) / max(1, step - self.mark[0])
                self.mark = (step, now)
                if now + (self.planned - step + self.reserve) * per_step > self.deadline:
                    self.planned = max(step + 1, step + int((self.deadline - now) / per_step) - self.reserve)
                    self.log(f"{self.name}: slower than planned ({per_step * 1000:.1f} ms a step): "
                             f"{self.planned} steps")
            if now >= self.deadline:
                return False
        return self.planned is None or step < self.planned

    def progress(self) -> float:
        """The share of the plan done (0 before it is known): the cosine starts after the timed steps, so a
        budgeted fit and one of fixed steps agree step for step."""
        start = TIMING_WARMUP + TIMING_STEPS
        return 0.0 if self.planned is None else min(1.0, max(0, self.step - start) / max(1, self.planned - start))

    def cosine(self) -> float:
        """The cosine factor (1 down to 0) of the learning rate at this step."""
        return 0.5 * (1.0 + math.cos(math.pi * self.progress()))

    def set_lr(self, opt, lr: float, warmup_steps: int) -> None:
        """This step's learning rate in every group of `opt`: `lr` warmed up linearly over `warmup_steps`, times
        the cosine."""
        warm = min(1.0, (self.step + 1) / warmup_steps if warmup_steps else 1.0)
        for group in opt.param_groups:
            group["lr"] = lr * warm * self.cosine()

    def done(self, loss: float) -> None:
        """After a step: count it, and every LOG_EVERY seconds log the mean loss since the last line."""
        self.step += 1
        self.loss_sum, self.loss_n = self.loss_sum + loss, self.loss_n + 1
        if self.now >= self.next_log:
            self.log(f"{self.name}: step {self.step}/{self.planned or '?'}, loss {self.loss_sum / self.loss_n:.4f}, "
                     f"{self.now - self.t_start:.0f} s")
            self.loss_sum, self.loss_n, self.next_log = 0.0, 0, self.now + LOG_EVERY

    def finish(self) -> None:
        if self.planned is not None and self.step < self.planned:
            self.log(f"{self.name}: stopped at the deadline after {self.step} of {self.planned} planned steps")

    def seconds(self) -> float:
        return time.perf_counter() - self.t_start

    def record(self) -> dict:
        """What the fit did, for its hparams: steps taken, first plan (passing it back as `steps` repeats the
        fit), seconds and the budget."""
        return {"fit_steps": self.step, "planned_steps": self.first_plan or self.step,
                "fit_seconds": round(self.seconds(), 2), "minutes": float(self.minutes)}


def checked_hparams(what: str, options: dict, defaults: dict, record: set, counts: tuple = (),
                    whole: tuple = (), numbers: tuple = ()) -> dict:
    """A learned prior's `options` over its `defaults`, each key known (a hyperparameter, or a `record` of its
    fit) and each in range: `counts` positive integers, `whole` integers >= 0, `numbers` finite numbers >= 0.
    Anything else is refused in one line naming `what` ("flow prior")."""
    unknown = set(options) - set(defaults) - record
    if unknown:
        raise LatentspaceError(f"unknown {what} option(s): {', '.join(sorted(unknown))}")
    hp = {**defaults, **options}
    for keys, least, words in ((counts, 1, "a positive integer"), (whole, 0, "a non-negative integer")):
        for key in keys:
            if not isinstance(hp[key], (int, np.integer)) or isinstance(hp[key], bool) or hp[key] < least:
                raise LatentspaceError(f"{what} option {key} must be {words}, got {hp[key]!r}")
    for key in numbers:
        if not isinstance(hp[key], (int, float)) or isinstance(hp[key], bool) or not math.isfinite(hp[key]) \
                or hp[key] < 0:
            raise LatentspaceError(f"{what} option {key} must be a finite number >= 0, got {hp[key]!r}")
    return hp


class Shuffled:
    """Batches of indices 0..n-1 in a fresh seeded order each pass (a pass's last partial batch is dropped)."""

    def __init__(self, n: int, batch: int, generator):
        import torch

        self.n, self.batch, self.g, self.randperm = n, batch, generator, torch.randperm
        self.perm, self.pos = self.randperm(n, generator=generator), 0

    def take(self):
        if self.pos + self.batch > self.n:
            self.perm, self.pos = self.randperm(self.n, generator=self.g), 0
        self.pos += self.batch
        return self.perm[self.pos - self.batch:self.pos]
