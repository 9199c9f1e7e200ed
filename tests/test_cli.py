"""The command line: user errors are one line on stderr and exit 2; a real training run end to end."""
from __future__ import annotations

import json

import pytest

from latentspace.cli import main


def run_cli(capsys, *argv):
    with pytest.raises(SystemExit) as e:
        raise SystemExit(main(list(argv)))
    out, err = capsys.readouterr()
    return e.value.code, out, err


@pytest.mark.parametrize("argv, message", [
    (["train", "transformer"], "invalid choice"),
    (["train", "ae", "--latent-dim", "0"], "--latent-dim must be at least 1"),
    (["train", "ae", "--epochs", "0"], "--epochs must be at least 1"),
    (["train", "ae", "--epochs", "ten"], "invalid int value"),
    (["train", "ae", "--optimizer", "lbfgs"], "invalid choice"),
    (["train", "ae", "--resume"], "--resume needs --out"),
    (["evaluate", "/nonexistent/run"], "no such run directory"),
    (["train", "ae", "--device", "cuda", "--limit-train", "64", "--out", "TMP/never"], "no CUDA device"),
    (["data", "--dataset", "kmnist", "--data-dir", "/nonexistent", "--no-download"], "downloading is off"),
    (["data", "--data-dir", "/no/such/dir", "--no-download"], "not found in /no/such/dir"),
    (["data", "--dataset", "imagenet"], "unknown dataset 'imagenet'"),
    (["data", "--dataset", "folder"], "needs --data-dir"),
    (["data", "--dataset", "folder:TMP/nothing"], "no such folder"),
    (["data", "--image-size", "8"], "--image-size must be between 16 and 128"),
    (["data", "--image-size", "129"], "--image-size must be between 16 and 128"),
    (["data", "--channels", "2"], "invalid choice"),
    (["train", "ae", "--dataset", "folder:TMP/nothing", "--out", "TMP/never"], "no such folder"),
    (["train", "ae", "--image-size", "200", "--out", "TMP/never"], "--image-size must be between 16 and 128"),
])
def test_user_errors_are_one_line_and_exit_2(capsys, argv, message, monkeypatch, tmp_path):
    monkeypatch.setenv("LATENTSPACE_CACHE", str(tmp_path))
    code, out, err = run_cli(capsys, *[a.replace("TMP", str(tmp_path)) for a in argv])
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], err
    assert "Traceback" not in err
    assert not (tmp_path / "never").exists(), "a failed command left a run directory behind"


def test_not_a_run_directory(capsys, tmp_path):
    code, _, err = run_cli(capsys, "evaluate", str(tmp_path))
    assert code == 2 and "not a run directory" in err and len(err.strip().splitlines()) == 1


def test_unreadable_data_is_one_line(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("LATENTSPACE_CACHE", str(tmp_path / "cache"))
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                 "t10k-labels-idx1-ubyte.gz"):
        (tmp_path / name).write_bytes(b"garbage")
    code, _, err = run_cli(capsys, "data", "--data-dir", str(tmp_path), "--no-download")
    assert code == 2 and "unreadable or truncated" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("make, message", [
    ("empty", "no files in this folder"), ("few", "only 5 images"), ("corrupt", "img002.png: unreadable"),
])
def test_folder_errors_are_one_line_and_exit_2(capsys, tmp_path, monkeypatch, make, message):
    from tests.datafiles import flat_folder

    monkeypatch.setenv("LATENTSPACE_CACHE", str(tmp_path / "cache"))
    root = tmp_path / "images"
    root.mkdir()
    if make != "empty":
        flat_folder(root, 5 if make == "few" else 12)
    if make == "corrupt":
        (root / "img002.png").write_bytes((root / "img002.png").read_bytes()[:60])
    code, _, err = run_cli(capsys, "data", "--dataset", f"folder:{root}")
    assert code == 2 and len(err.strip().splitlines()) == 1 and message in err, err


def test_data_command_summarises_a_folder(capsys, tmp_path, monkeypatch):
    from tests.datafiles import shapes_folder

    monkeypatch.setenv("LATENTSPACE_CACHE", str(tmp_path / "cache"))
    root = shapes_folder(tmp_path / "shapes", per_class=4)
    (root / "circles" / "x.png").write_text("text")
    code, out, _ = run_cli(capsys, "data", "--dataset", "folder", "--data-dir", str(root), "--image-size", "16")
    assert code == 0 and f"folder:{root}" in out and "3 x 16 x 16 images (RGB)" in out
    assert "3 classes: circles, squares, triangles" in out and "1 files that are not images skipped" in out
    assert "identity: folder-" in out


def test_data_command_prints_where_the_data_is(capsys):
    code, out, _ = run_cli(capsys, "data", "--no-download")
    assert code == 0 and "fashion-mnist" in out and "test 10000" in out


@pytest.mark.integration
def test_train_and_evaluate_from_the_command_line(capsys, tmp_path):
    out_dir = tmp_path / "run"
    code, out, err = run_cli(capsys, "train", "ae", "--latent-dim", "2", "--epochs", "1", "--limit-train", "256",
                             "--batch-size", "128", "--no-progress", "--out", str(out_dir))
    assert code == 0, err
    assert f"run: {out_dir}" in out and "reconstructions.png" in out
    code, out, _ = run_cli(capsys, "evaluate", str(out_dir), "--json")
    assert code == 0 and json.loads(out)["test_mse"] > 0


@pytest.mark.parametrize("argv, model, train", [
    (["train", "ae"], {"lr": 8e-3, "schedule": "onecycle", "beta2": 0.95}, {"epochs": 2, "batch_size": 96}),
    (["train", "vae"], {"lr": 8e-3, "weight_decay": 0.0, "schedule": "onecycle", "kl_warmup": 1.0},
     {"epochs": 2, "batch_size": 128}),
    (["train", "ae", "--recipe", "study"], {"lr": 1e-3, "schedule": "constant", "beta2": 0.999, "weight_decay": 1e-5},
     {"epochs": 10, "batch_size": 256}),
    (["train", "vae", "--recipe", "study", "--epochs", "4", "--lr", "2e-3"],  # an explicit flag wins over the recipe
     {"lr": 2e-3, "schedule": "constant", "weight_decay": 1e-5, "kl_warmup": 0.0}, {"epochs": 4, "batch_size": 256}),
    (["train", "gan"], {"lr": 4e-4, "beta2": 0.99}, {"batch_size": 16, "epochs": 10}),
    (["train", "gan", "--recipe", "study"], {"lr": 2e-4, "beta1": 0.5, "beta2": 0.999}, {"batch_size": 128}),
])
def test_train_defaults_are_the_fast_recipe_and_recipe_study_is_the_studys(capsys, monkeypatch, argv, model, train):
    import latentspace.training.trainer as trainer

    seen = {}

    class Done(Exception):
        pass

    def fake_fit(kind, model_config, train_config, **kw):
        seen.update(model=model_config, train=train_config)
        raise Done

    monkeypatch.setattr(trainer, "fit", fake_fit)
    with pytest.raises(Done):
        main(argv)
    assert {k: getattr(seen["model"], k) for k in model} == model
    assert {k: getattr(seen["train"], k) for k in train} == train
