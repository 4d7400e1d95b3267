"""Searches over a real store, with their runs played by the test: claimed, epochs logged, ended."""
from __future__ import annotations

import time
from typing import Any

from cnnkit.config import RunConfig
from cnnkit.engine import MetricPoint
from cnnkit.search import SearchPlan, parse_space, start_search
from cnnkit.search.driver import SearchDriver
from cnnkit.store import Run, Store

BASE = RunConfig(epochs=3, subset=0.02, test_subset=0.05)
SPACE = ["lr=log:1e-3:1", "batch_size=64,128"]


def plan(**changes: Any) -> SearchPlan:
    return SearchPlan(changes.pop("base", BASE), parse_space("lenet", changes.pop("space", SPACE)),
                      **{"trials": 4, **changes})


def begin(store: Store, **changes: Any) -> tuple[str, SearchDriver]:
    """A search started in ``store`` and a driver that steps on every call."""
    return start_search(store, plan(**changes)), SearchDriver(store, every=0, log=lambda line: None)


def queued(store: Store, group: str) -> list[Run]:
    return [r for r in store.list_runs(group=group, status="queued")][::-1]


def play(store: Store, run_id: str, accs: list[float], end: str | None = "completed") -> None:
    """Claim ``run_id`` (the oldest queued run), log one test accuracy per epoch, and end it as ``end``."""
    claimed = store.claim("test")
    assert claimed is not None and claimed.id == run_id
    for epoch, acc in enumerate(accs, start=1):
        store.log_metrics(run_id, [MetricPoint(10 * epoch, epoch, "test", "acc", acc, time.time())])
    if end:
        summary = {"final": {"test_acc": accs[-1]}} if end == "completed" and accs else {}
        store.finish(run_id, end, summary)
