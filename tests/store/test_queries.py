"""cnnkit.store.queries: reading the store: runs, counts, metric points (latest, per epoch, thinned), a run as a
table row, the runs frame, a run's log."""
from __future__ import annotations

import pytest
from support.store_data import config, point

from cnnkit.errors import StoreError
from cnnkit.events import Status
from cnnkit.store import Store, run_row


def test_log_metrics_latest_and_epoch_rows(store: Store) -> None:
    run_id = store.create_run(config())
    store.claim("w")
    for epoch in (1, 2):
        store.log_metrics(run_id, [point(epoch * 10 - 5, epoch - 0.5, value=3.0 - epoch),
                                   point(epoch * 10, epoch, value=2.0 - epoch),
                                   point(epoch * 10, epoch, name="acc", value=0.4 * epoch)])
        store.log_metrics(run_id, [point(epoch * 10, epoch, "test", "loss", 2.5 - epoch),
                                   point(epoch * 10, epoch, "test", "acc", 0.3 * epoch),
                                   point(epoch * 10, epoch, "train", "lr", 0.1),
                                   point(epoch * 10, epoch, "train", "epoch_seconds", 2.0),
                                   point(epoch * 10, epoch, "train", "images_per_sec", 600.0)])
    run = store.get(run_id)
    assert (run.step, run.epoch) == (20, 2.0)
    latest = store.latest_metrics([run_id])[run_id]
    assert latest["train_loss"] == 0.0 and latest["test_acc"] == pytest.approx(0.6)
    rows = store.epoch_rows(run_id)
    assert [r["epoch"] for r in rows] == [1, 2]
    assert rows[1] == {"epoch": 2, "train_loss": 0.0, "train_acc": 0.8, "test_loss": 0.5, "test_acc": 0.6,
                       "lr": 0.1, "epoch_seconds": 2.0, "images_per_sec": 600.0}


def test_the_latest_metrics_step_over_layer_health(store: Store) -> None:
    run_id = store.create_run(config())
    store.claim("w")
    store.log_metrics(run_id, [point(5, 1.0, value=1.5), point(5, 1.0, "health", "conv1.grad_norm", 0.01),
                               point(5, 1.0, "system", "rss_mib", 300.0), point(5, 1.0, "train_eval", "acc", 0.5)])
    assert store.latest_metrics([run_id])[run_id] == {"train_loss": 1.5, "system_rss_mib": 300.0,
                                                      "train_eval_acc": 0.5}
    assert len(store.metrics([run_id], split="health")) == 1, "the points themselves are all there"
    assert set(store.metrics([run_id], split=["train", "train_eval"])["split"]) == {"train", "train_eval"}


def test_metrics_are_thinned_to_max_points_keeping_both_ends(store: Store) -> None:
    a, b = store.create_runs([config(), config(seed=1)])
    store.log_metrics(a, [point(s, s / 100) for s in range(1, 1001)])
    store.log_metrics(b, [point(s, s / 100) for s in range(1, 31)])
    full = store.metrics([a, b])
    assert len(full) == 1030 and list(full.columns) == ["run_id", "step", "epoch", "split", "name", "value", "wall"]
    thin = store.metrics([a, b], split="train", names=["loss"], max_points=100)
    curve = thin[thin.run_id == a].step.tolist()
    assert 90 <= len(curve) <= 101 and curve[0] == 1 and curve[-1] == 1000 and curve == sorted(curve)
    assert len(thin[thin.run_id == b]) == 30  # short curves are left alone
    assert store.metrics([]).empty and store.metrics([a], split="test").empty


def test_runs_frame_has_latest_metrics_and_flat_config(store: Store) -> None:
    run_id = store.create_run(config(model="lenet", model_options={"activation": "relu"}), name="mine")
    store.log_metrics(run_id, [point(5, 1.0, "test", "acc", 0.7)])
    frame = store.runs_frame()
    row = frame.set_index("id").loc[run_id]
    assert row["name"] == "mine" and row["test_acc"] == 0.7 and row["cfg.model.activation"] == "relu"
    assert row["cfg.lr"] == 0.1 and row["status"] == "queued"


def test_list_runs_and_counts_by_status(store: Store) -> None:
    first, second = store.create_runs([config(), config(seed=1)])
    store.claim("w")
    assert [r.id for r in store.list_runs(status=Status.RUNNING)] == [first]
    assert [r.id for r in store.list_runs(status=["queued", "running"])] == [second, first]
    counts = store.counts()
    assert counts == {"queued": 1, "running": 1, "completed": 0, "failed": 0, "cancelled": 0, "diverged": 0,
                      "oom": 0, "lost": 0}
    assert counts[Status.QUEUED] == 1
    with pytest.raises(StoreError, match="status must be one of queued, running, completed"):
        store.list_runs(status="finished")


def test_group_activity_counts_active_runs_and_the_latest_end(store: Store) -> None:
    busy, ended, empty = (store.create_group("sweep", name) for name in ("busy", "ended", "empty"))
    queued, done = store.create_runs([config(), config()], busy)
    (finished,) = store.create_runs([config()], ended)
    for run_id in (queued, done, finished):
        store.request_cancel(run_id)
    store.resume(queued)
    activity = store.group_activity([busy, ended, empty])
    assert activity[busy][0] == 1 and activity[ended] == (0, store.get(finished).finished_at)
    assert activity[empty] == (0, 0.0) and store.group_activity([]) == {}


def test_run_row_holds_the_run_and_its_latest_metrics(store: Store) -> None:
    run_id = store.create_run(config(), name="mine", tags=["b", "a"])
    fresh = run_row(store.get(run_id))
    assert fresh["train_loss"] is None and fresh["test_acc"] is None  # the main metrics, before any point
    store.log_metrics(run_id, [point(5, 0.5), point(5, 0.5, "train", "lr", 0.1)])
    row = run_row(store.get(run_id), store.latest_metrics([run_id])[run_id])
    assert (row["id"], row["name"], row["status"], row["tags"]) == (run_id, "mine", "queued", ["a", "b"])
    assert type(row["status"]) is str  # plain text in tables and JSON
    assert (row["train_loss"], row["train_lr"], row["test_loss"], row["epochs"]) == (1.0, 0.1, None, 2)


def test_log_tail_is_the_end_of_the_log(store: Store) -> None:
    run_id = store.create_run(config())
    assert store.log_tail(run_id) == ""
    store.log_path(run_id).parent.mkdir(parents=True)
    store.log_path(run_id).write_bytes(b"x" * 5000 + b"the end\n")
    assert store.log_tail(run_id, size=8) == "the end\n"
    assert len(store.log_tail(run_id)) == 4000
