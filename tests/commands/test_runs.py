"""`latentspace runs`: the table of run directories from their JSON files alone: nested runs, unfinished and
damaged ones marked, other directories passed through, --sort best first with the lacking last, --json,
and no heavy import (it never loads torch or a checkpoint)."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from latentspace.cli import main
from latentspace.commands.runs import SORT_KEYS, format_table, list_runs
from latentspace.errors import LatentspaceError
from tests.test_layout import HEAVY


def write(path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data))


def fake_run(path, kind="ae", latent=20, epochs=3, summary=True, evaluation=None, dataset="fashion-mnist"):
    field = "noise_dim" if kind == "gan" else "latent_dim"
    write(path / "config.json", {"model": kind, "model_config": {field: latent},
                                 "train": {"epochs": epochs, "dataset": dataset}, "dataset": dataset})
    if summary:
        write(path / "summary.json", {"finished": True, "epochs_completed": epochs, "train_time_s": 10.0 * epochs,
                                      "wall_time_s": 11.0 * epochs, "best_val_loss": 0.01 * epochs})
    if evaluation is not None:
        write(path / "evaluation.json", evaluation)
    (path / "checkpoints").mkdir(exist_ok=True)


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    """200 runs: 190 at the top (every tenth unfinished, every fifth evaluated), a study and a sweep that
    nest 8 more, 1 damaged, 1 GAN; besides them, directories that are not runs."""
    root = tmp_path_factory.mktemp("runs")
    for i in range(190):
        fake_run(root / f"ae-{i:03d}", latent=2 + i % 30, epochs=1 + i % 7, summary=i % 10 != 3,
                 evaluation={"test_mse": 0.01 + i / 1000, "fid": 200.0 - i, "precision": (i % 13) / 13,
                             "recall": 0.5} if i % 5 == 0 else None)
    for i in range(4):
        fake_run(root / "study" / f"step-{i}", kind="vae", latent=16, evaluation={"kid": 0.01 * (i + 1)})
        fake_run(root / "sweep" / "betas" / f"beta-{i}", kind="vae", latent=8)
    fake_run(root / "gan", kind="gan", latent=100, summary=False)
    write(root / "broken" / "config.json", '{"model": "ae", "model_co')  # a run cut short while writing
    (root / "broken" / "checkpoints").mkdir()
    write(root / "study" / "steps" / "ae20.json", {"status": "done"})  # a study's records: not runs
    write(root / "elsewhere" / "config.json", {"theme": "dark"})  # someone else's config.json
    (root / "ae-000" / "figures" / "progress").mkdir(parents=True)
    return root


def test_every_run_is_listed_nested_ones_too_and_nothing_else(tree):
    rows = list_runs(tree)
    assert len(rows) == 200
    names = {r["run"] for r in rows}
    assert {"study/step-0", "sweep/betas/beta-3", "gan", "broken"} <= names
    assert not {"study", "study/steps", "elsewhere", "sweep"} & names
    by = {r["run"]: r for r in rows}
    assert by["ae-013"]["status"] == "unfinished" and by["ae-013"]["epochs"] is None
    assert by["ae-013"]["epochs_planned"] == 7
    assert by["gan"]["status"] == "unfinished" and by["gan"]["latent"] == 100  # the GAN's latent field
    assert by["broken"]["status"] == "damaged" and "config.json" in by["broken"]["problem"]
    a = by["ae-010"]
    assert (a["status"], a["kind"], a["latent"], a["epochs"], a["train_time_s"]) == ("finished", "ae", 12, 4, 40.0)
    assert a["best_val_loss"] == pytest.approx(0.04) and a["fid"] == 190.0 and a["test_mse"] == pytest.approx(0.02)
    assert by["study/step-2"]["kid"] == pytest.approx(0.03) and by["study/step-2"]["fid"] is None
    assert sum(r["status"] == "unfinished" for r in rows) == 20


def test_the_table_marks_unfinished_and_damaged_runs(tree):
    text = format_table(list_runs(tree), tree)
    lines = text.splitlines()
    assert lines[0].split() == ["run", "status", "kind", "dataset", "latent", "epochs", "time", "best_val_loss",
                                "test_mse", "fid", "kid", "precision", "recall"]
    assert len(lines) == 202 and lines[-1] == "200 runs, 20 unfinished, 1 damaged (--json says why)"
    row = next(line for line in lines if line.startswith("ae-010 "))
    assert row.split() == ["ae-010", "finished", "ae", "fashion-mnist", "12", "4", "40.0s", "0.04", "0.02", "190",
                           "-", "0.7692", "0.5"]
    assert next(line for line in lines if line.startswith("ae-013 ")).split()[1] == "unfinished"
    assert next(line for line in lines if line.startswith("broken ")).split()[1:3] == ["damaged", "-"]
    assert format_table([], "nowhere") == "no runs under nowhere"


def test_sort_puts_the_best_first_and_runs_lacking_the_metric_last(tree):
    by_fid = list_runs(tree, sort="fid")
    fids = [r["fid"] for r in by_fid]
    assert fids[:38] == sorted(fids[:38]) and fids[0] == 15.0 and set(fids[38:]) == {None}
    precision = [r["precision"] for r in list_runs(tree, sort="precision")]
    assert precision[0] == pytest.approx(12 / 13) and precision[:38] == sorted(precision[:38], reverse=True)
    times = [r["train_time_s"] for r in list_runs(tree, sort="time")]
    assert times[0] == 10.0 and times[-1] is None
    with pytest.raises(LatentspaceError, match="--sort speed: not a column; choose one of run, kind"):
        list_runs(tree, sort="speed")
    with pytest.raises(LatentspaceError, match="no such directory"):
        list_runs(tree / "nothing")


def test_the_command_prints_json_and_refuses_an_unknown_metric_in_one_line(tree, capsys):
    assert main(["runs", str(tree), "--json", "--sort", "best_val_loss"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 200 and rows[0]["best_val_loss"] == pytest.approx(0.01)
    assert all(set(SORT_KEYS) - {"time", "run"} <= set(r) for r in rows)
    with pytest.raises(SystemExit) as e:
        main(["runs", str(tree), "--sort", "speed"])
    err = capsys.readouterr().err
    assert e.value.code == 2 and len(err.strip().splitlines()) == 1 and "'fid'" in err and "'recall'" in err


def test_the_command_imports_nothing_heavy(tree):
    code = ("import json, sys\nfrom latentspace.cli import main\n"
            f"main(['runs', {str(tree)!r}, '--sort', 'fid'])\n"
            f"print(json.dumps(sorted(m for m in {(*HEAVY, 'mlflow', 'tensorboard')!r} if m in sys.modules)))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.strip().splitlines()
    assert lines[-1] == "[]" and lines[-2].startswith("200 runs")
