"""Fixtures of the search tests: a two-worker search with killed workers, a throw-away PostgreSQL server."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from optuna.trial import TrialState

from latentspace.commands.search.run import run_search
from tests.commands.search.helpers import (
    _free_port,
    _pg_bin,
    kill_workers,
    running_with_pid,
    tiny,
    trials_of,
)


@pytest.fixture(scope="session")
def sqlite_search(tmp_path_factory):
    """Two workers on one SQLite study with a budget of 3. Worker A is killed in trial 0 while B runs trial 1:
    B carries on (finishes trial 1, takes trial 2) and is killed in trial 2. The re-run (one worker) fails the
    stale trial and finishes the budget."""
    out = tmp_path_factory.mktemp("search") / "ae"
    settings = tiny(out, workers=2)
    killed: list[tuple[int, float]] = []

    def pick(trials):
        if not killed:  # first: trial 0's worker, once both workers hold a trial
            both = sum(t.state == TrialState.RUNNING for t in trials) == 2
            return running_with_pid(trials, 0) if both else None
        return running_with_pid(trials, 2)  # then: whoever took trial 2 after that

    watcher = kill_workers(settings, pick, killed, kills=2)
    first = run_search(settings, log=lambda line: None)
    watcher.join(timeout=5)
    after_kills = trials_of(settings)
    rerun = run_search(tiny(out, workers=1), log=lambda line: None)
    return SimpleNamespace(out=out, settings=settings, first=first, after_kills=after_kills, rerun=rerun,
                           killed=killed, trials=trials_of(settings))


@pytest.fixture(scope="session")
def postgres_url():
    """A throw-away PostgreSQL server on 127.0.0.1 and a free port; initdb as the postgres user when root
    (initdb refuses root). Stopped by its PID in the teardown."""
    bindir = _pg_bin()
    root = Path(tempfile.mkdtemp(prefix="latentspace-pg-"))
    as_root = os.geteuid() == 0
    if as_root:
        shutil.chown(root, "postgres")

    def sh(cmd: str):
        args = ["su", "postgres", "-s", "/bin/sh", "-c", cmd] if as_root else ["/bin/sh", "-c", cmd]
        subprocess.run(args, check=True, capture_output=True, timeout=120)

    port = _free_port()
    data = root / "data"
    sh(f"{bindir}/initdb -D {data} -A trust -U postgres --no-sync -E UTF8")
    sh(f"{bindir}/pg_ctl -D {data} -l {root}/log -w -t 60 -o '-p {port} -k {root} "
       f"-c listen_addresses=127.0.0.1 -c fsync=off' start")
    pid = int((data / "postmaster.pid").read_text().split()[0])
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/"
    finally:
        os.kill(pid, signal.SIGQUIT)  # immediate shutdown (a throw-away server); it removes its pid file
        for _ in range(200):
            if not (data / "postmaster.pid").exists():
                break
            time.sleep(0.05)
        shutil.rmtree(root, ignore_errors=True)
