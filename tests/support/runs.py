"""Runs made through the store's real lifecycle, the one way tests make them: queued (or taken from the queue),
claimed by a worker, started, their metric points logged, and (for a finished run) ended.

``finished_run`` is what a test wants when it needs a run that went all the way (any end status, summary,
curves); ``running_run`` stops before the end. ``trained_run`` really trains (a checkpoint and predictions
included). Callers pick the data: thin wrappers that only choose arguments sit beside the tests that use them.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from typing import Any

from cnnkit.config import RunConfig
from cnnkit.events import MetricPoint, Status
from cnnkit.store import Run, Store


def running_run(store: Store, config: RunConfig | None = None, *, queued: str | None = None,
                name: str | None = None, group: str | None = None, tags: Iterable[str] = (), worker: str = "test",
                process: bool = False, started: dict[str, Any] | None = None, first_step: bool = False,
                points: Iterable[MetricPoint] = ()) -> str:
    """A run as a job leaves it while it trains; returns its id.

    ``config`` (default ``RunConfig(epochs=1)``) is queued as a new run named ``name`` (else its label) in
    ``group`` with ``tags``; or ``queued`` names a run already in the queue (an experiment's, a search's), which
    must be the oldest. ``worker`` claims it; ``process`` records this test's process as the job's (only where
    nothing kills the processes of a store's runs: ``Procs.kill_all`` does); ``started`` is the job's start event
    (device, total_steps, params, macs, …; nothing by default); ``first_step`` records its first step; ``points``
    are logged in one go.
    """
    if queued is None:
        run_id = store.create_runs([config or RunConfig(epochs=1)], group, [name] if name else None, tags)[0]
    else:
        assert config is None and name is None and group is None and not tags, "a queued run has its own"
        run_id = queued
    claimed = store.claim(worker)
    assert claimed is not None and claimed.id == run_id, f"run {run_id} is not the oldest queued run"
    if process:
        store.set_process(run_id, os.getpid(), None)
    store.mark_started(run_id, started or {})
    if first_step:
        store.mark_first_step(run_id)
    store.log_metrics(run_id, list(points))
    return run_id


def finished_run(store: Store, config: RunConfig | None = None, *, status: Status | str = Status.COMPLETED,
                 summary: dict[str, Any] | None = None, error: str | None = None, queued: str | None = None,
                 name: str | None = None, group: str | None = None, tags: Iterable[str] = (), worker: str = "test",
                 process: bool = False, started: dict[str, Any] | None = None,
                 points: Iterable[MetricPoint] = ()) -> str:
    """A run that went through the whole lifecycle and ended as ``status`` with ``summary`` (merged into what
    the start event put there) and ``error``; returns its id. The other arguments are ``running_run``'s."""
    run_id = running_run(store, config, queued=queued, name=name, group=group, tags=tags, worker=worker,
                         process=process, started=started, points=points)
    assert store.finish(run_id, status, summary, error), f"run {run_id} had already ended"
    return run_id


def queued_runs(store: Store, group: str | None = None) -> list[Run]:
    """The queued runs (of ``group``), oldest first: the order workers claim them in."""
    return store.list_runs(group=group, status=Status.QUEUED)[::-1]


def complete_queued(store: Store, accuracy: Callable[[Run], float]) -> None:
    """Finish every queued run, oldest first, as a supervisor's job would: 2 epochs, test accuracy
    ``accuracy(run)``."""
    for run in queued_runs(store):
        acc = float(accuracy(run))
        t0 = time.time()
        points = []
        for e in (1, 2):
            a = acc * e / 2
            points += [MetricPoint(2 * e, float(e), "train", "loss", 1.5 / e, t0 + e),
                       MetricPoint(2 * e, float(e), "train", "acc", a + 0.02, t0 + e),
                       MetricPoint(2 * e, float(e), "test", "loss", 1.6 / e, t0 + e),
                       MetricPoint(2 * e, float(e), "test", "acc", a, t0 + e)]
        finished_run(store, queued=run.id, worker="test:0/cpu0", process=True,
                     started={"device": "cpu · 1 threads", "params": 61706, "macs": 416520, "total_steps": 4},
                     points=points,
                     summary={"final": {"train_loss": 0.75, "train_acc": acc + 0.02, "test_loss": 0.8, "test_acc": acc},
                              "best": {"test_acc": acc, "epoch": 2}, "train_seconds": 2.0, "images_per_sec": 700.0,
                              "params": 61706, "macs": 416520})


def trained_run(store: Store, config: RunConfig, name: str | None = None, **execute: Any) -> str:
    """A real training run in this process, as `cnnkit train` runs one (checkpoint and predictions included);
    ``execute`` goes to cnnkit.jobs.runner.execute (``dataset=`` an already loaded dataset)."""
    from cnnkit.jobs.runner import execute as run

    run_id = store.create_run(config, name=name, foreground=True)
    status = run(store, run_id, **execute)
    assert status == "completed", store.get(run_id).error
    return run_id
