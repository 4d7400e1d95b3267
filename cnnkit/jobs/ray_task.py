"""A run's Ray task, on whichever node Ray picks, and the mailbox actor between it and the supervisor.

The task trains in a scratch folder of its own on its node and sends everything the store keeps to the
mailbox: the engine's events, each new checkpoint and snapshots file (the engine writes them every epoch, by
rename, so each version is a new file) and, at the end, the predictions. It holds nothing the supervisor
lacks: when its node dies, the run continues elsewhere from the last checkpoint that reached the store.

This module is what the mailbox actor imports: no torch at the top.
"""
from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnnkit.events import Status
from cnnkit.store.database import CHECKPOINT_NAME, PREDICTIONS_NAME, RUN_FILES, SNAPSHOTS_NAME

WATCH_EVERY = 0.5  # seconds between a task's looks at its cancel flag and its files
EVERY_EPOCH = (SNAPSHOTS_NAME, CHECKPOINT_NAME)  # the files the engine writes after each epoch, in its order


class Mailbox:
    """A Ray actor on the supervisor's node: the tasks' events one way, cancel flags the other.

    An event carries the attempt of the task that sent it (each submission of a run is a new attempt), so
    that the supervisor can drop what a lost task sent late. A file waiting here replaces an older version
    of it from the same attempt: only the newest is worth writing.
    """

    def __init__(self) -> None:
        self.events: list[tuple[str, int, str, Any]] = []
        self.cancelled: set[str] = set()

    def put(self, run_id: str, attempt: int, kind: str, payload: Any) -> None:
        if kind == "file":
            self.events = [e for e in self.events
                           if (e[0], e[1], e[2]) != (run_id, attempt, "file") or e[3]["name"] != payload["name"]]
        self.events.append((run_id, attempt, kind, payload))

    def drain(self) -> list[tuple[str, int, str, Any]]:
        events, self.events = self.events, []
        return events

    def cancel(self, run_id: str) -> None:
        self.cancelled.add(run_id)

    def is_cancelled(self, run_id: str) -> bool:
        return run_id in self.cancelled

    def forget(self, run_id: str) -> None:
        self.cancelled.discard(run_id)


@dataclass(frozen=True)
class TaskSpec:
    """What the supervisor hands a run's task."""

    run_id: str
    attempt: int
    config: dict[str, Any]
    device: str
    threads: int  # torch threads; 0 leaves torch's default
    files: dict[str, bytes]  # the store's checkpoint and snapshots to continue from; none: the run starts afresh
    dataset: str
    dataset_ref: Any | None  # the supervisor's copy, an ObjectRef: fetched only by a node that lacks the dataset


class FileShipper:
    """Sends the task's files to the supervisor, each version once."""

    def __init__(self, files: dict[str, Path], emit: Callable[[str, Any], None]):
        self.files, self.emit = files, emit
        self.sent: dict[str, tuple[int, int, int]] = {}
        self.lock = threading.Lock()  # the watcher thread and the task's last flush

    def ship_new(self, names: tuple[str, ...]) -> None:
        with self.lock:
            for name in names:
                try:
                    with open(self.files[name], "rb") as f:  # one open file: its identity and bytes agree
                        version = _version(os.fstat(f.fileno()))
                        if self.sent.get(name) == version:
                            continue
                        data = f.read()
                except FileNotFoundError:
                    continue
                self.sent[name] = version
                self.emit("file", {"name": name, "data": data})

    def mark_sent(self, name: str) -> None:
        """The file as it is now is the supervisor's already (the checkpoint a task continues from)."""
        self.sent[name] = _version(self.files[name].stat())


def train_task(spec: TaskSpec, mailbox: Any) -> Status:
    """The body of a run's Ray task: train, sending every event and file to ``mailbox``; returns the status."""
    import ray
    import torch

    from cnnkit.jobs import runner
    from cnnkit.jobs.ray_shipping import dataset_on_node

    if spec.threads:
        torch.set_num_threads(spec.threads)
    scratch = Path(tempfile.mkdtemp(prefix=f"cnnkit-{spec.run_id}-"))
    files = {name: scratch / name for name in RUN_FILES}
    stop, done = threading.Event(), threading.Event()

    def post(kind: str, payload: Any) -> Any:
        return mailbox.put.remote(spec.run_id, spec.attempt, kind, payload)

    shipper = FileShipper(files, post)

    def emit(kind: str, payload: Any) -> None:
        if kind == "end":  # the last checkpoint and the predictions go before the end that makes them final
            shipper.ship_new(RUN_FILES)
        ref = post(kind, payload)
        if kind == "end":  # actor calls run in order: every event is in before the task counts as done
            ray.get(ref)

    def watch() -> None:
        while not done.wait(WATCH_EVERY):
            shipper.ship_new(EVERY_EPOCH)
            try:
                if ray.get(mailbox.is_cancelled.remote(spec.run_id)):
                    stop.set()
            except ray.exceptions.RayActorError:  # the supervisor is gone: nobody would record the rest
                stop.set()

    watcher = threading.Thread(target=watch, daemon=True, name=f"watch-{spec.run_id}")
    try:
        for name, data in spec.files.items():
            files[name].write_bytes(data)
            shipper.mark_sent(name)
        dataset, source = dataset_on_node(spec.dataset, spec.dataset_ref)
        post("where", {"host": socket.gethostname(), "pid": os.getpid(), "device": spec.device,
                       "node": ray.get_runtime_context().get_node_id(), "code": str(Path(runner.__file__).parents[1]),
                       "dataset": source})
        watcher.start()
        return runner.run_training(spec.config, emit, stop, files[CHECKPOINT_NAME], files[PREDICTIONS_NAME],
                                   CHECKPOINT_NAME in spec.files, dataset, device=spec.device,
                                   snapshots=files[SNAPSHOTS_NAME])
    finally:
        done.set()
        if watcher.is_alive():
            watcher.join()
        shutil.rmtree(scratch, ignore_errors=True)


def _version(st: os.stat_result) -> tuple[int, int, int]:
    return st.st_ino, st.st_mtime_ns, st.st_size
