"""latentspace evaluate: the metrics that apply to a run (by its spec), or to a file of samples."""
from __future__ import annotations

import json

import numpy as np
import pytest

from latentspace.cli import main
from latentspace.commands import evaluate
from latentspace.commands.evaluate import evaluate_run, sample_quality
from latentspace.data.images import load_splits
from latentspace.errors import LatentspaceError


@pytest.fixture(scope="module")
def splits():
    return load_splits("fashion-mnist")


def test_sample_quality_is_deterministic_and_validates(splits):
    samples = splits.train.images[:1000].numpy()
    reference = splits.test.images[:1000]
    a = sample_quality(samples, reference=reference, kid_subsets=5)
    evaluate._MEMORY.clear()  # recompute the reference features too
    b = sample_quality(samples.copy(), reference=reference.clone(), kid_subsets=5)
    assert a == b
    assert {"fid", "kid", "kid_std", "precision", "recall", "class_entropy", "inception_score"} <= set(a)
    with pytest.raises(LatentspaceError, match="N x 28 x 28"):
        sample_quality(np.zeros((10, 32, 32), np.uint8))
    with pytest.raises(LatentspaceError, match="uint8"):
        sample_quality(np.zeros((10, 28, 28), np.int32))


def test_cli_scores_a_samples_file(tmp_path, capsys, splits):
    path = tmp_path / "samples.npy"
    np.save(path, splits.train.arrays(slice(0, 500)).astype(np.float32) / 255)  # floats in [0, 1] are fine too
    assert main(["evaluate", "--samples", str(path), "--n", "1000", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["fid"] < 5 and out["precision"] > 0.8 and out["n_reference"] == 1000 and out["n_samples"] == 500
    bad = tmp_path / "bad.npy"
    np.save(bad, np.zeros((5, 28, 27), np.uint8))
    assert main(["evaluate", "--samples", str(bad)]) == 2
    assert "N x 28 x 28" in capsys.readouterr().err
    assert main(["evaluate", "--samples", str(tmp_path / "missing.npy")]) == 2
    assert main(["evaluate"]) == 2


@pytest.mark.integration
def test_evaluate_run_adds_sample_metrics(tiny_ae_run):
    results = evaluate_run(tiny_ae_run.path, n=1000)
    saved = json.loads((tiny_ae_run.path / "evaluation.json").read_text())
    assert "Gaussian mixture" in results["sampler"]
    for key in ("test_mse", "fid", "kid", "precision", "recall", "inception_score"):
        assert key in saved and np.isfinite(saved[key])
    assert saved["n_samples"] == 1000
    assert saved["fid"] > 1.0  # a one-epoch autoencoder's samples are far from real images
