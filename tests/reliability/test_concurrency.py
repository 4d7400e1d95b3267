"""Concurrency: while eight processes write a thousand metric points each (test_store's load, reused), the
dashboard's reads stay responsive and never fail with "database is locked"; no point is lost."""
from __future__ import annotations

import threading
import time

from reliability.recording import Record
from support.procs import TRAIN_LOGGER, finish_all, run_python

from cnnkit.config import RunConfig
from cnnkit.errors import CnnkitError
from cnnkit.store import Store
from cnnkit.views.runs import live_table

WRITERS, POINTS = 8, 1000  # what TRAIN_LOGGER writes per process
READ_BOUND_S = 5.0


def runs_page_reads(store: Store) -> int:
    """What the Runs page (its live table) and the Compare page read on every refresh; returns the rows."""
    store.counts()
    runs = store.list_runs(limit=1000)
    ids = [r.id for r in runs]
    table = live_table(runs, store.latest_metrics(ids))
    store.runs_frame(runs)
    store.metrics(ids, split="train", names=["loss"], max_points=200)
    return len(table)


def test_dashboard_reads_stay_responsive_while_eight_processes_write(store: Store, record: Record) -> None:
    ids = store.create_runs([RunConfig(epochs=2, seed=s) for s in range(WRITERS)])
    latencies: list[float] = []
    failures: list[str] = []
    done = threading.Event()

    def dashboard() -> None:  # a dashboard session: its own handle, polling like the live table
        mine = Store(store.home)
        while not done.is_set():
            t0 = time.perf_counter()
            try:
                runs_page_reads(mine)
            except CnnkitError as exc:
                failures.append(str(exc))
            latencies.append(time.perf_counter() - t0)
            time.sleep(0.05)

    reader = threading.Thread(target=dashboard, name="dashboard")
    reader.start()
    try:
        finish_all([run_python(TRAIN_LOGGER, str(store.home), run_id) for run_id in ids], timeout=300)
    finally:
        done.set()
        reader.join(60)
    counts = store.metrics(ids).groupby("run_id").size().to_dict()
    lost = WRITERS * POINTS - sum(counts.values())
    slowest = max(latencies, default=0.0)
    record("concurrency", "Runs page reads while metric writers write", f"{lost} lost, {len(failures)} failed reads",
           writers=WRITERS, points=POINTS, lost=lost, reads=len(latencies), slowest_read_s=round(slowest, 3))
    assert not failures, failures[:3]
    assert counts == {run_id: POINTS for run_id in ids} and lost == 0
    assert len(latencies) >= 3, "the reads never ran during the load"
    assert slowest < READ_BOUND_S, f"slowest read took {slowest:.2f} s (of {len(latencies)})"
    assert store.integrity_check() == "ok"
    assert runs_page_reads(store) == WRITERS
