"""Latent maps: projections, the run's embedding cache (format, reuse, invalidation), VAE panels, CLI."""
from __future__ import annotations

import shutil
import sys

import numpy as np
import pytest
import torch

from latentspace.analysis import projection as P
from latentspace.cli import main
from latentspace.commands import embed as E
from latentspace.data.images import run_splits
from latentspace.errors import LatentspaceError
from latentspace.io import file_hash
from latentspace.runs import load_run
from tests.fakes import FakeGAN, FakeVAE, fake_run, register

N = 200


def test_embed_run_writes_the_cache_format(tiny_ae_run):
    r = E.embed_run(tiny_ae_run.path, "pca", n=N)
    assert r["path"] == tiny_ae_run.path / "embeddings" / "pca.npz"
    with np.load(r["path"], allow_pickle=False) as f:
        assert {"points", "labels", "index", "latent", "checkpoint_sha", "method"} <= set(f.files)
        points, labels, index, latent = f["points"], f["labels"], f["index"], f["latent"]
        assert str(f["method"]) == "pca"
        assert str(f["checkpoint_sha"]) == file_hash(tiny_ae_run.best_checkpoint)
    assert points.shape == (N, 2) and points.dtype == np.float32 and np.isfinite(points).all()
    assert latent.shape == (N, 4) and latent.dtype == np.float32
    assert index.dtype == np.int64 and labels.dtype == np.int64
    assert len(np.unique(index)) == N and index.min() >= 0 and index.max() < 10000
    # index points into the test split: labels and codes are those of the test images at index
    model, _ = load_run(tiny_ae_run.path)
    test = run_splits(tiny_ae_run.config()["train"]).test
    np.testing.assert_array_equal(labels, test.labels.numpy()[index])
    with torch.no_grad():
        expect = model.encode(test.floats(torch.from_numpy(index[:5]))).numpy()
    np.testing.assert_allclose(latent[:5], expect, rtol=1e-4, atol=1e-5)
    # PCA: the first coordinate carries the most variance
    assert points[:, 0].var() >= points[:, 1].var()


def test_cache_is_reused_until_the_checkpoint_changes(tiny_ae_run, tmp_path, monkeypatch):
    run_dir = tmp_path / "run"
    shutil.copytree(tiny_ae_run.path, run_dir, ignore=shutil.ignore_patterns("embeddings"))
    first = E.embed_run(run_dir, "pca", n=N)
    assert not first["cached"]

    def no_projection(*a, **k):
        raise AssertionError("recomputed although the cache matches")

    with monkeypatch.context() as m:
        m.setitem(P._PROJECTIONS, "pca", no_projection)
        again = E.embed_run(run_dir, "pca", n=N)
    assert again["cached"]
    np.testing.assert_array_equal(again["points"], first["points"])

    # a different sample size is a different map
    assert not E.embed_run(run_dir, "pca", n=N // 2)["cached"]

    # new weights: the cache no longer matches and is rewritten
    ckpt = run_dir / "checkpoints" / "best.ckpt"
    state = torch.load(ckpt, map_location="cpu", weights_only=True)
    for k, v in state["state_dict"].items():
        if v.is_floating_point():
            v.add_(0.01)
    torch.save(state, ckpt)
    changed = E.embed_run(run_dir, "pca", n=N)
    assert not changed["cached"]
    assert changed["checkpoint_sha"] == file_hash(ckpt) != first["checkpoint_sha"]
    assert not np.allclose(changed["latent"], first["latent"])


def test_tsne_map(tiny_ae_run):
    r = E.embed_run(tiny_ae_run.path, "tsne", n=300)
    assert r["points"].shape == (300, 2) and np.isfinite(r["points"]).all()
    assert r["points"].std() > 0.1
    assert (tiny_ae_run.path / "embeddings" / "tsne.npz").is_file()


def test_two_dimensional_space_is_used_as_it_is(tiny_ae2_run):
    r = E.embed_run(tiny_ae2_run.path, "tsne", n=N)
    np.testing.assert_array_equal(r["points"], r["latent"])
    x = np.random.default_rng(0).normal(size=(10, 2)).astype(np.float32)
    for method in P.METHODS:
        np.testing.assert_array_equal(P.project(x, method), x)


def test_umap_missing_is_a_clear_error(tiny_ae_run, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "umap", None)  # `import umap` now raises ImportError
    x = np.random.default_rng(0).normal(size=(50, 6)).astype(np.float32)
    with pytest.raises(LatentspaceError, match="umap-learn"):
        P.project(x, "umap")
    assert main(["embed", str(tiny_ae_run.path), "--method", "umap", "--n", "50"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "umap-learn" in err[0] and "Traceback" not in err[0]


def test_unknown_method_and_bad_n(tiny_ae_run):
    with pytest.raises(LatentspaceError, match="choose one of"):
        E.embed_run(tiny_ae_run.path, "mds")
    with pytest.raises(LatentspaceError, match="--n"):
        E.embed_run(tiny_ae_run.path, "pca", n=1)


def test_vae_gets_mu_logvar_and_z_panels(tmp_path, monkeypatch):
    register(monkeypatch)
    run_dir = fake_run(tmp_path / "vae", FakeVAE, latent_dim=3)
    r = E.embed_run(run_dir, "pca", n=120)
    assert set(r["panels"]) == {"mu", "logvar", "z"}
    for p in r["panels"].values():
        assert p.shape == (120, 2) and np.isfinite(p).all()
    # points/latent are mu (what encode gives); logvar and z sit beside them
    model, run = load_run(run_dir)
    test = run_splits(run.config()["train"]).test
    x = test.floats(torch.from_numpy(r["index"]))
    with torch.no_grad():
        mu, logvar = model.encode_distribution(x)
    np.testing.assert_allclose(r["latent"], mu.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(r["latent_logvar"], logvar.numpy(), rtol=1e-4, atol=1e-5)
    eps = (r["latent_z"] - r["latent"]) / np.exp(0.5 * r["latent_logvar"])  # z = mu + sigma * eps, eps ~ N(0, 1)
    assert abs(eps.mean()) < 0.2 and 0.8 < eps.std() < 1.2
    cached = E.embed_run(run_dir, "pca", n=120)
    assert cached["cached"] and set(cached["panels"]) == {"mu", "logvar", "z"}
    # the figure has three panels side by side
    assert main(["embed", str(run_dir), "--method", "pca", "--n", "120", "--out", str(tmp_path / "vae.png")]) == 0
    from PIL import Image

    w, h = Image.open(tmp_path / "vae.png").size
    assert w > 2.5 * h


def test_gan_has_no_map(tmp_path, monkeypatch, capsys):
    register(monkeypatch)
    run_dir = fake_run(tmp_path / "gan", FakeGAN)
    with pytest.raises(LatentspaceError, match="encoder"):
        E.embed_run(run_dir, "pca")
    assert main(["embed", str(run_dir)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "encoder" in err[0]


def test_cli_embed_writes_a_figure(tiny_ae_run, tmp_path, capsys):
    out = tmp_path / "map.png"
    assert main(["embed", str(tiny_ae_run.path), "--method", "pca", "--n", str(N), "--out", str(out)]) == 0
    assert out.is_file() and out.stat().st_size > 10_000
    assert "pca.npz" in capsys.readouterr().out


def test_a_colour_model_of_an_unlabelled_set_gets_a_map_that_says_unlabelled(tmp_path, monkeypatch):
    from latentspace.figures import latent
    from tests.fakes import FakeRGB, fake_colour_test_set, use_fake_data
    from tests.pixels import assert_shows_something, figure_texts

    register(monkeypatch)
    use_fake_data(monkeypatch, fake_colour_test_set(150, labelled=False), E)
    texts = figure_texts(monkeypatch, latent)
    r = E.embed_figure(fake_run(tmp_path / "rgb", FakeRGB, latent_dim=4), "pca", n=120)
    assert r["classes"] == () and (r["labels"] == -1).all() and r["latent"].shape == (120, 4)
    assert_shows_something(r["figure"])
    assert latent.UNLABELLED in texts


def test_a_model_whose_encoding_is_costly_maps_its_first_images_unless_told(tmp_path, monkeypatch):
    """`spec.encode_limit` (a flow model's encode is an ODE solve): the default map holds the first N test images,
    those the explorer maps; --n still asks for a seeded sample."""
    import dataclasses

    from latentspace.models import MODELS

    register(monkeypatch)
    monkeypatch.setitem(MODELS, "fakevae", dataclasses.replace(MODELS["fakevae"], encode_limit=40))
    run_dir = fake_run(tmp_path / "vae", FakeVAE, latent_dim=3)
    assert E.embed_run(run_dir, "pca")["index"].tolist() == list(range(40))
    asked = E.embed_run(run_dir, "pca", n=30)["index"]
    assert len(asked) == 30 and asked.tolist() != list(range(30))


@pytest.mark.integration
def test_a_vqvae_maps_its_images_mean_code_vectors_and_its_codebook_by_class(tiny_vqvae_run, tmp_path, capsys):
    from tests.conftest import pristine_copy
    from tests.pixels import assert_shows_something

    path = pristine_copy(tiny_vqvae_run, tmp_path / "vq")
    out = tmp_path / "map.png"
    assert main(["embed", str(path), "--method", "pca", "--n", str(N), "--out", str(out)]) == 0
    assert "codebook map:" in capsys.readouterr().out
    r = E.embed_run(path, "pca", n=N)
    model, _ = load_run(path)
    test = run_splits(tiny_vqvae_run.config()["train"]).test
    with torch.no_grad():  # each image's point is its mean code vector
        grids = model.encode(test.floats(torch.from_numpy(r["index"][:5])))
        np.testing.assert_allclose(r["latent"][:5], model.latent_vectors(grids).numpy(), rtol=1e-4, atol=1e-5)
    assert r["codebook_points"].shape == (64, 2) and np.isfinite(r["codebook_points"]).all()
    assert r["codebook_usage"].sum() == N * 49
    used = r["codebook_usage"] > 0
    assert (r["codebook_labels"][used] >= 0).all() and (r["codebook_labels"][~used] == -1).all()
    for figure in (out, out.with_name("map-codebook.png")):
        assert_shows_something(figure)
