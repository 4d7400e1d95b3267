"""insight.health: layer health read back as layer × epoch grids and as the per-epoch table of a report."""
from __future__ import annotations

import pytest
from support.health_runs import health_run

from cnnkit.insight import health
from cnnkit.store import Store


def test_layers_sort_from_the_input_to_the_output() -> None:
    names = ["fc1", "conv10", "bn1", "conv2", "conv1", "fc1.relu", "conv1.relu", "relu1"]
    assert sorted(names, key=health.layer_order) == ["conv1", "conv1.relu", "conv2", "conv10", "bn1", "relu1", "fc1",
                                                     "fc1.relu"]


def test_a_grid_is_one_row_per_layer_and_one_column_per_report(store: Store) -> None:
    run_id = health_run(store, "starving", first_grad=1e-4, saturated=0.1)
    frame = health.points(store, [run_id])
    assert health.quantities(frame) == ["grad_norm", "weight_norm", "update_ratio", "saturated"]
    grid = health.grid(frame, run_id, "grad_norm")
    assert grid.layers == ["conv1", "conv2", "fc1", "fc2", "fc3"] and grid.epochs == pytest.approx(
        [0.2 * k for k in range(1, 11)])
    assert grid.z[0][:2] == pytest.approx([1e-4, 2e-4]) and grid.z[-1][-1] == pytest.approx(10.0)
    saturated = health.grid(frame, run_id, "saturated")
    assert saturated.layers == ["conv1.sigmoid", "conv2.sigmoid", "fc1.sigmoid", "fc2.sigmoid"]
    assert saturated.epochs == [1.0, 2.0]
    assert health.grid(frame, run_id, "dead").empty and health.grid(frame, "other", "grad_norm").empty


def test_the_table_says_how_much_gradient_reaches_the_first_layer_per_epoch(store: Store) -> None:
    starving = health_run(store, "starving", first_grad=1e-4, saturated=0.1)
    healthy = health_run(store, "healthy", first_grad=0.1, saturated=0.0)
    rows = health.health_table(store, [starving, healthy])
    assert [(r["name"], r["epoch"]) for r in rows] == [("starving", 1), ("starving", 2), ("healthy", 1),
                                                       ("healthy", 2)]
    first = rows[0]
    assert (first["first_layer"], first["last_layer"]) == ("conv1", "fc3")
    assert first["first_grad_norm"] == pytest.approx(3e-4) and first["last_grad_norm"] == pytest.approx(3.0)
    assert first["grad_ratio"] == pytest.approx(1e-4) and rows[2]["grad_ratio"] == pytest.approx(0.1)
    assert rows[1]["first_grad_norm"] == pytest.approx(8e-4)  # the reports of epoch 2: steps 6 to 10
    assert first["saturated"] == pytest.approx(0.1) and rows[1]["saturated"] == pytest.approx(0.2)
    assert first["dead"] is None and first["test_acc"] == pytest.approx(0.1)
    assert health.health_table(store, []) == []
