"""Helpers for the dashboard tests: open a page in AppTest, check it is clean, fill a store with runs."""
from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # the `ui` package and the pages live at the project root

from cnnkit.config import RunConfig  # noqa: E402
from cnnkit.engine import MetricPoint  # noqa: E402
from cnnkit.store import Run, Store  # noqa: E402

PAGES = ["dashboard.py", "pages/1_Models.py", "pages/2_Train.py", "pages/3_Runs.py", "pages/4_Compare.py",
         "pages/5_Activations.py", "pages/6_Experiments.py"]
TIMEOUT = 120  # the first script run imports torch; CPUs here are shared


def app(page: str = "dashboard.py", query: dict | None = None) -> AppTest:
    """An AppTest on ``page`` (a multipage app starts from dashboard.py), run once with ``query`` in the URL."""
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT)
    at.run()
    if page != "dashboard.py":
        at.switch_page(page)
    if query:
        at.query_params = dict(query)
    if page != "dashboard.py" or query:
        at.run()
    return at


def assert_clean(at: AppTest) -> None:
    """No exception element and no 'unexpected' error message on the page."""
    assert not at.exception, [e.value for e in at.exception]
    unexpected = [e.value for e in at.error if "unexpected" in str(e.value)]
    assert not unexpected, unexpected


# ---- a store with runs in every state -----------------------------------------------------------

def point(step: int, epoch: float, split: str, name: str, value: float, wall: float) -> MetricPoint:
    return MetricPoint(step, epoch, split, name, value, wall)


def fake_finished(store: Store, config: RunConfig, name: str, group: str | None = None, final_acc: float = 0.8,
                  status: str = "completed", error: str | None = None, epochs: int = 3) -> str:
    """A run that went through the real lifecycle (queued → claimed → started → logged → finished)."""
    run_id = store.create_runs([config], group, names=[name])[0]
    claimed = store.claim("test:0/cpu0")
    assert claimed is not None and claimed.id == run_id
    store.set_process(run_id, os.getpid(), None)
    store.mark_started(run_id, {"device": "cpu · 1 threads", "params": 61706, "macs": 416520,
                                "total_steps": epochs * 10, "start_step": 0, "train_size": 1200, "test_size": 500})
    t0 = time.time() - 60
    points, step = [], 0
    for e in range(epochs):
        for r in range(5):
            step += 2
            pos = e + (r + 1) / 5
            loss = 2.3 / (1 + pos) + 0.01 * (hash(name) % 7)
            points += [point(step, pos, "train", "loss", loss, t0 + step), point(step, pos, "train", "acc",
                                                                               1 - loss / 2.5, t0 + step)]
        acc = final_acc * (e + 1) / epochs
        points += [point(step, e + 1.0, "test", "loss", 2.3 * (1 - acc), t0 + step),
                   point(step, e + 1.0, "test", "acc", acc, t0 + step),
                   point(step, e + 1.0, "train", "lr", config.lr, t0 + step),
                   point(step, e + 1.0, "train", "epoch_seconds", 1.5, t0 + step),
                   point(step, e + 1.0, "train", "images_per_sec", 800.0, t0 + step)]
    store.log_metrics(run_id, points)
    summary = {"params": 61706, "macs": 416520, "final": {"test_acc": final_acc}, "epochs_done": epochs,
               "best": {"test_acc": final_acc, "epoch": epochs}, "train_seconds": 1.5 * epochs,
               "images_per_sec": 800.0}
    store.finish(run_id, status, summary if status == "completed" else None, error)
    return run_id


def train_real(store: Store, config: RunConfig, name: str) -> str:
    """A real (tiny) training run in this process: checkpoint and predictions included."""
    from cnnkit.jobs.runner import execute

    run_id = store.create_run(config, name=name, foreground=True)
    status = execute(store, run_id)
    assert status == "completed", store.get(run_id).error
    return run_id


def complete_queued(store: Store, accuracy: Callable[[Run], float]) -> None:
    """Finish every queued run as a supervisor would, with test accuracy ``accuracy(run)`` and 2 epochs."""
    while True:
        run = store.claim("test:0/cpu0")
        if run is None:
            return
        store.set_process(run.id, os.getpid(), None)
        store.mark_started(run.id, {"device": "cpu · 1 threads", "params": 61706, "macs": 416520, "total_steps": 4})
        acc = float(accuracy(run))
        t0 = time.time()
        points = []
        for e in (1, 2):
            a = acc * e / 2
            points += [point(2 * e, float(e), "train", "loss", 1.5 / e, t0 + e),
                       point(2 * e, float(e), "train", "acc", a + 0.02, t0 + e),
                       point(2 * e, float(e), "test", "loss", 1.6 / e, t0 + e),
                       point(2 * e, float(e), "test", "acc", a, t0 + e)]
        store.log_metrics(run.id, points)
        store.finish(run.id, "completed", {"final": {"train_loss": 0.75, "train_acc": acc + 0.02, "test_loss": 0.8,
                                                     "test_acc": acc},
                                           "best": {"test_acc": acc, "epoch": 2}, "train_seconds": 2.0,
                                           "images_per_sec": 700.0, "params": 61706, "macs": 416520})
