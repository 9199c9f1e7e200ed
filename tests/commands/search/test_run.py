"""Running a search: a re-run finishes the budget exactly; joining with other settings is refused."""

from __future__ import annotations

import pytest
from optuna.trial import TrialState

from latentspace.cli import main
from latentspace.commands.search.run import run_search
from latentspace.commands.search.settings import SearchSettings
from latentspace.errors import LatentspaceError
from tests.commands.search.helpers import states, tiny


def test_rerun_finishes_the_budget_exactly(sqlite_search):
    s = sqlite_search
    counts = states(s.trials)
    assert counts[TrialState.COMPLETE] + counts[TrialState.PRUNED] == 3  # the budget, none lost or doubled
    assert counts[TrialState.FAIL] == 2  # the two killed trials, failed by their stale heartbeat
    assert counts[TrialState.RUNNING] == 0
    assert {t.number for t in s.trials if t.state == TrialState.FAIL} == {0, 2}
    assert s.rerun["finished"] and s.rerun["counted"] == 3


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
