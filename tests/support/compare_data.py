"""Stores with finished runs for the compare tests (tests/compare/ and views.compare's): completed runs with 3
epochs of points, and a 2 lr × 2 seed sweep group beside a lone MLP."""
from __future__ import annotations

import time

from cnnkit.config import RunConfig
from cnnkit.events import MetricPoint
from cnnkit.store import Store
from support.runs import finished_run


def compare_run(store: Store, config: RunConfig, name: str, group: str | None = None, acc: float = 0.8,
                tags: tuple[str, ...] = ()) -> str:
    """A completed run with 3 epochs of points: train and test loss and accuracy, test accuracy ``acc`` at the
    end."""
    t0 = time.time()
    points = [MetricPoint(e * 10, e, split, metric, value, t0 + e) for e in range(1, 4)
              for split, metric, value in (("train", "loss", 1 / e), ("train", "acc", acc * e / 3),
                                           ("test", "loss", 1.2 / e), ("test", "acc", acc * e / 3))]
    return finished_run(store, config, name=name, group=group, tags=tags, process=True,
                        started={"device": "cpu", "params": 100, "macs": 1000, "total_steps": 30}, points=points,
                        summary={"params": 100, "macs": 1000, "best": {"test_acc": acc}, "train_seconds": 3.0,
                                 "images_per_sec": 500.0})


def sweep(store: Store) -> str:
    """A 2 lr × 2 seed sweep group (returned) and a lone MLP tagged "baseline"."""
    group = store.create_group("sweep", "lr", {})
    for lr in (0.1, 0.5):
        for seed in (0, 1):
            compare_run(store, RunConfig(lr=lr, seed=seed), f"lr={lr} seed={seed}", group,
                        acc=0.6 + lr / 2 + seed / 100)
    compare_run(store, RunConfig(model="mlp"), "mlp alone", tags=("baseline",))
    return group
