"""Running a search: its settings, the checks before any worker starts, creating or joining the study, and the
worker processes."""
from __future__ import annotations

import dataclasses
import json
from typing import Callable

import optuna

from latentspace.commands.search.report import write_reports
from latentspace.commands.search.settings import SearchSettings
from latentspace.commands.search.space import (
    apply_overrides,
    default_space,
    describe,
    space_differences,
    space_from_json,
    space_to_json,
)
from latentspace.commands.search.storage import BudgetLock, open_storage, safe_url
from latentspace.commands.search.workers import (
    ATTR_FIXED,
    ATTR_MODEL,
    ATTR_SPACE,
    SAMPLERS,
    work,
    worker_main,
)
from latentspace.config import config_from_dict, validate_config
from latentspace.errors import LatentspaceError
from latentspace.io import read_json, write_json
from latentspace.models import get_spec
from latentspace.training.parallel import worker_context


def _fixed_settings(settings: SearchSettings, space) -> dict:
    """What makes trials comparable, besides the space: a worker that differs may not join."""
    t = settings.train
    full = dataclasses.asdict(config_from_dict(get_spec(settings.kind).config_cls, settings.model))
    model = {k: v for k, v in full.items() if k not in space}
    return {"epochs_per_trial": settings.epochs_per_trial, "batch_size": t.batch_size, "seed": t.seed,
            "limit_train": t.limit_train, "dataset": t.dataset, "precision": t.precision, "model": model}


def prepare_study(settings: SearchSettings, space: dict) -> optuna.Study:
    """Create the study or join it; joining one whose model, space or fixed settings differ is an error."""
    storage = open_storage(settings.storage_url)
    name = settings.study_name
    ours = {ATTR_MODEL: settings.kind, ATTR_SPACE: space_to_json(space),
            ATTR_FIXED: json.dumps(_fixed_settings(settings, space), sort_keys=True)}
    lock = BudgetLock(settings.storage_url, name, settings.out_dir)
    try:
        with lock:
            study = optuna.create_study(study_name=name, storage=storage, direction="minimize", load_if_exists=True)
            if study.direction != optuna.study.StudyDirection.MINIMIZE:
                raise LatentspaceError(f"study {name!r} maximises; a latentspace search minimises")
            attrs = study.user_attrs
            if ATTR_SPACE not in attrs:
                if study.trials:
                    raise LatentspaceError(f"study {name!r} already has trials but was not made by latentspace "
                                           f"search; choose another --study")
                for k, v in ours.items():
                    study.set_user_attr(k, v)
                return study
    finally:
        lock.close()
    if attrs.get(ATTR_MODEL) != settings.kind:
        raise LatentspaceError(f"study {name!r} searches the {attrs.get(ATTR_MODEL)} model, not {settings.kind}; "
                               f"choose another --study")
    if attrs[ATTR_SPACE] != ours[ATTR_SPACE]:
        diffs = space_differences(space, space_from_json(attrs[ATTR_SPACE]))
        raise LatentspaceError(f"study {name!r} has a different search space ({'; '.join(diffs)}); use the same "
                               f"--space or another --study")
    if attrs.get(ATTR_FIXED) != ours[ATTR_FIXED]:
        theirs, mine = json.loads(attrs[ATTR_FIXED]), json.loads(ours[ATTR_FIXED])
        diffs = [f"{k}: {mine.get(k)} here, {theirs.get(k)} in the study" for k in sorted(set(theirs) | set(mine))
                 if theirs.get(k) != mine.get(k)]
        raise LatentspaceError(f"study {name!r} was run with other settings ({'; '.join(diffs)}); use the same "
                               f"settings or another --study")
    return study


def _check_out(settings: SearchSettings, claim: bool = False) -> None:
    """One output directory holds one study: its trials/NNNN, reports and best link belong together.
    `claim` marks the directory as this study's (once the study is known to be usable)."""
    out = settings.out_dir
    marker = out / "search.json"
    mine = {"study": settings.study_name, "storage": safe_url(settings.storage_url), "model": settings.kind}
    if marker.is_file():
        theirs = read_json(marker)
        if (theirs.get("study"), theirs.get("storage")) != (mine["study"], mine["storage"]):
            raise LatentspaceError(f"{out} holds the search of study {theirs.get('study')!r} "
                                   f"({theirs.get('storage')}); choose another --out")
        return
    if out.is_dir() and any(p.name not in ("study.db", "study.db.lock") for p in out.iterdir()):
        raise LatentspaceError(f"{out} exists and is not a search directory; choose another --out")
    if out.exists() and not out.is_dir():
        raise LatentspaceError(f"--out {out} is a file")
    if claim:
        write_json(marker, mine)


def validate(settings: SearchSettings) -> dict:
    """Check everything a worker would otherwise trip over; returns the search space."""
    kind = settings.kind
    spec = get_spec(kind)
    for name, value, low in (("--trials", settings.trials, 1), ("--epochs-per-trial", settings.epochs_per_trial, 1),
                             ("--workers", settings.workers, 1), ("--heartbeat", settings.heartbeat, 1)):
        if value is None or value < low:
            raise LatentspaceError(f"{name} must be at least {low}, got {value}")
    if settings.sampler not in SAMPLERS:
        raise LatentspaceError(f"--sampler must be one of {', '.join(SAMPLERS)}, got {settings.sampler!r}")
    if settings.train.devices != 1:
        raise LatentspaceError("a search trains each trial on one device; use --workers for parallel trials")
    space = apply_overrides(default_space(kind), settings.space, spec.config_cls)
    validate_config(settings.train)
    for values in (_first_choice(space), _last_choice(space)):
        validate_config(config_from_dict(spec.config_cls, {**settings.model, **values}))
    return space


def _first_choice(space):
    return {k: d.choices[0] if hasattr(d, "choices") else d.low for k, d in space.items()}


def _last_choice(space):
    return {k: d.choices[-1] if hasattr(d, "choices") else d.high for k, d in space.items()}


def run_search(settings: SearchSettings, objective: Callable | None = None, log=print) -> dict:
    """Create or join the study, run `settings.workers` workers until the global budget is spent, write the
    reports (see `report`). Returns the report summary (best trial, counts, files)."""

    optuna.logging.set_verbosity(optuna.logging.WARNING)  # the lines below say what happens
    space = validate(settings)
    _check_out(settings)
    prepare_study(settings, space)
    _check_out(settings, claim=True)
    if objective is None:  # a missing dataset is one error here, not N failed trials
        from latentspace.data.images import load_splits

        t = settings.train
        load_splits(t.dataset, t.data_dir, t.download, seed=t.seed, limit_train=t.limit_train,
                    image_size=t.image_size, channels=t.channels)
    log(f"study {settings.study_name!r} in {safe_url(settings.storage_url)}: {settings.trials} trials, "
        f"{settings.sampler} sampler, {settings.workers} worker(s), {settings.epochs_per_trial} epoch(s) each")
    for name, dist in space.items():
        log(f"  {name}: {describe(dist)}")
    problems = []
    if settings.workers == 1:
        work(settings, 0, objective, log=log)
    else:
        problems = _run_workers(settings, objective)
    return write_reports(settings, space, problems)


def _run_workers(settings: SearchSettings, objective) -> list[str]:
    ctx = worker_context("latentspace.commands.search.workers")
    errors = ctx.SimpleQueue()
    procs = [ctx.Process(target=worker_main, args=(settings, i, objective, errors), name=f"latentspace-search-{i}")
             for i in range(settings.workers)]
    for p in procs:
        p.start()
    try:
        for p in procs:
            p.join()
    except KeyboardInterrupt:  # Ctrl-C reached the workers too: their trials end as failed, uncounted
        for p in procs:
            p.join(timeout=30)
        raise
    problems = []
    while not errors.empty():
        problems.append(errors.get())
    for i, p in enumerate(procs):
        if p.exitcode is not None and p.exitcode < 0:
            problems.append(f"worker {i} (pid {p.pid}) was killed by signal {-p.exitcode}; its trial is marked "
                            f"failed once its heartbeat is {settings.grace_period()} s old")
        elif p.exitcode not in (0, 2):
            problems.append(f"worker {i} (pid {p.pid}) stopped with exit code {p.exitcode}")
    user_errors = [e for e in problems if "killed by signal" not in e and "exit code" not in e]
    if user_errors and len(user_errors) == len(procs):
        raise LatentspaceError(user_errors[0])
    return problems
