"""Hyperparameter search: a global trial budget over several worker processes (SQLite and a real PostgreSQL
server), killed workers, re-runs, the reports, and the errors a user can cause.

Trials are tiny (256 training images, 1 epoch, batch 128, latent 2..8); the budget tests that need many
trials use a cheap objective instead of training.
"""
from __future__ import annotations

import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import optuna
import pytest
import torch
from optuna.trial import TrialState

from latentspace.cli import main
from latentspace.errors import LatentspaceError
from latentspace.models import MODELS
from latentspace.models.autoencoder import AEConfig
from latentspace.runs import load_run
from latentspace.search import (BudgetLock, PruningCallback, SearchSettings, TrialSeededRandomSampler,
                                open_storage, run_search)
from latentspace.search_space import (SEARCH_SPACES, apply_overrides, default_space, format_value,
                                      searchable_kinds)
from latentspace.train import TrainConfig

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


# ------------------------------------------------------------------------------ two workers, one killed, a re-run

@pytest.fixture(scope="module")
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


def test_killed_workers_trials_fail_and_the_others_carry_on(sqlite_search):
    s = sqlite_search
    assert [number for number, _ in s.killed] == [0, 2]
    by_number = {t.number: t for t in s.after_kills}
    # the surviving worker finished trial 1 after trial 0's worker died, then took trial 2
    first_kill = s.killed[0][1]
    assert by_number[1].state == TrialState.COMPLETE and by_number[1].datetime_complete.timestamp() > first_kill
    assert by_number[2].datetime_start.timestamp() > first_kill
    assert by_number[0].state in (TrialState.FAIL, TrialState.RUNNING)  # failed once its heartbeat is stale
    assert sorted(by_number) == [0, 1, 2]  # nobody took more than the budget
    assert " ".join(s.first["problems"]).count("killed by signal 9") == 2
    assert not s.first["finished"]


def test_rerun_finishes_the_budget_exactly(sqlite_search):
    s = sqlite_search
    counts = states(s.trials)
    assert counts[TrialState.COMPLETE] + counts[TrialState.PRUNED] == 3  # the budget, none lost or doubled
    assert counts[TrialState.FAIL] == 2  # the two killed trials, failed by their stale heartbeat
    assert counts[TrialState.RUNNING] == 0
    assert {t.number for t in s.trials if t.state == TrialState.FAIL} == {0, 2}
    assert s.rerun["finished"] and s.rerun["counted"] == 3


def test_reports_table_plots_and_best_run(sqlite_search):
    out = sqlite_search.out
    rows = (out / "trials.csv").read_text().splitlines()
    assert rows[0].startswith("number,state,value,epochs,latent_dim,optimizer,lr,weight_decay,init")
    assert len(rows) == 1 + len(sqlite_search.trials)
    complete = [r for r in rows[1:] if ",complete," in r]
    values = [float(r.split(",")[2]) for r in complete]
    assert values == sorted(values) and rows[1] == complete[0]  # best first
    md = (out / "trials.md").read_text()
    assert "| Latent dim. | Optimizer | Learning rate |" in md and md.count("| fail |") == 2
    best = json.loads((out / "best.json").read_text())
    assert best["best"]["value"] == pytest.approx(min(values))
    assert set(best["best"]["params"]) == set(default_space("ae"))
    assert 2 <= best["best"]["params"]["latent_dim"] <= 8
    table = (out / "table1.md").read_text()
    assert "| Latent dim. | Optimizer | Learning rate | Weight decay | Weights init. |" in table
    for name in ("optimization_history", "param_importances", "parallel_coordinate"):
        png = out / "figures" / f"{name}.png"
        assert png.is_file() and png.stat().st_size > 10_000
    # the best trial is a full run directory that every other command reads
    model, run = load_run(out / "best")
    assert model.latent_dim == best["best"]["params"]["latent_dim"]
    assert run.config()["model_config"]["lr"] == pytest.approx(best["best"]["params"]["lr"])


def test_joining_with_another_space_is_one_line_exit_2(sqlite_search, capsys):
    code = main(["search", "ae", "--out", str(sqlite_search.out), "--trials", "3", "--epochs-per-trial", "1",
                 "--limit-train", "256", "--batch-size", "128", "--space", "latent_dim=2:8",
                 "--space", "lr=1e-4:1e-2"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert "different search space" in err[0] and "lr:" in err[0]


def test_joining_with_other_training_settings_is_refused(sqlite_search):
    with pytest.raises(LatentspaceError, match="epochs_per_trial"):
        run_search(SearchSettings(**{**vars(tiny(sqlite_search.out)), "epochs_per_trial": 3}))


# ------------------------------------------------------------------------------ the budget under contention

def cheap_objective(trial, settings, run_dir):
    """Stands in for training where only the budget is under test."""
    time.sleep(0.05)
    return trial.params["lr"]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_three_workers_take_exactly_the_budget(backend, tmp_path, request):
    storage = request.getfixturevalue("postgres_url") + "race" if backend == "postgresql" else None
    if storage:
        _create_database(storage)
    settings = SearchSettings(kind="ae", trials=12, workers=3, out=str(tmp_path / "s"), storage=storage,
                              heartbeat=1, train=TINY_TRAIN)
    summary = run_search(settings, objective=cheap_objective, log=lambda line: None)
    trials = trials_of(settings)
    assert len(trials) == 12 and all(t.state == TrialState.COMPLETE for t in trials)
    assert summary["finished"] and summary["problems"] == []
    assert len({t.user_attrs["pid"] for t in trials}) >= 2  # the workers really shared the study


def diverging_objective(trial, settings, run_dir):
    if trial.number == 1:
        raise LatentspaceError(f"training stopped: loss became nan (trial {trial.number})")
    return trial.params["lr"]


def broken_objective(trial, settings, run_dir):
    raise LatentspaceError("the data is gone")


def interrupted_objective(trial, settings, run_dir):
    raise KeyboardInterrupt


def test_a_trial_failing_by_itself_counts_an_interrupted_one_does_not(tmp_path):
    settings = SearchSettings(kind="ae", trials=3, out=str(tmp_path / "s"), train=TINY_TRAIN)
    summary = run_search(settings, objective=diverging_objective, log=lambda line: None)
    trials = trials_of(settings)
    assert [t.state for t in trials] == [TrialState.COMPLETE, TrialState.FAIL, TrialState.COMPLETE]
    assert "nan" in trials[1].user_attrs["error"] and summary["finished"]
    assert "| fail |" in (tmp_path / "s" / "trials.md").read_text()

    settings = SearchSettings(kind="ae", trials=2, out=str(tmp_path / "i"), train=TINY_TRAIN)
    with pytest.raises(KeyboardInterrupt):
        run_search(settings, objective=interrupted_objective, log=lambda line: None)
    summary = run_search(settings, objective=cheap_objective, log=lambda line: None)
    trials = trials_of(settings)
    assert [t.state for t in trials] == [TrialState.FAIL, TrialState.COMPLETE, TrialState.COMPLETE]
    assert summary["finished"] and summary["counted"] == 2


def test_the_same_error_three_times_stops_the_search(tmp_path):
    settings = SearchSettings(kind="ae", trials=10, out=str(tmp_path / "s"), train=TINY_TRAIN)
    with pytest.raises(LatentspaceError, match="three trials in a row failed: the data is gone"):
        run_search(settings, objective=broken_objective, log=lambda line: None)
    assert len(trials_of(settings)) == 3


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


@pytest.fixture(scope="module")
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


def _create_database(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')


def test_postgres_two_workers_train_exactly_the_budget(postgres_url, tmp_path):
    url = postgres_url + "study"
    _create_database(url)
    settings = tiny(tmp_path / "pg", workers=2, trials=2, storage=url)
    summary = run_search(settings, log=lambda line: None)
    trials = trials_of(settings)
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 2
    assert len({t.user_attrs["pid"] for t in trials}) == 2
    assert summary["finished"] and summary["storage"] == url
    assert load_run(tmp_path / "pg" / "best")[0].latent_dim == summary["best"]["params"]["latent_dim"]


def test_postgres_advisory_lock_excludes_a_second_holder(postgres_url, tmp_path):
    url = postgres_url.replace("postgresql://", "postgresql+psycopg://") + "postgres"  # the explicit form works too
    first, second = BudgetLock(url, "s", tmp_path), BudgetLock(url, "s", tmp_path)
    entered = threading.Event()

    def take():
        with second:
            entered.set()

    try:
        with first:
            t = threading.Thread(target=take)
            t.start()
            assert not entered.wait(1.0)
        assert entered.wait(10)
        t.join()
    finally:
        first.close()
        second.close()


# ------------------------------------------------------------------------------ errors

@pytest.mark.parametrize("storage, message", [
    ("not a url", "not a database URL"),
    ("nosuchdb://host/x", "unknown database kind"),
    ("postgresql://me:secret@127.0.0.1:{port}/db", "cannot use the database postgresql://me:***@127.0.0.1"),
])
def test_bad_storage_is_one_line_exit_2(storage, message, tmp_path, capsys):
    storage = storage.format(port=_free_port())
    code = main(["search", "ae", "--storage", storage, "--out", str(tmp_path / "s"), "--trials", "1"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    assert message in err[0] and "secret" not in err[0]


@pytest.mark.parametrize("space, message", [
    ("lr", "expected NAME=LOW:HIGH"), ("nope=1:2", "not a parameter"), ("lr=1e-2:1e-4", "LOW must not exceed"),
    ("lr=0:1e-2", "log scale needs LOW > 0"), ("optimizer=adam,lbfgs", "'lbfgs' is not one of"),
    ("latent_dim=2.5:8", "takes integers"),
])
def test_bad_space_is_one_line_exit_2(space, message, tmp_path, capsys):
    code = main(["search", "ae", "--space", space, "--out", str(tmp_path / "s")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and message in err[0], err


# ------------------------------------------------------------------------------ pieces

def test_pruning_callback_stops_a_trial_worse_than_the_median():
    study = optuna.create_study(pruner=optuna.pruners.MedianPruner(n_startup_trials=1, n_warmup_steps=0))
    dist = {"x": optuna.distributions.FloatDistribution(0, 1)}
    study.add_trial(optuna.trial.create_trial(params={"x": 0.5}, distributions=dist, value=0.1,
                                              intermediate_values={0: 0.1}))

    def epoch(value):
        trial = study.ask(dist)
        cb = PruningCallback(trial)
        trainer = SimpleNamespace(sanity_checking=False, is_global_zero=True, current_epoch=0, should_stop=False,
                                  callback_metrics={"val_loss": torch.tensor(value)})
        cb.on_validation_end(trainer, None)
        assert study._storage.get_trial(trial._trial_id).intermediate_values == {0: pytest.approx(value)}
        return cb, trainer

    bad, trainer = epoch(0.9)
    assert bad.pruned and trainer.should_stop
    good, trainer = epoch(0.05)
    assert not good.pruned and not trainer.should_stop


def test_random_search_is_seeded_per_trial_number():
    space = default_space("ae")

    def draws(seed, n=6):
        study = optuna.create_study(sampler=TrialSeededRandomSampler(seed))
        return [study.ask(space).params for _ in range(n)]

    assert draws(0) == draws(0)
    assert draws(0) != draws(1)
    assert len({p["lr"] for p in draws(0)}) == 6
    assert len({p["optimizer"] for p in draws(0, 40)}) == 4  # every choice turns up


def test_spaces_follow_the_model_registry():
    assert set(default_space("ae")) == {"latent_dim", "optimizer", "lr", "weight_decay", "init"}
    assert set(SEARCH_SPACES["vae"]) == set(SEARCH_SPACES["ae"]) | {"beta"}
    assert set(searchable_kinds()) <= set(MODELS) and "ae" in searchable_kinds()
    if "gan" not in MODELS:
        with pytest.raises(LatentspaceError, match="no search space"):
            default_space("gan")
    if "vae" in MODELS:
        assert "beta" in default_space("vae")
    space = apply_overrides(default_space("ae"), ["lr=1e-4:1e-2", "init=none", "width=0.5:2:log"], AEConfig)
    assert space["lr"].log and (space["lr"].low, space["lr"].high) == (1e-4, 1e-2)
    assert space["init"].choices == ("none",) and space["width"].log


def test_values_are_spelled_as_in_the_study():
    assert format_value("lr", 5e-3) == "5·10⁻³"
    assert format_value("weight_decay", 2e-4) == "2·10⁻⁴"
    assert format_value("latent_dim", 28) == "28"
    assert format_value("optimizer", "adam") == "Adam" and format_value("init", "none") == "None"


def test_gan_search_minimises_fid(tmp_path):
    settings = SearchSettings(kind="gan", trials=2, epochs_per_trial=1, out=str(tmp_path / "gan"),
                              train=TrainConfig(limit_train=128, batch_size=64),
                              space=("g_width=8:16", "d_width=8:16"))
    summary = run_search(settings, log=lambda line: None)
    assert summary["objective"].startswith("FID") and summary["counted"] == 2
    best = summary["best"]
    assert set(best["params"]) == {"lr", "beta1", "g_width", "d_width"} and 8 <= best["params"]["g_width"] <= 16
    fids = [json.loads(f.read_text())["fid"] for f in (tmp_path / "gan" / "trials").glob("*/evaluation.json")]
    assert len(fids) == 2 and best["value"] == min(fids) > 0
