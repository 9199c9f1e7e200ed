"""The flow-matching / DDPM model: shapes for grey and colour, the objectives, the ODE (encode -> decode, its
determinism), EMA and gradient clipping, refusals, and a tiny run through the real trainer."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from lightning.pytorch.callbacks import Callback

from latentspace.errors import LatentspaceError
from latentspace.models import MODELS
from latentspace.models.flow import Flow, unet_levels
from latentspace.models.flow_config import FlowConfig
from latentspace.training.config import TrainConfig


def tiny(**kw) -> FlowConfig:
    return FlowConfig(**{"width": 8, "progress_images": 4, "sample_steps": 4, **kw})


def toy_images(n: int = 64, size: int = 16, seed: int = 0) -> torch.Tensor:
    """Bright squares at random places on black: a data set a tiny UNet learns in seconds (in [0, 1])."""
    g = torch.Generator().manual_seed(seed)
    x = torch.zeros(n, 1, size, size)
    for i, (r, c) in enumerate(torch.randint(0, size - 6, (n, 2), generator=g).tolist()):
        x[i, :, r:r + 6, c:c + 6] = 1.0
    return x


def train(model: Flow, x: torch.Tensor, steps: int, batch: int = 32) -> list[float]:
    """A plain loop over the model's own loss, optimizer and EMA (what the trainer runs), for unit tests."""
    opt = model.configure_optimizers()
    g = torch.Generator().manual_seed(0)
    losses = []
    for _ in range(steps):
        xb = x[torch.randint(0, len(x), (batch,), generator=g)] * 2 - 1
        loss = model.loss(xb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        model.on_train_batch_end(None, None, 0)
        losses.append(float(loss.detach()))
    return losses


@pytest.fixture(scope="module")
def toy_model() -> Flow:
    torch.manual_seed(0)
    model = Flow(tiny(lr=3e-3, ema_decay=0.9), (1, 16, 16))
    train(model, toy_images(), 100, batch=16)
    return model.eval()


@pytest.mark.parametrize("shape", [(1, 16, 16), (1, 28, 28), (3, 32, 32), (3, 64, 64), (1, 17, 17)],
                         ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("objective", ["flow", "ddpm"])
def test_shapes_ranges_and_channels_for_grey_and_colour(shape, objective):
    torch.manual_seed(0)
    model = Flow(tiny(objective=objective, sample_steps=2), shape).eval()
    c = shape[0]
    # grey stays grey: the UNet reads and writes the data's own channels
    assert model.net.config.in_channels == model.net.config.out_channels == c
    assert model.latent_shape == shape and model.latent_dim == c * shape[1] * shape[2]
    z = model.prior_latents(3, torch.Generator().manual_seed(1))
    assert z.shape == (3, *shape)
    x = model.decode(z)
    assert x.shape == (3, *shape) and 0.0 <= float(x.min()) and float(x.max()) <= 1.0
    assert model.decode(z.reshape(3, -1)).shape == x.shape  # flattened latents too
    assert model.encode(x).shape == (3, *shape)
    assert model.sample(2).shape == (2, *shape)
    assert torch.isfinite(model.loss(torch.rand(4, *shape) * 2 - 1))


def test_the_unet_halves_its_map_down_to_at_most_8_pixels():
    assert [unet_levels(s) for s in (16, 17, 28, 32, 64, 128)] == [2, 3, 3, 3, 4, 5]
    assert Flow(tiny(), (1, 28, 28)).pad == 0 and Flow(tiny(), (1, 17, 17)).pad == 3  # 17 -> 20 halves twice
    channels = Flow(tiny(width=16), (1, 64, 64)).net.config.block_out_channels
    assert tuple(channels) == (16, 32, 32, 32)


@pytest.mark.parametrize("objective", ["flow", "ddpm"])
def test_the_loss_falls_on_a_toy_set(objective):
    torch.manual_seed(0)
    losses = train(Flow(tiny(objective=objective, lr=3e-3), (1, 16, 16)), toy_images(), 60, batch=16)
    first, last = sum(losses[:10]) / 10, sum(losses[-10:]) / 10
    assert last < 0.7 * first, (first, last)


def test_the_paths_end_at_the_image_and_at_the_noise():
    t = torch.tensor([0.0, 1.0])
    a, b = Flow(tiny(), (1, 16, 16)).coefficients(t)
    assert torch.equal(a, torch.tensor([1.0, 0.0])) and torch.equal(b, torch.tensor([0.0, 1.0]))
    a, b = Flow(tiny(objective="ddpm"), (1, 16, 16)).coefficients(t)
    assert torch.allclose(a, torch.tensor([1.0, 0.01]), atol=1e-6) and float(b[0]) == 0 and float(b[1]) > 0.99
    assert torch.allclose(a ** 2 + b ** 2, torch.ones(2))  # variance preserving


def test_encode_then_decode_gets_closer_with_more_steps(toy_model):
    x = toy_images(16, seed=1)
    errors = []
    for steps in (2, 8, 32):
        toy_model.config.sample_steps = steps
        errors.append(float(((toy_model.decode(toy_model.encode(x)) - x) ** 2).mean()))
    toy_model.config.sample_steps = 4
    assert errors[0] > errors[1] > errors[2], errors


def test_heun_is_closer_than_euler_at_the_same_steps(toy_model):
    x = toy_images(16, seed=1)
    toy_model.config.sample_steps = 4
    errors = {}
    for solver in ("euler", "heun"):
        toy_model.config.solver = solver
        errors[solver] = float(((toy_model.decode(toy_model.encode(x)) - x) ** 2).mean())
    toy_model.config.solver = None
    assert errors["heun"] < errors["euler"]


def test_samples_are_the_same_for_the_same_seed(toy_model):
    def draw(seed):
        return toy_model.sample(4, generator=torch.Generator().manual_seed(seed))

    assert torch.equal(draw(3), draw(3)) and not torch.equal(draw(3), draw(4))
    # and they are squares, not noise: mostly black or white pixels
    x = draw(3)
    assert float(((x < 0.2) | (x > 0.8)).float().mean()) > 0.8


def test_the_trajectory_runs_from_the_noise_to_the_sample(toy_model):
    z = toy_model.prior_latents(3, torch.Generator().manual_seed(0))
    states, estimates = toy_model.trajectory(z, [1.0, 0.75, 0.5, 0.25, 0.0])
    assert len(states) == len(estimates) == 5
    assert torch.allclose(states[0], z.add(1).mul(0.5).clamp(0, 1))
    assert torch.allclose(states[-1], toy_model.decode(z), atol=1e-5)  # 4 steps: one per quarter, as decode takes


def test_ema_follows_the_weights_and_is_what_samples():
    model = Flow(tiny(ema_decay=0.999), (1, 16, 16))
    assert all(not p.requires_grad for p in model.net_ema.parameters())
    with torch.no_grad():
        for p in model.net.parameters():
            p.add_(1.0)
    before = [p.clone() for p in model.net_ema.parameters()]
    model.on_train_batch_end(None, None, 0)  # first update: decay min(0.999, 1/10): 90 % of the way
    for b, e, p in zip(before, model.net_ema.parameters(), model.net.parameters()):
        assert torch.allclose(e, b + 0.9 * (p - b), atol=1e-6)
    assert int(model.ema_steps) == 1 and "net_ema.conv_in.weight" in model.state_dict()


@pytest.mark.parametrize("config, message", [
    ({"objective": "ddpm", "solver": "heun"}, "--solver heun does not solve --objective ddpm"),
    ({"solver": "ddim"}, "flow takes euler or heun, ddpm takes ddim"),
    ({"ema_decay": 1.0}, "--ema-decay"),
])
def test_contradictory_settings_are_refused(config, message):
    with pytest.raises(LatentspaceError, match=message):
        Flow(tiny(**config), (1, 16, 16))


def test_images_the_networks_are_not_built_for_are_refused():
    with pytest.raises(LatentspaceError, match="square images"):
        Flow(tiny(), (1, 12, 12))


# ---------------------------------------------------------------------------------------------- through the trainer

@pytest.mark.integration
def test_a_tiny_run_through_the_cli_leaves_its_figures(tmp_path):
    from latentspace.cli import main
    from latentspace.runs import Run, load_run

    out = tmp_path / "flow"
    assert main(["train", "flow", "--width", "8", "--sample-steps", "2", "--progress-images", "4", "--epochs", "2",
                 "--limit-train", "64", "--batch-size", "32", "--no-progress", "--out", str(out)]) == 0
    run = Run(out)
    summary = run.summary()
    assert summary["figures"] == ["figures/loss.png", "figures/progress.gif", "figures/trajectory.png",
                                  "figures/samples.png"]
    assert sorted(p.name for p in run.progress_frames.glob("*.png")) == ["epoch_000.png", "epoch_001.png"]
    assert len((run.path / "flow_steps.csv").read_text().splitlines()) == 1 + 2 * 2  # a row per step
    model, _ = load_run(out)
    assert model.config.sample_steps == 2 and model.image_shape == (1, 28, 28)
    assert int(model.ema_steps) == 4


@pytest.mark.integration
def test_zero_sampling_steps_are_refused_in_one_line(tmp_path, capsys):
    from tests.cli import exit_code

    assert exit_code("train", "flow", "--sample-steps", "0", "--out", tmp_path / "r") == 2
    err = capsys.readouterr().err.strip()
    assert "--sample-steps must be at least 1, got 0" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "r").exists()


@pytest.mark.integration
def test_a_nan_loss_stops_training_in_one_line_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    from latentspace.training.trainer import fit

    out = tmp_path / "flow"
    fit("flow", tiny(), TrainConfig(epochs=1, limit_train=64, batch_size=32), out=out, progress=False)
    good = (out / "checkpoints" / "last.ckpt").read_bytes()
    real_loss = Flow.loss
    calls = {"n": 0}

    def loss_turning_nan(self, x, labels=None):
        calls["n"] += 1
        loss = real_loss(self, x, labels)
        return loss * float("nan") if calls["n"] >= 2 else loss

    monkeypatch.setattr(Flow, "loss", loss_turning_nan)
    with pytest.raises(LatentspaceError, match="loss became nan at epoch 1 step 1"):
        fit("flow", tiny(), TrainConfig(epochs=2, limit_train=64, batch_size=32), out=out, progress=False,
            resume=True)
    assert (out / "checkpoints" / "last.ckpt").read_bytes() == good


@pytest.mark.integration
def test_gradients_are_clipped_to_the_configured_norm(tmp_path):
    from latentspace.training.trainer import fit

    norms = []

    class GradNorm(Callback):
        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            grads = [p.grad for p in pl_module.net.parameters() if p.grad is not None]
            norms.append(float(torch.linalg.vector_norm(torch.stack([g.norm() for g in grads]))))

    fit("flow", tiny(grad_clip=1e-3), TrainConfig(epochs=1, limit_train=64, batch_size=32), out=tmp_path / "f",
        progress=False, callbacks=[GradNorm()])
    assert len(norms) == 2 and max(norms) <= 1e-3 * 1.001


def test_the_registry_knows_it():
    spec = MODELS["flow"]
    assert spec.model_class() is Flow and spec.encoder and spec.prior == "normal" and spec.monitor is None


def test_sampling_in_chunks_gives_the_same_images(toy_model, monkeypatch):
    assert Flow(tiny(width=16), (1, 28, 28)).chunk == 127 and Flow(tiny(width=32), (1, 28, 28)).chunk == 63
    z = toy_model.prior_latents(5, torch.Generator().manual_seed(2))
    whole = toy_model.decode(z)
    monkeypatch.setattr(Flow, "chunk", 2)  # 2 + 2 + 1
    assert torch.allclose(toy_model.decode(z), whole, atol=1e-5)


# ---------------------------------------------------------------------------------------------- classes and guidance

def two_class_images(n: int = 64, size: int = 16, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Class 0: a bright square in the top half; class 1: in the bottom half."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 2
    x = torch.zeros(n, 1, size, size)
    for i, c in enumerate(torch.randint(0, size - 6, (n,), generator=g).tolist()):
        top = 0 if labels[i] == 0 else size // 2 + 1
        x[i, :, top:top + 6, c:c + 6] = 1.0
    return x, labels


def test_a_conditional_model_embeds_classes_plus_no_class():
    model = Flow(tiny(conditional=True), (1, 16, 16), num_classes=10)
    assert model.conditional and model.net.class_embedding.num_embeddings == 11  # index 10: no class
    assert Flow(tiny(), (1, 16, 16), num_classes=10).num_classes == 0  # classes of the data it does not use
    z = model.prior_latents(3)
    assert model.decode(z, torch.tensor([0, 5, 9])).shape == (3, 1, 16, 16)
    assert model.encode(torch.rand(2, 1, 16, 16), torch.tensor([1, 2])).shape == (2, 1, 16, 16)


def test_label_dropout_replaces_a_tenth_of_the_labels_by_no_class():
    model = Flow(tiny(conditional=True), (1, 16, 16), num_classes=10)
    torch.manual_seed(0)
    labels = torch.randint(0, 10, (20000,))
    dropped = model.drop_labels(labels)
    gone = dropped == 10
    assert abs(float(gone.float().mean()) - 0.1) < 0.01 and torch.equal(dropped[~gone], labels[~gone])


def test_guidance_mixes_the_conditional_and_the_unconditional_prediction():
    torch.manual_seed(0)
    model = Flow(tiny(conditional=True, guidance=3.0), (1, 16, 16), num_classes=4).eval()
    with torch.no_grad():
        for p in model.net_ema.class_embedding.parameters():
            p.normal_()  # make the classes matter
        x, t, labels = torch.randn(3, 1, 16, 16), torch.full((3,), 0.5), torch.tensor([0, 1, 3])
        cond = model.predict(model.net_ema, x, t, labels)
        uncond = model.predict(model.net_ema, x, t, torch.full_like(labels, 4))
        assert torch.allclose(model.guided(x, t, labels), uncond + 3.0 * (cond - uncond), atol=1e-5)
        model.config.guidance = 1.0
        assert torch.allclose(model.guided(x, t, labels), cond, atol=1e-6)


@pytest.mark.parametrize("build, classes, labels, message", [
    ({"guidance": 2.0}, 10, None, "--guidance steers a class-conditional run"),
    ({"conditional": True}, 0, None, "at least two classes"),
    ({}, 10, [0, 1], "trained without classes takes no class"),
    ({"conditional": True}, 10, None, "class-conditional: give the classes"),
    ({"conditional": True}, 10, [0, 10], "class 10 out of range 0..9"),
])
def test_class_mistakes_are_refused(build, classes, labels, message):
    with pytest.raises(LatentspaceError, match=message):
        model = Flow(tiny(**build), (1, 16, 16), num_classes=classes)
        model.decode(model.prior_latents(2), None if labels is None else torch.tensor(labels))


def test_guided_samples_land_in_the_asked_class():
    torch.manual_seed(0)
    model = Flow(tiny(conditional=True, lr=3e-3, ema_decay=0.9, guidance=2.0), (1, 16, 16), num_classes=2)
    x, labels = two_class_images()
    opt = model.configure_optimizers()
    g = torch.Generator().manual_seed(0)
    for _ in range(150):
        i = torch.randint(0, len(x), (16,), generator=g)
        loss = model.loss(x[i] * 2 - 1, model.drop_labels(labels[i]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        model.on_train_batch_end(None, None, 0)
    model.eval()
    asked = torch.arange(16) % 2
    images = model.sample(16, torch.Generator().manual_seed(1), labels=asked)
    top, bottom = images[:, :, :8].mean((1, 2, 3)), images[:, :, 8:].mean((1, 2, 3))
    assert torch.equal((bottom > top).long(), asked)


# ---------------------------------------------------------------------------------------------- everywhere the others go

def cli(*argv) -> int:
    from tests.cli import exit_code

    return exit_code(*argv)


@pytest.mark.integration
def test_generate_draws_a_class_at_a_guidance_and_steps_asked_for_this_use(tiny_conditional_flow_run, tmp_path):
    from latentspace.commands.generate import generate_run

    run = tiny_conditional_flow_run.path
    r = generate_run(run, "prior", n=4, label=3, sampling={"guidance": 3.0, "sample_steps": 3})
    assert r["images"].shape == (4, 28, 28) and r["labels"].tolist() == [3] * 4
    assert "guidance 3" in r["title"] and "3 Heun steps" in r["title"] and "class Dress" in r["title"]
    # the settings change the images, and the run keeps its own
    plain = generate_run(run, "prior", n=4, label=3)
    assert not np.array_equal(plain["images"], r["images"])
    assert load_run_config(run)["guidance"] is None and load_run_config(run)["sample_steps"] == 2
    assert cli("generate", run, "--mode", "prior", "--class", "Dress", "--guidance", "3", "--sample-steps", "3",
               "--n", "4", "--out", tmp_path / "dress.npy") == 0
    assert np.array_equal(np.load(tmp_path / "dress.npy"), r["images"])


def load_run_config(run) -> dict:
    import json

    return json.loads((run / "config.json").read_text())["model_config"]


@pytest.mark.integration
def test_interpolation_slerps_two_noises_or_goes_through_the_encoder(tiny_flow_run, tmp_path):
    from latentspace.commands.generate import generate_run

    run = tiny_flow_run.path
    samples = generate_run(run, "interpolate", steps=5, ends="samples", seed=1)
    assert list(samples["rows"]) == ["linear", "spherical"] and samples["images"].shape == (10, 28, 28)
    ends = generate_run(run, "prior", n=2, seed=1)["images"]  # the two samples the walk runs between
    spherical = samples["rows"]["spherical"]
    for got, want in ((spherical[0], ends[0]), (spherical[-1], ends[1])):
        assert np.abs(got.astype(int) - want).max() <= 1  # the same noise (slerp's ends, up to rounding)
    images = generate_run(run, "interpolate", steps=5, src=0, dst=1)
    assert images["images"].shape == (10, 28, 28) and "test image 0" in images["title"]
    assert cli("generate", run, "--mode", "interpolate", "--ends", "samples", "--steps", "4",
               "--out", tmp_path / "walk.png") == 0


@pytest.mark.integration
@pytest.mark.parametrize("argv, message", [
    (("--mode", "prior", "--guidance", "2"), "--guidance steers a class-conditional run"),
    (("--mode", "prior", "--class", "1"), "trained without classes"),
    (("--mode", "prior", "--sample-steps", "0"), "--sample-steps must be at least 1, got 0"),
    (("--mode", "prior", "--solver", "ddim"), "--solver ddim does not solve --objective flow"),
    (("--mode", "traverse"), "latent is an image of shape (1, 28, 28)"),
])
def test_what_a_flow_run_cannot_do_is_refused_in_one_line(tiny_flow_run, tmp_path, capsys, argv, message):
    assert cli("generate", tiny_flow_run.path, *argv, "--out", tmp_path / "x.png") == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "x.png").exists()


@pytest.mark.integration
def test_evaluate_scores_samples_and_their_cost_without_a_floor(tiny_flow_run):
    from latentspace.commands.evaluate import evaluate_run

    m = evaluate_run(tiny_flow_run.path, n=50, sampling={"sample_steps": 1})
    assert {"fid", "kid", "precision", "recall", "sample_seconds_per_1000", "test_mse"} <= set(m)
    assert m["sample_seconds_per_1000"] > 0
    # its encode-decode is the ODE both ways: measured on the first 1,000 test images; a floor of reconstructed
    # training images would be the data's own score
    assert m["reconstruction_images"] == 1000 and "floor_fid" not in m and "prior_share" not in m


@pytest.mark.integration
def test_embed_maps_the_noise_of_the_first_test_images(tiny_flow_run):
    from latentspace.commands.embed import embed_run

    r = embed_run(tiny_flow_run.path, "pca")
    assert r["index"].tolist() == list(range(1000)) and r["latent"].shape == (1000, 784)
    assert r["points"].shape == (1000, 2) and np.isfinite(r["points"]).all()
    assert len(embed_run(tiny_flow_run.path, "pca", n=30)["index"]) == 30  # asked for: a seeded sample


@pytest.mark.integration
def test_the_explorer_maps_1000_test_images_and_decodes_a_seeded_noise(tiny_conditional_flow_run):
    from fastapi.testclient import TestClient

    from latentspace.explorer.app import create_app

    client = TestClient(create_app([str(tiny_conditional_flow_run.path)]))
    (run,) = client.get("/api/runs").json()["runs"]
    assert run["n_test"] == 1000 and run["latent_shape"] == [1, 28, 28] and run["conditional"]
    drawn = client.post("/api/sample", json={"run": run["name"], "n": 2, "seed": 5, "label": 4}).json()["images"]
    z = drawn[0]["z"]
    assert len(z) == 784
    png = client.post("/api/decode", json={"run": run["name"], "z": z, "label": 4})
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"


@pytest.mark.integration
def test_the_python_api_trains_and_samples_it(tmp_path):
    import latentspace as ls

    run = ls.train("flow", out=tmp_path / "f", width=8, sample_steps=1, progress_images=4, epochs=1,
                   limit_train=64, progress=False)
    model = ls.load_run(run.path, sample_steps=3)
    assert model.config.sample_steps == 3 and ls.load_run(run.path).config.sample_steps == 1
    assert ls.sample(model, 3, seed=0).shape == (3, 28, 28)


@pytest.mark.integration
def test_a_folder_of_colour_pictures_trains_it_in_colour(tmp_path):
    from latentspace.commands.generate import generate_run
    from tests.datafiles import shapes_folder

    folder = shapes_folder(tmp_path / "shapes", per_class=8)
    out = tmp_path / "run"
    assert cli("train", "flow", "--dataset", f"folder:{folder}", "--width", "8", "--sample-steps", "1",
               "--progress-images", "4", "--epochs", "1", "--conditional", "--no-progress", "--out", out) == 0
    model, _ = load_run_model(out)
    assert model.image_shape == (3, 32, 32) and model.latent_shape == (3, 32, 32) and model.num_classes == 3
    assert model.net.config.in_channels == 3
    images = generate_run(out, "prior", n=3, label="squares")["images"]
    assert images.shape == (3, 32, 32, 3)


def load_run_model(path):
    from latentspace.runs import load_run

    return load_run(path)


@pytest.mark.integration
def test_two_cpu_processes_train_it_with_ddp(tmp_path):
    import json
    import subprocess
    import sys

    from tests.training.test_trainer import clean_env

    out = tmp_path / "ddp"
    proc = subprocess.run([sys.executable, "-m", "latentspace.cli", "train", "flow", "--width", "8", "--sample-steps",
                           "1", "--progress-images", "4", "--epochs", "1", "--limit-train", "256", "--batch-size",
                           "32", "--device", "cpu", "--devices", "2", "--no-progress", "--out", str(out)],
                          capture_output=True, text=True, env=clean_env(), timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    s = json.loads((out / "summary.json").read_text())
    assert s["devices"] == 2 and s["finished"] and len(s["figures"]) == 4
    model, _ = load_run_model(out)
    assert int(model.ema_steps) == 4  # 256 images, 2 processes of batch 32: 4 steps each, the EMA kept in step
