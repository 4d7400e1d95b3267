"""The health split travels like every metric: in a bundle and back, to TensorBoard and to MLflow."""
from __future__ import annotations

from pathlib import Path

import pytest
from support import requires_fmnist
from support.runs import trained_run
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from cnnkit.bridges.mlflow import export_mlflow
from cnnkit.bridges.tensorboard import export_tensorboard
from cnnkit.bundle import export_bundle, import_bundle
from cnnkit.config import RunConfig
from cnnkit.data import loading
from cnnkit.store import Store
from cnnkit.watch.names import SPLIT


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, fmnist: loading.Data) -> tuple[Store, str]:
    store = Store(tmp_path_factory.mktemp("health") / "store")
    return store, trained_run(store, RunConfig(epochs=1, subset=0.01, test_subset=0.02, batch_size=64, device="cpu"),
                              dataset=fmnist)


def health_points(store: Store, run_id: str) -> list[tuple]:
    frame = store.metrics([run_id], split=SPLIT)
    return sorted(frame[["step", "epoch", "name", "value"]].itertuples(index=False, name=None))


@requires_fmnist
def test_a_bundle_carries_the_health_points(trained: tuple[Store, str], tmp_path: Path) -> None:
    store, run_id = trained
    points = health_points(store, run_id)
    assert {"conv1.grad_norm", "fc3.update_ratio", "conv1.sigmoid.saturated"} <= {p[2] for p in points}
    other = Store(tmp_path / "other")
    imported = import_bundle(other, export_bundle(store, [run_id], tmp_path / "runs.zip"))
    assert health_points(other, imported[0]) == points


@requires_fmnist
def test_tensorboard_and_mlflow_get_the_health_points(trained: tuple[Store, str], tmp_path: Path) -> None:
    from mlflow.tracking import MlflowClient

    store, run_id = trained
    run = store.get(run_id)
    points = [p for p in health_points(store, run_id) if p[2] == "conv1.grad_norm"]
    folder = export_tensorboard(store, [run], tmp_path / "tb")[0]
    events = EventAccumulator(str(folder), size_guidance={"scalars": 0})
    events.Reload()
    scalars = events.Scalars("health/conv1.grad_norm")
    assert [(s.step, s.value) for s in scalars] == [(p[0], pytest.approx(p[3])) for p in points]
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    export_mlflow(store, [run], uri)
    client = MlflowClient(tracking_uri=uri)
    mlflow_run = client.search_runs([client.get_experiment_by_name("cnnkit").experiment_id])[0]
    history = sorted(client.get_metric_history(mlflow_run.info.run_id, "health_conv1.grad_norm"),
                     key=lambda m: m.step)
    assert [(m.step, m.value) for m in history] == [(p[0], pytest.approx(p[3])) for p in points]
