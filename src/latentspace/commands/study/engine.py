"""`latentspace study`: the original study end to end, by preset, resumable, as one HTML report.

Each step is a function that reads and writes run directories under OUT and returns a Section
(figures with captions, tables, notes). A finished step leaves OUT/steps/<key>.json and is skipped
on the next run; a failing step is recorded with its error and the steps that do not need it
still run.
"""
from __future__ import annotations

import dataclasses
import json
import platform
import shutil
import sys
import time
import traceback
from pathlib import Path
from typing import Callable

from latentspace.commands.study.presets import PRESETS
from latentspace.commands.study.sections import Context, Figure, Section, Step, Table
from latentspace.commands.study.steps import steps_for
from latentspace.errors import LatentspaceError
from latentspace.io import read_json, write_json
from latentspace.report.render import render_report
from latentspace.runs import environment

# ---------------------------------------------------------------- running

def run_study(preset: str = "quick", out="study", force: bool = False, dataset: str = "fashion-mnist",
              seed: int = 0, progress: bool = False, steps: list[Step] | None = None,
              log: Callable[[str], None] = print, **data) -> tuple[Path, list[Section]]:
    """Run every step the data allows (skipping finished ones), then write OUT/report.html.

    `data` holds the data options every training gets (data_dir, image_size, channels: see TrainConfig); a step
    that needs labels is skipped, with its reason in the report, on a dataset without them.
    Returns (report, sections)."""
    if preset not in PRESETS:
        raise LatentspaceError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    data = {k: v for k, v in data.items() if v is not None}
    splits = _study_data(dataset, seed, data)
    p = PRESETS[preset]
    out = Path(out)
    if force and out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    record_file = out / "study.json"
    previous = read_json(record_file) if record_file.is_file() else {}
    if previous and ((previous.get("preset"), previous.get("dataset"), previous.get("seed"),
                      previous.get("data", {})) != (preset, dataset, seed, data)):
        raise LatentspaceError(f"{out} holds a study with preset {previous.get('preset')}, dataset "
                               f"{previous.get('dataset')}, seed {previous.get('seed')}, data options "
                               f"{previous.get('data', {})}; use --force or another --out")
    ctx = Context(out, p, dataset, seed, progress, data=data, classes=tuple(splits.classes),
                  image_shape=tuple(splits.image_shape), identity=splits.identity)
    steps = steps if steps is not None else steps_for(preset)
    if preset == "full" and _device() == "cpu":
        total = sum(p.estimates.values())
        log(f"note: the full preset is meant for a GPU; on this CPU expect about {total / 3600:.0f} hours")
    t_start = time.time()
    est_done = scaled_s = 0.0
    log(f"about {_fmt(p.eta([s.key for s in steps]))} in all on 2 CPU cores (more on a slower or busy machine; "
        f"each step's line re-estimates from the time measured so far)")

    def report(i: int, step: Step, section: Section) -> None:
        nonlocal est_done, scaled_s
        spent = 0.0 if section.reused else section.seconds
        if not section.reused:  # how much slower (or faster) than the estimates' machine this one runs, counting
            # only the parts that scale (not a wall-clock budget such as the GAN's max_time)
            estimate = p.estimates.get(step.key, spent)
            est_done += estimate - min(p.fixed.get(step.key, 0.0), estimate)
            scaled_s += spent - min(p.fixed.get(step.key, 0.0), spent)
        scale = scaled_s / est_done if est_done else 1.0
        eta = p.eta([s.key for s in steps[i:]], scale)
        what = "reused" if section.reused else section.status
        log(f"[{i}/{len(steps)}] {step.title}: {what} in {spent:.1f} s "
            f"(elapsed {_fmt(time.time() - t_start)}, about {_fmt(eta)} left)"
            + (f" -- {section.error.splitlines()[0]}" if section.error else ""))

    sections = run_steps(steps, ctx, report)
    write_json(record_file, {"preset": preset, "dataset": dataset, "seed": seed, "data": data,
                             "steps": {s.key: {"status": s.status, "seconds": s.seconds} for s in sections}})
    meta = {"preset": dataclasses.asdict(p), "dataset": dataset, "seed": seed, "device": _device(),
            "image_shape": "x".join(map(str, ctx.image_shape)),
            "labels": f"{len(ctx.classes)} classes" if ctx.labelled else "none",
            "skipped": [f"{s.title}: {s.error}" for s in sections if s.status == "skipped"],
            "environment": environment(), "python": platform.python_version(),
            "total_seconds": round(sum(s.seconds for s in sections), 1),
            "created": time.strftime("%Y-%m-%d %H:%M:%S")}
    report = render_report(sections, meta, out / "report.html")
    return report, sections


def run_steps(steps: list[Step], ctx: Context, report: Callable[[int, Step, Section], None] | None = None,
              workers: int = 1) -> list[Section]:
    """Run `steps` in order (a finished one is reused from OUT/steps/<key>.json, a failing one recorded and the
    steps that do not need it still run); `report(i, step, section)` after each. The study's engine, and
    compare's. With `workers` > 1, steps that need none of the steps not yet run go `workers` at a time, each
    in its own process on its share of the cores (the steps and ctx must pickle: module-level functions)."""
    report = report or (lambda i, step, section: None)
    done: dict[str, Section] = {}
    pending = list(steps)
    while pending:
        keys = {s.key for s in pending}
        wave = [s for s in pending if not keys & set(s.needs)] if workers > 1 else pending[:1]
        pending = [s for s in pending if s not in wave]
        earlier = list(done.values())
        if len(wave) == 1 or workers <= 1:
            for step in wave:
                done[step.key] = _run_step(step, ctx, earlier)
                report(len(done), step, done[step.key])
            continue
        from latentspace.training.parallel import threads_per_worker, worker_context

        threads, parent_env = threads_per_worker(min(workers, len(wave))), _parent_env()
        jobs = [(step, ctx, earlier, threads, parent_env) for step in wave]
        with worker_context("latentspace.commands.study.engine").Pool(min(workers, len(wave))) as pool:
            for step, (section, results) in zip(wave, pool.imap(_step_in_worker, jobs)):
                ctx.results.update(results)
                done[step.key] = section
                report(len(done), step, section)
    return [done[s.key] for s in steps]


def _parent_env() -> dict:
    """The environment a worker must see that a forkserver started earlier would not have (an open MLflow
    parent run)."""
    import os

    from latentspace.training.tracking import PARENT_ENV

    return {k: os.environ[k] for k in (PARENT_ENV,) if k in os.environ}


def _step_in_worker(args) -> tuple[Section, dict]:
    import os

    import torch

    step, ctx, earlier, threads, env = args
    os.environ.update(env)
    torch.set_num_threads(threads)
    section = _run_step(step, ctx, earlier)
    return section, {k: v for k, v in ctx.results.items() if k.startswith(step.key)}


def study_data(dataset: str, seed: int, data: dict):
    """The study's data, loaded once up front: a bad dataset is refused before any step runs."""
    from latentspace.data.images import load_splits

    options = {k: v for k, v in data.items() if k in ("image_size", "channels")}
    return load_splits(dataset, data.get("data_dir"), data.get("download", True), seed=seed, **options)


_study_data = study_data  # what run_study calls (its tests replace it)


def _run_step(step: Step, ctx: Context, earlier: list[Section]) -> Section:
    record = ctx.path("steps", f"{step.key}.json")
    if step.needs_labels and not ctx.labelled:
        return Section(step.key, step.title, status="skipped", by_design=True,
                       error=f"skipped: {ctx.dataset} has no labels, and this step learns or measures classes")
    failed = [s.title for s in earlier if s.key in step.needs and s.status != "done"]
    if failed:
        return Section(step.key, step.title, status="skipped", error=f"skipped: needs {', '.join(failed)}, which did "
                                                                     f"not finish")
    if record.is_file():
        try:
            section = _section_from_json(read_json(record))
            if all(Path(f.path).is_file() for f in section.figures):
                section.reused = True
                ctx.results.update(read_json(record).get("results", {}))
                return section
        except (KeyError, TypeError, json.JSONDecodeError):
            pass  # an unreadable record: run the step again
    t0 = time.time()
    try:
        section = step.run(ctx)
    except Exception as e:  # a failing step is reported and the study goes on
        detail = str(e) if isinstance(e, LatentspaceError) else "".join(
            traceback.format_exception_only(type(e), e)).strip()
        print(f"study: step {step.key} failed: {detail}", file=sys.stderr)
        if not isinstance(e, LatentspaceError):
            traceback.print_exc(file=sys.stderr)
        return Section(step.key, step.title, status="failed", error=detail, seconds=time.time() - t0)
    section.seconds = time.time() - t0
    section.key, section.title = step.key, step.title
    data = dataclasses.asdict(section)
    data["results"] = {k: v for k, v in ctx.results.items() if k.startswith(step.key)}
    write_json(record, data)
    return section


def _section_from_json(data: dict) -> Section:
    fields = {f.name for f in dataclasses.fields(Section)}
    s = Section(**{k: v for k, v in data.items() if k in fields})
    s.figures = [Figure(**f) for f in s.figures]
    s.tables = [Table(**t) for t in s.tables]
    return s


def _fmt(seconds: float) -> str:
    m, s = divmod(int(round(seconds)), 60)
    return f"{m}:{s:02d}"


def _device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"
