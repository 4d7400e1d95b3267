"""Searches over a real store, with their runs played by the test: claimed, epochs logged, ended."""
from __future__ import annotations

import time
from typing import Any

from cnnkit.config import RunConfig
from cnnkit.events import MetricPoint
from cnnkit.search import SearchPlan, parse_space, start_search
from cnnkit.search.driver import SearchDriver
from cnnkit.store import Store
from support.runs import finished_run, running_run

BASE = RunConfig(epochs=3, subset=0.02, test_subset=0.05)
SPACE = ["lr=log:1e-3:1", "batch_size=64,128"]


def plan(**changes: Any) -> SearchPlan:
    return SearchPlan(changes.pop("base", BASE), parse_space("lenet", changes.pop("space", SPACE)),
                      **{"trials": 4, **changes})


def begin(store: Store, **changes: Any) -> tuple[str, SearchDriver]:
    """A search started in ``store`` and a driver that steps on every call."""
    return start_search(store, plan(**changes)), SearchDriver(store, every=0, log=lambda line: None)


def play(store: Store, run_id: str, accs: list[float], end: str | None = "completed") -> None:
    """Take ``run_id`` (the oldest queued run) from the queue, log one test accuracy per epoch, and end it as
    ``end`` (None: it goes on running)."""
    points = [MetricPoint(10 * epoch, epoch, "test", "acc", acc, time.time()) for epoch, acc in enumerate(accs, 1)]
    if end is None:
        running_run(store, queued=run_id, points=points)
    else:
        summary = {"final": {"test_acc": accs[-1]}} if end == "completed" and accs else {}
        finished_run(store, queued=run_id, points=points, status=end, summary=summary)
