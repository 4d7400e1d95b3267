"""`export --mlflow`: runs read back with MLflow's own MlflowClient, from sqlite and file stores."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient
from support.tracker_runs import CONFUSION

from cnnkit.bridges.mlflow import EXPERIMENT, RUN_ID_TAG, export_mlflow
from cnnkit.cli import main
from cnnkit.errors import ConfigError
from cnnkit.store import Run, Store


@pytest.fixture(scope="module")
def sqlite_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One sqlite store for the module: MLflow's schema migrations take seconds per new database."""
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


def mlflow_runs(uri: str) -> dict[str, object]:
    """{cnnkit run id: MLflow run} of the cnnkit experiment (the file store needs MLflow's opt-in to be read)."""
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    try:
        client = MlflowClient(tracking_uri=uri)
        experiment = client.get_experiment_by_name(EXPERIMENT)
        return {r.data.tags[RUN_ID_TAG]: r for r in client.search_runs([experiment.experiment_id])}
    finally:
        os.environ.pop("MLFLOW_ALLOW_FILE_STORE")


def test_one_mlflow_run_per_run_with_params_metrics_tags_and_summary(store: Store, exported: list[Run],
                                                                      sqlite_uri: str) -> None:
    result = export_mlflow(store, exported, sqlite_uri)
    assert sorted(result.exported) == sorted(r.id for r in exported) and not result.unchanged
    client = MlflowClient(tracking_uri=sqlite_uri)
    found = mlflow_runs(sqlite_uri)
    first, _, failed = exported
    run = found[first.id]
    assert run.info.run_name == first.name and run.info.status == "FINISHED"
    assert run.info.start_time == round(first.started_at * 1000) and run.info.end_time == round(
        first.finished_at * 1000)
    assert run.data.params["lr"] == "0.1" and run.data.params["model.fc"] == "64"
    assert run.data.params["input_size"] == "none" and run.data.params["augment"] == ""
    assert {k: run.data.tags[k] for k in ("group", "model", "dataset", "status", "tags")} == {
        "group": first.group, "model": "lenet", "dataset": "fashion-mnist", "status": "completed", "tags": "paper"}
    points = store.metrics([first.id])
    for (split, name), curve in points.groupby(["split", "name"]):
        key = name if name == "lr" else f"{split}_{name}"
        history = sorted(client.get_metric_history(run.info.run_id, key), key=lambda m: m.step)
        assert [m.step for m in history] == curve["step"].tolist()
        assert [m.value for m in history] == pytest.approx(curve["value"].tolist())
        assert [m.timestamp for m in history] == [round(w * 1000) for w in curve["wall"]]
    summary_path = client.download_artifacts(run.info.run_id, "summary.json")
    summary = json.loads(Path(summary_path).read_text())
    assert summary["final"]["test_acc"] == 0.5 and summary["confusion"] == CONFUSION
    assert found[failed.id].info.status == "FAILED" and found[failed.id].data.tags["group"] == ""
    assert Path(run.info.artifact_uri.removeprefix("file://")).is_relative_to(Path(sqlite_uri[10:]).parent), \
        "artifacts go beside the database, not into the current directory"


def test_exporting_again_does_not_duplicate_and_a_changed_run_is_replaced(store: Store, exported: list[Run],
                                                                          tmp_path: Path) -> None:
    uri = (tmp_path / "mlruns").as_uri()
    export_mlflow(store, exported, uri)
    before = mlflow_runs(uri)
    again = export_mlflow(store, exported, uri)
    assert again.exported == [] and sorted(again.unchanged) == sorted(r.id for r in exported)
    assert again.summary_line() == (f"exported 0 runs to MLflow at {uri}, experiment 'cnnkit' "
                                    "(3 already there, unchanged)")
    store.resume(exported[0].id)  # the run goes on and ends later: its MLflow run is rewritten
    store.claim("test")
    store.finish(exported[0].id, "completed")
    third = export_mlflow(store, store.list_runs(ids=[r.id for r in exported]), uri)
    assert third.exported == [exported[0].id]
    after = mlflow_runs(uri)
    assert len(after) == 3 and after[exported[0].id].info.run_id != before[exported[0].id].info.run_id
    assert after[exported[1].id].info.run_id == before[exported[1].id].info.run_id


def test_a_plain_folder_is_a_file_store(store: Store, exported: list[Run], tmp_path: Path, capsys) -> None:
    folder = tmp_path / "plain"
    assert main(["export", exported[1].id, "--mlflow", str(folder), "--store", str(store.home)]) == 0
    assert capsys.readouterr().out.strip() == f"exported 1 runs to MLflow at {folder.as_uri()}, experiment 'cnnkit'"
    assert list(mlflow_runs(folder.as_uri())) == [exported[1].id]
    assert "MLFLOW_ALLOW_FILE_STORE" not in os.environ, "the opt-in does not outlive the export"


@pytest.mark.parametrize("uri, says", [
    ("http://127.0.0.1:5000", "must be a sqlite:///FILE.db or file:///FOLDER tracking URI, or a folder, got "),
    ("sqlite://", "must be a sqlite:///FILE.db"),
    ("{tmp}/a-file/mlruns", "cannot write to {tmp}/a-file/mlruns: Not a directory"),
    ("sqlite:///{tmp}/a-file/x.db", "cannot write to sqlite:///{tmp}/a-file/x.db: "),
    ("sqlite:///{tmp}/a-file", "{tmp}/a-file is not a SQLite database"),
    ("sqlite:///{store}/cnnkit.db", "{store}/cnnkit.db is a database of something else, not an MLflow store"),
])
def test_a_bad_uri_is_one_line_and_touches_nothing(store: Store, exported: list[Run], tmp_path: Path, capsys,
                                                   uri: str, says: str) -> None:
    (tmp_path / "a-file").write_text("not a database " * 100)
    tables_before = _tables(store)
    uri = uri.format(tmp=tmp_path, store=store.home)
    with pytest.raises(ConfigError) as caught:
        export_mlflow(store, exported, uri)
    assert str(caught.value).startswith("--mlflow: ") and says.format(tmp=tmp_path, store=store.home) in str(
        caught.value)
    assert main(["export", "--mlflow", uri, "--store", str(store.home)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --mlflow: ") and err.count("\n") == 1
    assert _tables(store) == tables_before, "MLflow never adds its tables to the run store"


def _tables(store: Store) -> list[str]:
    import sqlite3

    with sqlite3.connect(store.db_path) as conn:
        return sorted(r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"))
