"""Shared by the GAN benchmarks (gan_probe.py, gan_targets.py, gan_inception.py): train a GAN in this process for a
budget of CPU time, draw its samples (from the EMA generator or the plain one), score them in our features.

The budget is this process's CPU time (all its threads, `time.process_time`), not the wall clock: other work on
the machine does not eat into it, so variants trained one after the other in one process compare fairly even on
a busy machine. With one thread (`--threads 1`, the default of these scripts) a CPU-minute is a minute of one
core; on a quiet machine that is also a wall-clock minute.
"""
from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import torch
from lightning.pytorch.callbacks import Callback


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def set_threads(threads: int) -> None:
    os.environ["OMP_NUM_THREADS"] = str(threads)
    torch.set_num_threads(threads)


class CpuBudget(Callback):
    """Stops training once this process has spent `seconds` of CPU time in it (checked after every step)."""

    def __init__(self, seconds: float):
        self.seconds, self.used, self.steps, self.images = seconds, 0.0, 0, 0

    def on_train_start(self, trainer, pl_module):
        self.t0 = time.process_time() - self.used

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self.used = time.process_time() - self.t0
        self.steps += 1
        self.images += len(batch[0])
        if self.used >= self.seconds:
            trainer.should_stop = True


@contextlib.contextmanager
def no_figures(keep=()):
    """Training without the run's figures but `keep` (their per-epoch PNGs would be counted in the budget)."""
    from latentspace.training import trainer as T

    real = T.figure_callbacks
    T.figure_callbacks = lambda spec, run: [f for f in real(spec, run) if type(f).__name__ in keep]
    try:
        yield
    finally:
        T.figure_callbacks = real


def train_gan(out: Path, cpu_minutes: float, model: dict | None = None, train: dict | None = None,
              recipe: str | None = None, figures: bool = False):
    """`latentspace train gan` (its defaults, then `recipe`'s values, then `model`/`train`) for `cpu_minutes` of
    this process's CPU time; returns (the Run, {"cpu_s", "steps", "images", "wall_s"})."""
    import dataclasses

    from latentspace.models.gan_config import SPEC, GANConfig
    from latentspace.training.config import TrainConfig
    from latentspace.training.trainer import fit

    values = {**SPEC.recipes.get(recipe, {}), **(model or {}), **(train or {})}
    model_fields = {f.name for f in dataclasses.fields(GANConfig)}
    cfg = GANConfig(**{k: v for k, v in values.items() if k in model_fields})
    tc = TrainConfig(**{**SPEC.train_defaults, "epochs": 1_000_000,
                        **{k: v for k, v in values.items() if k not in model_fields}})
    budget = CpuBudget(cpu_minutes * 60)
    t0 = time.perf_counter()
    with (contextlib.nullcontext() if figures else no_figures()):
        run = fit("gan", cfg, tc, out=out, progress=False, callbacks=[budget])
    return run, {"cpu_s": round(budget.used, 1), "steps": budget.steps, "images": budget.images,
                 "wall_s": round(time.perf_counter() - t0, 1)}


def load(run_path):
    from latentspace.runs import load_run

    return load_run(run_path)[0]


def draw(model, n: int, ema: bool = True, labels=None, seed: int = 0):
    """n uint8 samples of a trained GAN, from its EMA generator (when it has one) or with `ema=False` the plain
    generator of the same run."""
    from latentspace.samplers.store import draw as draw_samples

    keep = model.generator_ema
    if not ema:
        model.generator_ema = None
    try:
        return draw_samples(model, n, seed=seed, labels=labels).images
    finally:
        model.generator_ema = keep


def fid(samples, n_reference: int = 5000, splits=None, reference=None) -> dict:
    """FID, KID, precision, recall of uint8 samples in our features against the first `n_reference` test
    images of Fashion-MNIST (or `splits`'s test set, or the `reference` images)."""
    from latentspace.commands.evaluate import sample_quality

    q = sample_quality(samples, n=n_reference, splits=splits, reference=reference)
    return {k: round(float(q[k]), 4) for k in ("fid", "kid", "precision", "recall") if k in q}


def nearest(a: torch.Tensor, b: torch.Tensor, exclude_self: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """For each row of a, (distance to, index of) its nearest row of b (not itself, with exclude_self)."""
    d = torch.cdist(a, b)
    if exclude_self:
        d.fill_diagonal_(float("inf"))
    return d.min(1)


def copy_check(samples_f: torch.Tensor, train_f: torch.Tensor, control_f: torch.Tensor) -> dict:
    """Features of samples against those of the training images: the median distance to the nearest training
    image, and the share of samples closer to their nearest training image than it is to its own nearest other
    training image (copy-like); the same for `control_f`, real images that are not in the training set."""
    train_nn, _ = nearest(train_f, train_f, exclude_self=True)
    out = {"train_to_train_median": round(float(train_nn.median()), 4)}
    for name, f in (("samples", samples_f), ("test_images", control_f)):
        dist, idx = nearest(f, train_f)
        out[name] = {"to_nearest_train_median": round(float(dist.median()), 4),
                     "copy_like_share": round(float((dist < train_nn[idx]).float().mean()), 4)}
    return out


def emit(result: dict) -> None:
    result["load"] = round(os.getloadavg()[0], 2)
    print(json.dumps(result), flush=True)
