"""latentspace classify: frozen / fine-tuned / from-scratch classifier heads on an encoder's run."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from latentspace.cli import main
from latentspace.commands.classify import classify_baseline, classify_run, train_probe
from latentspace.data import images as D
from latentspace.models.nets import Encoder
from latentspace.models.probe_config import ClassifyConfig, ProbeConfig
from latentspace.runs import load_weights

pytestmark = pytest.mark.integration  # every test here trains a probe or reads a real run

FAST = ProbeConfig(head_width=32)


@pytest.fixture(scope="module")
def small_splits():
    s = D.load_splits(seed=0)
    return D.Splits(s.train.head(512), s.val.head(256), s.test.head(300), s.classes, s.name, s.directory)


def encoder_weights(state: dict) -> dict:
    return {k: v for k, v in state.items() if k.startswith("encoder.")}


def assert_same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys() and a
    for k in a:
        assert a[k].dtype == b[k].dtype and torch.equal(a[k], b[k]), k


@pytest.fixture(scope="module")
def frozen_result(tiny_ae_run, small_splits, tmp_path_factory):
    out = tmp_path_factory.mktemp("clf") / "frozen"
    return classify_run(tiny_ae_run.path, FAST, ClassifyConfig(epochs=2, batch_size=128), out=out, progress=False,
                        splits=small_splits, log=lambda *a: None)


def test_frozen_training_leaves_the_encoder_bitwise_unchanged(tiny_ae_run, frozen_result):
    before = encoder_weights(load_weights(tiny_ae_run.best_checkpoint))
    assert any("running_mean" in k for k in before)  # batch-norm statistics are part of the check
    after = encoder_weights(load_weights(f"{frozen_result['out']}/checkpoints/last.ckpt"))
    assert_same(before, after)
    p = frozen_result["parameters"]
    assert p["frozen"] == sum(v.numel() for k, v in before.items() if "running" not in k and "num_batches" not in k)
    assert p["trainable"] > 0


def test_finetune_changes_the_encoder(tiny_ae_run, small_splits, tmp_path):
    result = classify_run(tiny_ae_run.path, FAST, ClassifyConfig(epochs=1, batch_size=128), finetune=True,
                          out=tmp_path / "ft", progress=False, splits=small_splits, log=lambda *a: None)
    before = encoder_weights(load_weights(tiny_ae_run.best_checkpoint))
    after = encoder_weights(load_weights(tmp_path / "ft" / "checkpoints" / "last.ckpt"))
    assert not torch.equal(before["encoder.conv1.0.weight"], after["encoder.conv1.0.weight"])
    assert not torch.equal(before["encoder.conv2.1.running_mean"], after["encoder.conv2.1.running_mean"])
    assert result["parameters"]["frozen"] == 0 and result["mode"] == "finetune"


def test_results_directory(frozen_result, small_splits):
    out = frozen_result["out"]
    saved = json.load(open(f"{out}/result.json"))
    cm = torch.tensor(saved["confusion_matrix"])
    assert cm.shape == (10, 10) and int(cm.sum()) == len(small_splits.test) == saved["test_size"]
    assert saved["test_accuracy"] == pytest.approx(float(cm.diag().sum()) / len(small_splits.test))
    assert list(saved["per_class_accuracy"]) == list(small_splits.classes)
    for name in ("accuracy.png", "confusion.png", "metrics.csv"):
        assert (Path(out) / name).stat().st_size > 0
    header = open(f"{out}/metrics.csv").readline()
    assert "train_acc" in header and "val_acc" in header


def _blocks(per_class: int, seed: int) -> D.ImageSet:
    """Ten classes, each a bright 6x6 block at its own place on a faint noise background: separable."""
    g = torch.Generator().manual_seed(seed)
    images, labels = [], []
    for c in range(10):
        x = torch.randint(0, 40, (per_class, 28, 28), generator=g, dtype=torch.uint8)
        r, k = divmod(c, 4)
        x[:, 2 + 7 * r: 8 + 7 * r, 2 + 7 * k: 8 + 7 * k] = 255
        images.append(x)
        labels.append(torch.full((per_class,), c))
    return D.ImageSet(torch.cat(images), torch.cat(labels), tuple(f"c{i}" for i in range(10)), "blocks")


def test_separable_problem_reaches_full_accuracy(tmp_path):
    train, val, test = _blocks(30, 1), _blocks(5, 2), _blocks(10, 3)
    splits = D.Splits(train, val, test, train.classes, "blocks")
    torch.manual_seed(0)
    result = train_probe(Encoder(8), "frozen", splits, tmp_path / "sep",
                         ProbeConfig(head_width=32, shift=0, flip=False, lr=1e-2), ClassifyConfig(epochs=8, batch_size=50),
                         source={}, progress=False, log=lambda *a: None)
    assert result["test_accuracy"] == 1.0
    assert all(a == 1.0 for a in result["per_class_accuracy"].values())


def test_baseline_trains_everything(small_splits, tmp_path):
    result = classify_baseline(FAST, ClassifyConfig(epochs=1, batch_size=128, limit_test=100), out=tmp_path / "b",
                               progress=False, splits=small_splits, log=lambda *a: None)
    assert result["mode"] == "scratch" and result["parameters"]["frozen"] == 0
    assert (tmp_path / "b" / "result.json").is_file()


@pytest.mark.parametrize("make", [
    lambda tmp: tmp / "missing",
    lambda tmp: tmp,  # a directory, but not a run
])
def test_bad_run_directory_is_one_line_exit_2(make, tmp_path, capsys):
    assert main(["classify", str(make(tmp_path)), "--epochs", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("latentspace: error:") and err.count("\n") == 1


def test_bad_features_and_arguments(tiny_ae_run, capsys):
    assert main(["classify", str(tiny_ae_run.path), "--features", "conv9"]) == 2
    assert "--features" in capsys.readouterr().err
    assert main(["classify"]) == 2
    assert main(["classify", str(tiny_ae_run.path), "--baseline"]) == 2
