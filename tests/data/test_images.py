"""Images in memory: the real files' shapes, the seeded split, files that do not belong together."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from latentspace.data.images import load_splits, train_val_indices
from latentspace.data.registry import get_spec
from latentspace.errors import LatentspaceError
from tests.datafiles import fake_dataset, write_idx


def test_real_debian_files_load_with_expected_shapes():
    s = load_splits("fashion-mnist", download=False)
    assert (len(s.train), len(s.val), len(s.test)) == (54000, 6000, 10000)
    assert s.train.images.dtype == torch.uint8 and s.train.images.shape[1:] == (28, 28, 1) and s.train.shape == (1, 28, 28)
    assert s.classes[0] == "T-shirt/top" and s.classes[9] == "Ankle boot"
    assert torch.bincount(s.test.labels).tolist() == [1000] * 10


def test_split_is_seeded_and_disjoint():
    a_tr, a_va = train_val_indices(1000, seed=3)
    b_tr, b_va = train_val_indices(1000, seed=3)
    c_tr, _ = train_val_indices(1000, seed=4)
    assert torch.equal(a_tr, b_tr) and torch.equal(a_va, b_va)
    assert not torch.equal(a_tr, c_tr)
    assert len(a_va) == 100 and len(set(a_tr.tolist()) | set(a_va.tolist())) == 1000


def test_images_and_labels_must_agree_in_count(tmp_path, monkeypatch):
    monkeypatch.setenv("LATENTSPACE_CACHE", str(tmp_path / "cache"))
    fake_dataset(tmp_path)
    spec = get_spec("fashion-mnist")
    write_idx(tmp_path / spec.files["test_labels"][0], np.zeros(7, np.uint8))
    with pytest.raises(LatentspaceError, match="do not belong together"):
        load_splits(data_dir=tmp_path, download=False)


def test_identity_is_the_name_at_the_native_shape_and_adds_the_shape_otherwise():
    from latentspace.data.images import dataset_identity

    assert dataset_identity("fashion-mnist", (1, 28, 28)) == "fashion-mnist"
    assert dataset_identity("fashion-mnist", (3, 32, 32)) == "fashion-mnist-3x32x32"
    assert dataset_identity("folder:/a b/c", (3, 32, 32)) == "folder--a-b-c-3x32x32"


@pytest.mark.integration
def test_a_run_on_a_folder_records_its_data_and_reloads_the_same(tmp_path, monkeypatch):
    """Training on folder:PATH at --image-size 16 --channels 1 records both in config.json; run_splits (what
    every later step uses) gives back the same images, identity included."""
    from latentspace.data.images import run_splits
    from latentspace.models.autoencoder_config import AEConfig
    from latentspace.runs import Run
    from latentspace.training.config import TrainConfig
    from latentspace.training.trainer import fit
    from tests.datafiles import shapes_folder

    monkeypatch.setenv("LATENTSPACE_CACHE", str(tmp_path / "cache"))
    root = shapes_folder(tmp_path / "shapes", per_class=6)
    cfg = TrainConfig(epochs=1, batch_size=8, dataset=f"folder:{root}", image_size=16, channels=1)
    run = fit("ae", AEConfig(latent_dim=2), cfg, out=tmp_path / "run", progress=False)
    recorded = Run(run.path).config()
    assert recorded["train"]["image_size"] == 16 and recorded["train"]["channels"] == 1
    assert recorded["image_shape"] == [1, 16, 16]
    again = run_splits(recorded["train"])
    direct = load_splits(f"folder:{root}", image_size=16, channels=1)
    assert again.identity == direct.identity and again.identity.endswith("-1x16x16")
    assert torch.equal(again.test.images, direct.test.images)
