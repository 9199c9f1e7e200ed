"""The workers: seeded random draws, the exact budget under contention, failures that count, killed workers."""

from __future__ import annotations

import optuna
import pytest
from optuna.trial import TrialState

from latentspace.commands.search.run import run_search
from latentspace.commands.search.settings import SearchSettings
from latentspace.commands.search.space import (
    default_space,
)
from latentspace.commands.search.workers import TrialSeededRandomSampler
from latentspace.errors import LatentspaceError
from latentspace.runs import load_run
from tests.commands.search.helpers import (
    TINY_TRAIN,
    _create_database,
    broken_objective,
    cheap_objective,
    diverging_objective,
    interrupted_objective,
    tiny,
    trials_of,
)


def test_random_search_is_seeded_per_trial_number():
    space = default_space("ae")

    def draws(seed, n=6):
        study = optuna.create_study(sampler=TrialSeededRandomSampler(seed))
        return [study.ask(space).params for _ in range(n)]

    assert draws(0) == draws(0)
    assert draws(0) != draws(1)
    assert len({p["lr"] for p in draws(0)}) == 6
    assert len({p["optimizer"] for p in draws(0, 40)}) == 4  # every choice turns up


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
