"""Training into a run directory: every file, resume exactly, max-time, load_run, evaluate, DDP."""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

import pytest
import torch

from latentspace.errors import LatentspaceError
from latentspace.models.autoencoder_config import AEConfig
from latentspace.runs import load_run, load_weights
from latentspace.training.config import TrainConfig
from latentspace.training.trainer import fit


def small(**kw):
    return TrainConfig(**{"epochs": 1, "limit_train": 512, "batch_size": 128, **kw})


def test_one_epoch_produces_every_file_of_the_run_directory(tiny_ae_run):
    p = tiny_ae_run.path
    for f in ("config.json", "metrics.csv", "summary.json", "checkpoints/last.ckpt", "checkpoints/best.ckpt",
              "figures/loss.png", "figures/reconstructions.png"):
        assert (p / f).is_file(), f
    cfg = json.loads((p / "config.json").read_text())
    assert cfg["model"] == "ae" and cfg["model_config"]["latent_dim"] == 4 and cfg["seed"] == 0
    assert cfg["environment"]["torch"] == torch.__version__ and "git_commit" in cfg["environment"]
    rows = list(csv.DictReader(open(p / "metrics.csv")))
    assert len(rows) == 1 and float(rows[0]["train_loss"]) > 0 and float(rows[0]["val_loss"]) > 0
    summary = json.loads((p / "summary.json").read_text())
    assert summary["finished"] and summary["epochs_completed"] == 1 and summary["images_per_s"] > 0
    assert (p / "figures/loss.png").stat().st_size > 5000


def test_tensorboard_event_files_hold_every_epoch_metric(tiny_ae_run):
    """TensorBoard (a dependency) logs beside the CSV: the epoch's losses, as metrics.csv has them."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = list((tiny_ae_run.path / "logs" / "tb").glob("events.out.tfevents.*"))
    assert len(events) == 1
    acc = EventAccumulator(str(events[0].parent))
    acc.Reload()
    rows = list(csv.DictReader(tiny_ae_run.metrics_file.read_text().splitlines()))
    for metric in ("train_loss", "val_loss"):
        assert [e.value for e in acc.Scalars(metric)] == [pytest.approx(float(r[metric])) for r in rows], metric
    assert [e.value for e in acc.Scalars("epoch")][-1] == len(rows) - 1


@pytest.mark.integration
def test_resume_continues_exactly(tmp_path):
    # a budget extended on resume (1 epoch, then 2) equals a straight 2-epoch run only at a constant learning
    # rate: a schedule's curve belongs to the budget it was started with (the kill -9 test below checks that one)
    cfg = AEConfig(latent_dim=3, schedule="constant")
    straight = fit("ae", cfg, small(epochs=2), out=tmp_path / "a", progress=False)
    fit("ae", cfg, small(epochs=1), out=tmp_path / "b", progress=False)
    resumed = fit("ae", cfg, small(epochs=2), out=tmp_path / "b", resume=True, progress=False)
    a, b = load_weights(straight.last_checkpoint), load_weights(resumed.last_checkpoint)
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), f"{k} differs after resume"
    rows = list(csv.DictReader(open(resumed.metrics_file)))
    assert [r["epoch"] for r in rows] == ["0", "1"]
    assert json.loads(resumed.summary_file.read_text())["epochs_completed"] == 2


def test_existing_run_is_not_overwritten_without_resume(tiny_ae_run):
    with pytest.raises(LatentspaceError, match="already holds a run"):
        fit("ae", AEConfig(latent_dim=4), small(), out=tiny_ae_run.path, progress=False)


def test_resume_needs_a_checkpoint(tmp_path):
    with pytest.raises(LatentspaceError, match="nothing to resume"):
        fit("ae", AEConfig(), small(), out=tmp_path / "none", resume=True, progress=False)


@pytest.mark.integration
def test_max_time_stops_and_still_finishes_the_run(tmp_path):
    run = fit("ae", AEConfig(latent_dim=2), small(epochs=1000, max_time=0.05, limit_train=2048), out=tmp_path / "t",
              progress=False)
    s = json.loads(run.summary_file.read_text())
    assert s["stopped_by"] == "max_time" and s["epochs_completed"] < 1000
    assert (run.figures / "reconstructions.png").is_file()


def test_evaluate_writes_reconstruction_metrics(tiny_ae_run):
    from latentspace.commands.evaluate import evaluate_run

    res = evaluate_run(tiny_ae_run.path)
    assert 0 < res["test_mse"] < 0.2 and 5 < res["test_psnr"] < 40 and -1 <= res["test_ssim"] <= 1
    saved = json.loads((tiny_ae_run.path / "evaluation.json").read_text())
    assert saved["test_mse"] == res["test_mse"]


def clean_env():
    env = {k: v for k, v in os.environ.items()
           if k not in ("MASTER_PORT", "MASTER_ADDR", "WORLD_SIZE", "LOCAL_RANK", "NODE_RANK", "RANK",
                        "LATENTSPACE_RUN_DIR")}
    env["PYTHONPATH"] = os.pathsep.join([os.path.abspath("src"), env.get("PYTHONPATH", "")])
    return env


@pytest.mark.integration
def test_ddp_on_cpu_with_two_processes(tmp_path):
    out = tmp_path / "ddp"
    proc = subprocess.run([sys.executable, "-m", "latentspace.cli", "train", "ae", "--latent-dim", "3", "--epochs",
                           "1", "--limit-train", "512", "--batch-size", "64", "--device", "cpu", "--devices", "2",
                           "--no-progress", "--out", str(out)],
                          capture_output=True, text=True, env=clean_env(), timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    s = json.loads((out / "summary.json").read_text())
    assert s["devices"] == 2 and s["finished"]
    rows = list(csv.DictReader(open(out / "metrics.csv")))
    assert len(rows) == 1, "rank 1 must not write its own metrics rows"
    # each process saw half of the 512 images; the logged epoch throughput counts both
    model, _ = load_run(out)
    assert model.latent_dim == 3


def test_trainer_settings_follow_the_config(tmp_path):
    from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint

    from latentspace.runs import Run
    from latentspace.training.trainer import build_trainer

    trainer = build_trainer(TrainConfig(early_stopping=3, max_time=2.0, precision="bf16-mixed"), Run(tmp_path),
                            progress=False)
    stops = [cb for cb in trainer.callbacks if isinstance(cb, EarlyStopping)]
    assert len(stops) == 1 and stops[0].patience == 3 and stops[0].monitor == "val_loss"
    ckpt = [cb for cb in trainer.callbacks if isinstance(cb, ModelCheckpoint)][0]
    assert ckpt.monitor == "val_loss" and ckpt.save_last
    assert trainer.precision == "bf16-mixed"
    assert not [cb for cb in build_trainer(TrainConfig(), Run(tmp_path), progress=False).callbacks
                if isinstance(cb, EarlyStopping)]


@pytest.mark.integration
def test_a_killed_run_resumed_without_flags_keeps_its_budget_and_ends_as_an_uninterrupted_one(tmp_path):
    """kill -9 at a random moment after the first checkpoint; `train ae --resume --out R` with no other flag trains
    the run's own 4 epochs (not the CLI's default) and ends bitwise equal to a run that was never stopped."""
    import random
    import signal
    import time

    args = ["train", "ae", "--latent-dim", "3", "--epochs", "4", "--limit-train", "2048", "--batch-size", "64",
            "--no-progress", "--device", "cpu"]
    cli = [sys.executable, "-m", "latentspace.cli"]
    straight = subprocess.run([*cli, *args, "--out", str(tmp_path / "straight")], env=clean_env(), capture_output=True,
                              text=True, timeout=600)
    assert straight.returncode == 0, straight.stderr[-2000:]
    killed = tmp_path / "killed"
    proc = subprocess.Popen([*cli, *args, "--out", str(killed)], env=clean_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while not (killed / "checkpoints" / "last.ckpt").is_file():
        assert time.time() < deadline and proc.poll() is None, "the run ended before its first checkpoint"
        time.sleep(0.05)
    time.sleep(random.Random().uniform(0.0, 0.8))  # at a random step of the second epoch (of 32 steps each)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL and not (killed / "summary.json").exists()
    resumed = subprocess.run([*cli, "train", "ae", "--resume", "--out", str(killed), "--no-progress"],
                             env=clean_env(), capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert json.loads((killed / "summary.json").read_text())["epochs_completed"] == 4
    a, b = load_weights(tmp_path / "straight" / "checkpoints" / "last.ckpt"), load_weights(killed / "checkpoints" / "last.ckpt")
    for k in a:
        assert torch.equal(a[k], b[k]), f"{k} differs after the resume"
    # the learning-rate schedule (the default one-cycle) went on where it was: same step, same rate, same curve
    ca, cb = (torch.load(d / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
              for d in (tmp_path / "straight", killed))
    assert ca["lr_schedulers"] == cb["lr_schedulers"] and ca["lr_schedulers"][0]["last_epoch"] == 4 * 32
    assert ca["lr_schedulers"][0]["lr_lambdas"][0]["kind"] == "onecycle"
    lrs = [c["optimizer_states"][0]["param_groups"][0]["lr"] for c in (ca, cb)]
    assert lrs[0] == lrs[1] < 1e-6  # annealed to the end of the cycle, not restarted
    with open(tmp_path / "straight" / "metrics.csv") as f1, open(killed / "metrics.csv") as f2:
        cols = ("epoch", "train_loss", "val_loss")
        assert [[r[c] for c in cols] for r in csv.DictReader(f1)] == [[r[c] for c in cols] for r in csv.DictReader(f2)]
    # an explicit flag that would change the run is refused in one line, the budget may be extended
    changed = subprocess.run([*cli, "train", "ae", "--resume", "--out", str(killed), "--lr", "0.5"], env=clean_env(),
                             capture_output=True, text=True, timeout=600)
    assert changed.returncode == 2 and "--lr 0.5 differs from the run's own 0.008" in changed.stderr
    assert changed.stderr.count("\n") == 1


@pytest.mark.parametrize("existing", [False, True])
def test_a_fresh_run_that_fails_before_its_first_checkpoint_leaves_nothing_and_a_retry_trains(tmp_path, monkeypatch,
                                                                                            existing):
    """Any early failure (here Adam refusing its settings inside Lightning's fit) takes back what the run wrote:
    no half-born config.json blocks the corrected retry, and what the directory held before stays."""
    from latentspace.models.autoencoder import Autoencoder

    out = tmp_path / "run"
    if existing:
        out.mkdir()
        (out / "notes.txt").write_text("mine")

    def refuse(self):
        raise ValueError("Invalid beta parameter at index 1: 1.5")

    monkeypatch.setattr(Autoencoder, "configure_optimizers", refuse)
    with pytest.raises(ValueError, match="Invalid beta"):
        fit("ae", AEConfig(latent_dim=2), small(limit_train=256), out=out, progress=False)
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"] if existing else not out.exists()
    monkeypatch.undo()
    run = fit("ae", AEConfig(latent_dim=2), small(limit_train=256), out=out, progress=False)
    assert run.finished and (out / "notes.txt").is_file() == existing
