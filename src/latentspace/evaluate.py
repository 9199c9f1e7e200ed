"""`latentspace evaluate RUN`: every metric that applies to the run's model, merged into evaluation.json."""
from __future__ import annotations

from latentspace import data as D
from latentspace.analysis.metrics import reconstruction_metrics
from latentspace.runs import load_run, merge_json


def evaluate_run(path, n: int = 10000) -> dict:
    model, run = load_run(path)
    train = run.config()["train"]
    splits = D.load_splits(train["dataset"], train.get("data_dir"), train.get("download", True), seed=train["seed"])
    results = {}
    if getattr(model, "has_encoder", True):
        results.update(reconstruction_metrics(model, splits.test))
    if hasattr(model, "extra_metrics"):
        results.update(model.extra_metrics(splits.test))
    if n:
        results.update(sample_metrics(model, splits, n, seed=train["seed"]))
    merge_json(run.path / "evaluation.json", results)
    return results


def sample_metrics(model, splits, n: int = 10000, seed: int = 0) -> dict:
    """FID, KID, precision/recall and class spread of n samples of the model against the test set."""
    from latentspace.analysis.model_samples import has_sampler, model_samples
    from latentspace.analysis.quality import sample_quality

    if not has_sampler(model):
        return {}
    samples, how = model_samples(model, n, splits.train, seed=seed)
    return {**sample_quality(samples, splits.name, n=n, seed=seed), "sampler": how}


def evaluate_samples(path, dataset: str = "fashion-mnist", n: int = 10000) -> dict:
    """Score a .npy file of uint8 N x 28 x 28 images, from any model, against the test set."""
    from latentspace.analysis.quality import load_samples, sample_quality

    return {"samples_file": str(path), **sample_quality(load_samples(path), dataset, n=n)}
