"""Finished runs for the tracker bridges (TensorBoard, MLflow) to export: curves, final metrics and a confusion
matrix, as a real run leaves them."""
from __future__ import annotations

from cnnkit.config import RunConfig
from cnnkit.events import MetricPoint
from cnnkit.store import Run, Store
from support.runs import finished_run

CONFUSION = [[8, 2], [1, 9]]
T0 = 1.8e9


def curves(epochs: int = 2) -> list[MetricPoint]:
    """5 train reports per epoch (loss and accuracy), then test accuracy and the learning rate at each epoch's end."""
    points = []
    for step in range(1, 5 * epochs + 1):
        epoch = step / 5
        points += [MetricPoint(step, epoch, "train", "loss", 2.0 / step, T0 + step),
                   MetricPoint(step, epoch, "train", "acc", step / 20, T0 + step)]
        if step % 5 == 0:
            points += [MetricPoint(step, epoch, "test", "acc", 0.4 + epoch / 10, T0 + step + 0.5),
                       MetricPoint(step, epoch, "train", "lr", 0.1, T0 + step + 0.5)]
    return points


def finished_runs(store: Store) -> list[Run]:
    """Every run, oldest first: two completed ones in a sweep group, then a failed one on its own."""
    group, ids = store.queue_group("lr sweep", [RunConfig(epochs=2, lr=lr, model_options={"fc": [64]})
                                                for lr in (0.1, 0.5)], {"lr": "0.1,0.5"}, tags=["paper"])
    for i, run_id in enumerate(ids):
        finished_run(store, queued=run_id, points=curves(),
                     summary={"final": {"test_acc": 0.5 + i / 10, "train_loss": 0.25},
                              "best": {"test_acc": 0.6, "epoch": 2}, "confusion": CONFUSION})
    finished_run(store, RunConfig(model="mlp", epochs=2), name="broken | mlp", points=curves(epochs=1),
                 status="failed", error="ValueError: boom")
    return list(reversed(store.list_runs()))
