"""Hyperparameter search with Optuna: random search as in the study (TPE as the alternative), median pruning,
one study shared by many worker processes through a database, with a global trial budget.

    latentspace search ae --trials 30 --epochs-per-trial 5 --workers 2 --out runs/search-ae

Storage: an SQLite file `OUT/study.db` by default; `--storage URL` takes any SQLAlchemy URL that Optuna's
RDBStorage understands, e.g. `postgresql://user:pass@host:5432/db` (psycopg 3, the `postgres` extra; the
explicit form `postgresql+psycopg://...` works the same) or `mysql+pymysql://...`. An absolute SQLite path
takes four slashes: `sqlite:////abs/path/study.db`.

The budget (`--trials N`) is global: N trials in total over every worker on every machine. A worker takes
a lock, counts the trials already taken, and creates its trial (Optuna's ask) before letting go, so the count
and the new trial are one step: a file lock next to the SQLite file on one machine, a PostgreSQL advisory lock
(MySQL: GET_LOCK) when the study lives in a server shared by many machines. Optuna's MaxTrialsCallback checks
only after a trial ends, so W workers would overrun the budget by up to W-1 trials.

What counts toward the budget: completed, pruned and running trials, and trials that failed by their own fault
(e.g. the loss diverged). A trial whose worker was killed keeps no heartbeat; after 3 heartbeat intervals any
worker marks it FAILED and it does not count, so the others (or a re-run of the same command) make up for it.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import multiprocessing
import os
import socket
import sys
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import optuna
from lightning.pytorch.callbacks import Callback
from optuna.trial import TrialState

from latentspace.errors import LatentspaceError
from latentspace.models import MODELS
from latentspace.models.base import config_from_dict, validate_config
from latentspace.runs import read_json, write_json
from latentspace.search_space import (FID_SAMPLES, OBJECTIVES, apply_overrides, default_space, describe, space_differences,
                                      space_from_json, space_to_json)
from latentspace.train import TrainConfig

SAMPLERS = ("random", "tpe")
ATTR_MODEL, ATTR_SPACE, ATTR_FIXED = "latentspace.model", "latentspace.space", "latentspace.fixed"
COUNTED_STATES = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING, TrialState.WAITING)


@dataclass
class SearchSettings:
    """Everything one search (and each of its workers) needs; picklable, so workers get a copy."""
    kind: str = "ae"
    trials: int = 30
    sampler: str = "random"
    epochs_per_trial: int = 5
    out: str | None = None
    storage: str | None = None
    study: str | None = None
    workers: int = 1
    heartbeat: int = 30
    space: tuple = ()
    model: dict = field(default_factory=dict)  # model config fields that are not searched (e.g. width)
    train: TrainConfig = field(default_factory=TrainConfig)

    @property
    def out_dir(self) -> Path:
        return Path(self.out or f"runs/search-{self.kind}")

    @property
    def study_name(self) -> str:
        return self.study or self.kind

    @property
    def storage_url(self) -> str:
        return self.storage or f"sqlite:///{(self.out_dir / 'study.db').resolve()}"

    def grace_period(self) -> int:
        return 3 * self.heartbeat


# --------------------------------------------------------------------------------------------------- storage

def safe_url(url: str) -> str:
    """The URL with its password hidden, for messages and best.json."""
    try:
        import sqlalchemy

        return sqlalchemy.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparsable URL>"


def open_storage(url: str, heartbeat: int | None = None, grace: int | None = None):
    """Optuna's RDBStorage for `url`; every way it can fail becomes one LatentspaceError line."""
    import sqlalchemy
    import sqlalchemy.exc

    try:
        parsed = sqlalchemy.engine.make_url(url)
    except sqlalchemy.exc.ArgumentError:
        raise LatentspaceError(f"--storage {url!r} is not a database URL (e.g. sqlite:////abs/path/study.db or "
                               f"postgresql://user:password@host:5432/dbname)") from None
    backend = parsed.get_backend_name()
    engine_kwargs: dict = {"pool_pre_ping": True}
    if backend == "sqlite":
        engine_kwargs["connect_args"] = {"timeout": 60}  # writers queue instead of failing with "database is locked"
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    elif backend in ("postgresql", "mysql", "mariadb"):
        engine_kwargs["connect_args"] = {"connect_timeout": 10}
    shown = safe_url(url)
    try:
        for attempt in range(3):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                    return optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs,
                                                      heartbeat_interval=heartbeat, grace_period=grace)
            except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.ProgrammingError,
                    sqlalchemy.exc.OperationalError) as e:
                # two processes creating Optuna's tables in a fresh database at once: the loser tries again
                racing = isinstance(e, sqlalchemy.exc.IntegrityError) or "already exists" in str(e)
                if not racing or attempt == 2:
                    raise
                time.sleep(0.5 * (attempt + 1))
    except sqlalchemy.exc.NoSuchModuleError:
        raise LatentspaceError(f"--storage {shown}: unknown database kind {parsed.drivername!r}") from None
    except ImportError:
        hint = " (pip install 'psycopg[binary]', the latentspace[postgres] extra)" if backend == "postgresql" else ""
        raise LatentspaceError(f"--storage {shown}: the database driver for {parsed.drivername!r} is not "
                               f"installed{hint}") from None
    except sqlalchemy.exc.SQLAlchemyError as e:
        reason = str(getattr(e, "orig", None) or e).strip().splitlines()
        raise LatentspaceError(f"cannot use the database {shown}: {reason[0] if reason else type(e).__name__}") \
            from None
    except Exception as e:  # Optuna's schema check (a database of another Optuna version), ...
        raise LatentspaceError(f"cannot use the database {shown}: {type(e).__name__}: {e}".splitlines()[0]) \
            from None


class BudgetLock:
    """The lock around "count the trials, then create one". A file lock for SQLite (workers on one machine), a
    PostgreSQL advisory lock or a MySQL named lock for a server shared by many machines."""

    def __init__(self, url: str, study_name: str, out: Path):
        import sqlalchemy

        parsed = sqlalchemy.engine.make_url(url)
        self.backend = parsed.get_backend_name()
        self._file = self._engine = self._conn = None
        key = hashlib.sha256(f"latentspace-search:{study_name}".encode()).digest()
        self.key = int.from_bytes(key[:8], "big", signed=True)  # a bigint for pg_advisory_lock
        self.name = f"latentspace:{key.hex()[:40]}"  # MySQL lock names: at most 64 characters
        if self.backend in ("postgresql", "mysql", "mariadb"):
            self._engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool,
                                                    isolation_level="AUTOCOMMIT",
                                                    connect_args={"connect_timeout": 10})
        else:
            import filelock

            db = parsed.database if self.backend == "sqlite" else None
            path = Path(db + ".lock") if db and db != ":memory:" else Path(out) / ".search.lock"
            if self.backend != "sqlite":
                print(f"latentspace: warning: no database lock for {self.backend}; the trial budget is exact only "
                      f"for workers on this machine", file=sys.stderr)
            self._file = filelock.FileLock(str(path))

    def __enter__(self):
        if self._file is not None:
            self._file.acquire()
            return self
        import sqlalchemy

        if self._conn is None:
            self._conn = self._engine.connect()  # one session per worker: the lock is the session's
        if self.backend == "postgresql":
            self._conn.execute(sqlalchemy.text("SELECT pg_advisory_lock(:k)"), {"k": self.key})
        else:
            self._conn.execute(sqlalchemy.text("SELECT GET_LOCK(:n, -1)"), {"n": self.name})
        return self

    def __exit__(self, *exc):
        if self._file is not None:
            self._file.release()
            return False
        import sqlalchemy

        sql = "SELECT pg_advisory_unlock(:k)" if self.backend == "postgresql" else "SELECT RELEASE_LOCK(:n)"
        self._conn.execute(sqlalchemy.text(sql), {"k": self.key, "n": self.name})
        return False

    def close(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._engine is not None:
            self._engine.dispose()


# --------------------------------------------------------------------------------------------------- samplers

class TrialSeededRandomSampler(optuna.samplers.BaseSampler):
    """Random search whose draws depend only on (seed, trial number), so a study's trials are the same whichever
    worker runs them and however many workers there are."""

    def __init__(self, seed: int):
        self.seed = seed
        self._number = None
        self._inner = None

    def infer_relative_search_space(self, study, trial):
        return {}

    def sample_relative(self, study, trial, search_space):
        return {}

    def before_trial(self, study, trial):
        seed = int(np.random.SeedSequence([self.seed, trial.number]).generate_state(1)[0])
        self._inner, self._number = optuna.samplers.RandomSampler(seed=seed), trial.number

    def sample_independent(self, study, trial, param_name, param_distribution):
        if self._number != trial.number:
            self.before_trial(study, trial)
        return self._inner.sample_independent(study, trial, param_name, param_distribution)


def make_sampler(name: str, seed: int, worker: int = 0, existing: int = 0):
    if name == "random":
        return TrialSeededRandomSampler(seed)
    if name == "tpe":
        # TPE draws from the history, which differs between workers: seed each worker (and each resumption)
        # apart; constant_liar keeps parallel workers from proposing the same point.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.samplers.TPESampler(seed=int(np.random.SeedSequence([seed, worker, existing])
                                                       .generate_state(1)[0]), constant_liar=True)
    raise LatentspaceError(f"--sampler must be one of {', '.join(SAMPLERS)}, got {name!r}")


def make_pruner():
    # The median rule once 5 trials have finished, from the 2nd reported epoch on.
    return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1)


# --------------------------------------------------------------------------------------------------- pruning

class PruningCallback(Callback):
    """Reports the monitored validation metric to the trial after every validation epoch and stops training
    when the pruner says the trial is hopeless. It stops Lightning the ordinary way (should_stop), so the run
    directory is finished as usual; the objective then reports the trial as pruned.

    (optuna-integration's PyTorchLightningPruningCallback does the same; it is not a dependency here.)
    """

    def __init__(self, trial: optuna.Trial, monitor: str = "val_loss"):
        self.trial, self.monitor = trial, monitor
        self.pruned_at: int | None = None

    @property
    def pruned(self) -> bool:
        return self.pruned_at is not None

    def on_validation_end(self, trainer, pl_module):
        if trainer.sanity_checking or not trainer.is_global_zero:
            return
        value = trainer.callback_metrics.get(self.monitor)
        if value is None:
            return
        epoch = trainer.current_epoch
        try:
            self.trial.report(float(value), step=epoch)
        except optuna.exceptions.UpdateFinishedTrialError:  # failed meanwhile as stale: its result will be dropped
            trainer.should_stop = True
            return
        if self.trial.should_prune():
            self.pruned_at = epoch
            trainer.should_stop = True


def train_objective(trial: optuna.Trial, settings: SearchSettings, run_dir: Path) -> float:
    """Train one model with the trial's parameters into `run_dir`; its best validation loss is the objective."""
    from latentspace.train import fit

    cls = MODELS[settings.kind]
    model_config = config_from_dict(cls.config_cls, {**settings.model, **trial.params})
    train = dataclasses.replace(settings.train, epochs=settings.epochs_per_trial, early_stopping=0, devices=1,
                                max_time=None)
    pruning = PruningCallback(trial, getattr(cls, "monitor", None) or "val_loss")
    run = fit(settings.kind, model_config, train, out=run_dir, progress=False, callbacks=[pruning])
    if pruning.pruned:
        raise optuna.TrialPruned(f"pruned after epoch {pruning.pruned_at + 1}")
    if OBJECTIVES.get(settings.kind) == "fid":
        return sample_fid(run, train)
    value = run.summary().get("best_val_loss") if run.finished else None
    if value is None:
        raise LatentspaceError("the trial ended without a finite validation loss")
    return float(value)


def sample_fid(run, train) -> float:
    """FID of FID_SAMPLES samples of the run's final model against the test set (the GAN objective)."""
    from latentspace.analysis.model_samples import model_samples
    from latentspace.analysis.quality import sample_quality
    from latentspace.runs import load_run, merge_json

    model, _ = load_run(run.path, checkpoint="last")
    samples, _ = model_samples(model, FID_SAMPLES, seed=train.seed)
    fid = sample_quality(samples, train.dataset, n=FID_SAMPLES, seed=train.seed)["fid"]
    merge_json(run.path / "evaluation.json", {"fid": fid, "n_samples": FID_SAMPLES})
    return float(fid)


# --------------------------------------------------------------------------------------------------- workers

def budget_count(trials) -> tuple[int, int]:
    """(trials that count toward the budget, trials running now)."""
    counted = sum(1 for t in trials if t.state in COUNTED_STATES
                  or (t.state == TrialState.FAIL and t.user_attrs.get("counted")))
    return counted, sum(1 for t in trials if t.state == TrialState.RUNNING)


def fail_stale_trials(study) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)


class Heartbeat:
    """Records the trial's heartbeat every `interval` seconds while it runs (Optuna's optimize does this
    itself; the ask-and-tell loop here must)."""

    def __init__(self, storage, trial_id: int, interval: int):
        self.storage, self.trial_id, self.interval = storage, trial_id, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True, name=f"heartbeat-{trial_id}")

    def _beat(self):
        while not self._stop.wait(self.interval):
            try:
                self.storage.record_heartbeat(self.trial_id)
            except Exception:  # a database hiccup must not end the training; the next beat tries again
                pass

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        return False


def work(settings: SearchSettings, worker: int = 0, objective: Callable | None = None, log=print) -> int:
    """One worker: take trials from the study until the global budget is spent. Returns how many it ran."""
    objective = objective or train_objective
    storage = open_storage(settings.storage_url, settings.heartbeat, settings.grace_period())
    space = space_from_json(_load_attrs(storage, settings.study_name)[ATTR_SPACE])
    existing = len(storage.get_all_trials(storage.get_study_id_from_name(settings.study_name), deepcopy=False))
    study = optuna.load_study(study_name=settings.study_name, storage=storage, pruner=make_pruner(),
                              sampler=make_sampler(settings.sampler, settings.train.seed, worker, existing))
    lock = BudgetLock(settings.storage_url, settings.study_name, settings.out_dir)
    out = settings.out_dir
    me = f"{socket.gethostname()}:{os.getpid()}"
    ran, failures = 0, []
    try:
        while True:
            with lock:
                fail_stale_trials(study)
                counted, running = budget_count(storage.get_all_trials(study._study_id, deepcopy=False))
                trial = None
                if counted < settings.trials:
                    with warnings.catch_warnings():  # "heartbeat is supposed to be used with optimize": see Heartbeat
                        warnings.filterwarnings("ignore", ".*Heartbeat of storage.*")
                        trial = study.ask(fixed_distributions=space)
                    run_dir = (out / "trials" / f"{trial.number:04d}").resolve()
                    trial.set_user_attr("worker", me)
                    trial.set_user_attr("pid", os.getpid())
                    trial.set_user_attr("run_dir", str(run_dir))
                    storage.record_heartbeat(trial._trial_id)  # from now on a silent trial is a dead one
            if trial is None:
                if running == 0:
                    return ran
                time.sleep(min(settings.heartbeat, 5))  # the last trials run elsewhere: wait for their outcome
                continue
            ran += 1
            failures.append(_run_trial(study, storage, trial, settings, objective, run_dir, worker, log))
            if len(failures) >= 3 and failures[-1] and failures[-3:] == [failures[-1]] * 3:
                # the same error three times in a row is the set-up's, not the trials': stop spending the budget
                raise LatentspaceError(f"three trials in a row failed: {failures[-1]}")
    finally:
        lock.close()


def _run_trial(study, storage, trial, settings, objective, run_dir, worker, log) -> str | None:
    """Run and tell one trial; returns the error of a trial that failed by its own fault."""
    t0 = time.time()
    state, value, error, reraise = TrialState.FAIL, None, None, None
    with Heartbeat(storage, trial._trial_id, settings.heartbeat):
        try:
            value = objective(trial, settings, run_dir)
            state = TrialState.COMPLETE
        except optuna.TrialPruned as e:
            state, error = TrialState.PRUNED, str(e)
        except LatentspaceError as e:  # the trial's own failure (e.g. a diverged loss): it used its budget
            error = str(e)
            _set_attrs(trial, error=error, counted=True)
        except BaseException as e:  # a bug or Ctrl-C (Lightning turns it into SystemExit): not counted
            error = f"{type(e).__name__}: {e}"
            reraise = KeyboardInterrupt() if isinstance(e, (KeyboardInterrupt, SystemExit)) else e
            _set_attrs(trial, error=error)
    try:
        study.tell(trial, value if state == TrialState.COMPLETE else None, state=state)
    except optuna.exceptions.UpdateFinishedTrialError:
        log(f"[worker {worker}] trial {trial.number}: another worker marked it failed (no heartbeat for "
            f"{settings.grace_period()} s); its result is dropped")
        state = None
    if state is not None:
        shown = f"{value:.6g}" if value is not None else (error or "")
        params = ", ".join(f"{k}={_short(v)}" for k, v in trial.params.items())
        log(f"[worker {worker}] trial {trial.number}: {state.name.lower()} {shown}  ({params})  "
            f"{time.time() - t0:.1f} s")
    if reraise is not None:
        raise reraise
    return error if state == TrialState.FAIL else None


def _set_attrs(trial, **attrs):
    for k, v in attrs.items():
        try:
            trial.set_user_attr(k, v)
        except optuna.exceptions.UpdateFinishedTrialError:
            pass


def _short(v):
    return f"{v:.3g}" if isinstance(v, float) else v


def _worker_main(settings: SearchSettings, worker: int, objective, errors) -> None:
    """Entry of a worker process: its share of the CPU cores, then the loop; user errors go back as text."""
    import torch

    torch.set_num_threads(max(1, (os.cpu_count() or 1) // settings.workers))
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        work(settings, worker, objective, log=lambda line: print(line, flush=True))
    except LatentspaceError as e:
        errors.put(f"worker {worker}: {e}")
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)


def _mp_context():
    """forkserver where there is one: workers start from a clean process that imported torch and Lightning once
    (a plain fork of a process that already trained is not safe with OpenMP; spawn re-imports everything)."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["latentspace.search", "latentspace.train"])
        return ctx
    return multiprocessing.get_context("spawn")


# --------------------------------------------------------------------------------------------------- the study

def _fixed_settings(settings: SearchSettings, space) -> dict:
    """What makes trials comparable, besides the space: a worker that differs may not join."""
    t = settings.train
    full = dataclasses.asdict(config_from_dict(MODELS[settings.kind].config_cls, settings.model))
    model = {k: v for k, v in full.items() if k not in space}
    return {"epochs_per_trial": settings.epochs_per_trial, "batch_size": t.batch_size, "seed": t.seed,
            "limit_train": t.limit_train, "dataset": t.dataset, "precision": t.precision, "model": model}


def _load_attrs(storage, study_name: str) -> dict:
    try:
        study_id = storage.get_study_id_from_name(study_name)
    except KeyError:
        raise LatentspaceError(f"no study {study_name!r} in the database") from None
    return storage.get_study_user_attrs(study_id)


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
    if kind not in MODELS:
        raise LatentspaceError(f"unknown model {kind!r}; choose one of {', '.join(MODELS)}")
    cls = MODELS[kind]
    for name, value, low in (("--trials", settings.trials, 1), ("--epochs-per-trial", settings.epochs_per_trial, 1),
                             ("--workers", settings.workers, 1), ("--heartbeat", settings.heartbeat, 1)):
        if value is None or value < low:
            raise LatentspaceError(f"{name} must be at least {low}, got {value}")
    if settings.sampler not in SAMPLERS:
        raise LatentspaceError(f"--sampler must be one of {', '.join(SAMPLERS)}, got {settings.sampler!r}")
    if settings.train.devices != 1:
        raise LatentspaceError("a search trains each trial on one device; use --workers for parallel trials")
    space = apply_overrides(default_space(kind), settings.space, cls.config_cls)
    validate_config(settings.train)
    for values in (_first_choice(space), _last_choice(space)):
        validate_config(config_from_dict(cls.config_cls, {**settings.model, **values}))
    return space


def _first_choice(space):
    return {k: d.choices[0] if hasattr(d, "choices") else d.low for k, d in space.items()}


def _last_choice(space):
    return {k: d.choices[-1] if hasattr(d, "choices") else d.high for k, d in space.items()}


def run_search(settings: SearchSettings, objective: Callable | None = None, log=print) -> dict:
    """Create or join the study, run `settings.workers` workers until the global budget is spent, write the
    reports (see latentspace.search_report). Returns the report summary (best trial, counts, files)."""
    from latentspace.search_report import write_reports

    optuna.logging.set_verbosity(optuna.logging.WARNING)  # the lines below say what happens
    space = validate(settings)
    _check_out(settings)
    prepare_study(settings, space)
    _check_out(settings, claim=True)
    if objective is None:  # a missing dataset is one error here, not N failed trials
        from latentspace import data as D

        t = settings.train
        D.load_splits(t.dataset, t.data_dir, t.download, seed=t.seed, limit_train=t.limit_train)
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
    ctx = _mp_context()
    errors = ctx.SimpleQueue()
    procs = [ctx.Process(target=_worker_main, args=(settings, i, objective, errors), name=f"latentspace-search-{i}")
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
