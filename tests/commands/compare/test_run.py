"""`latentspace compare` end to end on tiny budgets: the report, reuse after a failure and after kill -9, bad
flags, MLflow's parent and nested runs read back, workers."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from latentspace.commands.compare import run as compare_run
from latentspace.commands.compare.run import run_compare
from latentspace.errors import LatentspaceError
from tests.cli import run_cli
from tests.commands.study.helpers import parse_report

TINY = {"minutes": 0.05, "limit_train": 512}  # 3 s of training a family, 512 images
CLI = [sys.executable, "-m", "latentspace.cli"]


def env():
    out = {k: v for k, v in os.environ.items() if k not in ("LATENTSPACE_RUN_DIR", "LATENTSPACE_MLFLOW_PARENT")}
    out["PYTHONPATH"] = os.pathsep.join([os.path.abspath("src"), out.get("PYTHONPATH", "")])
    return out


@pytest.mark.integration
def test_a_failing_model_is_reported_the_others_scored_and_a_rerun_redoes_only_it(tmp_path, monkeypatch):
    real = compare_run.train_family

    def gan_fails(ctx, kind):
        if kind == "gan":
            raise RuntimeError("forced failure")
        return real(ctx, kind)

    monkeypatch.setattr(compare_run, "train_family", gan_fails)
    lines = []
    report, steps = run_compare(models="ae+gmm,gan", out=tmp_path, log=lines.append, **TINY)
    status = {s.key: s.status for s in steps}
    assert status == {"train-ae": "done", "train-gan": "failed", "score-ae+gmm": "done", "score-gan": "skipped"}
    html = parse_report(report)
    assert "forced failure" in html["train-gan"]["text"]
    assert html["leaderboard"]["cells"][:2] == ["ae+gmm", "Autoencoder (latent 20)"]

    monkeypatch.setattr(compare_run, "train_family", real)
    lines.clear()
    report, steps = run_compare(models="ae+gmm,gan", out=tmp_path, log=lines.append, **TINY)
    assert [s.status for s in steps] == ["done"] * 4
    assert [s.reused for s in steps] == [True, False, True, False]
    assert any("Train Autoencoder: reused" in line for line in lines)
    html = parse_report(report)
    board = html["leaderboard"]["cells"]
    assert "ae+gmm" in board and "gan" in board and "FID (ours)" in html["leaderboard"]["text"]
    assert "Best FID in our features" in html["use"]["text"] and "Fastest sampling" in html["use"]["text"]
    for key in ("curve", "samples", "reconstructions", "nearest"):
        assert html[key]["images"] and html[key]["images"][0].startswith("data:image/png;base64,"), key
    scores = json.loads((tmp_path / "steps" / "score-gan.json").read_text())["results"]["score-gan"]
    assert [p["fraction"] for p in scores["curve"]] == [0.25, 0.5, 1.0]
    assert len({p["n"] if "n" in p else scores["n_curve"] for p in scores["curve"]}) == 1
    assert scores["n_final"] >= scores["n_curve"] >= 200 and scores["sample_seconds_per_1000"] > 0
    # the family's run holds its scores, so `latentspace runs` lists them
    assert "fid" in json.loads((tmp_path / "runs" / "ae" / "evaluation.json").read_text())
    # another compare in the same OUT is refused
    with pytest.raises(LatentspaceError, match="holds another compare"):
        run_compare(models="gan", out=tmp_path, log=lines.append, **TINY)


def test_bad_flags_are_one_line_exit_2_and_write_nothing(tmp_path, capsys):
    out = tmp_path / "c"
    for argv, said in ((("--models", "ae,gan"), "choose from ae+gmm"),
                       (("--minutes", "0"), "--minutes"),
                       (("--mlflow-uri", "sqlite:///x.db"), "--mlflow-uri goes with --logger mlflow"),
                       (("--dataset", "nope"), "nope")):
        code, _, err = run_cli(capsys, "compare", "--out", out, *argv)
        assert code == 2 and said in err and err.count("\n") == 1, err
        assert not out.exists()


@pytest.mark.integration
def test_compare_killed_with_sigkill_resumes_reusing_the_finished_model(tmp_path):
    out = tmp_path / "c"
    args = ["compare", "--models", "gan,vae", "--minutes", "0.05", "--limit-train", "512", "--out", str(out)]
    proc = subprocess.Popen([*CLI, *args], env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 300
    while not (out / "steps" / "train-gan.json").is_file():
        assert time.time() < deadline and proc.poll() is None, "compare ended before its first model was recorded"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (out / "report.html").exists()
    again = subprocess.run([*CLI, *args], env=env(), capture_output=True, text=True, timeout=600, check=False)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "Train DCGAN: reused" in again.stdout and "Train VAE: done" in again.stdout
    html = parse_report(out / "report.html")
    assert html["score-gan"]["status"] == html["score-vae"]["status"] == "done"


@pytest.mark.integration
def test_mlflow_parent_run_with_a_nested_run_per_family_read_back_with_two_workers(tmp_path):
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    out = tmp_path / "c"
    done = subprocess.run([*CLI, "compare", "--models", "ae+gmm,gan", "--minutes", "0.05", "--limit-train", "512",
                           "--out", str(out), "--workers", "2", "--logger", "mlflow", "--mlflow-uri", uri],
                          env=env(), capture_output=True, text=True, timeout=600, cwd=tmp_path, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "2 at a time" in done.stdout
    client = MlflowClient(uri)
    parent_id = json.loads((out / "compare.json").read_text())["mlflow_run_id"]
    parent = client.get_run(parent_id)
    assert parent.info.status == "FINISHED" and parent.data.params["models"] == "ae+gmm,gan"
    assert "ae-gmm.fid" in parent.data.metrics and "gan.precision" in parent.data.metrics
    assert "report.html" in [a.path for a in client.list_artifacts(parent_id)]
    children = client.search_runs([parent.info.experiment_id], f"tags.mlflow.parentRunId = '{parent_id}'")
    assert sorted(r.data.tags["latentspace.model"] for r in children) == ["ae", "gan"]
    for child in children:
        assert child.info.status == "FINISHED" and child.data.params["train.max_time"] == "0.05"
        assert "fid" in child.data.metrics and "sample_seconds_per_1000" in child.data.metrics
        assert "figures" in [a.path for a in client.list_artifacts(child.info.run_id)]


@pytest.mark.integration
def test_a_folder_of_colour_pictures_without_labels_compares_end_to_end(tmp_path):
    from tests.datafiles import flat_folder

    folder = flat_folder(tmp_path / "pictures", n=200)
    report, steps = run_compare(dataset=f"folder:{folder}", models="ae+gmm", out=tmp_path / "c", log=lambda m: None,
                                minutes=0.05)
    assert [s.status for s in steps] == ["done", "done"]
    html = parse_report(report)
    assert "no feature network of ours" in html["leaderboard"]["text"]
    assert "test MSE" in html["leaderboard"]["text"] and html["samples"]["images"]
    assert "Best reconstructions (test MSE): ae+gmm" in html["use"]["text"]
