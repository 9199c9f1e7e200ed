"""Tracking in a real MLflow (the `mlflow` extra): a run's params, per-epoch metrics, artifacts and later
evaluation read back through MlflowClient, a resume continuing the same MLflow run, trainings nested under a
parent run (in this process and in a child process), and the one-line refusals: MLflow missing, a file
store, a store that cannot be created."""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from latentspace.cli import main
from latentspace.errors import LatentspaceError
from latentspace.models.autoencoder_config import AEConfig
from latentspace.training import tracking
from latentspace.training.config import TrainConfig
from latentspace.training.trainer import fit

SRC = Path(__file__).resolve().parents[2] / "src"


def small(**kw):
    return TrainConfig(**{"epochs": 1, "limit_train": 512, "batch_size": 128, **kw})


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A sqlite MLflow store of its own (MLflow creates its tables on first use: seconds, once)."""
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


def client(uri):
    from mlflow.tracking import MlflowClient

    return MlflowClient(uri)


@pytest.fixture(scope="module")
def tracked(store, tmp_path_factory):
    """One epoch with --logger mlflow, resumed to two, then evaluated (reconstruction metrics only)."""
    from latentspace.commands.evaluate import evaluate_run

    out = tmp_path_factory.mktemp("runs") / "ae"
    fit("ae", AEConfig(latent_dim=3), small(logger="mlflow", mlflow_uri=store), out=out, progress=False)
    run = fit("ae", AEConfig(latent_dim=3), small(epochs=2), out=out, resume=True, progress=False)
    evaluate_run(run.path, n=0)
    return run


@pytest.mark.integration
def test_a_tracked_run_has_its_params_epochs_artifacts_and_evaluation_in_mlflow(tracked, store):
    config = json.loads(tracked.config_file.read_text())
    assert config["train"]["logger"] == "mlflow" and config["train"]["mlflow_uri"] == store
    run_id = config["tracking"]["run_id"]
    c = client(store)
    mlrun = c.get_run(run_id)
    assert mlrun.info.status == "FINISHED" and mlrun.info.run_name == "ae"
    params = mlrun.data.params
    assert params["model"] == "ae" and params["model.latent_dim"] == "3" and params["train.epochs"] == "1"
    assert params["train.limit_train"] == "512" and params["train.logger"] == "mlflow"
    assert mlrun.data.tags["resumed.train.epochs"] == "2"  # MLflow keeps a param's first value
    rows = list(csv.DictReader(tracked.metrics_file.read_text().splitlines()))
    for metric in ("train_loss", "val_loss", "images_per_s"):
        history = sorted((m.step, m.value) for m in c.get_metric_history(run_id, metric))
        assert history == [(int(r["epoch"]), pytest.approx(float(r[metric]))) for r in rows], metric
    evaluation = json.loads((tracked.path / "evaluation.json").read_text())
    assert mlrun.data.metrics["test_mse"] == pytest.approx(evaluation["test_mse"])
    top = {a.path for a in c.list_artifacts(run_id)}
    assert {"config.json", "metrics.csv", "summary.json", "evaluation.json", "figures"} <= top
    assert {a.path for a in c.list_artifacts(run_id, "figures")} == {"figures/loss.png", "figures/reconstructions.png"}
    local = Path(c.download_artifacts(run_id, "figures/loss.png"))
    assert local.read_bytes() == (tracked.figures / "loss.png").read_bytes()
    # the artifacts lie beside the database, not in ./mlruns of the working directory
    assert mlrun.info.artifact_uri.startswith((Path(store[len("sqlite:///"):]).parent / "mlartifacts").as_uri())


@pytest.mark.integration
def test_trainings_inside_a_parent_run_are_its_nested_runs_here_and_in_child_processes(store, tmp_path):
    with tracking.parent_run("compare", uri=store, params={"minutes": 3}) as parent_id:
        here = fit("ae", AEConfig(latent_dim=2), small(limit_train=256), out=tmp_path / "here", progress=False)
        env = {k: v for k, v in os.environ.items() if k != "LATENTSPACE_RUN_DIR"}  # with the parent's variable
        env["PYTHONPATH"] = os.pathsep.join([str(SRC), env.get("PYTHONPATH", "")])
        proc = subprocess.run([sys.executable, "-m", "latentspace.cli", "train", "ae", "--latent-dim", "2",
                               "--epochs", "1", "--limit-train", "256", "--no-progress", "--out",
                               str(tmp_path / "child")], env=env, capture_output=True, text=True, timeout=600, check=False)
        assert proc.returncode == 0, proc.stderr[-2000:]
    assert tracking.PARENT_ENV not in os.environ
    c = client(store)
    parent = c.get_run(parent_id)
    assert parent.info.status == "FINISHED" and parent.data.params == {"minutes": "3"}
    for out in (here.path, tmp_path / "child"):
        config = json.loads((out / "config.json").read_text())
        assert config["train"]["logger"] == "mlflow" and config["tracking"]["parent_run_id"] == parent_id
        child = c.get_run(config["tracking"]["run_id"])
        assert child.data.tags[tracking.PARENT_TAG] == parent_id and child.info.status == "FINISHED"
        assert child.info.experiment_id == parent.info.experiment_id
    nested = c.search_runs([parent.info.experiment_id], f"tags.`mlflow.parentRunId` = '{parent_id}'")
    assert {r.info.run_name for r in nested} == {"here", "child"}
    with pytest.raises(RuntimeError), tracking.parent_run("broken", uri=store) as failed_id:
        raise RuntimeError("a model failed")
    assert c.get_run(failed_id).info.status == "FAILED"
    with tracking.parent_run("compare", uri=store, run_id=failed_id) as again:  # a resumed compare reopens it
        assert again == failed_id and json.loads(os.environ[tracking.PARENT_ENV])["run_id"] == failed_id
    assert c.get_run(failed_id).info.status == "FINISHED"


def test_without_mlflow_logger_mlflow_is_refused_in_one_line_before_any_file(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "mlflow", None)  # `import mlflow` fails, as where it is not installed
    code = main(["train", "ae", "--logger", "mlflow", "--limit-train", "64", "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "pip install 'latentspace[mlflow]'" in err[0] and "--logger mlflow" in err[0]
    with pytest.raises(LatentspaceError, match=r"pip install 'latentspace\[mlflow\]'"):
        fit("ae", AEConfig(), small(logger="mlflow"), out=tmp_path / "r", progress=False)
    with pytest.raises(LatentspaceError, match="a parent MLflow run needs MLflow"), tracking.parent_run("x"):
        pass
    assert not (tmp_path / "r").exists() and not list(tmp_path.iterdir())


@pytest.mark.integration
def test_a_store_that_cannot_be_opened_is_one_line_and_leaves_no_run(tmp_path):
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(LatentspaceError, match=r"^MLflow at sqlite:///.*/file/sub/m.db: cannot create"):
        fit("ae", AEConfig(), small(limit_train=64, logger="mlflow", mlflow_uri=f"sqlite:///{tmp_path}/file/sub/m.db"),
            out=tmp_path / "r", progress=False)
    assert not (tmp_path / "r").exists()


def test_settle_says_where_a_run_tracks(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv(tracking.PARENT_ENV, raising=False)
    assert tracking.settle(TrainConfig()) == TrainConfig()  # local: nothing to settle
    assert tracking.settle(TrainConfig(logger="mlflow")).mlflow_uri == f"sqlite:///{tmp_path}/mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://tracker:5000")
    assert tracking.settle(TrainConfig(logger="mlflow")).mlflow_uri == "http://tracker:5000"
    assert TrainConfig(logger="mlflow", mlflow_uri="sqlite:///db/x.db").mlflow_uri == f"sqlite:///{tmp_path}/db/x.db"
    with pytest.raises(LatentspaceError, match="--mlflow-uri goes with --logger mlflow"):
        tracking.settle(TrainConfig(mlflow_uri="sqlite:///x.db"))
    monkeypatch.setenv(tracking.PARENT_ENV, json.dumps({"uri": "sqlite:////p/m.db", "experiment_id": "1",
                                                        "run_id": "abc"}))
    inside = tracking.settle(TrainConfig())
    assert (inside.logger, inside.mlflow_uri) == ("mlflow", "sqlite:////p/m.db")
    with pytest.raises(LatentspaceError, match="differs from the parent MLflow run's store"):
        tracking.settle(TrainConfig(logger="mlflow", mlflow_uri="sqlite:////q/m.db"))


@pytest.mark.parametrize("uri", ["./mlruns", "file:///tmp/mlruns", "mlruns"])
def test_a_file_store_is_refused(uri, monkeypatch):
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
    with pytest.raises(LatentspaceError, match="file store, which MLflow 3 deprecated"):
        tracking.check_uri(uri)
    tracking.check_uri("sqlite:////tmp/m.db")
    tracking.check_uri("postgresql://u@h/db")


@pytest.mark.integration
def test_processes_that_open_a_new_store_at_once_all_get_it(tmp_path):
    """The workers of a search or a compare create the sqlite store and its experiment together: the tables are
    made once, the experiment is one."""
    uri = f"sqlite:///{tmp_path / 'm.db'}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    code = ("from latentspace.training.tracking import _client, _experiment_id\n"
            f"c = _client({uri!r})\nprint(_experiment_id(c, {uri!r}, 'e'))")
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(3)]
    results = [(p.returncode, out, err) for p in procs for out, err in [p.communicate(timeout=300)]]
    assert all(rc == 0 for rc, _, _ in results), [err[-500:] for _, _, err in results]
    assert len({out.strip() for _, out, _ in results}) == 1
    assert [e.name for e in client(uri).search_experiments()].count("e") == 1
