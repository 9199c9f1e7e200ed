"""Generation: traversals, 2-D lattices, prior samples (GMM for an autoencoder), interpolations, CLI outputs."""
from __future__ import annotations

import numpy as np
import pytest

from latent_fakes import FakeConfig, FakeGAN, FakeVAE, fake_run, register
from latentspace.analysis import generate as G
from latentspace.analysis.embed import encode_images, load_run_splits
from latentspace.analysis.samplers import GaussianMixtureSampler, prior_samples
from latentspace.cli import main
from latentspace.errors import LatentspaceError
from latentspace.generation import generate_run, write_generated
from latentspace.runs import load_run


@pytest.fixture(scope="module")
def ae_codes(tiny_ae_run):
    model, run = load_run(tiny_ae_run.path)
    return model, encode_images(model, load_run_splits(run).test)["latent"]


# ---------------------------------------------------------------- pure functions

def test_traverse_varies_only_the_chosen_dimensions():
    z0 = np.array([0.5, -1.0, 2.0, 3.0, -4.0], np.float32)
    low, high = np.full(5, -2.0), np.full(5, 2.0)
    low[3], high[3] = 1.0, 5.0
    z = G.traverse(z0, (3, 1), low, high, steps=4)
    assert z.shape == (16, 5)
    for d in (0, 2, 4):
        np.testing.assert_array_equal(z[:, d], z0[d])
    # dim 3 across each row (low to high), dim 1 down the rows (high to low)
    np.testing.assert_allclose(z[:4, 3], np.linspace(1, 5, 4))
    np.testing.assert_allclose(z[::4, 1], np.linspace(2, -2, 4))
    np.testing.assert_allclose(np.unique(z[:, 3]), np.linspace(1, 5, 4), rtol=1e-6)
    with pytest.raises(LatentspaceError, match="out of range"):
        G.traverse(z0, (0, 5), low, high)
    with pytest.raises(LatentspaceError, match="different"):
        G.traverse(z0, (2, 2), low, high)


def test_grid_covers_the_bounds():
    pts = G.grid((-1.0, 3.0, 0.5, 2.5), steps=5)
    assert pts.shape == (25, 2)
    assert pts[:, 0].min() == pytest.approx(-1) and pts[:, 0].max() == pytest.approx(3)
    assert pts[:, 1].min() == pytest.approx(0.5) and pts[:, 1].max() == pytest.approx(2.5)
    np.testing.assert_allclose(pts[0], [-1, 2.5])  # top left first, as drawn
    np.testing.assert_allclose(pts[-1], [3, 0.5])
    codes = np.random.default_rng(0).normal(size=(500, 2)) * [1, 3] + [4, 0]
    x0, x1, y0, y1 = G.square_bounds(codes)
    assert x1 - x0 == pytest.approx(y1 - y0)  # a square
    assert (codes[:, 0] >= x0).all() and (codes[:, 0] <= x1).all()
    assert (codes[:, 1] >= y0).all() and (codes[:, 1] <= y1).all()
    with pytest.raises(LatentspaceError, match="x0 < x1"):
        G.grid((1, 0, 0, 1))


def test_interpolations():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=8), rng.normal(size=8) * 2
    for fn in (G.lerp, G.slerp):
        path = fn(a, b, steps=7)
        assert path.shape == (7, 8)
        np.testing.assert_allclose(path[0], a, atol=1e-5)
        np.testing.assert_allclose(path[-1], b, atol=1e-5)
    # linear: evenly spaced on the segment; spherical: norms interpolated linearly, off the segment
    lin, sph = G.lerp(a, b, 7), G.slerp(a, b, 7)
    np.testing.assert_allclose(np.diff(lin, axis=0), np.broadcast_to((b - a) / 6, (6, 8)), atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(sph, axis=1),
                               np.linspace(np.linalg.norm(a), np.linalg.norm(b), 7), rtol=1e-5)
    assert np.linalg.norm(sph[3]) > np.linalg.norm(lin[3])
    e0, e1 = np.eye(2)
    np.testing.assert_allclose(G.slerp(e0, e1, 3)[1], [np.sqrt(0.5), np.sqrt(0.5)], atol=1e-6)
    assert set(G.interpolate(a, b, 5, spherical=True)) == {"linear", "spherical"}
    assert set(G.interpolate(a, b, 5)) == {"linear"}


def test_gmm_sampling_reproduces_the_latent_mean_and_spread():
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(3, 4)) * 5
    data = np.concatenate([c + rng.normal(size=(400, 4)) for c in centres])
    sampler = GaussianMixtureSampler(n_components=3, seed=0).fit(data)
    z = sampler.sample(3000)
    assert z.shape == (3000, 4) and z.dtype == np.float32
    np.testing.assert_allclose(z.mean(0), data.mean(0), atol=0.3)
    np.testing.assert_allclose(z.std(0), data.std(0), rtol=0.1)
    np.testing.assert_array_equal(sampler.sample(10), sampler.sample(10))  # seeded
    with pytest.raises(LatentspaceError, match="at least"):
        GaussianMixtureSampler(10).fit(data[:5])


# ---------------------------------------------------------------- on a trained model

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
    train = load_run_splits(run).train
    assert len(train) == 512  # the run's own limit on training images
    codes = encode_images(model, train)["latent"]
    z = GaussianMixtureSampler(10, seed=0).fit(codes).sample(4000)
    assert np.abs(z.mean(0) - codes.mean(0)).max() < 0.1 * codes.std(0).max()


def test_prior_uses_the_models_own_sampler():
    model = FakeVAE(FakeConfig(3))

    def never():
        raise AssertionError("a model with a prior needs no training codes")

    images, how = prior_samples(model, 9, never)
    assert images.shape == (9, 28, 28) and how == "the model's prior"
    np.testing.assert_array_equal(images, prior_samples(model, 9, never)[0])  # seeded


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
    for mode in ("traverse", "interpolate", "grid"):
        assert main(["generate", str(run_dir), "--mode", mode, "--out", str(tmp_path / "x.png")]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "encoder" in err[0], err
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
