"""One run as the explorer serves it: its codes, its map (the run's cached one only when it belongs to the model), its sliders."""
from __future__ import annotations

import numpy as np
import pytest

from tests.fakes import FakeConfig, FakeGAN, FakeVAE, fake_test_set, register


def test_cached_map_is_used_only_when_it_belongs_to_the_model(tmp_path, tiny_ae_run):
    from latentspace.analysis.encode import encode_images
    from latentspace.explorer.served import ServedRun
    from latentspace.runs import load_run

    model, _ = load_run(tiny_ae_run.path)
    test = fake_test_set(50)
    codes = encode_images(model, test)["latent"]
    emb = tmp_path / "embeddings"
    emb.mkdir()
    pts = np.random.default_rng(0).normal(size=(40, 2)).astype(np.float32)
    idx = np.arange(10, 50)
    np.savez(emb / "tsne.npz", points=pts, labels=test.labels.numpy()[idx], index=idx, latent=codes[idx],
             checkpoint_sha="x", method="tsne")
    served = ServedRun.from_model("r", model, test, path=tmp_path)
    assert served.map.method == "tsne" and served.map.cached
    np.testing.assert_array_equal(served.map.points, pts)
    np.testing.assert_array_equal(served.map.index, idx)
    # made by another checkpoint (codes differ): ignored, PCA instead
    np.savez(emb / "tsne.npz", points=pts, labels=idx % 10, index=idx, latent=codes[idx] + 1.0, method="tsne")
    assert ServedRun.from_model("r", model, test, path=tmp_path).map.method == "pca"
    # damaged: ignored as well
    (emb / "tsne.npz").write_bytes(b"not a zip")
    assert ServedRun.from_model("r", model, test, path=tmp_path).map.method == "pca"


@pytest.fixture(autouse=True)
def _fakes(monkeypatch):
    register(monkeypatch)


def test_a_gaussian_posterior_orders_its_sliders_by_activity_and_a_gan_gets_noise_ranges():
    from latentspace.explorer.served import MAX_SLIDERS, NOISE_RANGE, ServedRun

    vae = ServedRun.from_model("vae", FakeVAE(), fake_test_set(60))
    assert vae.order == [1, 3, 4, 0, 2] and vae.activity == sorted(vae.activity, reverse=True)
    assert vae.map.method == "pca" and vae.codes.shape == (60, 5) and (vae.low < vae.high).all()
    gan = ServedRun.from_model("gan", FakeGAN(FakeConfig(latent_dim=40)), None)
    assert gan.map is None and gan.codes is None and gan.can_sample
    assert gan.info()["slider_dims"] == list(range(MAX_SLIDERS)) and (gan.high == NOISE_RANGE).all()


def test_a_colour_model_of_an_unlabelled_set_is_served_with_its_image_shape():
    from latentspace.explorer.served import ServedRun
    from tests.fakes import FakeRGB, fake_colour_test_set

    rgb = ServedRun.from_model("rgb", FakeRGB(), fake_colour_test_set(40, labelled=False))
    assert rgb.image_shape == (3, 32, 32) and rgb.info()["image_shape"] == [3, 32, 32]
    assert rgb.info()["classes"] == [] and rgb.class_name(-1) is None and set(rgb.map.labels) == {-1}
    assert rgb.decode(rgb.codes[:2]).shape == (2, 32, 32, 3)
    labelled = ServedRun.from_model("rgb", FakeRGB(), fake_colour_test_set(40))
    assert labelled.class_name(3) == "class 3"


def test_samples_are_the_one_samplers_codes():
    import torch

    from latentspace.explorer.served import ServedRun

    gan = ServedRun.from_model("gan", FakeGAN(), None)
    assert gan.samplers == ["prior"]  # no training images: only the samplers that need none
    z, images = gan.sample(4, seed=9)
    np.testing.assert_array_equal(z, torch.randn(4, 3, generator=torch.Generator().manual_seed(9)).numpy())
    np.testing.assert_array_equal(gan.decode(z), images)
    assert not np.array_equal(gan.sample(4, seed=None)[0], gan.sample(4, seed=None)[0])


def test_png_images_round_trip():
    import io

    from PIL import Image

    from latentspace.explorer.served import png_bytes, png_data_url

    image = np.arange(28 * 28, dtype=np.uint8).reshape(28, 28)
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(png_bytes(image)))), image)
    colour = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    with Image.open(io.BytesIO(png_bytes(colour))) as im:
        assert im.mode == "RGB" and np.array_equal(np.asarray(im), colour)
    assert png_data_url(image).startswith("data:image/png;base64,")


def test_a_model_whose_encoding_is_costly_is_served_with_its_first_test_images(tmp_path, monkeypatch):
    """`spec.encode_limit`: the explorer encodes the first N test images at start-up, not all 10,000 (a flow
    model's ODE solve would keep the page from opening for minutes); --limit-test still decides when given."""
    import dataclasses

    from latentspace.explorer.served import load_served_runs
    from latentspace.models import MODELS
    from tests.fakes import fake_run

    run = fake_run(tmp_path / "vae", FakeVAE)
    assert len(load_served_runs([run])[0].test) == 10000
    monkeypatch.setitem(MODELS, "fakevae", dataclasses.replace(MODELS["fakevae"], encode_limit=50))
    assert len(load_served_runs([run])[0].test) == 50
    assert len(load_served_runs([run], limit_test=80)[0].test) == 80
