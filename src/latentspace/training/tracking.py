"""Experiment tracking in MLflow (`--logger mlflow`): a run's params at the start, its metrics.csv rows as they
are written (step = epoch), and at the end its figures, config, metrics and summary as artifacts; later
`evaluate` results join the same MLflow run. `parent_run` opens a run under which every training started
inside it (in this process or a child process) becomes a nested run: one compare, one run per model.

Every run also logs to CSV and TensorBoard in RUN/logs (Lightning's loggers, see `trainer.build_trainer`).

Why not Lightning's MLFlowLogger (checked with lightning 2.6.6 and mlflow 3.17.2; Lightning issue #19441):
- its `save_dir` is None for any URI but `file:`, so with `sqlite:///mlflow.db` as the first logger
  `trainer.log_dir` is None: LightningCLI's SaveConfigCallback asserts on it (the error of #19441) and a
  ModelCheckpoint without a dirpath writes to default_root_dir/EXPERIMENT_ID/RUN_ID/checkpoints instead;
- its `tracking_uri` default is read from MLFLOW_TRACKING_URI once, when lightning's mlflow module is
  imported, and otherwise falls back to `file:./mlruns`, the file store MLflow 3 deprecated: 3.17 refuses it
  in the logger's constructor (MlflowException "... maintenance mode ...") unless MLFLOW_ALLOW_FILE_STORE is set;
- it creates the experiment without an artifact location, so a sqlite store puts the artifacts in ./mlruns
  of whatever directory the process runs in, not beside the database;
- it creates runs with `MlflowClient.create_run`, so an active parent run is ignored (no nesting), and it
  logs epoch metrics at the global step.
So this module creates the experiment (artifacts in mlartifacts/ beside a sqlite database) and the run with
MlflowClient itself, with the parent tag, and logs the rows of metrics.csv: the same numbers at the same steps.

Torch-free; mlflow is imported only when a run is tracked (it is the optional extra `latentspace[mlflow]`).
"""
from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import math
import os
import time
from pathlib import Path

from latentspace.errors import LatentspaceError
from latentspace.io import CsvLog, merge_json

LOGGERS = ("local", "mlflow")
DEFAULT_URI = "sqlite:///mlflow.db"  # MLflow 3's own default store, in the working directory
DEFAULT_EXPERIMENT = "latentspace"
INSTALL_HINT = "pip install 'latentspace[mlflow]'"
PARENT_ENV = "LATENTSPACE_MLFLOW_PARENT"  # JSON {uri, experiment_id, run_id} of the open parent run
PARENT_TAG = "mlflow.parentRunId"  # what the MLflow UI nests runs by
ARTIFACT_FILES = ("config.json", "metrics.csv", "summary.json", "evaluation.json")

log = logging.getLogger("latentspace")


def require_mlflow(what: str = "--logger mlflow") -> None:
    """One line naming the install command when MLflow is missing (find_spec imports nothing)."""
    if importlib.util.find_spec("mlflow") is None:
        raise LatentspaceError(f"{what} needs MLflow, which is not installed: {INSTALL_HINT}")


def check_logger(value) -> None:
    """TrainConfig's check of --logger: refused before any file is written when MLflow is missing."""
    if value == "mlflow":
        require_mlflow()


def absolute_uri(uri: str | None) -> str | None:
    """A sqlite URI with a relative path made absolute, so that a resume from elsewhere finds the same database."""
    if uri is not None and uri.startswith("sqlite:///") and not uri.startswith("sqlite:////"):
        return "sqlite:///" + str(Path(uri[len("sqlite:///"):]).resolve())
    return uri


def check_uri(uri: str | None) -> None:
    """TrainConfig's check of --mlflow-uri (and of $MLFLOW_TRACKING_URI, once settled): no file store."""
    scheme = uri.partition(":")[0] if uri and ":" in uri else ""
    if uri is not None and scheme in ("", "file") and uri not in ("databricks", "databricks-uc") and \
            not os.environ.get("MLFLOW_ALLOW_FILE_STORE"):
        raise LatentspaceError(f"MLflow tracking URI {uri}: a file store, which MLflow 3 deprecated; use a "
                               f"database (e.g. {DEFAULT_URI}) or a server (http://HOST:5000)")


def parent() -> dict | None:
    """The parent run opened by `parent_run` (in this process or an ancestor), or None."""
    text = os.environ.get(PARENT_ENV)
    return json.loads(text) if text else None


def settle(train_config):
    """The TrainConfig a new run records: inside a parent run it tracks into the parent's store; with
    --logger mlflow and no --mlflow-uri, into $MLFLOW_TRACKING_URI or sqlite:///mlflow.db (made absolute)."""
    import dataclasses

    if train_config.mlflow_uri and train_config.logger != "mlflow":
        raise LatentspaceError("--mlflow-uri goes with --logger mlflow")
    up = parent()
    if up is not None:
        uri = absolute_uri(train_config.mlflow_uri)
        if uri is not None and uri != up["uri"]:
            raise LatentspaceError(f"--mlflow-uri {uri} differs from the parent MLflow run's store {up['uri']}")
        return dataclasses.replace(train_config, logger="mlflow", mlflow_uri=up["uri"])
    if train_config.logger != "mlflow":
        return train_config
    uri = train_config.mlflow_uri or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_URI
    return dataclasses.replace(train_config, mlflow_uri=absolute_uri(uri))


def _client(uri: str):
    require_mlflow()
    from mlflow.tracking import MlflowClient

    if not uri.startswith("sqlite:///"):
        return MlflowClient(uri)
    database = Path(uri[len("sqlite:///"):])
    try:
        database.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise LatentspaceError(f"MLflow at {uri}: cannot create {database.parent} ({e.strerror})") from None
    from filelock import FileLock

    # MlflowClient creates or upgrades the tables (alembic migrations, seconds); two processes doing it at once
    # (a search's or a compare's workers) left a database that neither could open: "table _alembic_tmp_... exists"
    with FileLock(f"{database}.lock"):
        return MlflowClient(uri)


def _experiment_id(client, uri: str, name: str | None) -> str:
    name = name or os.environ.get("MLFLOW_EXPERIMENT_NAME") or DEFAULT_EXPERIMENT
    found = client.get_experiment_by_name(name)
    if found is not None and found.lifecycle_stage != "deleted":
        return found.experiment_id
    location = None
    if uri.startswith("sqlite:///"):  # beside the database, wherever the process runs (MLflow's: ./mlruns)
        location = (Path(uri[len("sqlite:///"):]).parent / "mlartifacts").resolve().as_uri()
    from mlflow.exceptions import MlflowException

    try:
        return client.create_experiment(name, artifact_location=location)
    except MlflowException:  # another process created it meanwhile
        found = client.get_experiment_by_name(name)
        if found is None:
            raise
        return found.experiment_id


@contextlib.contextmanager
def _mlflow_errors(uri: str):
    """MLflow's and its database's errors as one line naming the store."""
    try:
        yield
    except LatentspaceError:
        raise
    except Exception as e:  # MlflowException, sqlalchemy's OperationalError, a server that does not answer
        if type(e).__module__.split(".")[0] not in ("mlflow", "sqlalchemy", "requests", "urllib3"):
            raise
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise LatentspaceError(f"MLflow at {uri}: {first}") from None


def _params(kind: str, model_config: dict, train: dict) -> dict:
    return {"model": kind, **{f"model.{k}": v for k, v in model_config.items()},
            **{f"train.{k}": v for k, v in train.items()}}


def _metrics(row: dict, step: int, timestamp: int) -> list:
    from mlflow.entities import Metric

    out = []
    for key, value in row.items():
        try:
            value = float(value)
        except (TypeError, ValueError):  # an empty cell: the metric is absent that epoch
            continue
        if key != "epoch" and math.isfinite(value):
            out.append(Metric(key=key, value=value, timestamp=timestamp, step=step))
    return out


class Tracker:
    """One MLflow run kept in step with a run directory (rank 0 only)."""

    def __init__(self, client, uri: str, run_id: str):
        self.client, self.uri, self.run_id = client, uri, run_id
        self.failed_once = False

    def log_epoch(self, row: dict) -> None:
        """A metrics.csv row at step = its epoch. A store that fails mid-training is warned about once; the
        training goes on (its metrics.csv is complete)."""
        try:
            self.client.log_batch(self.run_id, metrics=_metrics(row, int(row["epoch"]), int(time.time() * 1000)))
        except Exception as e:  # noqa: BLE001 (whatever the store raises, hours of training must not stop)
            if not self.failed_once:
                log.warning(f"MLflow at {self.uri}: logging epoch {row.get('epoch')} failed ({e}); "
                            f"metrics.csv has every epoch")
            self.failed_once = True

    def end(self, status: str) -> None:
        with contextlib.suppress(Exception):
            self.client.set_terminated(self.run_id, status)

    def finish(self, run) -> None:
        """The run's files as artifacts (figures/ and its JSON and CSV), then the MLflow run ends. A store that
        fails now is a warning: the run directory is finished."""
        try:
            with _mlflow_errors(self.uri):
                log_artifacts(self.client, self.run_id, run.path)
                self.client.set_terminated(self.run_id, "FINISHED")
        except LatentspaceError as e:
            log.warning(f"{e} (the artifacts of MLflow run {self.run_id}; the run directory is complete)")
            self.end("FAILED")


def log_artifacts(client, run_id: str, path: Path) -> None:
    for name in ARTIFACT_FILES:
        if (path / name).is_file():
            client.log_artifact(run_id, str(path / name))
    if (path / "figures").is_dir():
        client.log_artifacts(run_id, str(path / "figures"), "figures")


def start(run, resume: bool = False) -> Tracker | None:
    """The MLflow run of a run directory whose config.json says `logger: mlflow` (None otherwise, and in DDP
    child processes). A new run gets a new MLflow run, nested under an open parent; a resumed one continues
    the MLflow run its config.json records (or, when that store lost it, a new one given the earlier rows)."""
    config = run.config()
    train = config["train"]
    if train.get("logger") != "mlflow" or os.environ.get("LOCAL_RANK", "0") != "0":
        return None
    uri = train["mlflow_uri"]
    params = _params(config["model"], config["model_config"], train)
    recorded = config.get("tracking", {}) if resume else {}
    with _mlflow_errors(uri):
        client = _client(uri)
        if recorded.get("run_id") and recorded.get("uri") == uri and _exists(client, recorded["run_id"]):
            run_id = recorded["run_id"]
            client.update_run(run_id, status="RUNNING")
            logged = client.get_run(run_id).data.params
            for key, value in params.items():  # MLflow keeps a param's first value: a resume's changes are tags
                if key in logged and logged[key] != str(value):
                    client.set_tag(run_id, f"resumed.{key}", str(value))
            return Tracker(client, uri, run_id)
        up = parent()
        tags = {"latentspace.run_dir": str(run.path.resolve()), "latentspace.model": config["model"],
                "latentspace.dataset": str(train.get("dataset"))}
        if up is not None and up["uri"] == uri:
            tags[PARENT_TAG] = up["run_id"]
            experiment_id = up["experiment_id"]
        else:
            experiment_id = _experiment_id(client, uri, None)
        run_id = client.create_run(experiment_id, run_name=run.name, tags=tags).info.run_id
        log_params(client, run_id, params)
        merge_json(run.config_file, {"tracking": {"uri": uri, "experiment_id": experiment_id, "run_id": run_id,
                                                  "parent_run_id": tags.get(PARENT_TAG)}})
        tracker = Tracker(client, uri, run_id)
        for row in CsvLog(run.metrics_file).rows() if resume else ():  # the epochs trained before this session
            tracker.log_epoch(row)
        return tracker


def _exists(client, run_id: str) -> bool:
    from mlflow.exceptions import MlflowException

    try:
        client.get_run(run_id)
        return True
    except MlflowException:  # RESOURCE_DOES_NOT_EXIST
        return False


def log_params(client, run_id: str, params: dict) -> None:
    from mlflow.entities import Param

    items = [Param(k, str(v)) for k, v in params.items()]
    for i in range(0, len(items), 100):  # MLflow takes at most 100 params a batch
        client.log_batch(run_id, params=items[i:i + 100])


def log_evaluation(run, results: dict) -> None:
    """`evaluate`'s numbers (step 0) and evaluation.json into the run's MLflow run, when it has one. MLflow
    missing now, or its store failing, is a warning: the evaluation itself is written."""
    tracking = run.config().get("tracking") or {}
    if not tracking.get("run_id"):
        return
    try:
        require_mlflow("logging this evaluation into the run's MLflow run")
        with _mlflow_errors(tracking["uri"]):
            client = _client(tracking["uri"])
            client.log_batch(tracking["run_id"], metrics=_metrics(results, 0, int(time.time() * 1000)))
            client.log_artifact(tracking["run_id"], str(run.path / "evaluation.json"))
    except LatentspaceError as e:
        log.warning(f"{e} (evaluation.json is written)")


@contextlib.contextmanager
def parent_run(name: str, uri: str | None = None, experiment: str | None = None, params: dict | None = None,
               tags: dict | None = None, run_id: str | None = None):
    """Open an MLflow run under which every training started inside the block becomes a nested run (tag
    mlflow.parentRunId), here or in child processes (through the environment). Yields its run id; the run
    ends FINISHED, FAILED on an error, KILLED on Ctrl-C. `uri` defaults as --mlflow-uri does. With `run_id`
    (a resumed compare records its parent's) that run is reopened, when the store still has it."""
    require_mlflow("a parent MLflow run")
    up = parent()
    uri = absolute_uri(uri) or (up["uri"] if up else None) or absolute_uri(
        os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_URI)
    check_uri(uri)
    with _mlflow_errors(uri):
        client = _client(uri)
        if run_id is not None and _exists(client, run_id):
            experiment_id = client.get_run(run_id).info.experiment_id
            client.update_run(run_id, status="RUNNING")
        else:
            experiment_id = up["experiment_id"] if up and up["uri"] == uri else _experiment_id(client, uri,
                                                                                               experiment)
            all_tags = {**(tags or {}), **({PARENT_TAG: up["run_id"]} if up and up["uri"] == uri else {})}
            run_id = client.create_run(experiment_id, run_name=name, tags=all_tags).info.run_id
            if params:
                log_params(client, run_id, params)
    before = os.environ.get(PARENT_ENV)
    os.environ[PARENT_ENV] = json.dumps({"uri": uri, "experiment_id": experiment_id, "run_id": run_id})
    status = "FAILED"
    try:
        yield run_id
        status = "FINISHED"
    except KeyboardInterrupt:
        status = "KILLED"
        raise
    finally:
        if before is None:
            os.environ.pop(PARENT_ENV, None)
        else:
            os.environ[PARENT_ENV] = before
        with contextlib.suppress(Exception):
            client.set_terminated(run_id, status)


def log_to_parent(metrics: dict, artifacts=()) -> None:
    """Numbers (step 0) and files or folders into the open parent run (`parent_run`'s): a compare's leaderboard
    and report. A store that fails now is a warning: the files on disk are complete."""
    up = parent()
    if up is None:
        return
    try:
        with _mlflow_errors(up["uri"]):
            client = _client(up["uri"])
            client.log_batch(up["run_id"], metrics=_metrics(metrics, 0, int(time.time() * 1000)))
            for path in map(Path, artifacts):
                if path.is_dir():
                    client.log_artifacts(up["run_id"], str(path), path.name)
                elif path.is_file():
                    client.log_artifact(up["run_id"], str(path))
    except LatentspaceError as e:
        log.warning(f"{e} (the compare's files are complete)")
