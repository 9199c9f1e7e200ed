"""`latentspace evaluate RUN`: every metric that applies to the run's model, merged into evaluation.json."""
from __future__ import annotations

from latentspace import data as D
from latentspace.analysis.metrics import reconstruction_metrics
from latentspace.runs import load_run, merge_json


def evaluate_run(path) -> dict:
    model, run = load_run(path)
    train = run.config()["train"]
    splits = D.load_splits(train["dataset"], train.get("data_dir"), train.get("download", True), seed=train["seed"])
    results = {}
    if getattr(model, "has_encoder", True):
        results.update(reconstruction_metrics(model, splits.test))
    if hasattr(model, "extra_metrics"):
        results.update(model.extra_metrics(splits.test))
    merge_json(run.path / "evaluation.json", results)
    return results
