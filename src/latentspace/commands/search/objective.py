"""One trial of a search: train the model with the trial's parameters, prune it early when hopeless, and
score it by the model's declared objective (its best validation loss, or the FID of its samples)."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import optuna
from lightning.pytorch.callbacks import Callback

from latentspace.analysis.scoring import sample_quality
from latentspace.commands.search.settings import SearchSettings
from latentspace.config import config_from_dict
from latentspace.data.images import run_splits
from latentspace.errors import LatentspaceError
from latentspace.io import merge_json
from latentspace.models import get_spec
from latentspace.runs import load_run
from latentspace.samplers.store import draw
from latentspace.training.trainer import fit

FID_SAMPLES = 2000  # samples scored per trial of a search whose objective is FID


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
    spec = get_spec(settings.kind)
    model_config = config_from_dict(spec.config_cls, {**settings.model, **trial.params})
    train = dataclasses.replace(settings.train, epochs=settings.epochs_per_trial, early_stopping=0, devices=1,
                                max_time=None)
    pruning = PruningCallback(trial, spec.monitor or "val_loss")
    run = fit(settings.kind, model_config, train, out=run_dir, progress=False, callbacks=[pruning])
    if pruning.pruned:
        raise optuna.TrialPruned(f"pruned after epoch {pruning.pruned_at + 1}")
    if spec.objective == "fid":
        return sample_fid(run, train)
    value = run.summary().get("best_val_loss") if run.finished else None
    if value is None:
        raise LatentspaceError("the trial ended without a finite validation loss")
    return float(value)


def sample_fid(run, train) -> float:
    """FID of FID_SAMPLES samples of the run's final model against the test set (an FID objective)."""
    model, _ = load_run(run.path, checkpoint="last")
    splits = run_splits(run.config()["train"])  # the dataset's own feature network (by its identity) scores them
    samples = draw(model, FID_SAMPLES, train.seed, train=lambda: splits.train).images
    fid = sample_quality(samples, train.dataset, n=FID_SAMPLES, seed=train.seed, splits=splits)["fid"]
    merge_json(run.path / "evaluation.json", {"fid": fid, "n_samples": FID_SAMPLES})
    return float(fid)
