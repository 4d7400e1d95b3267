"""Runs made through the store's real lifecycle, the one way tests make them: queued (or taken from the queue),
claimed by a worker, started, their metric points logged, and (for a finished run) ended.

``finished_run`` is what a test wants when it needs a run that went all the way (any end status, summary,
curves); ``running_run`` stops before the end. ``trained_run`` really trains (a checkpoint and predictions
included). Callers pick the data: thin wrappers that only choose arguments sit beside the tests that use them.
"""
from __future__ import annotations

import os
from collections.abc import Iterable
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


def trained_run(store: Store, config: RunConfig, name: str | None = None, **execute: Any) -> str:
    """A real training run in this process, as `cnnkit train` runs one (checkpoint and predictions included);
    ``execute`` goes to cnnkit.jobs.runner.execute (``dataset=`` an already loaded dataset)."""
    from cnnkit.jobs.runner import execute as run

    run_id = store.create_run(config, name=name, foreground=True)
    status = run(store, run_id, **execute)
    assert status == "completed", store.get(run_id).error
    return run_id
