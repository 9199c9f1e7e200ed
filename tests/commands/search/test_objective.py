"""One trial: pruning by the median rule, and the objective the model declares (a GAN's FID)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import optuna
import pytest
import torch

from latentspace.commands.search.objective import PruningCallback
from latentspace.commands.search.run import run_search
from latentspace.commands.search.settings import SearchSettings
from latentspace.training.config import TrainConfig

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


@pytest.mark.integration
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
