"""compare: selection ↔ URL, filtering, smoothing, grouping, the result table, the whole view."""
from __future__ import annotations

import os
import time

import numpy as np
import pandas as pd
import pytest

from cnnkit import compare
from cnnkit.config import RunConfig
from cnnkit.engine import MetricPoint
from cnnkit.store import Store


def finished(store: Store, config: RunConfig, name: str, group: str | None = None, acc: float = 0.8,
             tags: tuple[str, ...] = ()) -> str:
    run_id = store.create_runs([config], group, names=[name], tags=tags)[0]
    store.claim("test")
    store.set_process(run_id, os.getpid(), None)
    store.mark_started(run_id, {"device": "cpu", "params": 100, "macs": 1000, "total_steps": 30})
    t0 = time.time()
    points = []
    for e in range(1, 4):
        for split, name, value in (("train", "loss", 1 / e), ("train", "acc", acc * e / 3),
                                   ("test", "loss", 1.2 / e), ("test", "acc", acc * e / 3)):
            points.append(MetricPoint(e * 10, e, split, name, value, t0 + e))
    store.log_metrics(run_id, points)
    store.finish(run_id, "completed", {"params": 100, "macs": 1000, "best": {"test_acc": acc}, "train_seconds": 3.0,
                                       "images_per_sec": 500.0})
    return run_id


@pytest.fixture
def sweep_store(store: Store) -> tuple[Store, str]:
    group = store.create_group("sweep", "lr", {})
    for lr in (0.1, 0.5):
        for seed in (0, 1):
            finished(store, RunConfig(lr=lr, seed=seed), f"lr={lr} seed={seed}", group, acc=0.6 + lr / 2 + seed / 100)
    finished(store, RunConfig(model="mlp"), "mlp alone", tags=("baseline",))
    return store, group


def test_selection_round_trips_through_the_url() -> None:
    sel = compare.Selection(models=["lenet", "mlp"], statuses=["completed"], runs=["0123abcd"], group_by="cfg.lr",
                            x="wall", smoothing=0.6, log_y=True, reference=True, scatter_x="macs", tags=["a b"])
    query = sel.to_query()
    assert query["model"] == ["lenet", "mlp"] and query["logy"] == "1" and "dataset" not in query
    assert compare.Selection.from_query(query) == sel
    from urllib.parse import parse_qs

    assert compare.Selection.from_query(parse_qs(sel.query_string())) == sel
    assert compare.Selection().to_query() == {}


@pytest.mark.parametrize("query", [
    {"x": "sideways"}, {"smooth": "nan"}, {"smooth": "1.5"}, {"smooth": "abc"}, {"by": "__import__"},
    {"status": ["bogus"]}, {"run": ["../../etc/passwd", "ZZZZZZZZ"]}, {"sx": "nope"}, {"unknown": "1"},
])
def test_malformed_queries_fall_back_to_defaults(query: dict) -> None:
    assert compare.Selection.from_query(query) == compare.Selection()


def test_comma_separated_run_ids_are_accepted() -> None:
    assert compare.Selection.from_query({"run": "0123abcd,89abcdef"}).runs == ["0123abcd", "89abcdef"]


def test_filter_runs_by_each_field(sweep_store: tuple[Store, str]) -> None:
    store, group = sweep_store
    frame = store.runs_frame()
    assert len(compare.filter_runs(frame, compare.Selection())) == 5
    assert set(compare.filter_runs(frame, compare.Selection(models=["mlp"]))["name"]) == {"mlp alone"}
    assert len(compare.filter_runs(frame, compare.Selection(groups=[group]))) == 4
    assert set(compare.filter_runs(frame, compare.Selection(tags=["baseline"]))["name"]) == {"mlp alone"}
    one = frame["id"].iloc[0]
    assert list(compare.filter_runs(frame, compare.Selection(runs=[one]))["id"]) == [one]
    assert compare.filter_runs(frame, compare.Selection(statuses=["failed"])).empty
    opts = compare.filter_options(frame)
    assert opts["models"] == ["lenet", "mlp"] and opts["groups"] == [group] and opts["tags"] == ["baseline"]


def test_smooth_is_a_debiased_ema() -> None:
    y = np.array([1.0, 1.0, 1.0])
    assert compare.smooth(y, 0.9).tolist() == pytest.approx([1, 1, 1])  # debiased: no drag towards 0
    steps = compare.smooth([0.0, 10.0], 0.5)
    assert steps[0] == 0 and 0 < steps[1] < 10
    assert compare.smooth([1, 2, 3], 0).tolist() == [1, 2, 3]
    assert np.isnan(compare.smooth([1, float("nan"), 3], 0.5)[1])


def test_mean_band_exact_on_shared_x_and_interpolated_otherwise() -> None:
    x, mean, std, n = compare.mean_band([([1, 2, 3], [1, 2, 3]), ([1, 2, 3], [3, 4, 5])])
    assert x.tolist() == [1, 2, 3] and mean.tolist() == [2, 3, 4] and std == pytest.approx([np.sqrt(2)] * 3)
    x, mean, std, n = compare.mean_band([([0, 2], [0, 2]), ([1, 3], [1, 3])])
    assert x.tolist() == [0, 1, 2, 3] and n.tolist() == [1, 2, 2, 1] and mean.tolist() == [0, 1, 2, 3]
    assert std[0] == 0  # a lone member has no spread


def test_result_table_shows_only_differing_config_columns(sweep_store: tuple[Store, str]) -> None:
    store, group = sweep_store
    frame = compare.filter_runs(store.runs_frame(), compare.Selection(groups=[group]))
    table = compare.result_table(frame)
    config_cols = [c for c in table.columns if c not in ("id", "name", "status", "model", "dataset",
                                                         *compare.RESULT_COLUMNS)]
    assert sorted(config_cols) == ["lr", "seed"]
    assert table["lr"].dtype.kind == "f" and table["best_test_acc"].notna().all()
    assert table["final_test_acc"].tolist() == pytest.approx(table["best_test_acc"].tolist())
    mixed = compare.result_table(store.runs_frame())  # lenet and mlp: the model column says it, no cfg.model
    assert "lr" in mixed.columns and "model" in mixed.columns and "cfg.model" not in mixed.columns


def test_group_values_and_summary(sweep_store: tuple[Store, str]) -> None:
    store, group = sweep_store
    frame = compare.filter_runs(store.runs_frame(), compare.Selection(groups=[group]))
    groups = compare.group_values(frame, "cfg.lr")
    assert set(groups.values) == {"lr=0.1", "lr=0.5"}
    assert compare.groupable_fields(frame) == ["cfg.lr", "cfg.seed"]
    summary = compare.group_summary(compare.result_table(frame), groups)
    assert summary["runs"].tolist() == [2, 2]
    assert summary["final_test_acc_mean"].tolist() == pytest.approx([0.655, 0.855])


def test_build_view_plain_and_grouped(sweep_store: tuple[Store, str]) -> None:
    store, group = sweep_store
    view = compare.build_view(store, compare.Selection())
    assert len(view.runs) == 5 and set(view.curves) == {"train_loss", "train_acc", "test_loss", "test_acc"}
    assert len(view.curves["test_acc"].data) == 5 and view.points == 5 * 12
    grouped = compare.build_view(store, compare.Selection(groups=[group], group_by="cfg.lr", smoothing=0.5, x="wall",
                                                          log_y=True))
    fig = grouped.curves["test_acc"]
    names = [t.name for t in fig.data]
    assert sum(n.endswith("(n=2)") for n in names) == 2 and sum(n.endswith("± std") for n in names) == 2
    members = [t for t in fig.data if t.opacity == 0.25]
    assert len(members) == 4 and fig.layout.yaxis.type == "log"
    assert not grouped.summary.empty and len(grouped.scatter.data) == 2


def test_build_view_with_reference_overlay_and_empty_selection(sweep_store: tuple[Store, str]) -> None:
    store, _ = sweep_store
    view = compare.build_view(store, compare.Selection(models=["lenet"], reference=True))
    stars = [t for t in view.curves["test_acc"].data if t.legendgroup == "reference"]
    assert len(stars) == 1 and stars[0].y == (0.779,)
    empty = compare.build_view(store, compare.Selection(models=["alexnet"]))
    assert empty.runs.empty and empty.table.empty and all(len(f.data) == 0 for f in empty.curves.values())


def test_eta_and_live_table(store: Store) -> None:
    run_id = store.create_run(RunConfig(epochs=2), name="live")
    store.claim("test")
    store.mark_started(run_id, {"device": "cpu", "total_steps": 100})
    store.mark_first_step(run_id)
    store.log_metrics(run_id, [MetricPoint(25, 0.5, "train", "loss", 1.0, time.time())])
    run = store.get(run_id)
    eta = compare.eta_seconds(run, now=(run.first_step_at or 0) + 10)
    assert eta == pytest.approx(30)
    table = compare.live_table([run], store.latest_metrics([run_id]))
    row = table.iloc[0]
    assert row["epoch"] == "0/2" and row["progress"] == 0.25 and row["train_loss"] == 1.0
    assert pd.isna(compare.live_table([store.get(store.create_run(RunConfig()))], {}).iloc[0]["eta_s"])


def test_groups_follow_the_values_natural_order_and_explicit_levels(store: Store) -> None:
    for lr in (10.0, 2.0, 0.5):
        finished(store, RunConfig(lr=lr), f"lr={lr}")
    frame = store.runs_frame()
    groups = compare.group_values(frame, "cfg.lr")
    assert compare.group_order(groups) == ["lr=0.5", "lr=2", "lr=10"]
    view = compare.build_view(store, compare.Selection(group_by="cfg.lr"))
    assert view.summary["group"].tolist() == ["lr=0.5", "lr=2", "lr=10"]
    means = [t.name for t in view.curves["test_acc"].data if t.name.endswith(")") and "n=" in t.name]
    assert means == ["lr=0.5 (n=1)", "lr=2 (n=1)", "lr=10 (n=1)"]
    ids = list(frame["id"])
    custom = compare.labelled_groups({ids[0]: "b", ids[1]: "a", ids[2]: "b"}, ["b", "a"])
    view = compare.build_view(store, compare.Selection(), groups=custom)
    assert view.summary["group"].tolist() == ["b", "a"] and view.summary["runs"].tolist() == [2, 1]
