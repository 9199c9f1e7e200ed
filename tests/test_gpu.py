"""The GPU path: data on the device once, bf16 mixed precision, channels-last, every command on a CUDA run, and
runs trained on a GPU loading on a CPU-only machine.

The tests marked `cuda` need a GPU (skipped with that reason here; `benchmarks/gpu_check.sh` runs them on one).
The first test runs everywhere: it makes a checkpoint that says its tensors live on cuda:0, as one saved on a
GPU does, and loads the run on this CPU.
"""
from __future__ import annotations

import json
from unittest import mock

import numpy as np
import pytest
import torch
from lightning.pytorch.callbacks import Callback

from latentspace.models.autoencoder_config import AEConfig
from latentspace.models.gan_config import GANConfig
from latentspace.models.vae_config import VAEConfig
from latentspace.runs import load_run
from latentspace.training.config import TrainConfig
from latentspace.training.trainer import fit, resolve_precision


def test_a_run_trained_on_a_gpu_loads_on_a_cpu(tiny_ae_run, tmp_path):
    import shutil

    run_dir = tmp_path / "gpu-run"
    shutil.copytree(tiny_ae_run.path, run_dir, ignore=shutil.ignore_patterns("embeddings"))
    for name in ("best.ckpt", "last.ckpt"):
        path = run_dir / "checkpoints" / name
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        with mock.patch("torch.serialization.location_tag", lambda storage: "cuda:0"):  # as saved from a GPU
            torch.save(ckpt, path)
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA"):
            torch.load(run_dir / "checkpoints" / "best.ckpt", weights_only=True)  # what a naive load does here
    model, _ = load_run(run_dir)
    assert all(p.device.type == "cpu" for p in model.parameters())
    with torch.no_grad():
        assert model.decode(torch.zeros(2, model.latent_dim)).shape == (2, 1, 28, 28)


def test_auto_precision_is_bf16_on_a_gpu_only():
    assert resolve_precision(TrainConfig(), "cpu") == "32-true"
    assert resolve_precision(TrainConfig(precision="16-mixed"), "cpu") == "16-mixed"
    with mock.patch("torch.cuda.is_available", lambda: True), mock.patch("torch.cuda.is_bf16_supported", lambda: True):
        assert resolve_precision(TrainConfig(), "auto") == "bf16-mixed"
        assert resolve_precision(TrainConfig(), "cuda") == "bf16-mixed"


class BatchProbe(Callback):
    """What the training step receives: where the batch lives, its layout, and the autocast dtype."""

    def __init__(self):
        self.seen = []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        x = batch[0]
        self.seen.append((x.device.type, x.is_contiguous(memory_format=torch.channels_last),
                          trainer.precision, next(pl_module.parameters()).is_contiguous(memory_format=torch.channels_last)
                          if next(pl_module.parameters()).dim() == 4 else True))


SMALL = dict(epochs=1, limit_train=2048, batch_size=128, device="cuda")


@pytest.mark.cuda
def test_training_on_a_gpu_keeps_the_data_there_in_bf16_and_channels_last(tmp_path):
    probe = BatchProbe()
    run = fit("ae", AEConfig(latent_dim=8), TrainConfig(**SMALL), out=tmp_path / "ae", progress=False,
              callbacks=[probe])
    assert {s[0] for s in probe.seen} == {"cuda"} and all(s[1] for s in probe.seen)
    assert {s[2] for s in probe.seen} == {"bf16-mixed"}
    assert run.summary()["device"].startswith("cuda")


@pytest.mark.cuda
def test_batches_do_not_copy_images_from_the_host(tmp_path):
    """Profiled: the host-to-device copies during training are the batch indices (a few KB), never images."""
    from torch.profiler import ProfilerActivity, profile

    class Profile(Callback):
        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            if batch_idx == 3:
                self.prof = profile(activities=[ProfilerActivity.CUDA, ProfilerActivity.CPU])
                self.prof.__enter__()

        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            if batch_idx == 8:
                torch.cuda.synchronize()
                self.prof.__exit__(None, None, None)

    cb = Profile()
    fit("ae", AEConfig(latent_dim=8), TrainConfig(**{**SMALL, "batch_size": 256}), out=tmp_path / "ae",
        progress=False, callbacks=[cb])
    copies = [e for e in cb.prof.events() if "HtoD" in e.name or "Memcpy HtoD" in e.name]
    image_bytes = 256 * 28 * 28
    assert all(getattr(e, "device_memory_usage", 0) < image_bytes for e in copies)
    assert len(copies) <= 3 * 5  # a handful per step at most (indices, scalars), for 5 profiled steps


@pytest.mark.cuda
def test_every_command_works_with_cuda_runs(tmp_path):
    from fastapi.testclient import TestClient

    from latentspace.cli import main
    from latentspace.explorer.app import create_app

    runs = {"ae": fit("ae", AEConfig(latent_dim=2), TrainConfig(**SMALL), out=tmp_path / "ae", progress=False),
            "vae": fit("vae", VAEConfig(latent_dim=4), TrainConfig(**SMALL), out=tmp_path / "vae", progress=False),
            "gan": fit("gan", GANConfig(g_width=16, d_width=16), TrainConfig(**{**SMALL, "batch_size": 64}),
                       out=tmp_path / "gan", progress=False)}
    for run in runs.values():
        assert run.summary()["device"].startswith("cuda")
    ae, vae, gan = (str(runs[k].path) for k in ("ae", "vae", "gan"))
    assert main(["embed", vae, "--n", "300"]) == 0
    assert main(["generate", ae, "--mode", "grid", "--steps", "4"]) == 0
    assert main(["generate", gan, "--mode", "prior", "--n", "8", "--out", str(tmp_path / "g.npy")]) == 0
    assert np.load(tmp_path / "g.npy").shape == (8, 28, 28)
    assert main(["evaluate", vae, "--n", "500", "--json"]) == 0
    assert main(["classify", ae, "--epochs", "1", "--limit-train", "1024", "--device", "cuda", "--no-progress"]) == 0
    assert json.loads((runs["ae"].path / "classifier" / "result.json").read_text())["test_accuracy"] > 0.1
    client = TestClient(create_app([ae, gan], limit_test=200))
    names = [r["name"] for r in client.get("/api/runs").json()["runs"]]
    assert client.post("/api/decode", json={"run": names[0], "z": [0.0, 0.0]}).status_code == 200
    assert len(client.post("/api/sample", json={"run": names[1], "n": 4}).json()["images"]) == 4
    model, _ = load_run(vae)  # and the CUDA run loads where it is read: on the CPU
    assert next(model.parameters()).device.type == "cpu"


@pytest.mark.cuda
def test_a_conditional_flow_model_trains_in_bf16_and_its_run_serves_the_commands(tmp_path):
    from latentspace.cli import main
    from latentspace.models.flow_config import FlowConfig

    probe = BatchProbe()
    run = fit("flow", FlowConfig(width=8, sample_steps=2, progress_images=4, conditional=True), TrainConfig(**SMALL),
              out=tmp_path / "flow", progress=False, callbacks=[probe])
    assert {s[0] for s in probe.seen} == {"cuda"} and {s[2] for s in probe.seen} == {"bf16-mixed"}
    assert run.summary()["device"].startswith("cuda") and len(run.summary()["figures"]) == 4
    path = str(run.path)
    assert main(["generate", path, "--mode", "prior", "--class", "2", "--guidance", "3", "--n", "8",
                 "--out", str(tmp_path / "f.npy")]) == 0
    assert np.load(tmp_path / "f.npy").shape == (8, 28, 28)
    assert main(["evaluate", path, "--n", "500", "--json"]) == 0
    model, _ = load_run(path)
    assert next(model.parameters()).device.type == "cpu"
