"""The command line: user errors are one line on stderr and exit 2; a real training run end to end."""
from __future__ import annotations

import argparse
import json

import pytest

from latentspace.cli import build_parser, main
from tests.cli import run_cli


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
    (["train", "ae", "--beta2", "1.5", "--out", "TMP/never"], "--beta2 must be in [0, 1), got 1.5"),  # not Adam's
    (["train", "gan", "--beta1", "1", "--out", "TMP/never"], "--beta1 must be in [0, 1), got 1.0"),
    (["train", "vae", "--lr", "nan", "--out", "TMP/never"], "--lr must be a finite number, got nan"),
    (["train", "ae", "--seed", "-1"], "--seed must be between 0 and 4294967295, got -1"),
    (["generate", "RUN", "--mode", "grid", "--bounds", "0,1,inf,2"], "--bounds must be a finite number, got inf"),
    (["generate", "RUN", "--mode", "grid", "--bounds", "0,1,2"], "expected 4 numbers"),
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


# ---------------------------------------------------------------- every numeric flag of every command

def _leaf_parsers(parser=None, path=()):
    """(command words, parser) of every command that runs (train ae, search vae, evaluate, ...)."""
    parser = parser or build_parser()
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path, parser
    for action in subs:
        for name, sub in action.choices.items():
            yield from _leaf_parsers(sub, (*path, name))


def _bad_values(bounds) -> list[str]:
    """Values outside a flag's declared range: not finite, and just past each of its bounds."""
    bad = ["nan", "inf", "-inf"]
    step = 1 if bounds.kind is int else 0.5
    for bound, past in ((bounds.minimum, -step), (bounds.maximum, step), (bounds.above, 0), (bounds.below, 0)):
        if bound is not None:
            bad.append(str(bounds.kind(bound + past)))
    return bad


PARSER = build_parser()
COMMANDS = [" ".join(path) for path, _ in _leaf_parsers(PARSER)]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_numeric_flag_refuses_nan_infinite_and_out_of_range_values_before_any_file(command, capsys, tmp_path,
                                                                                          monkeypatch):
    """Walks the parser: every int or float flag of the command has a checked type (its declared range), and a
    value outside it is one line, exit 2, with nothing written (not even the --out directory)."""
    import latentspace.cli

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LATENTSPACE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(latentspace.cli, "build_parser", lambda: PARSER)  # built once: a parser parses many times
    parser = dict((" ".join(p), q) for p, q in _leaf_parsers(PARSER))[command]
    base = list(command.split())
    for action in parser._actions:
        if not action.option_strings and action.nargs not in ("?", "*"):
            base.append("RUN")  # a positional argument
        elif action.required:
            base += [action.option_strings[0], str(action.choices[0])]
    if "--out" in parser._option_string_actions:
        base += ["--out", "X"]
    checked = 0
    for action in parser._actions:
        assert action.type not in (int, float), f"{command} {action.option_strings}: a number without a range"
        bounds = getattr(action.type, "bounds", None)
        if bounds is None:
            continue
        checked += 1
        count = getattr(action.type, "count", None) or 1
        for value in _bad_values(bounds):
            argv = [*base, action.option_strings[0], ",".join([value] + ["0"] * (count - 1))]
            code, out, err = run_cli(capsys, *argv)
            assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, (argv, err)
            assert action.option_strings[0] in err, (argv, err)
            assert not list(tmp_path.iterdir()), f"{argv} left {list(tmp_path.iterdir())}"
    assert checked or command in ("data", "runs"), f"{command} has no numeric flag?"
