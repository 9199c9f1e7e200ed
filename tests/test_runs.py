"""Run directories: their paths, opening and loading them safely (weights_only), refusing unfinished ones."""
from __future__ import annotations

import json

import pytest
import torch

from latentspace.errors import LatentspaceError
from latentspace.runs import (
    Run,
    default_run_path,
    embedding_path,
    load_run,
    load_weights,
    model_from_config,
    open_run,
    read_embedding,
    write_embedding,
)


def test_load_run_gives_the_trained_model_in_eval_mode(tiny_ae_run):
    model, run = load_run(tiny_ae_run.path)
    assert not model.training and model.latent_dim == 4
    state = load_weights(run.best_checkpoint)
    assert torch.equal(model.encoder.head.weight, state["encoder.head.weight"])


def test_checkpoints_load_with_weights_only(tiny_ae_run):
    ckpt = torch.load(tiny_ae_run.last_checkpoint, weights_only=True)
    assert "state_dict" in ckpt and "optimizer_states" in ckpt


def test_unfinished_run_is_refused_by_later_steps(tmp_path, tiny_ae_run):
    (tmp_path / "config.json").write_text(tiny_ae_run.config_file.read_text())
    with pytest.raises(LatentspaceError, match="did not finish"):
        open_run(tmp_path)
    with pytest.raises(LatentspaceError, match="not a run directory"):
        open_run(tmp_path.parent)


def test_run_paths_and_the_checkpoint_it_loads(tmp_path):
    run = Run(tmp_path)
    assert run.checkpoint() == run.last_checkpoint  # no best.ckpt yet
    run.checkpoints.mkdir()
    run.best_checkpoint.write_bytes(b"")
    assert run.checkpoint() == run.best_checkpoint and run.checkpoint("last") == run.last_checkpoint
    assert run.progress_frames == tmp_path / "figures" / "progress" and not run.finished


def test_default_run_paths_never_collide(tmp_path):
    a = default_run_path("ae-z20", root=tmp_path)
    a.mkdir()
    b = default_run_path("ae-z20", root=tmp_path)
    assert a.name.startswith("ae-z20-") and b != a


def test_unknown_kinds_and_damaged_checkpoints_are_one_line(tmp_path):
    with pytest.raises(LatentspaceError, match="unknown model kind 'transformer'"):
        model_from_config({"model": "transformer"})
    (tmp_path / "x.ckpt").write_bytes(b"not a checkpoint")
    with pytest.raises(LatentspaceError, match="x.ckpt: cannot load checkpoint"):
        load_weights(tmp_path / "x.ckpt")
    (tmp_path / "config.json").write_text("{broken")
    with pytest.raises(LatentspaceError, match="unreadable"):
        open_run(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"no": "model"}))
    with pytest.raises(LatentspaceError, match="not a latentspace run config"):
        open_run(tmp_path)


def test_a_latent_map_round_trips_through_its_file_and_a_damaged_one_reads_as_none(tmp_path):
    import numpy as np

    run = Run(tmp_path / "run")
    path = embedding_path(run, "tsne")
    assert path == run.path / "embeddings" / "tsne.npz" and embedding_path(run, "pca", "val").name == "pca-val.npz"
    write_embedding(path, {"points": np.zeros((3, 2), np.float32), "method": "tsne", "index": np.arange(3)})
    data = read_embedding(path)
    assert data["method"] == "tsne" and isinstance(data["method"], str) and data["points"].shape == (3, 2)
    assert not list(path.parent.glob(".*"))  # written atomically
    path.write_bytes(b"not a zip")
    assert read_embedding(path) is None and read_embedding(tmp_path / "missing.npz") is None
