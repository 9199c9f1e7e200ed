"""What a search leaves in its output directory, read back from the study (so any machine can write it):

  trials.csv / trials.md   every trial, best first (completed by objective, then pruned, running, failed)
  best.json                the best trial: value, parameters, full model config, its run directory
  table1.md                the best parameters in the form of the study's table 1
  figures/                 optimization_history.png, param_importances.png, parallel_coordinate.png
                           (Optuna's matplotlib visualisations)
  best -> trials/NNNN      the best trial's run directory, usable by every other command
"""
from __future__ import annotations

import csv
import dataclasses
import os
import shutil
import warnings
from pathlib import Path

import optuna
from optuna.trial import TrialState

from latentspace.commands.search.objective import FID_SAMPLES
from latentspace.commands.search.space import TABLE1_LABELS, describe, format_value
from latentspace.commands.search.storage import open_storage, safe_url
from latentspace.commands.search.workers import budget_count
from latentspace.config import config_from_dict
from latentspace.io import atomic_path, write_json, write_text
from latentspace.models import get_spec

STATE_ORDER = {TrialState.COMPLETE: 0, TrialState.PRUNED: 1, TrialState.RUNNING: 2, TrialState.WAITING: 3,
               TrialState.FAIL: 4}


def sort_trials(trials):
    """Completed by objective, then pruned by their last reported value, then the rest by number."""
    def key(t):
        value = t.value if t.state == TrialState.COMPLETE else (
            t.intermediate_values[max(t.intermediate_values)] if t.intermediate_values else float("inf"))
        return STATE_ORDER.get(t.state, 5), value if value is not None else float("inf"), t.number
    return sorted(trials, key=key)


def _duration(t) -> float | None:
    return round(t.duration.total_seconds(), 2) if t.duration is not None else None


def trial_rows(trials, params: list[str]) -> list[dict]:
    rows = []
    for t in sort_trials(trials):
        row = {"number": t.number, "state": t.state.name.lower(), "value": t.value,
               "epochs": len(t.intermediate_values)}
        row.update({p: t.params.get(p) for p in params})
        row.update({"duration_s": _duration(t), "worker": t.user_attrs.get("worker"),
                    "run_dir": t.user_attrs.get("run_dir"), "error": t.user_attrs.get("error")})
        rows.append(row)
    return rows


def write_trials_csv(rows: list[dict], path: Path) -> Path:
    columns = list(rows[0]) if rows else ["number", "state", "value"]
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, columns)
        w.writeheader()
        w.writerows(rows)
    return path


def write_trials_md(rows: list[dict], params: list[str], path: Path, title: str) -> Path:
    head = ["#", "state", "val loss", *[TABLE1_LABELS.get(p, p) for p in params], "epochs", "time (s)"]
    lines = [f"# {title}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        value = f"{r['value']:.6g}" if r["value"] is not None else ""
        cells = [str(r["number"]), r["state"], value, *[format_value(p, r[p]) if r[p] is not None else ""
                                                          for p in params],
                 str(r["epochs"]), "" if r["duration_s"] is None else f"{r['duration_s']:.1f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return write_text(path, "\n".join(lines) + "\n")


def table1(best_params: dict, params: list[str]) -> str:
    """The best parameters as the study's table 1: one header row, one value row."""
    head = [TABLE1_LABELS.get(p, p) for p in params]
    cells = [format_value(p, best_params.get(p)) for p in params]
    return "| " + " | ".join(head) + " |\n|" + "---|" * len(head) + "\n| " + " | ".join(cells) + " |\n"


def objective_name(kind: str) -> str:
    return f"FID ({FID_SAMPLES} samples)" if get_spec(kind).objective == "fid" else "validation loss"


def write_plots(study, figures: Path, target: str = "validation loss") -> tuple[list[Path], list[str]]:
    """Optuna's matplotlib visualisations; a plot that needs more finished trials is skipped with a note."""
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from optuna.importance import FanovaImportanceEvaluator
    from optuna.visualization import matplotlib as ovm

    from latentspace.figures.plots import save

    figures.mkdir(parents=True, exist_ok=True)
    written, notes = [], []
    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    plots = [("optimization_history.png", ovm.plot_optimization_history, 1),
             ("param_importances.png", ovm.plot_param_importances, 2),
             ("parallel_coordinate.png", ovm.plot_parallel_coordinate, 2)]
    for name, plot, needed in plots:
        if len(complete) < needed:
            notes.append(f"{name}: needs {needed} completed trials, the study has {len(complete)}")
            continue
        try:
            with matplotlib.rc_context(), warnings.catch_warnings():  # optuna switches the global style to ggplot
                warnings.simplefilter("ignore")
                kwargs = {"evaluator": FanovaImportanceEvaluator(seed=0)} if name == "param_importances.png" else {}
                ax = plot(study, target_name=target, **kwargs)
                ax = ax.flat[0] if hasattr(ax, "flat") else ax
                fig = ax.figure
                if name == "optimization_history.png":
                    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
                if name == "param_importances.png":
                    fig.set_size_inches(7, 0.5 * len(study.best_trial.params) + 2)
                else:
                    fig.set_size_inches(9, 5)
                written.append(save(fig, figures / name))
        except (ValueError, RuntimeError) as e:  # e.g. importances of parameters that never varied
            plt.close("all")
            notes.append(f"{name}: {e}".splitlines()[0])
    return written, notes


def link_best(out: Path, run_dir: str | None) -> Path | None:
    """OUT/best -> the best trial's run directory (a relative link; a copy where links are not possible)."""
    if not run_dir or not Path(run_dir, "summary.json").is_file():
        return None
    target, link = Path(run_dir), out / "best"
    try:
        rel = os.path.relpath(target, out.resolve())
    except ValueError:
        rel = str(target)
    tmp = out / ".best.tmp"
    try:
        if tmp.is_symlink() or tmp.exists():
            tmp.unlink()
        os.symlink(rel, tmp, target_is_directory=True)
        if link.is_dir() and not link.is_symlink():
            shutil.rmtree(link)
        os.replace(tmp, link)
    except OSError:
        if link.is_symlink():
            link.unlink()
        elif link.exists():
            shutil.rmtree(link)
        shutil.copytree(target, link)
    return link


def write_reports(settings, space: dict, problems=()) -> dict:
    """Read the study back and write every report; returns the summary that best.json holds."""
    storage = open_storage(settings.storage_url)
    study = optuna.load_study(study_name=settings.study_name, storage=storage)
    out = settings.out_dir
    trials = study.get_trials(deepcopy=False)
    params = list(space)
    rows = trial_rows(trials, params)
    counts = {s.name.lower(): sum(1 for t in trials if t.state == s) for s in STATE_ORDER}
    counted, running = budget_count(trials)
    files = [write_trials_csv(rows, out / "trials.csv"),
             write_trials_md(rows, params, out / "trials.md",
                             f"Search {settings.study_name!r}: {settings.kind}, {len(trials)} trials")]
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    best = min(complete, key=lambda t: t.value) if complete else None
    summary = {
        "study": settings.study_name, "storage": safe_url(settings.storage_url), "model": settings.kind,
        "objective": f"{objective_name(settings.kind)} (minimised)", "sampler": settings.sampler, "budget": settings.trials,
        "counted": counted, "finished": counted >= settings.trials and running == 0, "trials": counts,
        "epochs_per_trial": settings.epochs_per_trial,
        "space": {k: describe(d) for k, d in space.items()},
        "best": None, "problems": list(problems),
    }
    if best is not None:
        model_config = config_from_dict(get_spec(settings.kind).config_cls, {**settings.model, **best.params})
        summary["best"] = {"number": best.number, "value": best.value, "params": best.params,
                           "model_config": dataclasses.asdict(model_config),
                           "run_dir": best.user_attrs.get("run_dir"), "worker": best.user_attrs.get("worker")}
        table = table1(best.params, params)
        write_text(out / "table1.md", f"Result of the hyperparameter optimization ({settings.kind}, "
                                      f"{len(complete)} completed trials, {objective_name(settings.kind)} "
                                      f"{best.value:.5g})\n\n" + table)
        files.append(out / "table1.md")
        summary["table1"] = table
        link = link_best(out, best.user_attrs.get("run_dir"))
        summary["best"]["link"] = str(link) if link else None
    figures, notes = write_plots(study, out / "figures", objective_name(settings.kind))
    summary["figures"], summary["figure_notes"] = [str(f) for f in figures], notes
    files += figures
    write_json(out / "best.json", summary)
    summary["files"] = [str(f) for f in files] + [str(out / "best.json")]
    return summary
