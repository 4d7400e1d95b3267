"""Finished runs to export: curves, final metrics and a confusion matrix, as a real run leaves them."""
from __future__ import annotations

from cnnkit.config import RunConfig
from cnnkit.engine import MetricPoint
from cnnkit.store import Run, Store

CONFUSION = [[8, 2], [1, 9]]
T0 = 1.8e9


def play(store: Store, run_id: str, status: str, summary: dict, epochs: int = 2) -> None:
    store.claim("test")
    for step in range(1, 5 * epochs + 1):
        epoch = step / 5
        points = [MetricPoint(step, epoch, "train", "loss", 2.0 / step, T0 + step),
                  MetricPoint(step, epoch, "train", "acc", step / 20, T0 + step)]
        if step % 5 == 0:
            points += [MetricPoint(step, epoch, "test", "acc", 0.4 + epoch / 10, T0 + step + 0.5),
                       MetricPoint(step, epoch, "train", "lr", 0.1, T0 + step + 0.5)]
        store.log_metrics(run_id, points)
    store.finish(run_id, status, summary, error="ValueError: boom" if status == "failed" else None)


def finished_runs(store: Store) -> list[Run]:
    """Every run, oldest first: two completed ones in a sweep group, then a failed one on its own."""
    group, ids = store.queue_group("lr sweep", [RunConfig(epochs=2, lr=lr, model_options={"fc": [64]})
                                                for lr in (0.1, 0.5)], {"lr": "0.1,0.5"}, tags=["paper"])
    for i, run_id in enumerate(ids):
        play(store, run_id, "completed", {"final": {"test_acc": 0.5 + i / 10, "train_loss": 0.25},
                                          "best": {"test_acc": 0.6, "epoch": 2}, "confusion": CONFUSION})
    failed = store.create_run(RunConfig(model="mlp", epochs=2), name="broken | mlp")
    play(store, failed, "failed", {}, epochs=1)
    return list(reversed(store.list_runs()))
