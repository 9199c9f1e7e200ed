"""Generation: traversals, 2-D lattices, prior samples (GMM for an autoencoder), interpolations, CLI outputs."""
from __future__ import annotations

import numpy as np
import pytest

from latentspace.analysis import latents as G
from latentspace.analysis.encode import encode_images
import torch

from latentspace.cli import main
from latentspace.commands.generate import generate_run, write_generated
from latentspace.data.images import run_splits
from latentspace.errors import LatentspaceError
from latentspace.runs import load_run
from latentspace.samplers.gmm import GaussianMixtureSampler
from tests.fakes import (
    FakeGAN,
    FakeRGB,
    FakeVAE,
    fake_colour_test_set,
    fake_run,
    register,
    use_fake_data,
)
from tests.pixels import assert_coloured, figure_texts


@pytest.fixture(scope="module")
def ae_codes(tiny_ae_run):
    model, run = load_run(tiny_ae_run.path)
    return model, encode_images(model, run_splits(run.config()["train"]).test)["latent"]


def test_traverse_run(tiny_ae_run, ae_codes, tmp_path):
    model, codes = ae_codes
    r = generate_run(tiny_ae_run.path, "traverse", dims=(1, 3), steps=4, image=7)
    assert r["images"].shape == (16, 28, 28) and r["images"].dtype == np.uint8
    z = r["latents"]
    np.testing.assert_allclose(z[:, [0, 2]], np.broadcast_to(codes[7, [0, 2]], (16, 2)), rtol=1e-5, atol=1e-6)
    for d in (1, 3):  # over the range the dimension takes over the test codes
        assert z[:, d].min() == pytest.approx(codes[:, d].min(), rel=1e-5)
        assert z[:, d].max() == pytest.approx(codes[:, d].max(), rel=1e-5)
    np.testing.assert_array_equal(r["images"], G.decode_latents(model, z))
    assert len(np.unique(r["images"].reshape(16, -1), axis=0)) > 1  # the varied codes decode differently
    assert write_generated(r, tmp_path / "traverse.png").stat().st_size > 5_000


def test_grid_run_and_figure(tiny_ae2_run, tmp_path):
    r = generate_run(tiny_ae2_run.path, "grid", steps=5)
    assert r["images"].shape == (25, 28, 28)
    x0, x1, y0, y1 = r["bounds"]
    codes = r["codes"]
    assert codes.shape == (10000, 2)
    assert x0 <= codes[:, 0].min() and codes[:, 0].max() <= x1 + 1e-6
    assert y0 <= codes[:, 1].min() and codes[:, 1].max() <= y1 + 1e-6
    assert r["latents"][:, 0].min() == pytest.approx(x0) and r["latents"][:, 1].max() == pytest.approx(y1)
    fixed = generate_run(tiny_ae2_run.path, "grid", steps=3, bounds=(-1, 1, -2, 2))
    assert fixed["latents"].min(0) == pytest.approx([-1, -2]) and fixed["latents"].max(0) == pytest.approx([1, 2])
    png = write_generated(r, tmp_path / "grid.png")
    assert png.stat().st_size > 10_000


def test_grid_needs_a_2d_space(tiny_ae_run):
    with pytest.raises(LatentspaceError, match="2-D"):
        generate_run(tiny_ae_run.path, "grid")


def test_prior_of_an_autoencoder_is_a_gmm_on_training_codes(tiny_ae_run, monkeypatch):
    r = generate_run(tiny_ae_run.path, "prior", n=12)
    assert r["images"].shape == (12, 28, 28) and r["images"].dtype == np.uint8
    assert "Gaussian mixture" in r["title"]
    # the mixture fitted on the run's training codes reproduces their mean
    model, run = load_run(tiny_ae_run.path)
    train = run_splits(run.config()["train"]).train
    assert len(train) == 512  # the run's own limit on training images
    codes = encode_images(model, train)["latent"]
    z = GaussianMixtureSampler(model).fit(train).sample(4000, torch.Generator().manual_seed(0)).numpy()
    assert np.abs(z.mean(0) - codes.mean(0)).max() < 0.1 * codes.std(0).max()
    # the same mixture, saved in the run when generate drew from it, gives the same images for the same seed
    assert (tiny_ae_run.path / "samplers" / "gmm" / "sampler.json").is_file()
    np.testing.assert_array_equal(generate_run(tiny_ae_run.path, "prior", n=12)["images"], r["images"])


def test_interpolate_run(tiny_ae_run, ae_codes):
    model, codes = ae_codes
    r = generate_run(tiny_ae_run.path, "interpolate", src=3, dst=9, steps=6)
    assert list(r["rows"]) == ["linear"]  # an autoencoder's codes are not Gaussian
    assert r["images"].shape == (6, 28, 28)
    ends = G.decode_latents(model, codes[[3, 9]])
    np.testing.assert_array_equal(r["images"][[0, -1]], ends)
    with pytest.raises(LatentspaceError, match="no such test image"):
        generate_run(tiny_ae_run.path, "interpolate", src=0, dst=10000)


def test_vae_interpolates_spherically_too(tmp_path, monkeypatch):
    register(monkeypatch)
    run_dir = fake_run(tmp_path / "vae", FakeVAE)
    r = generate_run(run_dir, "interpolate", src=0, dst=1, steps=5)
    assert list(r["rows"]) == ["linear", "spherical"]
    assert r["images"].shape == (10, 28, 28)
    assert "model's prior" in generate_run(run_dir, "prior", n=4)["title"]


def test_gan_generates_but_needs_no_encoder_modes(tmp_path, monkeypatch, capsys):
    register(monkeypatch)
    run_dir = fake_run(tmp_path / "gan", FakeGAN, latent_dim=2)
    out = tmp_path / "gan.npy"
    assert main(["generate", str(run_dir), "--mode", "prior", "--n", "5", "--out", str(out)]) == 0
    assert np.load(out).shape == (5, 28, 28)
    capsys.readouterr()
    for mode in ("traverse", "grid"):
        assert main(["generate", str(run_dir), "--mode", mode, "--out", str(tmp_path / "x.png")]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "encoder" in err[0], err
    # without an encoder, an interpolation runs between two samples of its prior (spherically too: N(0, I))
    r = generate_run(run_dir, "interpolate", steps=4, seed=3)
    assert list(r["rows"]) == ["linear", "spherical"] and "between two samples" in r["title"]
    with pytest.raises(LatentspaceError, match="test image"):
        generate_run(run_dir, "interpolate", ends="images")
    # a lattice over explicit bounds needs no encoder
    r = generate_run(run_dir, "grid", steps=3, bounds=(-1, 1, -1, 1))
    assert r["images"].shape == (9, 28, 28)


def test_cli_outputs(tiny_ae_run, tmp_path, capsys):
    npy = tmp_path / "traverse.npy"
    assert main(["generate", str(tiny_ae_run.path), "--mode", "traverse", "--dims", "0,2", "--steps", "3",
                 "--image", "5", "--out", str(npy)]) == 0
    arr = np.load(npy, allow_pickle=False)
    assert arr.shape == (9, 28, 28) and arr.dtype == np.uint8
    for mode, extra in (("prior", ["--n", "8"]),
                        ("interpolate", ["--from", "1", "--to", "2", "--steps", "4"])):
        png = tmp_path / f"{mode}.png"
        assert main(["generate", str(tiny_ae_run.path), "--mode", mode, *extra, "--out", str(png)]) == 0
        assert png.stat().st_size > 5_000
    capsys.readouterr()
    assert main(["generate", str(tiny_ae_run.path), "--mode", "traverse", "--dims", "0,9"]) == 2
    assert "out of range" in capsys.readouterr().err
    assert main(["generate", str(tiny_ae_run.path), "--mode", "prior", "--out", str(tmp_path / "x.jpg")]) == 2


@pytest.mark.parametrize("labelled", [True, False], ids=["labelled", "unlabelled"])
def test_a_colour_model_generates_colour_arrays_and_figures(tmp_path, monkeypatch, labelled):
    from latentspace.commands import generate
    from latentspace.figures import latent

    register(monkeypatch)
    use_fake_data(monkeypatch, fake_colour_test_set(60, labelled=labelled), generate)
    texts = figure_texts(monkeypatch, latent)
    run_dir = fake_run(tmp_path / "rgb", FakeRGB, latent_dim=2)
    for mode, kw, n in (("prior", {"n": 6}, 6), ("traverse", {"steps": 3}, 9), ("grid", {"steps": 3}, 9),
                        ("interpolate", {"steps": 4}, 8)):
        r = generate_run(run_dir, mode, **kw)
        assert r["images"].shape == (n, 32, 32, 3) and r["images"].dtype == np.uint8, mode
        assert_coloured(write_generated(r, tmp_path / f"{mode}.png"))
        assert np.load(write_generated(r, tmp_path / f"{mode}.npy")).shape == (n, 32, 32, 3)
    assert ("(class 1)" in r["title"]) == labelled  # interpolate: from test image 0 to test image 1
    assert (latent.UNLABELLED in texts) != labelled  # the grid's map of the test codes
