"""The steps of a compare, run by the study's engine: one training per family (`train-KIND`, its M minutes of
wall clock, checkpoints kept at 1/4 and 1/2 of them) and one scoring per entry (`score-NAME`).

Scoring must fit the budget: sampling costs differ by orders of magnitude (a GAN draws thousands of images a
second, a flow model's ODE solve tens), so each entry's sample counts come from its measured speed: the final
point's draw may take FINAL_SHARE of the training budget, each curve point's CURVE_SHARE, within
[N_MIN, N_FINAL] and [N_MIN, N_CURVE] images.
"""
from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import lightning as L
import numpy as np

from latentspace.commands.compare.entries import Entry
from latentspace.commands.study.sections import Context, Figure, Section, Table
from latentspace.io import merge_json, write_json

FRACTIONS = (0.25, 0.5)      # of the budget, besides its end: the points of the quality-against-minutes curve
EPOCH_CAP = 100_000          # the budget stops the training, not the epochs
PRIOR_SHARE = 0.25           # a learned prior is fitted for this share of M minutes (apart from the budget)
FINAL_SHARE, CURVE_SHARE = 0.25, 0.05  # of M minutes: the longest the final and each curve point's draw may take
N_MIN, N_FINAL, N_CURVE = 200, 5000, 1000
PROBE = 64                   # images drawn to measure an entry's sampling speed
RECON_N = 2000               # test images reconstructed (fewer where the spec's encode_limit says encoding is dear)
SIDE_SEED, SIDE_N = 1234, 12  # the samples side by side: the same seed for every entry
BUDGET_FILE = "budget.json"   # in a run's checkpoints/: the checkpoints at fractions of the budget


@dataclass
class CompareContext(Context):
    minutes: float = 1.0    # training budget per family (wall clock)
    inception: int = 0      # samples for Inception FID/KID at the final point (0: none)

    @property
    def prior_minutes(self) -> float:
        return self.minutes * PRIOR_SHARE


class BudgetCheckpoints(L.Callback):
    """Saves a checkpoint when the training's wall clock passes each fraction of its budget (measured from the
    start of training, as Lightning's max_time is), listed in checkpoints/budget.json with its time and step."""

    def __init__(self, directory: Path, minutes: float, fractions=FRACTIONS):
        self.directory, self.seconds, self.fractions = Path(directory), minutes * 60, tuple(fractions)
        self.saved: list[dict] = []
        self.t0 = None

    def on_train_start(self, trainer, pl_module):
        self.t0 = time.monotonic()

    def on_train_batch_end(self, trainer, *args):
        elapsed = time.monotonic() - self.t0
        due = [f for f in self.fractions if elapsed >= f * self.seconds and f not in {s["fraction"] for s in
                                                                                       self.saved}]
        for f in due:
            path = self.directory / f"budget-{round(f * 100)}.ckpt"
            trainer.save_checkpoint(path, weights_only=True)  # the weights are all a score needs
            self.saved.append({"fraction": f, "file": path.name, "seconds": round(elapsed, 2),
                               "epoch": trainer.current_epoch, "step": trainer.global_step})
            write_json(self.directory / BUDGET_FILE, self.saved)


def train_family(ctx: CompareContext, kind: str) -> Section:
    """The family's fast recipe (its spec's training defaults and config) for M minutes of wall clock, into
    OUT/runs/KIND; a finished run there is reused, an unfinished one redone."""
    from latentspace.commands.study.steps import finished_run, run_table
    from latentspace.models import get_spec
    from latentspace.runs import open_run
    from latentspace.training.trainer import fit

    path = ctx.path("runs", kind)
    if finished_run(path):
        run = open_run(path)
    else:
        if path.exists():
            shutil.rmtree(path)
        cfg = ctx.train_config(kind, epochs=EPOCH_CAP, max_time=ctx.minutes)
        run = fit(kind, get_spec(kind).config_cls(), cfg, out=path, progress=ctx.progress,
                  callbacks=[BudgetCheckpoints(path / "checkpoints", ctx.minutes)])
    ctx.results[f"train-{kind}"] = str(run.path)
    return Section("", "", intro=f"{get_spec(kind).title}: its fast recipe for {ctx.minutes:g} minute(s) of wall "
                                 f"clock, checkpoints at " + ", ".join(f"{f:g}" for f in FRACTIONS) +
                                 " of it and at its end.",
                   tables=[run_table(run, "Training")])


def sample_counts(seconds_per_image: float, minutes: float) -> tuple[int, int]:
    """(final N, curve N) that keep each draw within its share of the budget, within their bounds."""
    def fit(share, cap):
        return int(max(N_MIN, min(cap, minutes * 60 * share / max(seconds_per_image, 1e-9))))
    final = fit(FINAL_SHARE, N_FINAL)
    return final, min(final, fit(CURVE_SHARE, N_CURVE))


def score_entry(ctx: CompareContext, entry: Entry) -> Section:
    """Every metric of the entry at the end of its budget, and the quality-against-minutes curve."""
    from filelock import FileLock

    from latentspace.commands.evaluate import sample_metrics
    from latentspace.data.images import run_splits
    from latentspace.models import spec_of
    from latentspace.models.featurenet import find_feature_net
    from latentspace.runs import load_run
    from latentspace.samplers.store import draw, get_sampler
    from latentspace.training.tracking import log_evaluation

    run_path = ctx.results[f"train-{entry.kind}"]
    model, run = load_run(run_path)
    spec, summary = spec_of(model), run.summary()
    splits = run_splits(run.config()["train"])
    here = ctx.path("entries", entry.name)
    here.mkdir(parents=True, exist_ok=True)
    result = {"entry": entry.name, "kind": entry.kind, "title": model.title(), "sampler": entry.sampler,
              "params": int(sum(p.numel() for p in model.parameters())),
              "train_seconds": summary.get("train_time_s"), "epochs": summary.get("epochs_completed"),
              "stopped_by": summary.get("stopped_by"),
              # its test MSE is an ODE solver's error both ways, not what a code keeps: no best reconstruction
              "invertible": spec.invertible}
    # fitted (a learned prior for its share of the budget, apart from the training's) or read from the run before
    # the clock of the speed probe starts; one small warm-up draw first
    t0 = time.time()
    sampler = get_sampler(model, entry.sampler, train=splits.train,
                          minutes=ctx.prior_minutes if entry.learned else None)
    if entry.learned:
        result["prior_fit_seconds"] = round(time.time() - t0, 1)
    draw(model, 4, ctx.seed, sampler)
    t0 = time.perf_counter()
    draw(model, PROBE, ctx.seed, sampler)
    per_image = (time.perf_counter() - t0) / PROBE
    n_final, n_curve = sample_counts(per_image, ctx.minutes)
    result["sample_seconds_per_1000"] = round(per_image * 1000, 3)
    if spec.encoder:
        from latentspace.analysis.reconstruction import reconstruction_metrics

        test = splits.test.head(min(RECON_N, spec.encode_limit or RECON_N))
        result.update({k: v for k, v in reconstruction_metrics(model, test).items() if k == "test_mse"},
                      recon_images=len(test))
    ours = find_feature_net(splits.identity) is not None
    if ours:
        result.update(n_final=n_final, n_curve=n_curve)
        m = sample_metrics(model, splits, n_final, seed=ctx.seed, sampler=entry.sampler, floor=False,
                           figures=run.figures)
        result.update({k: m[k] for k in ("fid", "kid", "precision", "recall", "copy_share", "copy_share_test",
                                         "nearest_figure", "sample_seconds_per_1000") if k in m})
        # Lightning's max_time stopped it at the budget; else its epochs ran out first (their compute time)
        end = ctx.minutes * 60 if summary.get("stopped_by") == "max_time" else summary.get("train_time_s")
        result["curve"] = _curve(ctx, entry, run, splits, n_curve, end)
    if ctx.inception:
        from latentspace.analysis.scoring import inception_quality

        images = draw(model, ctx.inception, ctx.seed, entry.sampler).images
        q = inception_quality(images, splits.name, n=ctx.inception, seed=ctx.seed, splits=splits)
        result.update(inception_fid=q["inception_fid"], inception_kid=q["inception_kid"])
    np.save(here / "samples.npy", draw(model, SIDE_N, SIDE_SEED, entry.sampler).images)
    if spec.encoder and entry.default:  # one row of reconstructions per family
        from latentspace.analysis.encode import encode_images
        from latentspace.analysis.latents import decode_latents

        originals = splits.test.head(SIDE_N)
        codes = encode_images(model, originals, seed=ctx.seed)["latent"]
        np.save(here / "originals.npy", originals.arrays())
        np.save(here / "reconstructions.npy", decode_latents(
            model, codes, labels=originals.labels.numpy() if model.conditional else None))
    numbers = {k: v for k, v in result.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    with FileLock(str(run.path / ".evaluation.lock")):  # the family's entries may score at once (workers)
        own = numbers if entry.default else {f"{k}@{entry.sampler}": v for k, v in numbers.items()}
        merge_json(run.path / "evaluation.json", own)
        log_evaluation(run, own)  # into the family's MLflow run, nested under the compare's
    ctx.results[f"score-{entry.name}"] = result
    figures = [Figure(result["nearest_figure"], f"{entry.name}: the samples closest to a training image, each "
                                                f"beside it.")] if result.get("nearest_figure") else []
    shown = ("fid", "kid", "precision", "recall", "test_mse", "sample_seconds_per_1000", "n_final")
    return Section("", "", tables=[Table("Scores at the end of the budget", list(shown),
                                         [[result.get(k) for k in shown]])], figures=figures)


def _curve(ctx, entry: Entry, run, splits, n: int, final_seconds) -> list[dict]:
    """FID, KID, precision and recall at each budget checkpoint and at the end, all from n samples (the same N at
    every point: FID's upward bias at small N then shifts the whole curve, not its slope). A learned prior is
    fitted once, for the final weights: its entry has the final point only."""
    from latentspace.analysis.scoring import sample_quality
    from latentspace.io import read_json
    from latentspace.runs import load_run, load_weights
    from latentspace.samplers.store import draw

    budget = run.checkpoints / BUDGET_FILE
    points = read_json(budget) if budget.is_file() and not entry.learned else []
    points = [*points, {"fraction": 1.0, "file": None, "seconds": final_seconds}]
    curve = []
    for p in points:
        model, _ = load_run(run.path)
        if p["file"]:  # an earlier checkpoint: its sampler (a mixture) is fitted for it and not kept
            model.load_state_dict(load_weights(run.checkpoints / p["file"]))
            model.run = model.checkpoint_file = None
        images = draw(model, n, ctx.seed, entry.sampler, train=splits.train).images
        q = sample_quality(images, splits.name, n=n, seed=ctx.seed, splits=splits)
        curve.append({"fraction": p["fraction"], "minutes": round((p["seconds"] or 0) / 60, 3),
                      **{k: q[k] for k in ("fid", "kid", "precision", "recall")}})
    return curve
