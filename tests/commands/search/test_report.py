"""What a search leaves: trials table, table 1, plots, the best run."""

from __future__ import annotations

import json

import pytest

from latentspace.commands.search.space import (
    default_space,
)
from latentspace.runs import load_run


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
