"""The explorer's API (FastAPI TestClient): every endpoint, every bad input a 4xx with a message, never a 500.

Autoencoder runs are real (tiny trained runs); a VAE and a GAN are small fake models registered for these
tests (tests/fakes.py: a Gaussian posterior; no encoder), so the explorer is tested against the model
contract rather than against one model class.
"""
from __future__ import annotations

import io
import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from latentspace.data.images import to_uint8
from latentspace.errors import LatentspaceError
from tests.conftest import pristine_copy
from tests.fakes import FakeGAN, FakeVAE, fake_test_set

N_TEST = 300
pytestmark = pytest.mark.usefixtures("fake_models_in_module")  # the fake VAE and GAN, for every test here


@pytest.fixture(scope="module")
def app(fake_models_in_module, tiny_ae_run, tiny_ae2_run, tmp_path_factory):
    from latentspace.explorer.app import create_app
    from latentspace.explorer.served import ServedRun

    test = fake_test_set()
    root = tmp_path_factory.mktemp("explorer-runs")
    return create_app([pristine_copy(tiny_ae_run, root / tiny_ae_run.name),
                       pristine_copy(tiny_ae2_run, root / tiny_ae2_run.name),
                       ServedRun.from_model("vae", FakeVAE(), test), ServedRun.from_model("gan", FakeGAN(), test)],
                      limit_test=N_TEST)


@pytest.fixture(scope="module")
def client(app):
    from fastapi.testclient import TestClient

    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture(scope="module")
def names(app):
    ae, ae2, vae, gan = app.state.runs
    return {"ae": ae, "ae2": ae2, "vae": vae, "gan": gan}


def bad(r, status=None):
    """A refused request: 4xx, JSON, a one-line message."""
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    if status is not None:
        assert r.status_code == status, (r.status_code, r.text)
    detail = r.json()["detail"]
    assert isinstance(detail, str) and detail and "\n" not in detail
    return detail


def png(r) -> np.ndarray:
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/png"
    return np.asarray(Image.open(io.BytesIO(r.content)))


def data_url_image(url: str) -> np.ndarray:
    import base64

    assert url.startswith("data:image/png;base64,")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))))


# ---------------------------------------------------------------- runs and maps

def test_runs_lists_names_kinds_and_latent_sizes(client, names):
    runs = {r["name"]: r for r in client.get("/api/runs").json()["runs"]}
    assert list(runs) == list(names.values())
    ae, ae2, vae, gan = (runs[names[k]] for k in ("ae", "ae2", "vae", "gan"))
    # an autoencoder samples through the one sampler: a mixture on its training codes
    assert (ae["kind"], ae["latent_dim"], ae["map_method"], ae["has_map"], ae["can_sample"]) == ("ae", 4, "pca", True,
                                                                                                 True)
    assert (ae2["latent_dim"], ae2["map_method"]) == (2, "latent")
    assert ae["n_test"] == N_TEST and ae["classes"][0] == "T-shirt/top"
    assert ae["image_shape"] == gan["image_shape"] == [1, 28, 28]
    assert ae["slider_dims"] == [0, 1, 2, 3] and ae["slider_activity"] is None
    assert all(lo < hi for lo, hi in zip(ae["low"], ae["high"]))
    # a VAE: sliders ordered by KL per dimension, most active first
    assert vae["can_sample"] and vae["has_map"]
    assert vae["slider_dims"] == [1, 3, 4, 0, 2]
    assert vae["slider_activity"] == sorted(vae["slider_activity"], reverse=True)
    # a GAN: no encoder, so no map, but samples and sliders over its noise
    assert (gan["has_encoder"], gan["has_map"], gan["can_sample"], gan["n_test"]) == (False, False, True, 0)
    assert gan["low"] == [-3.0] * 3 and gan["high"] == [3.0] * 3


def test_map_of_a_2d_space_is_the_codes_themselves(client, app, names):
    run = app.state.runs[names["ae2"]]
    m = client.get(f"/api/runs/{names['ae2']}/map").json()
    assert m["method"] == "latent" and len(m["x"]) == N_TEST
    np.testing.assert_allclose(np.c_[m["x"], m["y"]], run.codes, atol=1e-4)
    assert m["label"] == run.test.labels.tolist() and m["index"] == list(range(N_TEST))
    assert m["classes"][9] == "Ankle boot"


def test_map_of_a_larger_space_is_pca(client, app, names):
    from sklearn.decomposition import PCA

    m = client.get(f"/api/runs/{names['ae']}/map").json()
    assert m["method"] == "pca" and not m["cached"] and len(m["x"]) == N_TEST
    expected = PCA(2, random_state=0).fit_transform(app.state.runs[names["ae"]].codes.astype(np.float64))
    np.testing.assert_allclose(np.c_[m["x"], m["y"]], expected, atol=1e-3)


def test_map_refusals(client, names):
    assert "no encoder" in bad(client.get(f"/api/runs/{names['gan']}/map"), 404)
    assert "unknown run" in bad(client.get("/api/runs/nope/map"), 404)
    bad(client.get("/api/runs/..%2F..%2Fetc/map"), 404)


# ---------------------------------------------------------------- decode

def test_decode_answers_the_models_image_as_png(client, app, names):
    run = app.state.runs[names["ae"]]
    z = [0.5, -0.25, 0.0, 1.0]
    image = png(client.post("/api/decode", json={"run": names["ae"], "z": z}))
    assert image.shape == (28, 28) and image.dtype == np.uint8
    with torch.inference_mode():
        expected = to_uint8(run.model.decode(torch.tensor([z])))[0]
    np.testing.assert_array_equal(image, expected)
    other = png(client.post("/api/decode", json={"run": names["ae"], "z": [5.0, 5.0, -5.0, 0]}))
    assert not np.array_equal(image, other)
    assert png(client.post("/api/decode", json={"run": names["gan"], "z": [0, 1, 2]})).shape == (28, 28)


@pytest.mark.parametrize("body, words", [
    ({"run": "ae", "z": [0.1, 0.2]}, "exactly 4 numbers"),
    ({"run": "ae", "z": [0.1] * 5}, "exactly 4 numbers"),
    ({"run": "ae", "z": []}, "at least 1"),
    ({"run": "ae", "z": ["1", 0, 0, 0]}, "valid number"),
    ({"run": "ae", "z": [True, 0, 0, 0]}, "valid number"),
    ({"run": "ae", "z": [None, 0, 0, 0]}, "valid number"),
    ({"run": "ae", "z": [1e9, 0, 0, 0]}, "less than or equal to 1000"),
    ({"run": "ae", "z": [-1001, 0, 0, 0]}, "greater than or equal to -1000"),
    ({"run": "ae", "z": 3}, "valid list"),
    ({"run": "ae", "z": [[0, 0, 0, 0]]}, "valid number"),
    ({"run": "ae", "z": [0.0] * 49153}, "at most 49152"),  # a noise image of 3 x 128 x 128 pictures is the most
    ({"run": "ae"}, "z: Field required"),
    ({"z": [0, 0, 0, 0]}, "run: Field required"),
    ({"run": "ae", "z": [0, 0, 0, 0], "scale": 4}, "Extra inputs"),
    ({"run": "nope", "z": [0, 0, 0, 0]}, "unknown run"),
    ({"run": "/etc/passwd", "z": [0, 0, 0, 0]}, "unknown run"),
    ({"run": "../ae", "z": [0, 0, 0, 0]}, "unknown run"),
    ({"run": 3, "z": [0, 0, 0, 0]}, "valid string"),
    ([1, 2], "valid dictionary"),
])
def test_decode_refuses_bad_input(client, names, body, words):
    if isinstance(body, dict) and body.get("run") in names:
        body = {**body, "run": names[body["run"]]}
    assert words in bad(client.post("/api/decode", json=body))


@pytest.mark.parametrize("raw, words", [
    (b'{"run": "RUN", "z": [NaN, 0, 0, 0]}', "finite number"),
    (b'{"run": "RUN", "z": [Infinity, 0, 0, 0]}', "finite number"),
    (b'{"run": "RUN", "z": [0, -Infinity, 0, 0]}', "finite number"),
    (b'{"run": "RUN", "z": [0, 0', "JSON"),
    (b'not json at all', "JSON"),
    (b'', "body"),
])
def test_decode_refuses_non_finite_numbers_and_broken_json(client, names, raw, words):
    raw = raw.replace(b"RUN", names["ae"].encode())
    r = client.post("/api/decode", content=raw, headers={"Content-Type": "application/json"})
    assert words in bad(r, 422)


# ---------------------------------------------------------------- test images

def test_image_gives_the_test_image_its_reconstruction_and_code(client, app, names):
    run = app.state.runs[names["ae"]]
    j = client.get(f"/api/runs/{names['ae']}/image/7").json()
    assert j["index"] == 7 and j["label"] == int(run.test.labels[7])
    assert j["class_name"] == run.classes[j["label"]]
    np.testing.assert_allclose(j["z"], run.codes[7], rtol=1e-6)
    np.testing.assert_array_equal(data_url_image(j["image"]), run.test.arrays(7))
    with torch.inference_mode():
        recon = to_uint8(run.model(run.test.floats([7])))[0]
    np.testing.assert_array_equal(data_url_image(j["reconstruction"]), recon)


def test_image_refusals(client, names):
    assert "out of range" in bad(client.get(f"/api/runs/{names['ae']}/image/{N_TEST}"), 404)
    assert "out of range" in bad(client.get(f"/api/runs/{names['ae']}/image/-1"), 404)
    bad(client.get(f"/api/runs/{names['ae']}/image/abc"), 422)
    assert "out of range" in bad(client.get(f"/api/runs/{names['ae']}/image/99999999999999999999999"), 404)
    assert "no encoder" in bad(client.get(f"/api/runs/{names['gan']}/image/0"), 404)
    assert "unknown run" in bad(client.get("/api/runs/x/image/0"), 404)


# ---------------------------------------------------------------- sample

def test_sample_draws_from_the_prior_with_codes(client, app, names):
    for key in ("vae", "gan"):
        run = app.state.runs[names[key]]
        j = client.post("/api/sample", json={"run": names[key], "n": 5, "seed": 3}).json()
        assert len(j["images"]) == 5
        z = np.array([im["z"] for im in j["images"]], dtype=np.float32)
        assert z.shape == (5, run.latent_dim)
        with torch.inference_mode():
            expected = to_uint8(run.model.decode(torch.from_numpy(z)))
        for im, e in zip(j["images"], expected):
            np.testing.assert_array_equal(data_url_image(im["png"]), e)
        again = client.post("/api/sample", json={"run": names[key], "n": 5, "seed": 3}).json()
        assert again == j  # a seed makes samples reproducible
    assert len(client.post("/api/sample", json={"run": names["vae"]}).json()["images"]) == 8  # default n


def test_an_autoencoder_samples_what_generate_and_evaluate_draw(client, app, names, tiny_ae_run):
    """One sampler per run: the same run, sampler and seed give the same codes and images in the explorer,
    `generate --mode prior` and `evaluate`'s sample metrics (every one through `samplers.store.draw`)."""
    from latentspace.commands.generate import generate_run
    from latentspace.runs import load_run
    from latentspace.samplers.store import draw

    j = client.post("/api/sample", json={"run": names["ae"], "n": 6, "seed": 5}).json()
    z = np.array([im["z"] for im in j["images"]], dtype=np.float32)
    generated = generate_run(tiny_ae_run.path, "prior", n=6, seed=5)
    np.testing.assert_allclose(z, generated["latents"], rtol=1e-5, atol=1e-6)
    images = np.stack([data_url_image(im["png"]) for im in j["images"]])
    np.testing.assert_array_equal(images, generated["images"])
    model, run = load_run(tiny_ae_run.path)
    evaluated = draw(model, 6, seed=5)
    np.testing.assert_array_equal(evaluated.images, generated["images"])
    assert "Gaussian mixture" in evaluated.description


def test_a_model_without_prior_and_training_images_cannot_sample(tiny_ae_run):
    from fastapi.testclient import TestClient

    from latentspace.explorer.app import create_app
    from latentspace.explorer.served import ServedRun
    from latentspace.runs import load_run

    model, _ = load_run(tiny_ae_run.path)
    client = TestClient(create_app([ServedRun.from_model("bare", model, fake_test_set(20))]))
    assert client.get("/api/runs").json()["runs"][0]["can_sample"] is False
    assert "no prior" in bad(client.post("/api/sample", json={"run": "bare", "n": 2}), 400)


@pytest.mark.parametrize("body, status, words", [
    ({"run": "vae", "n": 0}, 422, "greater than or equal to 1"),
    ({"run": "vae", "n": 65}, 422, "less than or equal to 64"),
    ({"run": "vae", "n": 10**12}, 422, "less than or equal to 64"),
    ({"run": "vae", "n": "3"}, 422, "valid integer"),
    ({"run": "vae", "n": 2.5}, 422, "valid integer"),
    ({"run": "vae", "n": 2, "seed": -1}, 422, "greater than or equal to 0"),
    ({"run": "nope", "n": 2}, 404, "unknown run"),
])
def test_sample_refusals(client, names, body, status, words):
    body = {**body, "run": names.get(body["run"], body["run"])}
    assert words in bad(client.post("/api/sample", json=body), status)


# ---------------------------------------------------------------- interpolate

def test_interpolate_between_test_images(client, app, names):
    run = app.state.runs[names["ae"]]
    j = client.post("/api/interpolate", json={"run": names["ae"], "from": 3, "to": 11, "steps": 6}).json()
    assert len(j["images"]) == 6 and j["mode"] == "linear"
    z = np.array([im["z"] for im in j["images"]])
    np.testing.assert_allclose(z[0], run.codes[3], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(z[-1], run.codes[11], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(z[2], run.codes[3] + 0.4 * (run.codes[11] - run.codes[3]), rtol=1e-4, atol=1e-5)
    assert [im["t"] for im in j["images"]] == pytest.approx(np.linspace(0, 1, 6))
    assert data_url_image(j["images"][0]["png"]).shape == (28, 28)
    assert len(client.post("/api/interpolate", json={"run": names["ae"], "from": 0, "to": 1}).json()["images"]) == 10


def test_interpolate_between_vectors_and_spherically(client, names):
    # a 2-D map's points and a GAN's noise are latent vectors, not test images
    j = client.post("/api/interpolate", json={"run": names["ae2"], "from": [0, 0], "to": [1, 2], "steps": 3}).json()
    assert [im["z"] for im in j["images"]] == [[0, 0], [0.5, 1], [1, 2]]
    a, b = [3.0, 0.0, 0.0], [0.0, 3.0, 0.0]
    j = client.post("/api/interpolate", json={"run": names["gan"], "from": a, "to": b, "steps": 5,
                                              "mode": "spherical"}).json()
    norms = [np.linalg.norm(im["z"]) for im in j["images"]]
    assert norms == pytest.approx([3.0] * 5, rel=1e-5)  # slerp keeps the norm; linear would shrink it
    mixed = client.post("/api/interpolate", json={"run": names["vae"], "from": 2, "to": [0.0] * 5, "steps": 2})
    assert mixed.status_code == 200 and mixed.json()["images"][1]["z"] == [0.0] * 5


@pytest.mark.parametrize("body, status, words", [
    ({"run": "ae", "from": 0, "to": N_TEST}, 404, "out of range"),
    ({"run": "ae", "from": -1, "to": 2}, 422, "from"),
    ({"run": "ae", "from": 0, "to": 1, "steps": 1}, 422, "greater than or equal to 2"),
    ({"run": "ae", "from": 0, "to": 1, "steps": 33}, 422, "less than or equal to 32"),
    ({"run": "ae", "from": 0, "to": 1, "steps": 10**9}, 422, "less than or equal to 32"),
    ({"run": "ae", "from": 0, "to": [0, 0]}, 422, "exactly 4 numbers"),
    ({"run": "ae", "from": 0, "to": [0, 0, 0, 1e6]}, 422, "less than or equal to 1000"),
    ({"run": "ae", "from": 1.5, "to": 2}, 422, "from"),
    ({"run": "ae", "from": "1", "to": 2}, 422, "from"),
    ({"run": "ae", "to": 2}, 422, "from: Field required"),
    ({"run": "ae", "from": 0, "to": 1, "mode": "cubic"}, 422, "mode"),
    ({"run": "gan", "from": 0, "to": [0, 0, 0]}, 404, "no encoder"),
    ({"run": "nope", "from": 0, "to": 1}, 404, "unknown run"),
])
def test_interpolate_refusals(client, names, body, status, words):
    body = {**body, "run": names.get(body["run"], body["run"])}
    assert words in bad(client.post("/api/interpolate", json=body), status)


def test_no_bad_input_gives_a_server_error(client, names):
    """A sweep of odd bodies over every POST endpoint: always 4xx or 200, never 500."""
    odd = [None, 0, -1, 1.5, "x", "", True, [], [0], [0] * 4, [1e308] * 4, {"a": 1}, [None] * 4, 10**30]
    for path in ("/api/decode", "/api/sample", "/api/interpolate"):
        for field in ("run", "z", "n", "from", "to", "steps", "seed", "mode"):
            for value in odd:
                body = {"run": names["ae"], "z": [0, 0, 0, 0], "n": 2, "from": 0, "to": 1, field: value}
                if path != "/api/decode":
                    body.pop("z")
                if path != "/api/sample":
                    body.pop("n")
                r = client.post(path, json=body)
                assert r.status_code < 500, (path, body, r.status_code, r.text)
                if r.status_code >= 400:
                    bad(r)
    for path in ("/api/runs/%00/map", "/api/runs/" + "a" * 5000 + "/map", "/api/runs/ae/image/1e3"):
        assert client.get(path).status_code < 500


# ---------------------------------------------------------------- colour models, unlabelled sets

@pytest.fixture(scope="module")
def colour_client(fake_models_in_module):
    """A colour model of 32 px images on a labelled set, and one of 64 px images on an unlabelled set."""
    from fastapi.testclient import TestClient

    from latentspace.explorer.app import create_app
    from latentspace.explorer.served import ServedRun
    from tests.fakes import FakeRGB, fake_colour_test_set

    big = (3, 64, 64)
    return TestClient(create_app([
        ServedRun.from_model("rgb", FakeRGB(), fake_colour_test_set(80)),
        ServedRun.from_model("rgb64", FakeRGB(image_shape=big), fake_colour_test_set(80, labelled=False, shape=big))]),
        raise_server_exceptions=False)


def assert_rgb(image: np.ndarray, size: int) -> None:
    """An H x W x 3 image whose red channel differs from its green one (a colour image, not grey in RGB)."""
    assert image.shape == (size, size, 3) and image.dtype == np.uint8
    assert (np.abs(image[..., 0].astype(int) - image[..., 1]) > 100).mean() > 0.05


def test_runs_give_the_image_shape_and_no_classes_for_an_unlabelled_set(colour_client):
    rgb, rgb64 = colour_client.get("/api/runs").json()["runs"]
    assert rgb["image_shape"] == [3, 32, 32] and rgb64["image_shape"] == [3, 64, 64]
    assert len(rgb["classes"]) == 10 and rgb64["classes"] == []
    m = colour_client.get("/api/runs/rgb64/map").json()
    assert m["classes"] == [] and set(m["label"]) == {-1} and len(m["x"]) == 80


@pytest.mark.parametrize("run, size", [("rgb", 32), ("rgb64", 64)])
def test_every_image_endpoint_answers_rgb_pngs_of_the_models_size(colour_client, run, size):
    assert_rgb(png(colour_client.post("/api/decode", json={"run": run, "z": [0.5, -1, 0, 1, 2]})), size)
    j = colour_client.get(f"/api/runs/{run}/image/3").json()
    assert_rgb(data_url_image(j["image"]), size)
    assert_rgb(data_url_image(j["reconstruction"]), size)
    assert (j["label"], j["class_name"]) == ((3, "class 3") if run == "rgb" else (-1, None))
    for im in colour_client.post("/api/sample", json={"run": run, "n": 3, "seed": 1}).json()["images"]:
        assert_rgb(data_url_image(im["png"]), size)
    for im in colour_client.post("/api/interpolate", json={"run": run, "from": 0, "to": 5, "steps": 3}).json()["images"]:
        assert_rgb(data_url_image(im["png"]), size)


# ---------------------------------------------------------------- page, hosts, CLI

def test_page_and_static_files_are_served(client):
    r = client.get("/")
    assert r.status_code == 200 and "latentspace explorer" in r.text and "/static/app.js" in r.text
    assert "decodeLive" in client.get("/static/app.js").text
    assert client.get("/static/style.css").status_code == 200
    assert client.get("/static/../app.py").status_code == 404


def test_trusted_hosts_refuse_other_host_headers():
    from fastapi.testclient import TestClient

    from latentspace.explorer.app import create_app
    from latentspace.explorer.served import ServedRun

    app = create_app([ServedRun.from_model("gan", FakeGAN(), None)], allowed_hosts=["127.0.0.1", "localhost"])
    assert TestClient(app, base_url="http://127.0.0.1:8000").get("/api/runs").status_code == 200
    assert TestClient(app, base_url="http://evil.example").get("/api/runs").status_code == 400


def test_served_runs_need_distinct_names_and_existing_dirs(tmp_path):
    from latentspace.explorer.app import create_app
    from latentspace.explorer.served import ServedRun

    with pytest.raises(ValueError, match="distinct"):
        create_app([ServedRun.from_model("g", FakeGAN(), None), ServedRun.from_model("g", FakeGAN(), None)])
    with pytest.raises(LatentspaceError, match="no such run"):
        create_app([tmp_path / "missing"])


def test_at_most_32_sliders_and_noise_ranges_for_a_wide_latent_space():
    from fastapi.testclient import TestClient

    from latentspace.explorer.app import create_app
    from latentspace.explorer.served import ServedRun
    from tests.fakes import FakeConfig

    client = TestClient(create_app([ServedRun.from_model("wide", FakeGAN(FakeConfig(latent_dim=40)), None)]))
    info = client.get("/api/runs").json()["runs"][0]
    assert info["latent_dim"] == 40 and info["slider_dims"] == list(range(32)) and len(info["low"]) == 40
    assert png(client.post("/api/decode", json={"run": "wide", "z": [0.5] * 40})).shape == (28, 28)
    assert "exactly 40 numbers" in bad(client.post("/api/decode", json={"run": "wide", "z": [0.5] * 32}), 422)


# ---------------------------------------------------------------- a grid of code indices (VQ-VAE)

@pytest.mark.integration
def test_a_vqvae_run_serves_its_code_grid_decodes_chosen_codes_and_samples_its_prior(tiny_vqvae_run, tmp_path):
    from fastapi.testclient import TestClient

    from latentspace.commands.fit_prior import fit_prior
    from latentspace.explorer.app import create_app

    path = pristine_copy(tiny_vqvae_run, tmp_path / "vq")
    shutil.rmtree(path / "samplers", ignore_errors=True)  # a prior another test may have fitted
    client = TestClient(create_app([path], limit_test=50), raise_server_exceptions=False)
    (info,) = client.get("/api/runs").json()["runs"]
    assert info["discrete"] and info["codebook_size"] == 64 and info["latent_shape"] == [7, 7]
    j = client.get(f"/api/runs/{info['name']}/image/3").json()
    grid = j["z"]
    assert len(grid) == 49 and all(isinstance(v, int) and 0 <= v < 64 for v in grid)
    # one cell given another code decodes to another image; a code out of range or not whole is refused
    changed = list(grid)
    changed[24] = (grid[24] + 17) % 64
    first = client.post("/api/decode", json={"run": info["name"], "z": grid})
    second = client.post("/api/decode", json={"run": info["name"], "z": changed})
    assert first.status_code == second.status_code == 200 and first.content != second.content
    for z in ([64] + grid[1:], [0.5] + grid[1:]):
        assert "0..63" in bad(client.post("/api/decode", json={"run": info["name"], "z": z}), 422)
    # interpolation switches cells from one grid to the other
    j = client.post("/api/interpolate", json={"run": info["name"], "from": 3, "to": 5, "steps": 4}).json()
    assert j["mode"] == "cells" and all(all(isinstance(v, int) for v in im["z"]) for im in j["images"])
    # the prior must be fitted first (minutes would hold the page), then samples are whole code grids
    body = {"run": info["name"], "n": 3, "seed": 1}
    assert "fit-prior" in bad(client.post("/api/sample", json=body), 409)
    fit_prior(path, "autoregressive", minutes=0.02)
    client = TestClient(create_app([path], limit_test=50), raise_server_exceptions=False)
    j = client.post("/api/sample", json=body).json()
    assert len(j["images"]) == 3 and all(len(im["z"]) == 49 for im in j["images"])
