"""The search's workers: each takes trials from the shared study (ask, run, tell) until the global budget is
spent, keeping a heartbeat so that a killed worker's trial is noticed and made up for."""
from __future__ import annotations

import os
import socket
import sys
import threading
import time
import warnings
from typing import Callable

import numpy as np
import optuna
from optuna.trial import TrialState

from latentspace.commands.search.objective import train_objective
from latentspace.commands.search.settings import SearchSettings
from latentspace.commands.search.space import space_from_json
from latentspace.commands.search.storage import (
    BudgetLock,
    load_study_attrs,
    open_storage,
)
from latentspace.errors import LatentspaceError
from latentspace.training.parallel import threads_per_worker

SAMPLERS = ("random", "tpe")
ATTR_MODEL, ATTR_SPACE, ATTR_FIXED = "latentspace.model", "latentspace.space", "latentspace.fixed"
COUNTED_STATES = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING, TrialState.WAITING)


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
    space = space_from_json(load_study_attrs(storage, settings.study_name)[ATTR_SPACE])
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


def worker_main(settings: SearchSettings, worker: int, objective, errors) -> None:
    """Entry of a worker process: its share of the CPU cores, then the loop; user errors go back as text."""
    import torch

    torch.set_num_threads(threads_per_worker(settings.workers))
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        work(settings, worker, objective, log=lambda line: print(line, flush=True))
    except LatentspaceError as e:
        errors.put(f"worker {worker}: {e}")
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
