"""Stores with finished runs for the compare tests: a 2 lr × 2 seed sweep group and a lone MLP."""
from __future__ import annotations

import os
import time
from collections.abc import Callable

import pytest

from cnnkit.config import RunConfig
from cnnkit.engine import MetricPoint
from cnnkit.store import Store

AddFinished = Callable[..., str]


@pytest.fixture
def add_finished(store: Store) -> AddFinished:
    """``add_finished(config, name, group=None, acc=0.8, tags=())``: a completed run with 3 epochs of points."""
    def add(config: RunConfig, name: str, group: str | None = None, acc: float = 0.8,
            tags: tuple[str, ...] = ()) -> str:
        run_id = store.create_runs([config], group, names=[name], tags=tags)[0]
        store.claim("test")
        store.set_process(run_id, os.getpid(), None)
        store.mark_started(run_id, {"device": "cpu", "params": 100, "macs": 1000, "total_steps": 30})
        t0 = time.time()
        points = []
        for e in range(1, 4):
            for split, metric, value in (("train", "loss", 1 / e), ("train", "acc", acc * e / 3),
                                         ("test", "loss", 1.2 / e), ("test", "acc", acc * e / 3)):
                points.append(MetricPoint(e * 10, e, split, metric, value, t0 + e))
        store.log_metrics(run_id, points)
        store.finish(run_id, "completed", {"params": 100, "macs": 1000, "best": {"test_acc": acc},
                                           "train_seconds": 3.0, "images_per_sec": 500.0})
        return run_id

    return add


@pytest.fixture
def sweep_store(store: Store, add_finished: AddFinished) -> tuple[Store, str]:
    group = store.create_group("sweep", "lr", {})
    for lr in (0.1, 0.5):
        for seed in (0, 1):
            add_finished(RunConfig(lr=lr, seed=seed), f"lr={lr} seed={seed}", group, acc=0.6 + lr / 2 + seed / 100)
    add_finished(RunConfig(model="mlp"), "mlp alone", tags=("baseline",))
    return store, group
