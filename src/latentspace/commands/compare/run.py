"""`latentspace compare`: train every chosen family for M minutes, score each entry the same way, one report.

The study's engine runs it (`study.engine.run_steps`): one `train-KIND` step per family, then one
`score-NAME` step per entry that needs it, each recorded in OUT/steps/ and reused by a rerun, a failing
one reported with its error while the others go on. OUT/compare.json records what was asked; another
compare in the same OUT is refused unless --force. With --logger mlflow the compare is one parent MLflow
run with a nested run per family (its scores logged into it), the report an artifact of the parent.
"""
from __future__ import annotations

import os
import platform
import shutil
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from latentspace.commands.compare.entries import choose
from latentspace.commands.compare.report import sections as report_sections
from latentspace.commands.compare.steps import (
    FINAL_SHARE,
    PRIOR_SHARE,
    CompareContext,
    score_entry,
    train_family,
)
from latentspace.commands.study.sections import Section, Step
from latentspace.errors import LatentspaceError
from latentspace.io import read_json, write_json

RECORD = "compare.json"


def compare_steps(entries) -> list[Step]:
    kinds = list(dict.fromkeys(e.kind for e in entries))
    from latentspace.models import get_spec

    return ([Step(f"train-{k}", f"Train {get_spec(k).title}", partial(train_family, kind=k)) for k in kinds] +
            [Step(f"score-{e.name}", f"Score {e.name}", partial(score_entry, entry=e), needs=(f"train-{e.kind}",))
             for e in entries])


def run_compare(dataset: str = "fashion-mnist", models: str | None = None, minutes: float = 3.0, workers: int = 1,
                inception: int = 0, out="compare", force: bool = False, seed: int = 0, logger: str = "local",
                mlflow_uri: str | None = None, progress: bool = False, log: Callable[[str], None] = print,
                **data) -> tuple[Path, list[Section]]:
    """Train, score and report (OUT/report.html); finished steps in OUT are reused. Returns (report, sections
    of the steps). Every check a user can fail comes before anything is written."""
    from latentspace.commands.study.engine import run_steps, study_data
    from latentspace.training import tracking

    entries = choose(models)
    if minutes <= 0:
        raise LatentspaceError(f"--minutes must be above 0, got {minutes}")
    if workers < 1 or inception < 0:
        raise LatentspaceError("--workers must be at least 1 and --inception at least 0")
    if logger == "mlflow":
        tracking.require_mlflow()
        tracking.check_uri(tracking.absolute_uri(mlflow_uri))
    elif mlflow_uri:
        raise LatentspaceError("--mlflow-uri goes with --logger mlflow")
    if inception:
        from latentspace.analysis.inception import weights_path

        weights_path()  # not installed: one line now, not after every training
    data = {k: v for k, v in data.items() if v is not None}
    splits = study_data(dataset, seed, data)  # a bad dataset: refused before any file
    out = Path(out)
    asked = {"models": [e.name for e in entries], "minutes": minutes, "dataset": dataset, "seed": seed,
             "data": data, "inception": inception}
    record = out / RECORD
    previous = read_json(record) if record.is_file() else {}
    if previous and not force and {k: previous.get(k) for k in asked} != asked:
        differ = ", ".join(f"{k} {previous.get(k)}" for k in asked if previous.get(k) != asked[k])
        raise LatentspaceError(f"{out} holds another compare ({differ}); use --force or another --out")
    if force and out.exists():
        shutil.rmtree(out)
        previous = {}
    out.mkdir(parents=True, exist_ok=True)
    write_json(record, {**previous, **asked})
    ctx = CompareContext(out, None, dataset, seed, progress, data={**data, "logger": logger,
                                                                   **({"mlflow_uri": mlflow_uri} if mlflow_uri else {})},
                         classes=tuple(splits.classes), image_shape=tuple(splits.image_shape),
                         identity=splits.identity, minutes=minutes, inception=inception)
    steps = compare_steps(entries)
    t0 = time.time()
    kinds = len({e.kind for e in entries})
    log(f"{len(entries)} model(s) from {kinds} famil{'y' if kinds == 1 else 'ies'}, {minutes:g} min of training "
        f"each, {workers} at a time; scoring takes up to about {FINAL_SHARE + 0.15:.0%} of that per model, a "
        f"learned prior {PRIOR_SHARE:.0%} more")

    def report(i, step, section):
        what = "reused" if section.reused else section.status
        log(f"[{i}/{len(steps)}] {step.title}: {what} in {section.seconds:.1f} s (elapsed "
            f"{(time.time() - t0) / 60:.1f} min)" + (f" -- {section.error.splitlines()[0]}" if section.error else ""))

    if logger == "mlflow":
        with tracking.parent_run(f"compare-{out.resolve().name}", uri=mlflow_uri, run_id=previous.get("mlflow_run_id"),
                                 params={**asked, "models": ",".join(asked["models"])},
                                 tags={"latentspace.compare": str(out.resolve())}) as run_id:
            write_json(record, {**read_json(record), "mlflow_run_id": run_id})
            done = run_steps(steps, ctx, report, workers=workers)
            page = _write_report(out, ctx, entries, done, asked, workers, time.time() - t0)
            tracking.log_to_parent(_parent_metrics(ctx, entries), [page, out / "figures"])
    else:
        done = run_steps(steps, ctx, report, workers=workers)
        page = _write_report(out, ctx, entries, done, asked, workers, time.time() - t0)
    write_json(record, {**read_json(record), "steps": {s.key: {"status": s.status, "seconds": round(s.seconds, 1),
                                                                "error": s.error} for s in done}})
    return page, done


def _scores(ctx, entries) -> list[dict]:
    return [ctx.results[f"score-{e.name}"] for e in entries if f"score-{e.name}" in ctx.results]


def _parent_metrics(ctx, entries) -> dict:
    """The leaderboard's numbers as ENTRY.METRIC, with '+' as '-' (MLflow refuses '+' in a metric's name)."""
    return {f"{s['entry'].replace('+', '-')}.{k}": v for s in _scores(ctx, entries) for k, v in s.items()
            if k in ("fid", "kid", "precision", "recall", "test_mse", "sample_seconds_per_1000", "inception_fid")
            and v is not None}


def _write_report(out: Path, ctx, entries, done: list[Section], asked: dict, workers: int, seconds: float) -> Path:
    import torch

    from latentspace.report.render import render_report
    from latentspace.runs import environment

    total = sum(s.seconds for s in done)
    meta = {"title": "latentspace compare: which model for these images, at this budget",
            "subtitle": f"{', '.join(asked['models'])} on {ctx.dataset}, {asked['minutes']:g} minute(s) each",
            "dataset": ctx.dataset, "seed": ctx.seed, "device": "cuda" if torch.cuda.is_available() else "cpu",
            "image_shape": "x".join(map(str, ctx.image_shape)),
            "labels": f"{len(ctx.classes)} classes" if ctx.labelled else "none",
            "settings": {"budget per family (training wall clock)": f"{asked['minutes']:g} min",
                         "learned prior fit (apart)": f"{asked['minutes'] * PRIOR_SHARE:g} min",
                         "trainings at a time": workers,
                         "threads per training": max(1, (os.cpu_count() or 1) // max(1, workers)),
                         "CPU cores": os.cpu_count(), "machine": platform.platform(),
                         "processor": platform.processor() or platform.machine(),
                         "Inception samples": asked["inception"] or "none",
                         "wall time of this invocation": f"{seconds / 60:.1f} min"},
            "skipped": [f"{s.title}: {s.error}" for s in done if s.status == "skipped"],
            "environment": environment(), "python": platform.python_version(),
            "total_seconds": round(total, 1), "created": time.strftime("%Y-%m-%d %H:%M:%S")}
    summary = report_sections(out, _scores(ctx, entries), asked["minutes"], asked["inception"])
    return render_report(summary + done, meta, out / "report.html")
