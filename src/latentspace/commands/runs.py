"""`latentspace runs [DIR]`: every run directory under DIR (studies, sweeps and searches nest them) as one
table: kind, dataset, latent size, epochs, training time, best validation loss and, from evaluation.json
when the run was evaluated, test MSE, FID, KID, precision and recall.

It reads only each run's small JSON files (config.json, summary.json, evaluation.json): no checkpoint, no
torch (tests/commands/test_runs.py checks the imports), so it answers at once; 200 runs take
benchmarks/runs_table.py's figure. A run without summary.json is unfinished; one whose JSON cannot be read
is listed as damaged; a directory that is not a run is passed through.
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path

from latentspace.errors import LatentspaceError

METRICS = ("best_val_loss", "test_mse", "fid", "kid", "precision", "recall")
HIGHER_IS_BETTER = ("precision", "recall")
SORT_KEYS = ("run", "kind", "dataset", "latent", "epochs", "time", *METRICS)
_KEY = {"time": "train_time_s"}  # a column's key in a row (--json) where the two names differ
# inside a run: what never holds a run (and can hold thousands of files: progress frames, logs)
_NOT_RUNS = {"checkpoints", "figures", "logs", "embeddings", "mlartifacts", "mlruns", "__pycache__"}


def _read(path: Path):
    """(the JSON, None), (None, None) when absent, (None, problem) when unreadable."""
    try:
        with open(path) as f:
            return json.load(f), None
    except FileNotFoundError:
        return None, None
    except (OSError, ValueError) as e:
        return None, f"{path.name}: {type(e).__name__}"


def _latent(kind, model_config: dict):
    from latentspace.models import MODELS  # torch-free: the registry of specs

    spec = MODELS.get(kind)
    value = model_config.get(spec.latent_field) if spec is not None and spec.latent_field else None
    return value if isinstance(value, (int, float)) else None


def _number(value):
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) \
        else None


def describe(path: Path, root: Path) -> dict | None:
    """One row for a run directory, or None when `path` is not one."""
    config, problem = _read(path / "config.json")
    if config is None and problem is None:
        return None
    if problem is None and not (isinstance(config, dict) and "model" in config):
        if not any((path / name).exists() for name in ("summary.json", "metrics.csv", "checkpoints")):
            return None  # someone else's config.json
        problem = "config.json: not a latentspace run config"
    row = {"run": path.relative_to(root).as_posix() if path != root else ".", "path": str(path),
           "status": "damaged", "kind": None, "dataset": None, "latent": None, "epochs": None,
           "epochs_planned": None, "train_time_s": None, "wall_time_s": None, **dict.fromkeys(METRICS)}
    if problem:
        return {**row, "problem": problem}
    train = config.get("train") if isinstance(config.get("train"), dict) else {}
    model_config = config.get("model_config") if isinstance(config.get("model_config"), dict) else {}
    summary, problem = _read(path / "summary.json")
    evaluation, eval_problem = _read(path / "evaluation.json")
    problem = problem or eval_problem
    summary = summary if isinstance(summary, dict) else {}
    evaluation = evaluation if isinstance(evaluation, dict) else {}
    row.update({
        "status": "damaged" if problem else "finished" if (path / "summary.json").is_file() else "unfinished",
        "kind": config.get("model"),
        "dataset": config.get("dataset") or train.get("dataset"),
        "latent": _latent(config.get("model"), model_config),
        "epochs": _number(summary.get("epochs_completed")),
        "epochs_planned": _number(train.get("epochs")),
        "train_time_s": _number(summary.get("train_time_s")),
        "wall_time_s": _number(summary.get("wall_time_s")),
        "best_val_loss": _number(summary.get("best_val_loss")),
        **{k: _number(evaluation.get(k)) for k in METRICS if k != "best_val_loss"},
    })
    if problem:
        row["problem"] = problem
    tracked = config.get("tracking")
    if isinstance(tracked, dict) and tracked.get("run_id"):
        row["mlflow_run_id"] = tracked["run_id"]
    return row


def find_runs(root: Path):
    """Run directories under `root`, itself included, depth first in name order; symbolic links to
    directories are not followed (a search's best/ would list its trial twice)."""
    stack = [root]
    while stack:
        path = stack.pop()
        row = describe(path, root)
        if row is not None:
            yield row
        try:
            with os.scandir(path) as entries:
                subdirs = sorted(e.name for e in entries if e.is_dir(follow_symlinks=False)
                                 and not e.name.startswith(".") and e.name not in _NOT_RUNS)
        except OSError:
            continue
        stack.extend(path / name for name in reversed(subdirs))


def list_runs(directory="runs", sort: str | None = None) -> list[dict]:
    """The rows of every run under `directory`, by path, or best first by `sort` (one of SORT_KEYS: lowest
    first, but highest precision and recall; runs without that value last)."""
    if sort is not None and sort not in SORT_KEYS:
        raise LatentspaceError(f"--sort {sort}: not a column; choose one of {', '.join(SORT_KEYS)}")
    root = Path(directory)
    if not root.is_dir():
        raise LatentspaceError(f"{directory}: no such directory")
    rows = sorted(find_runs(root), key=lambda r: r["run"])
    if sort is not None:
        key = _KEY.get(sort, sort)
        present = [r for r in rows if r[key] is not None]
        present.sort(key=lambda r: r[key], reverse=sort in HIGHER_IS_BETTER)
        rows = present + [r for r in rows if r[key] is None]
    return rows


def _dataset(name) -> str | None:
    if isinstance(name, str) and name.startswith("folder:"):
        return "folder:" + Path(name[len("folder:"):]).name  # the whole path is in --json
    return name


def _duration(seconds) -> str | None:
    if seconds is None:
        return None
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, s = divmod(round(seconds), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{s:02d}" if minutes >= 60 else f"{minutes}:{s:02d}"


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def format_table(rows: list[dict], directory="runs") -> str:
    """A plain-text table, one run a line; the column names are what --sort takes."""
    if not rows:
        return f"no runs under {directory}"
    header = ["run", "status", "kind", "dataset", "latent", "epochs", "time", *METRICS]
    body = [[r["run"], r["status"], _cell(r["kind"]), _cell(_dataset(r["dataset"])), _cell(r["latent"]),
             _cell(r["epochs"]), _cell(_duration(r["train_time_s"])), *(_cell(r[m]) for m in METRICS)] for r in rows]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    numeric = {header.index(c) for c in ("latent", "epochs", "time", *METRICS)}
    lines = ["  ".join(cell.rjust(w) if i in numeric else cell.ljust(w) for i, (cell, w) in
                       enumerate(zip(line, widths))).rstrip() for line in [header, *body]]
    damaged = sum(r["status"] == "damaged" for r in rows)
    unfinished = sum(r["status"] == "unfinished" for r in rows)
    lines.append(f"{len(rows)} runs" + (f", {unfinished} unfinished" if unfinished else "")
                 + (f", {damaged} damaged (--json says why)" if damaged else ""))
    return "\n".join(lines)
