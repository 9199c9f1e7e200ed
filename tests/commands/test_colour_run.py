"""A colour run end to end: a VAE trained on 3 x 32 x 32 pictures (tests/fakes.py), then generate, embed, evaluate
(with a feature network trained for the fake dataset, and the one-line refusals without one), classify and the
explorer's API on it; the commands that need labels refuse an unlabelled set in one line."""
from __future__ import annotations

import io
import json

import numpy as np
import pytest

from latentspace.data.images import Splits
from latentspace.errors import LatentspaceError
from tests.fakes import fake_colour_test_set

pytestmark = pytest.mark.integration

SHAPE = (3, 32, 32)
MODULES = ("latentspace.commands.generate", "latentspace.commands.embed", "latentspace.commands.evaluate",
           "latentspace.commands.classify", "latentspace.explorer.served", "latentspace.commands.search.objective")


def _splits(labelled: bool = True) -> Splits:
    images = fake_colour_test_set(120, labelled=labelled, shape=SHAPE)
    return Splits(images, images.head(40), images.head(80), images.classes, images.name)


def _serve(mp, splits: Splits) -> None:
    """Every command that loads a run's data gets `splits`."""
    for module in MODULES:
        mp.setattr(f"{module}.run_splits", lambda train, limit_train=True: splits)


@pytest.fixture(scope="module")
def colour_run(tmp_path_factory):
    from latentspace.models.vae_config import VAEConfig
    from latentspace.training import trainer
    from latentspace.training.config import TrainConfig

    tmp = tmp_path_factory.mktemp("colour")
    splits = _splits()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LATENTSPACE_CACHE", str(tmp / "cache"))
        mp.setattr(trainer, "load_splits", lambda *a, **k: splits)
        _serve(mp, splits)
        yield trainer.fit("vae", VAEConfig(latent_dim=3), TrainConfig(epochs=1, batch_size=40), out=tmp / "run",
                          progress=False), splits


@pytest.fixture(scope="module")
def feature_net(colour_run):
    """A feature network trained for the fake colour dataset, in the module's cache."""
    from latentspace.commands.feature_net import train_feature_net

    return train_feature_net(splits=colour_run[1], epochs=1, batch_size=40, progress=False)


def test_generate_and_embed_give_colour_images_and_codes(colour_run):
    from latentspace.commands.embed import embed_run
    from latentspace.commands.generate import generate_run

    run, _ = colour_run
    assert run.config()["image_shape"] == list(SHAPE)
    traverse = generate_run(run.path, "traverse", dims=(0, 2), steps=3)
    prior = generate_run(run.path, "prior", n=6, seed=1)
    line = generate_run(run.path, "interpolate", src=0, dst=1, steps=4)
    assert traverse["images"].shape == (9, 32, 32, 3) and prior["images"].shape == (6, 32, 32, 3)
    assert prior["images"].dtype == np.uint8 and set(line["rows"]) >= {"linear"}
    emb = embed_run(run.path, "pca", n=50)
    assert emb["points"].shape == (50, 2)


def test_evaluate_refuses_in_one_line_without_a_feature_network(colour_run, tmp_path, monkeypatch, capsys):
    from latentspace.cli import main
    from latentspace.commands.evaluate import evaluate_run

    run, _ = colour_run
    monkeypatch.setenv("LATENTSPACE_CACHE", str(tmp_path / "empty"))
    saved = run.path / "evaluation.json"
    before = saved.read_text() if saved.exists() else None
    with pytest.raises(LatentspaceError) as e:
        evaluate_run(run.path, n=40)
    assert "\n" not in str(e.value) and "no feature network for fake-rgb-3x32x32" in str(e.value)
    assert "`latentspace feature-net --dataset fake-rgb --image-size 32 --channels 3`" in str(e.value)
    capsys.readouterr()
    assert main(["evaluate", str(run.path), "--n", "40"]) == 2  # the command: exit 2, the one line on stderr
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "latentspace feature-net --dataset fake-rgb" in err
    assert (saved.read_text() if saved.exists() else None) == before  # nothing half-written
    _serve(monkeypatch, _splits(labelled=False))
    with pytest.raises(LatentspaceError) as e:
        evaluate_run(run.path, n=40)
    assert "\n" not in str(e.value) and "no labels" in str(e.value) and "--features inception" in str(e.value)
    # without samples (--n 0) no feature network is needed: the reconstruction metrics alone
    assert set(evaluate_run(run.path, n=0)) >= {"test_mse", "test_psnr", "test_ssim", "test_kl"}


def test_evaluate_scores_a_colour_run_with_the_datasets_feature_network(colour_run, feature_net):
    from latentspace.commands.evaluate import evaluate_run

    run, splits = colour_run
    assert feature_net["dataset"] == "fake-rgb-3x32x32"
    results = evaluate_run(run.path, n=60)
    for key in ("test_mse", "test_psnr", "test_ssim", "test_kl", "fid", "kid", "precision", "recall"):
        assert np.isfinite(results[key]), key
    assert 0 < results["test_mse"] < 0.5 and -1 <= results["test_ssim"] <= 1
    assert results["feature_net"].startswith("fake-rgb-3x32x32 (") and results["n_samples"] == 60
    assert json.loads((run.path / "evaluation.json").read_text())["fid"] == results["fid"]


def test_classify_a_colour_run_and_refuse_an_unlabelled_one(colour_run, monkeypatch):
    from latentspace.commands.classify import classify_baseline, classify_run
    from latentspace.commands.feature_net import train_feature_net
    from latentspace.models.probe_config import ClassifyConfig

    run, splits = colour_run
    result = classify_run(run.path, config=ClassifyConfig(epochs=1, batch_size=40), progress=False,
                          log=lambda *a: None)
    assert result["test_size"] == 80 and len(result["per_class_accuracy"]) == 10
    unlabelled = _splits(labelled=False)
    for call in (lambda: classify_run(run.path, splits=unlabelled, progress=False, log=lambda *a: None),
                 lambda: classify_baseline(splits=unlabelled, progress=False, log=lambda *a: None),
                 lambda: train_feature_net(splits=unlabelled, epochs=1, progress=False)):
        with pytest.raises(LatentspaceError) as e:
            call()
        assert "\n" not in str(e.value) and "fake-rgb has no labels" in str(e.value)


def test_the_explorer_serves_a_colour_run(colour_run):
    from fastapi.testclient import TestClient

    from latentspace.explorer.app import create_app

    run, _ = colour_run
    client = TestClient(create_app([run.path], limit_test=50))
    (info,) = client.get("/api/runs").json()["runs"]
    assert info["image_shape"] == list(SHAPE) and info["latent_dim"] == 3 and info["can_sample"]
    image = client.get(f"/api/runs/{info['name']}/image/5").json()
    assert len(image["z"]) == 3 and image["reconstruction"].startswith("data:image/png")
    decoded = client.post("/api/decode", json={"run": info["name"], "z": [0.1, 0.2, 0.3]})
    assert decoded.status_code == 200
    from PIL import Image

    png = Image.open(io.BytesIO(decoded.content))
    assert png.mode == "RGB" and png.size == (32, 32)
    samples = client.post("/api/sample", json={"run": info["name"], "n": 4, "seed": 2}).json()["images"]
    assert len(samples) == 4 and np.array(samples[0]["z"]).shape == (3,)


def test_the_searchs_fid_objective_scores_with_the_datasets_feature_network(colour_run, feature_net, monkeypatch):
    from types import SimpleNamespace

    from latentspace.commands.search import objective

    run, _ = colour_run
    monkeypatch.setattr(objective, "FID_SAMPLES", 50)
    fid = objective.sample_fid(run, SimpleNamespace(dataset="fake-rgb", seed=0))
    assert np.isfinite(fid) and fid > 0
