"""Finished runs as MLflow runs, written with mlflow-skinny's MlflowClient to a file or sqlite store.

One MLflow run per cnnkit run, in the experiment "cnnkit": params from the flattened config, every
metric point with its step and timestamp ("train_loss", "test_acc", "lr", …), tags for the group,
model, dataset and status, the summary (final and best metrics, confusion matrix) as the artifact
``summary.json``. The MLflow run carries the cnnkit run id as a tag: exporting the same run again
finds it and leaves it alone, or replaces it when the run has changed since (resumed).
"""
from __future__ import annotations

import logging
import os
import sqlite3
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from cnnkit.bridges import metric_key
from cnnkit.errors import ConfigError
from cnnkit.events import Status
from cnnkit.store import Run, Store
from cnnkit.store.queries import flat_config

if TYPE_CHECKING:
    import pandas as pd
    from mlflow.tracking import MlflowClient

FLAG = "--mlflow"
EXPERIMENT = "cnnkit"
RUN_ID_TAG = "cnnkit.run_id"
FINISHED_TAG = "cnnkit.finished_at"  # a run resumed since its export has a new end: it is exported again
SUMMARY_ARTIFACT = "summary.json"
RUN_STATUS = {Status.COMPLETED: "FINISHED", Status.CANCELLED: "KILLED"}  # every other end is FAILED
METRICS_PER_BATCH, PARAMS_PER_BATCH = 1000, 100  # MLflow's limits for one log_batch
URI_FORMS = "a sqlite:///FILE.db or file:///FOLDER tracking URI, or a folder"


@dataclass
class MlflowExport:
    uri: str
    experiment_id: str
    exported: list[str] = field(default_factory=list)  # cnnkit run ids written now (new or replaced)
    unchanged: list[str] = field(default_factory=list)  # exported before and not changed since

    def summary_line(self) -> str:
        again = f" ({len(self.unchanged)} already there, unchanged)" if self.unchanged else ""
        return f"exported {len(self.exported)} runs to MLflow at {self.uri}, experiment {EXPERIMENT!r}{again}"


def export_mlflow(store: Store, runs: list[Run], uri: str) -> MlflowExport:
    """Write ``runs`` to the tracking store at ``uri``; ConfigError naming ``--mlflow`` when it is not a
    file or sqlite URI or cannot be used."""
    uri, folder = tracking_uri(uri)
    metrics = store.metrics([r.id for r in runs])
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    with _mlflow_quietly(file_store=uri.startswith("file:")):
        try:
            client = MlflowClient(tracking_uri=uri)
            result = MlflowExport(uri, _experiment(client, None if uri.startswith("file:") else folder))
            for run in runs:
                previous = client.search_runs([result.experiment_id], f"tags.`{RUN_ID_TAG}` = '{run.id}'")
                if any(p.data.tags.get(FINISHED_TAG) == repr(run.finished_at) for p in previous):
                    result.unchanged.append(run.id)
                    continue
                for p in previous:
                    client.delete_run(p.info.run_id)
                _write_run(client, result.experiment_id, run, metrics[metrics["run_id"] == run.id])
                result.exported.append(run.id)
        except (MlflowException, OSError) as exc:
            raise ConfigError(FLAG, f"cannot write to {uri}: {_first_line(exc)}") from None
        except Exception as exc:  # SQLAlchemy's errors: a file that is no database, a locked one
            if type(exc).__module__.startswith("sqlalchemy"):
                raise ConfigError(FLAG, f"cannot use {uri} as an MLflow store: {_first_line(exc)}") from None
            raise
    return result


def tracking_uri(text: str) -> tuple[str, Path]:
    """The URI MLflow gets, and the folder it lives in (created). A plain path is a file store folder."""
    parsed = urlparse(text)
    try:
        if parsed.scheme == "sqlite":
            db = Path(text.removeprefix("sqlite:///")).expanduser()
            if not text.startswith("sqlite:///") or not db.name:
                raise ConfigError(FLAG, f"must be {URI_FORMS}, got {text!r}")
            db.parent.mkdir(parents=True, exist_ok=True)
            _check_mlflow_database(db)
            return f"sqlite:///{db.resolve()}", db.parent.resolve()
        if parsed.scheme in ("file", ""):
            folder = Path(parsed.path if parsed.scheme else text).expanduser().resolve()
            folder.mkdir(parents=True, exist_ok=True)
            return folder.as_uri(), folder
    except OSError as exc:
        raise ConfigError(FLAG, f"cannot write to {text}: {exc.strerror or exc}") from None
    raise ConfigError(FLAG, f"must be {URI_FORMS}, got {text!r}")


def _check_mlflow_database(db: Path) -> None:
    """An existing database must be MLflow's: MLflow would add its tables to any other (the run store's too)."""
    if not db.is_file() or db.stat().st_size == 0:
        return
    try:
        with sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True) as conn:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.Error as exc:
        raise ConfigError(FLAG, f"{db} is not a SQLite database ({exc})") from None
    if not {"experiments", "alembic_version"} <= tables:
        raise ConfigError(FLAG, f"{db} is a database of something else, not an MLflow store; name a new file")


def _experiment(client: MlflowClient, artifacts_beside: Path | None) -> str:
    """The id of the "cnnkit" experiment, created when missing (a sqlite store's artifacts go beside
    the database, not into the current directory)."""
    found = client.get_experiment_by_name(EXPERIMENT)
    if found is not None:
        return found.experiment_id
    location = (artifacts_beside / "mlartifacts").as_uri() if artifacts_beside else None
    return client.create_experiment(EXPERIMENT, artifact_location=location)


def _write_run(client: MlflowClient, experiment_id: str, run: Run, points: pd.DataFrame) -> None:
    from mlflow.entities import Metric, Param

    tags = {RUN_ID_TAG: run.id, FINISHED_TAG: repr(run.finished_at), "group": run.group or "", "model": run.model,
            "dataset": run.dataset, "status": str(run.status), "tags": ",".join(run.tags)}
    started = run.started_at or run.queued_at
    mlflow_run = client.create_run(experiment_id, start_time=_ms(started), tags=tags, run_name=run.name)
    run_id = mlflow_run.info.run_id
    params = [Param(k, "none" if v is None else str(v)) for k, v in flat_config(run.config).items()]
    metrics = [Metric(metric_key(split, name, "_"), float(value), _ms(wall), int(step))
               for split, name, step, value, wall in points[["split", "name", "step", "value", "wall"]].itertuples(
                   index=False)]
    for batch in _chunks(params, PARAMS_PER_BATCH):
        client.log_batch(run_id, params=batch)
    for batch in _chunks(metrics, METRICS_PER_BATCH):
        client.log_batch(run_id, metrics=batch)
    client.log_dict(run_id, run.summary | {"cnnkit_run_id": run.id, "error": run.error}, SUMMARY_ARTIFACT)
    client.set_terminated(run_id, RUN_STATUS.get(run.status, "FAILED"), end_time=_ms(run.finished_at or started))


@contextmanager
def _mlflow_quietly(file_store: bool) -> Iterator[None]:
    """MLflow as a library: no INFO lines about creating tables, no SQLAlchemy deprecation notes; and
    the file store the user asked for (MLflow 3 refuses it unless MLFLOW_ALLOW_FILE_STORE is set)."""
    logger = logging.getLogger("mlflow")
    level, before = logger.level, os.environ.get("MLFLOW_ALLOW_FILE_STORE")
    logger.setLevel(logging.WARNING)
    if file_store:
        os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            yield
    finally:
        logger.setLevel(level)
        if before is None:
            os.environ.pop("MLFLOW_ALLOW_FILE_STORE", None)
        else:
            os.environ["MLFLOW_ALLOW_FILE_STORE"] = before


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _ms(seconds: float) -> int:
    return int(round(seconds * 1000))


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
