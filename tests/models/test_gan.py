"""The DCGAN: shapes, the run it leaves (figures, GIF, per-step losses), resume, failure detection."""
from __future__ import annotations

import copy
import csv
import shutil

import pytest
import torch
from lightning.pytorch.callbacks import Callback
from PIL import Image

from latentspace.errors import LatentspaceError
from latentspace.models import MODELS
from latentspace.models.gan import GAN
from latentspace.models.gan_config import GANConfig
from latentspace.training.config import TrainConfig
from latentspace.training.trainer import fit

GAN_BATCH = MODELS["gan"].train_defaults["batch_size"]

TINY = ["--g-width", "8", "--d-width", "8", "--limit-train", "256", "--no-progress"]


def tiny_config(**kw) -> GANConfig:
    return GANConfig(**{"g_width": 8, "d_width": 8, "progress_images": 16, **kw})


@pytest.fixture(scope="session")
def tiny_gan_run(tmp_path_factory):
    """Two epochs of 16 batches each, trained through the CLI (so the GAN's own batch-size default applies)."""
    from latentspace.cli import main

    out = tmp_path_factory.mktemp("runs") / "gan"
    assert main(["train", "gan", "--epochs", "2", "--noise-dim", "16", "--progress-images", "16", *TINY,
                 "--out", str(out)]) == 0
    from latentspace.runs import Run
    return Run(out)


def read_rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("noise_dim", [1, 2, 16, 100])
def test_shapes_and_ranges(noise_dim):
    torch.manual_seed(0)
    model = GAN(tiny_config(noise_dim=noise_dim, ema=True)).eval()
    assert model.latent_dim == noise_dim and not model.spec.encoder and model.spec.prior == "normal"
    z = torch.randn(5, noise_dim)
    x = model.decode(z)
    assert x.shape == (5, 1, 28, 28)
    assert 0.0 <= float(x.min()) and float(x.max()) <= 1.0
    assert model.sample(7).shape == (7, 1, 28, 28)
    assert model.discriminator(x * 2 - 1).shape == (5,)
    assert model.fixed_noise.shape == (16, noise_dim)
    # the EMA generator is what samples; it starts as a copy of the generator
    assert torch.allclose(model.decode(z), (model.generator.eval()(z) + 1) / 2)


def test_registered_without_an_encoder():
    spec = MODELS["gan"]
    assert spec.model_class() is GAN and not spec.encoder and spec.monitor is None and spec.objective == "fid"
    assert not hasattr(GAN(tiny_config()), "encode") and GAN(tiny_config()).classifier_encoder() is None
    with pytest.raises(LatentspaceError, match="label-smoothing"):
        GAN(tiny_config(label_smoothing=1.0))


def test_run_has_every_figure_and_one_gif_frame_per_epoch(tiny_gan_run):
    run = tiny_gan_run
    cfg = run.config()
    batch = GAN_BATCH
    assert cfg["train"]["batch_size"] == batch == 16
    assert cfg["model_config"]["noise_dim"] == 16
    summary = run.summary()
    assert summary["epochs_completed"] == 2 and summary["stopped_by"] == "max_epochs"
    for name in ("loss.png", "samples.png", "progress.gif", "progress/epoch_000.png", "progress/epoch_001.png"):
        assert (run.figures / name).is_file(), name
        assert f"figures/{name}" in summary["figures"] or name.startswith("progress/")
    with Image.open(run.figures / "progress.gif") as gif:
        assert gif.n_frames == 2
    # per-step losses: 256 images in batches of 32 -> 8 steps per epoch
    steps = read_rows(run.path / "gan_steps.csv")
    assert [(r["epoch"], r["batch"]) for r in steps] == [(str(e), str(b)) for e in range(2) for b in range(256 // batch)]
    metrics = read_rows(run.metrics_file)
    assert len(metrics) == 2
    for col in ("d_loss", "g_loss", "d_real", "d_fake", "nonfinite_steps", "collapse_steps"):
        assert col in metrics[0]
    assert 0 < float(metrics[0]["d_real"]) < 1 and float(metrics[-1]["nonfinite_steps"]) == 0
    noise = torch.load(run.path / "fixed_noise.pt", weights_only=True)
    ckpt = torch.load(run.last_checkpoint, weights_only=True)
    assert torch.equal(noise, ckpt["state_dict"]["fixed_noise"])


class OptimizerSnapshot(Callback):
    """What the optimizers and the fixed noise hold once training (re)starts."""

    def on_train_start(self, trainer, pl_module):
        self.states = [copy.deepcopy(opt.state_dict()) for opt in trainer.optimizers]
        self.noise = pl_module.fixed_noise.clone()


def test_resume_restores_both_optimizers_and_keeps_the_fixed_noise(tiny_gan_run, tmp_path, monkeypatch):
    from latentspace.training import trainer as T

    out = tmp_path / "gan"
    shutil.copytree(tiny_gan_run.path, out)
    before = torch.load(out / "checkpoints" / "last.ckpt", weights_only=True)
    assert len(before["optimizer_states"]) == 2
    # a resume that seeds differently: a fresh model would draw other noise, so only the restore keeps it
    monkeypatch.setattr(T.L, "seed_everything", lambda *a, **k: torch.manual_seed(999))
    fresh = GAN(GANConfig(**tiny_gan_run.config()["model_config"]))
    assert not torch.equal(fresh.fixed_noise, before["state_dict"]["fixed_noise"])
    snap = OptimizerSnapshot()
    fit("gan", train_config=TrainConfig(epochs=3), out=out, resume=True, progress=False, callbacks=[snap])

    per_epoch = 256 // GAN_BATCH  # steps in one epoch of the fixture's 256 images
    for restored, saved in zip(snap.states, before["optimizer_states"]):
        assert restored["state"].keys() == saved["state"].keys() and restored["state"]
        for k, st in saved["state"].items():
            assert float(restored["state"][k]["step"]) == float(st["step"]) == 2 * per_epoch
            assert torch.equal(restored["state"][k]["exp_avg"], st["exp_avg"])
    after = torch.load(out / "checkpoints" / "last.ckpt", weights_only=True)
    assert [float(s["state"][0]["step"]) for s in after["optimizer_states"]] == [3 * per_epoch] * 2
    assert torch.equal(snap.noise, before["state_dict"]["fixed_noise"])
    assert torch.equal(after["state_dict"]["fixed_noise"], before["state_dict"]["fixed_noise"])
    assert torch.equal(torch.load(out / "fixed_noise.pt", weights_only=True), before["state_dict"]["fixed_noise"])
    with Image.open(out / "figures" / "progress.gif") as gif:
        assert gif.n_frames == 3
    assert [r["epoch"] for r in read_rows(out / "gan_steps.csv")] == [str(e) for e in range(3) for _ in range(per_epoch)]
    assert len(read_rows(out / "metrics.csv")) == 3


class PoisonBatch(Callback):
    """Makes one batch NaN: the step must be skipped and counted, and the weights stay finite."""

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if trainer.current_epoch == 0 and batch_idx == 1:
            batch[0].fill_(float("nan"))


@pytest.mark.integration
def test_nonfinite_step_is_skipped_counted_and_logged(tmp_path):
    run = fit("gan", tiny_config(), TrainConfig(epochs=1, limit_train=384, batch_size=128), out=tmp_path / "g",
              progress=False, callbacks=[PoisonBatch()])
    metrics = read_rows(run.metrics_file)
    assert float(metrics[0]["nonfinite_steps"]) == 1
    assert "non-finite loss at epoch 0 step 1" in (run.path / "train.log").read_text()
    state = torch.load(run.last_checkpoint, weights_only=True)["state_dict"]
    assert all(torch.isfinite(v).all() for v in state.values() if v.is_floating_point())
    assert run.summary()["stopped_by"] == "max_epochs"  # without --stop-on-collapse training goes on


@pytest.mark.integration
def test_stop_on_collapse_ends_training(tmp_path, monkeypatch):
    from latentspace.models import gan as G

    monkeypatch.setattr(G, "D_LOSS_COLLAPSE", 1e9)  # every step looks collapsed
    run = fit("gan", tiny_config(collapse_patience=2, stop_on_collapse=True),
              TrainConfig(epochs=3, limit_train=640, batch_size=128), out=tmp_path / "g", progress=False)
    assert run.summary()["stopped_by"] == "collapse"
    assert run.summary()["epochs_completed"] == 1
    assert len(read_rows(run.path / "gan_steps.csv")) == 2  # stopped after the second of 5 batches
    assert float(read_rows(run.metrics_file)[0]["collapse_steps"]) == 1
    assert "collapse at epoch 0 step 1" in (run.path / "train.log").read_text()


def test_ema_follows_the_generator():
    model = GAN(tiny_config(ema=True))
    assert GAN(tiny_config()).generator_ema is None  # off by default (measured: it did not help, see notes)
    with torch.no_grad():
        for p in model.generator.parameters():
            p.add_(1.0)
    before = [p.clone() for p in model.generator_ema.parameters()]
    model._update_ema()  # first step: decay min(0.999, 1/10) -> the EMA moves 90% of the way
    for b, e, g in zip(before, model.generator_ema.parameters(), model.generator.parameters()):
        assert torch.allclose(e, b + 0.9 * (g - b), atol=1e-6)
    assert int(model.ema_steps) == 1 and "generator_ema.net.0.weight" in model.state_dict()


def test_cli_help_lists_gan_options(capsys):
    from latentspace.cli import main

    with pytest.raises(SystemExit):
        main(["train", "gan", "--help"])
    text = capsys.readouterr().out
    for flag in ("--noise-dim", "--ema", "--spectral-norm", "--no-spectral-norm", "--label-smoothing",
                 "--stop-on-collapse", "--loss", "--lr-d", "--augment", "--conditional", "small-data"):
        assert flag in text
    assert "on with --loss hinge, off with bce" in " ".join(text.split())


def test_the_losses():
    real, fake = torch.tensor([2.0, -0.5]), torch.tensor([-3.0, 0.5])
    hinge, bce = GAN(tiny_config(loss="hinge")), GAN(tiny_config(loss="bce"))
    # hinge: mean(relu(1 - D(x))) + mean(relu(1 + D(G(z)))); the generator: -mean(D(G(z)))
    assert hinge._d_loss(real, fake).item() == pytest.approx((0 + 1.5) / 2 + (0 + 1.5) / 2)
    assert hinge._g_loss(fake).item() == pytest.approx(1.25)
    sp = torch.nn.functional.softplus
    assert bce._d_loss(real, fake).item() == pytest.approx((sp(-real).mean() + sp(fake).mean()).item(), rel=1e-5)
    assert bce._g_loss(fake).item() == pytest.approx(sp(-fake).mean().item(), rel=1e-5)  # non-saturating
    smooth = GAN(tiny_config(label_smoothing=0.1))
    assert smooth._d_loss(real, fake) > bce._d_loss(real, fake)


def _has_sn(model) -> bool:
    return any(hasattr(m, "parametrizations") for m in model.discriminator.modules())


def test_spectral_norm_follows_the_loss_unless_set_and_config_records_it():
    assert _has_sn(GAN(tiny_config(loss="hinge"))) and GANConfig(loss="hinge").spectral_norm is True
    assert not _has_sn(GAN(tiny_config(loss="bce"))) and GANConfig().spectral_norm is False
    assert not _has_sn(GAN(tiny_config(loss="hinge", spectral_norm=False)))
    assert _has_sn(GAN(tiny_config(loss="bce", spectral_norm=True)))
    assert GAN(tiny_config(loss="hinge")).title().startswith("DCGAN (hinge, SN")
    with pytest.raises(LatentspaceError, match="--label-smoothing .* --loss bce"):
        GAN(tiny_config(loss="hinge", label_smoothing=0.1))


def test_lr_d_sets_the_discriminators_learning_rate_only():
    d, g = GAN(tiny_config(lr=1e-4, lr_d=4e-4)).configure_optimizers()
    assert d.param_groups[0]["lr"] == 4e-4 and g.param_groups[0]["lr"] == 1e-4
    model = GAN(tiny_config(lr=1e-4))
    d, g = model.configure_optimizers()
    assert d.param_groups[0]["lr"] == g.param_groups[0]["lr"] == 1e-4  # default: --lr for both
    assert {id(p) for p in d.param_groups[0]["params"]} == {id(p) for p in model.discriminator.parameters()}


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32)])
def test_a_conditional_gan_draws_the_class_asked_for(shape):
    torch.manual_seed(0)
    model = GAN(tiny_config(conditional=True, loss="hinge", ema=True), image_shape=shape, num_classes=10).eval()
    assert model.conditional and model.title().startswith("conditional DCGAN")
    z = torch.randn(6, 100)
    with torch.no_grad():
        for m in model.sampler.modules():
            if hasattr(m, "gamma"):
                m.gamma.weight.normal_(1, 0.3)
    a, b = model.decode(z, torch.zeros(6, dtype=torch.long)), model.decode(z, torch.arange(6))
    assert a.shape == (6, *shape) and (a - b).abs().mean() > 1e-3
    with pytest.raises(LatentspaceError, match="class-conditional"):
        model.decode(z)
    with pytest.raises(LatentspaceError, match="out of range"):
        model.decode(z, torch.full((6,), 10))
    with pytest.raises(LatentspaceError, match="at least two"):
        GAN(tiny_config(conditional=True))  # no classes to condition on
    with pytest.raises(LatentspaceError, match="takes no class"):
        GAN(tiny_config()).decode(z, torch.zeros(6, dtype=torch.long))


@pytest.mark.integration
def test_a_tiny_conditional_run_with_diffaugment_draws_its_figures_and_generates_a_class(tmp_path, capsys):
    from latentspace.cli import main
    from tests.pixels import assert_shows_something

    out = tmp_path / "cgan"
    assert main(["train", "gan", "--conditional", "--loss", "hinge", "--augment", "diffaug", "--epochs", "1",
                 "--noise-dim", "16", "--progress-images", "10", *TINY, "--out", str(out)]) == 0
    from latentspace.runs import Run, load_run

    run = Run(out)
    cfg = run.config()
    assert cfg["num_classes"] == 10 and cfg["model_config"]["spectral_norm"] is True
    assert cfg["model_config"]["augment"] == "diffaug" and cfg["model_config"]["lr_d"] is None
    for name in ("class_samples.png", "augmented.png", "samples.png", "loss.png"):
        assert f"figures/{name}" in run.summary()["figures"], name
        assert_shows_something(run.figures / name)
    model, _ = load_run(out)
    assert model.conditional and model.num_classes == 10
    capsys.readouterr()
    assert main(["generate", str(out), "--mode", "prior", "--n", "4", "--class", "3",
                 "--out", str(tmp_path / "three.npy")]) == 0
    import numpy as np

    assert np.load(tmp_path / "three.npy").shape == (4, 28, 28)
    # the explorer's class picker: a served conditional GAN draws the class it is asked for
    from latentspace.explorer.served import ServedRun

    served = ServedRun.from_model("cgan", model, None, path=out)
    assert served.info()["conditional"] and served.samplers == ["prior"]
    _, images = served.sample(3, seed=0, label=7)
    _, again = served.sample(3, seed=0, label=7)
    _, other = served.sample(3, seed=0, label=2)
    assert images.shape == (3, 28, 28) and np.array_equal(images, again) and not np.array_equal(images, other)


def test_refusals_are_one_line_and_leave_no_run(tmp_path, capsys):
    from tests.cli import exit_code

    for flags, message in ((["--augment", "diffaug:rotate"], "unknown augmentation 'rotate'"),
                           (["--augment", "mixup"], "--augment: cannot read 'mixup'"),
                           (["--loss", "hinge", "--label-smoothing", "0.1"], "has no labels to smooth"),
                           (["--lr-d", "-1"], "--lr-d must be more than 0, got -1.0")):
        out = tmp_path / "refused"
        assert exit_code("train", "gan", *flags, *TINY, "--out", out) == 2, flags
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and message in err, err
        assert not out.exists()
