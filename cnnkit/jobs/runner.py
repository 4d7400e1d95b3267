"""Running one claimed run: the engine's events become store writes, wherever the run executes.

Every executor runs a job the same way: ``run_training`` calls ``fit`` with a reporter that turns
events into ``(kind, payload)`` pairs. Locally those go straight to the store (``store_emitter``);
from a Ray task they travel back to the supervisor, which applies them with ``apply_event``, along
with the task's checkpoints and predictions (``file`` events), which the task writes on its own node.
"""
from __future__ import annotations

import statistics
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cnnkit.config import RunConfig
from cnnkit.cpu_threads import ThreadGovernor
from cnnkit.data.loading import Data
from cnnkit.engine import FitResult, fit
from cnnkit.errors import CnnkitError
from cnnkit.events import MetricPoint, Reporter, Status
from cnnkit.jobs.system_metrics import SystemMetrics
from cnnkit.store import Store

Emit = Callable[[str, Any], None]
TRACEBACK_LINES = 15


class EventReporter(Reporter):
    """Engine events → ``emit(kind, payload)`` with JSON-friendly payloads; forwards to ``also``."""

    def __init__(self, emit: Emit, also: Reporter | None = None):
        self.emit, self.also = emit, also or Reporter()

    def start(self, info: dict[str, Any]) -> None:
        self.emit("start", info)
        self.also.start(info)

    def first_step(self) -> None:
        self.emit("first_step", None)
        self.also.first_step()

    def log(self, points: list[MetricPoint]) -> None:
        self.emit("log", [p.as_row() for p in points])
        self.also.log(points)


def apply_event(store: Store, run_id: str, kind: str, payload: Any) -> None:
    """Write one event of a run into the store."""
    if kind == "start":
        store.mark_started(run_id, payload)
    elif kind == "first_step":
        store.mark_first_step(run_id)
    elif kind == "log":
        store.log_metrics(run_id, [MetricPoint(*row) for row in payload])
    elif kind == "end":
        store.finish(run_id, payload["status"], payload.get("summary"), payload.get("error"))
    elif kind == "file":  # a checkpoint or the predictions of a job that writes elsewhere (a Ray task's node)
        store.write_run_file(run_id, payload["name"], payload["data"])
    else:
        raise ValueError(f"unknown event {kind!r}")


def store_emitter(store: Store, run_id: str) -> Emit:
    return lambda kind, payload: apply_event(store, run_id, kind, payload)


def summary_of(result: FitResult) -> dict[str, Any]:
    """What the store keeps about a finished run besides its metric points."""
    epochs = result.epochs
    summary: dict[str, Any] = {
        "params": result.info.get("params"),
        "macs": result.info.get("macs"),
        "final": result.final,
        "epochs_done": len(epochs),
        "step": result.step,
        "confusion": result.confusion,
    }
    if epochs:
        best = max(epochs, key=lambda e: e["test_acc"])
        summary["best"] = {"test_acc": best["test_acc"], "epoch": best["epoch"]}
        summary["train_seconds"] = sum(e["epoch_seconds"] for e in epochs)
        summary["images_per_sec"] = statistics.median(e["images_per_sec"] for e in epochs)
    return summary


def run_training(config: RunConfig | dict[str, Any], emit: Emit, stop: threading.Event, checkpoint: Path | str,
                 predictions: Path | str | None = None, resume: bool = False, dataset: Data | None = None,
                 also: Reporter | None = None, device: str | None = None,
                 governor: ThreadGovernor | None = None, snapshots: Path | str | None = None) -> Status:
    """Train to the end and emit every event, the final ``end`` included; returns the status.

    ``checkpoint``, ``predictions`` and ``snapshots`` are the files the store keeps for the run. ``device``
    overrides the config's (the executor's slot decides where an "auto" run goes); a ``governor``
    adapts a CPU job's threads to what the rest of the machine leaves free.
    Never raises for a failing run: the error (the traceback's tail) is the run's ``end`` event.
    """
    try:
        if isinstance(config, dict):
            config = RunConfig.from_dict(config)
        if device:
            config = config.replace(device=device)
        reporter = SystemMetrics(EventReporter(emit, also))  # CPU, memory, GPU: split "system"
        result = fit(config, reporter, stop.is_set, checkpoint, resume, dataset, predictions,
                     governor, snapshots)
        emit("end", {"status": result.status, "summary": summary_of(result), "error": result.error})
        return result.status
    except CnnkitError as exc:
        emit("end", {"status": Status.FAILED, "error": str(exc)})
        return Status.FAILED
    except BaseException as exc:  # the job's last word must reach the store, whatever happened
        tail = "".join(traceback.format_exception(exc)[-TRACEBACK_LINES:]).strip()
        emit("end", {"status": Status.FAILED, "error": tail})
        if not isinstance(exc, Exception):
            raise
        return Status.FAILED


class Heartbeat(threading.Thread):
    """Beats for the run every ``every`` seconds and sets ``stop`` when a cancel is requested."""

    def __init__(self, store: Store, run_id: str, stop: threading.Event, every: float = 0.5):
        super().__init__(daemon=True, name=f"heartbeat-{run_id}")
        self.store, self.run_id, self.stop, self.every = store, run_id, stop, every
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(self.every):
            try:
                if self.store.beat(self.run_id):
                    self.stop.set()
            except Exception:  # a busy store must not kill the job; the next beat retries
                continue


def execute(store: Store, run_id: str, stop: threading.Event | None = None, dataset: Data | None = None,
            also: Reporter | None = None, device: str | None = None,
            governor: ThreadGovernor | None = None) -> Status:
    """Run the claimed run ``run_id`` in this process, recording into ``store``; returns the status."""
    stop = stop or threading.Event()
    run = store.get(run_id)
    heartbeat = Heartbeat(store, run_id, stop)
    heartbeat.start()
    try:
        return run_training(run.config, store_emitter(store, run_id), stop, store.checkpoint_path(run_id),
                            store.predictions_path(run_id), run.resume, dataset, also, device, governor,
                            store.snapshots_path(run_id))
    finally:
        heartbeat.done.set()
