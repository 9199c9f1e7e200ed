"""Helpers of the search tests: tiny settings, reading the study back, killing workers, a PostgreSQL server."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import threading
import time
from pathlib import Path

import pytest
from optuna.trial import TrialState

from latentspace.commands.search.settings import SearchSettings
from latentspace.commands.search.storage import open_storage
from latentspace.errors import LatentspaceError
from latentspace.training.config import TrainConfig

TINY_TRAIN = TrainConfig(limit_train=256, batch_size=128)
TINY_SPACE = ("latent_dim=2:8", "lr=1e-3:1e-2")


def tiny(out, **kw) -> SearchSettings:
    kw = {"trials": 3, "heartbeat": 2, **kw}
    return SearchSettings(kind="ae", epochs_per_trial=1, out=str(out), train=TINY_TRAIN, space=TINY_SPACE, **kw)


def trials_of(settings: SearchSettings):
    storage = open_storage(settings.storage_url)
    return storage.get_all_trials(storage.get_study_id_from_name(settings.study_name))


def states(trials) -> dict:
    return {s: sum(1 for t in trials if t.state == s) for s in (TrialState.COMPLETE, TrialState.PRUNED,
                                                                  TrialState.FAIL, TrialState.RUNNING)}


def kill_workers(settings: SearchSettings, pick, killed: list, kills: int, timeout: float = 300):
    """Watch the study from a thread; each time `pick(trials)` names a running trial, SIGKILL the worker process
    running it, until `kills` workers are dead. `killed` gets (trial number, time of the kill)."""
    def watch():
        storage = None
        deadline = time.time() + timeout
        while time.time() < deadline and len(killed) < kills:
            time.sleep(0.2)
            try:
                storage = storage or open_storage(settings.storage_url)
                trials = storage.get_all_trials(storage.get_study_id_from_name(settings.study_name))
            except (LatentspaceError, KeyError):
                continue
            victim = pick(trials)
            if victim is not None:
                try:
                    os.kill(victim.user_attrs["pid"], signal.SIGKILL)
                except ProcessLookupError:
                    continue
                killed.append((victim.number, time.time()))
    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def running_with_pid(trials, number):
    return next((t for t in trials if t.number == number and t.state == TrialState.RUNNING
                 and "pid" in t.user_attrs), None)


# ------------------------------------------------------------------------------ the budget under contention

def cheap_objective(trial, settings, run_dir):
    """Stands in for training where only the budget is under test."""
    time.sleep(0.05)
    return trial.params["lr"]


def diverging_objective(trial, settings, run_dir):
    if trial.number == 1:
        raise LatentspaceError(f"training stopped: loss became nan (trial {trial.number})")
    return trial.params["lr"]


def broken_objective(trial, settings, run_dir):
    raise LatentspaceError("the data is gone")


def interrupted_objective(trial, settings, run_dir):
    raise KeyboardInterrupt


# ------------------------------------------------------------------------------ PostgreSQL

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    pytest.fail("PostgreSQL server binaries not found: `make install` installs Debian's postgresql")


def _create_database(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
