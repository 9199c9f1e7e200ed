"""The VAE: shapes, the KL term, β, sampling, numerical safety, its run directory and evaluation."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch
from lightning.pytorch.callbacks import Callback

from latentspace.cli import main
from latentspace.errors import LatentspaceError
from latentspace.models import MODELS
from latentspace.models.gaussian import LOGVAR_RANGE
from latentspace.models.gaussian import kl_to_standard_normal as kl_divergence
from latentspace.models.vae import VAE
from latentspace.models.vae_config import VAEConfig
from latentspace.training.config import TrainConfig
from latentspace.training.trainer import fit


@pytest.fixture(scope="module")
def tiny_vae_run(tmp_path_factory):
    """A VAE trained for one epoch on 512 images, without the KL warm-up (so training's loss is recon + β·KL)."""
    out = tmp_path_factory.mktemp("runs") / "vae"
    return fit("vae", VAEConfig(latent_dim=4, beta=2.0, kl_warmup=0.0), TrainConfig(epochs=1, limit_train=512, batch_size=128),
               out=out, progress=False)


def _model(latent_dim=3, beta=1.0, seed=0) -> VAE:
    torch.manual_seed(seed)
    return VAE(VAEConfig(latent_dim=latent_dim, beta=beta)).eval()


def test_registered_as_vae():
    spec = MODELS["vae"]
    assert spec.model_class() is VAE
    assert spec.encoder and spec.prior == "normal" and spec.gaussian_posterior


@pytest.mark.parametrize("latent_dim", [2, 20])
def test_shapes(latent_dim):
    m = _model(latent_dim)
    x = torch.rand(5, 1, 28, 28)
    mu, logvar = m.encode_distribution(x)
    assert mu.shape == logvar.shape == (5, latent_dim)
    assert torch.equal(m.encode(x), mu)
    # μ is the encoder's own head, so the classifier's features() sees it
    assert torch.allclose(m.encoder.features(x)["latent"], mu)
    out = m.decode(mu)
    assert out.shape == (5, 1, 28, 28)
    assert out.min() >= 0 and out.max() <= 1
    assert m(x).shape == (5, 1, 28, 28)


def test_loss_terms_follow_their_definitions():
    m = _model(4)
    x = torch.rand(8, 1, 28, 28)
    t = m.loss_terms(x, generator=torch.Generator().manual_seed(1))
    mu, logvar = m.encode_distribution(x)
    z = m.reparameterize(mu, logvar, torch.Generator().manual_seed(1))
    recon = ((m.decode(z) - x) ** 2).sum() / 8  # summed over pixels, averaged over the batch
    assert torch.allclose(t["recon"], recon, rtol=1e-5)
    assert torch.allclose(t["kl"], kl_divergence(mu, logvar).sum(1).mean(), rtol=1e-5)
    assert torch.allclose(t["kl_per_dim_sum"], kl_divergence(mu, logvar).sum(0), rtol=1e-5)


def test_beta_scales_only_the_kl_term():
    a = _model(4, beta=1.0)
    b = VAE(VAEConfig(latent_dim=4, beta=10.0)).eval()
    b.load_state_dict(a.state_dict())
    zero = VAE(VAEConfig(latent_dim=4, beta=0.0)).eval()
    zero.load_state_dict(a.state_dict())
    x = torch.rand(8, 1, 28, 28)
    ta, tb, t0 = (m.loss_terms(x, generator=torch.Generator().manual_seed(3)) for m in (a, b, zero))
    assert torch.allclose(ta["recon"], tb["recon"]) and torch.allclose(ta["kl"], tb["kl"])
    assert ta["kl"] > 0
    assert torch.allclose(ta["loss"], ta["recon"] + ta["kl"])
    assert torch.allclose(tb["loss"], tb["recon"] + 10.0 * tb["kl"])
    assert float((tb["loss"] - ta["loss"]).detach()) == pytest.approx(9.0 * float(ta["kl"].detach()), abs=1e-4)
    assert torch.allclose(t0["loss"], t0["recon"])


def test_the_kl_weight_warms_up_over_training_and_evaluation_uses_beta():
    from types import SimpleNamespace

    m = VAE(VAEConfig(latent_dim=4, beta=4.0, kl_warmup=0.5))
    x = torch.rand(8, 1, 28, 28)
    assert m.kl_weight() == 4.0  # not training under a trainer: β
    m._trainer = SimpleNamespace(estimated_stepping_batches=20, global_step=0)
    m.train()
    weights = []
    for step in range(12):
        m._trainer.global_step = step
        weights.append(m.kl_weight())
    assert weights[:3] == pytest.approx([0.4, 0.8, 1.2]) and weights[9:] == [4.0, 4.0, 4.0]
    m._trainer.global_step = 4
    t = m.loss_terms(x, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(t["loss"], t["recon"] + 2.0 * t["kl"])
    m.eval()
    t = m.loss_terms(x, generator=torch.Generator().manual_seed(0))
    assert m.kl_weight() == 4.0 and torch.allclose(t["loss"], t["recon"] + 4.0 * t["kl"])
    assert VAE(VAEConfig(kl_warmup=0.0)).train().kl_weight() == 1.0
    m.train()
    m._trainer.estimated_stepping_batches = float("inf")  # no epoch budget: no ramp to hide β behind
    assert m.kl_weight() == 4.0


def test_sample_draws_from_the_prior():
    m = _model(3)
    x = m.sample(6)
    assert x.shape == (6, 1, 28, 28)
    assert x.min() >= 0 and x.max() <= 1
    s1 = m.sample(4, generator=torch.Generator().manual_seed(5))
    s2 = m.sample(4, generator=torch.Generator().manual_seed(5))
    s3 = m.sample(4, generator=torch.Generator().manual_seed(6))
    assert torch.equal(s1, s2) and not torch.equal(s1, s3)
    # what sample(n) decodes is z ~ N(0, I)
    z = torch.randn(4, 3, generator=torch.Generator().manual_seed(5))
    assert torch.allclose(s1, m.decode(z))


def test_logvar_is_clamped_but_keeps_its_gradient():
    m = _model(2)
    with torch.no_grad():
        m.logvar_head.bias.fill_(1e4)  # σ² = e^10000 without the clamp
    x = torch.rand(4, 1, 28, 28)
    _, logvar = m.encode_distribution(x)
    assert torch.all(logvar == LOGVAR_RANGE[1])
    t = m.loss_terms(x)
    assert torch.isfinite(t["loss"])
    t["loss"].backward()
    assert m.logvar_head.bias.grad.abs().sum() > 0  # the KL still pushes log σ² back down
    with torch.no_grad():
        m.logvar_head.bias.fill_(-1e4)
    assert torch.all(m.encode_distribution(x)[1] == LOGVAR_RANGE[0])
    assert torch.isfinite(m.loss_terms(x)["loss"])


class _PoisonSecondEpoch(Callback):
    """Turns the first batch of epoch 1 into NaNs, so the loss becomes NaN there."""

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if trainer.current_epoch == 1:
            batch[0].fill_(float("nan"))


@pytest.mark.integration
def test_nan_loss_stops_training_and_keeps_the_last_good_checkpoint(tmp_path):
    out = tmp_path / "nan"
    with pytest.raises(LatentspaceError, match=r"training stopped: loss became nan at epoch 1 step 0; "
                                               r"the last good checkpoint is .*last\.ckpt"):
        fit("vae", VAEConfig(latent_dim=2), TrainConfig(epochs=3, limit_train=256, batch_size=128), out=out,
            progress=False, callbacks=[_PoisonSecondEpoch()])
    assert not (out / "summary.json").exists()  # unfinished: it can be resumed
    ckpt = torch.load(out / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert ckpt["epoch"] == 0
    assert all(torch.isfinite(v).all() for v in ckpt["state_dict"].values() if v.is_floating_point())


def test_cli_rejects_a_negative_beta(tmp_path, capsys):
    from latentspace.cli import main

    with pytest.raises(SystemExit) as e:  # refused by the flag's declared range, as argparse's usage error
        main(["train", "vae", "--beta", "-1", "--out", str(tmp_path / "r")])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--beta must be at least 0" in err
    assert not (tmp_path / "r").exists()


# ------------------------------------------------------------------ a trained run


def test_run_logs_the_loss_terms_per_epoch(tiny_vae_run):
    with open(tiny_vae_run.metrics_file) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 1
    r = {k: float(v) for k, v in rows[0].items() if v}
    for stage in ("train", "val"):
        assert {f"{stage}_recon", f"{stage}_kl", f"{stage}_loss"} <= set(r)
        assert r[f"{stage}_recon"] > 0 and r[f"{stage}_kl"] > 0
    # validation batches are weighted by size, so the epoch means keep loss = recon + β·KL (β = 2)
    assert r["val_loss"] == pytest.approx(r["val_recon"] + 2.0 * r["val_kl"], rel=1e-4)
    assert r["train_loss"] == pytest.approx(r["train_recon"] + 2.0 * r["train_kl"], rel=1e-4)


def test_run_records_kl_per_dimension(tiny_vae_run):
    kl = json.loads((tiny_vae_run.path / "kl_per_dim.json").read_text())
    (epoch,) = kl["epochs"]
    assert epoch["epoch"] == 0 and len(epoch["train"]) == len(epoch["val"]) == 4 and len(kl["test"]) == 4
    assert all(v >= 0 for v in epoch["train"] + epoch["val"] + kl["test"])
    with open(tiny_vae_run.metrics_file) as f:
        val_kl = float(next(csv.DictReader(f))["val_kl"])
    assert sum(epoch["val"]) == pytest.approx(val_kl, rel=1e-4)  # the dimensions add up to the logged KL
    assert kl["test_active_units"] == sum(v > kl["threshold"] for v in kl["test"])


def test_run_figures(tiny_vae_run):
    summary = tiny_vae_run.summary()
    assert summary["figures"] == ["figures/loss.png", "figures/reconstructions.png", "figures/kl_per_dim.png"]
    for f in summary["figures"]:
        assert (tiny_vae_run.path / f).stat().st_size > 5000


def test_evaluate_adds_the_elbo_terms(tiny_vae_run, monkeypatch):
    from latentspace.analysis.reconstruction import elbo_terms
    from latentspace.commands import evaluate
    from latentspace.data.images import load_splits
    from latentspace.runs import load_run

    run_splits = evaluate.run_splits

    def first_test_images(*args, **kwargs):  # the first 1000 test images keep the test quick
        splits = run_splits(*args, **kwargs)
        splits.test = splits.test.head(1000)
        return splits

    monkeypatch.setattr(evaluate, "run_splits", first_test_images)
    results = evaluate.evaluate_run(tiny_vae_run.path, n=0)
    assert {"test_mse", "test_psnr", "test_ssim", "test_recon", "test_kl", "test_loss",
            "test_active_units"} <= set(results)
    assert results["test_loss"] == pytest.approx(results["test_recon"] + 2.0 * results["test_kl"])
    model, _ = load_run(tiny_vae_run.path)
    test = load_splits(seed=0).test.head(1000)
    with torch.no_grad():
        mu, logvar = model.encode_distribution(test.floats())
    assert results["test_kl"] == pytest.approx(float(kl_divergence(mu, logvar).sum(1).mean()), rel=1e-4)
    # the sampled reconstruction term is seeded: the same numbers twice
    again = elbo_terms(model, test)
    assert again == {k: results[k] for k in again}
    assert json.loads((tiny_vae_run.path / "evaluation.json").read_text())["test_kl"] == results["test_kl"]


def test_loaded_run_encodes_deterministically(tiny_vae_run):
    from latentspace.runs import load_run

    model, _ = load_run(tiny_vae_run.path)
    assert isinstance(model, VAE) and model.config.beta == 2.0
    x = torch.rand(3, 1, 28, 28)
    assert torch.equal(model.encode(x), model.encode(x))
    assert np.isfinite(model.sample(2).numpy()).all()


# ---------------------------------------------------------------- the conditional VAE

def test_a_conditional_vae_reads_the_class_at_both_ends():
    m = VAE(VAEConfig(latent_dim=4, conditional=True), num_classes=10).eval()
    x, y = torch.rand(6, 1, 28, 28), torch.arange(6)
    mu_a, _ = m.encode_distribution(x, y)
    mu_b, _ = m.encode_distribution(x, (y + 1) % 10)
    assert m.conditional and m.title().startswith("conditional VAE") and not torch.allclose(mu_a, mu_b)
    z = torch.zeros(2, 4)
    assert not torch.allclose(m.decode(z, torch.tensor([0, 0])), m.decode(z, torch.tensor([3, 3])))
    t = m.loss_terms(x, y)
    assert torch.isfinite(t["loss"]) and t["kl_per_dim_sum"].shape == (4,)
    with pytest.raises(LatentspaceError, match="class-conditional: give the classes"):
        m.decode(z)
    with pytest.raises(LatentspaceError, match="out of range 0..9"):
        m.decode(z, torch.tensor([0, 10]))
    with pytest.raises(LatentspaceError, match="needs labelled data with at least two classes"):
        VAE(VAEConfig(conditional=True), num_classes=0)
    plain = VAE(VAEConfig(latent_dim=4), num_classes=10)
    assert not plain.conditional and plain.decoder.lin[0].in_features == 4  # the data's classes, unused


@pytest.fixture(scope="module")
def cvae_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cvae") / "run"
    assert main(["train", "vae", "--conditional", "--latent-dim", "4", "--epochs", "1", "--limit-train", "2048",
                 "--batch-size", "128", "--out", str(out), "--no-progress"]) == 0
    return out


@pytest.mark.integration
def test_a_conditional_run_records_its_classes_and_draws_the_class_asked_for(cvae_run, tmp_path, capsys):
    import json

    import numpy as np

    from latentspace.commands.generate import generate_run
    from latentspace.runs import load_run

    cfg = json.loads((cvae_run / "config.json").read_text())
    assert cfg["num_classes"] == 10 and cfg["model_config"]["conditional"] is True
    model, _ = load_run(cvae_run)
    assert model.conditional and model.num_classes == 10
    coats = generate_run(cvae_run, "prior", n=8, label="Coat")
    assert "of class Coat" in coats["title"] and coats["labels"].tolist() == [4] * 8
    assert np.array_equal(generate_run(cvae_run, "prior", n=8, label="4")["images"], coats["images"])
    mixed = generate_run(cvae_run, "prior", n=10)
    assert mixed["labels"].tolist() == list(range(10))  # every class in turn
    walk = generate_run(cvae_run, "traverse", dims=(0, 1), steps=3, image=0)  # held at test image 0's class
    assert walk["images"].shape == (9, 28, 28)
    from latentspace.commands.evaluate import evaluate_run

    m = evaluate_run(cvae_run, n=300)  # samples of every class in turn, scored against the class asked
    assert 0 <= m["class_accuracy"] <= 1 and len(m["class_accuracy_per_class"]) == 10
    assert set(m["class_fid_per_class"]) == set(m["class_accuracy_per_class"])
    capsys.readouterr()
    assert main(["generate", str(cvae_run), "--mode", "prior", "--class", "Hat"]) == 2
    assert "no such class" in capsys.readouterr().err


@pytest.mark.integration
def test_class_flags_on_an_unconditional_run_and_unlabelled_data_are_refused(tiny_vae_run, tmp_path, capsys):
    assert main(["generate", str(tiny_vae_run.path), "--mode", "prior", "--class", "1"]) == 2
    assert "trained without classes" in capsys.readouterr().err
    from tests.fakes import colour_images

    folder = tmp_path / "flat"
    folder.mkdir()
    from PIL import Image

    for i, im in enumerate(colour_images(12)):
        Image.fromarray(im).save(folder / f"{i}.png")
    out = tmp_path / "run"
    assert main(["train", "vae", "--conditional", "--dataset", f"folder:{folder}", "--epochs", "1",
                 "--out", str(out), "--no-progress"]) == 2
    assert "needs labelled data" in capsys.readouterr().err and not out.exists()  # nothing half-born
