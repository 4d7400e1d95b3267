"""The Ray executor (``python -m cnnkit worker --executor ray [--address ADDR]``): one Ray task per run.

The supervisor stays the only writer of the store. A task trains with ``runner.run_training`` and
sends its events to a small actor (the mailbox); ``pump()`` drains the mailbox and applies them
with ``runner.apply_event``. Cancelling sets a flag in the mailbox that the task polls, so the
engine checkpoints and ends ``cancelled``; ``ray.cancel(force=True)`` is the SIGKILL behind it.

Checkpoints are written by the task to the run's folder *as the supervisor sees the store*
(``<store>/runs/<id>/``). That is right on one machine, and on a cluster whose nodes mount the store
at the same path (a shared filesystem); elsewhere a run still trains and records its metrics, but
its checkpoint stays on the node that ran it, so it cannot be resumed. Each node also needs cnnkit
installed and the datasets under its ``CNNKIT_DATA``.

Tasks are never retried by Ray (``max_retries=0``): a rerun would log the same steps twice. Tasks
belong to the supervisor that submitted them and die with it; the next supervisor marks their runs
``lost`` (they can be resumed from their last checkpoint).
"""
from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any

from cnnkit.errors import CnnkitError, StoreError
from cnnkit.events import Status
from cnnkit.jobs.base import Executor, Exit, Slot
from cnnkit.store import Run, Store

CANCEL_POLL = 0.5  # seconds between a task's looks at its cancel flag
BEAT_EVERY = 0.5  # seconds between the supervisor's heartbeats for the runs it holds
CLOSE_GRACE = 10.0  # seconds running tasks get to checkpoint when the supervisor stops


class Mailbox:
    """The Ray actor between the tasks and the supervisor: their events one way, cancel flags the other."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, Any]] = []
        self.cancelled: set[str] = set()

    def put(self, run_id: str, kind: str, payload: Any) -> None:
        self.events.append((run_id, kind, payload))

    def drain(self) -> list[tuple[str, str, Any]]:
        events, self.events = self.events, []
        return events

    def cancel(self, run_id: str) -> None:
        self.cancelled.add(run_id)

    def is_cancelled(self, run_id: str) -> bool:
        return run_id in self.cancelled

    def forget(self, run_id: str) -> None:
        self.cancelled.discard(run_id)


def train_task(config: dict[str, Any], run_id: str, mailbox: Any, checkpoint: str, predictions: str, resume: bool,
               device: str, threads: int) -> Status:
    """The body of a run's Ray task: train, sending every event to ``mailbox``; returns the status.

    ``checkpoint`` and ``predictions`` are the run's files as the supervisor's store names them."""
    import ray
    import torch

    from cnnkit.jobs import runner

    if threads:
        torch.set_num_threads(threads)
    stop, done = threading.Event(), threading.Event()

    def watch_cancel() -> None:
        while not done.wait(CANCEL_POLL):
            try:
                if ray.get(mailbox.is_cancelled.remote(run_id)):
                    stop.set()
            except ray.exceptions.RayActorError:  # the supervisor is gone: nobody would record the rest
                stop.set()

    def emit(kind: str, payload: Any) -> None:
        ref = mailbox.put.remote(run_id, kind, payload)
        if kind == "end":  # actor calls run in order, so every event is in before the task counts as done
            ray.get(ref)

    threading.Thread(target=watch_cancel, daemon=True, name=f"cancel-{run_id}").start()
    emit("where", {"host": os.uname().nodename, "pid": os.getpid(), "device": device})
    try:
        return runner.run_training(config, emit, stop, checkpoint, predictions, resume, device=device)
    finally:
        done.set()


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise CnnkitError("the ray executor needs Ray: pip install -r requirements-ray.txt") from None
    return ray


class RayExecutor(Executor):
    """Runs claimed runs as Ray tasks: a local Ray by default, the cluster at ``address`` when given.

    Slots follow the cluster's resources when the executor starts: one per GPU (the task asks for
    ``num_gpus=1``) and one per ``cpus_per_job`` of the remaining CPUs (``num_cpus=cpus_per_job``).
    """

    name = "ray"

    def __init__(self, store: Store, address: str | None = None, num_cpus: int | None = None,
                 cpus_per_job: int = 1):
        self.ray = ray = import_ray()
        self.store = store
        self.owns_ray = not ray.is_initialized()  # a notebook or a test may have connected already
        if self.owns_ray:
            self._init(address, num_cpus)
        self.mailbox = ray.remote(num_cpus=0)(Mailbox).remote()
        self.task = ray.remote(train_task)
        self._slots = self._make_slots(ray.cluster_resources(), cpus_per_job)
        self.refs: dict[str, Any] = {}  # run id → the ObjectRef of its task
        self.cancel_sent: set[str] = set()
        self.last_beat = 0.0
        self.closing = False

    def _init(self, address: str | None, num_cpus: int | None) -> None:
        try:
            if address:
                self.ray.init(address=address, logging_level="warning")
            else:  # "local": a new Ray of our own, even when `ray start` runs on this machine
                self.ray.init(address="local", num_cpus=num_cpus or os.cpu_count(), include_dashboard=False,
                              logging_level="warning")
        except Exception as exc:
            where = f"the Ray cluster at {address}" if address else "a local Ray"
            hint = ""
            if address and not os.environ.get("RAY_AUTH_MODE"):  # Ray enables tokens only for clusters it finds itself
                hint = " (a cluster with token authentication needs RAY_AUTH_MODE=token and its token)"
            raise CnnkitError(f"cannot start the ray executor on {where}: {_first_line(exc)}{hint}") from None

    @staticmethod
    def _make_slots(resources: dict[str, float], cpus_per_job: int) -> list[Slot]:
        gpus = int(resources.get("GPU", 0))
        cpus = int(resources.get("CPU", 1)) - gpus  # every GPU job also holds one CPU
        gpu_slots = [Slot("cuda", g, 1) for g in range(gpus)]
        return gpu_slots + [Slot("cpu", i, cpus_per_job) for i in range(max(1, cpus // cpus_per_job))]

    def slots(self) -> list[Slot]:
        return self._slots

    # ---- starting and stopping tasks ------------------------------------------------------------
    def submit(self, run: Run, slot: Slot) -> None:
        resources = {"num_gpus": 1, "num_cpus": 1} if slot.kind == "cuda" else {"num_cpus": slot.threads or 1}
        ref = self.task.options(name=f"cnnkit-run-{run.id}", max_retries=0, **resources).remote(
            run.config, run.id, self.mailbox, str(self.store.checkpoint_path(run.id)),
            str(self.store.predictions_path(run.id)), run.resume, slot.kind, slot.threads)
        self.refs[run.id] = ref
        self._log(run.id, f"submitted to Ray as task {ref.task_id().hex()} asking for {resources}")

    def cancel(self, run_id: str, force: bool = False) -> None:
        if run_id not in self.refs:
            return
        self.mailbox.cancel.remote(run_id)
        if force:
            self.ray.cancel(self.refs[run_id], force=True)

    def adopt(self, run: Run) -> bool:
        return False  # a task dies with the supervisor that submitted it

    def status(self, run_id: str) -> Status | None:
        return Status.RUNNING if run_id in self.refs else None

    def logs(self, run_id: str) -> str:
        return self.store.log_tail(run_id)

    # ---- events and ends ------------------------------------------------------------------------
    def pump(self) -> None:
        from cnnkit.jobs import runner  # torch; kept out of the module so that the mailbox actor starts light

        for run_id, kind, payload in self.ray.get(self.mailbox.drain.remote()):
            if kind == "where":  # for the log only: a pid on another node means nothing to the store
                self._log(run_id, f"running on {payload['host']} as pid {payload['pid']} ({payload['device']})")
                continue
            if kind == "end":
                payload = self._ending(run_id, payload)
            try:
                runner.apply_event(self.store, run_id, kind, payload)
            except StoreError as exc:  # e.g. the run was deleted meanwhile; the others must go on
                self._log(run_id, f"could not record its {kind} event: {exc}")
        if time.time() - self.last_beat > BEAT_EVERY:
            self._beat()

    def _ending(self, run_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        self._log(run_id, f"ended {payload['status']}" + (f": {payload['error']}" if payload.get("error") else ""))
        if self.closing and payload["status"] == Status.CANCELLED and not self.store.get(run_id).cancel_requested:
            payload = payload | {"error": "stopped with its supervisor; resume it to continue"}
        return payload

    def _beat(self) -> None:
        """Heartbeats for the runs held here, and their cancel requests on to the tasks."""
        self.last_beat = time.time()
        for run_id in list(self.refs):
            if self.store.beat(run_id) and run_id not in self.cancel_sent:
                self.cancel_sent.add(run_id)
                self.mailbox.cancel.remote(run_id)

    def reap(self) -> list[Exit]:
        if not self.refs:
            return []
        ready, _ = self.ray.wait(list(self.refs.values()), num_returns=len(self.refs), timeout=0)
        if not ready:
            return []
        self.pump()  # a finished task's last events are in the mailbox: record them before its end counts
        run_of = {ref: run_id for run_id, ref in self.refs.items()}
        ended = []
        for ref in ready:
            run_id = run_of[ref]
            del self.refs[run_id]
            self.cancel_sent.discard(run_id)
            self.mailbox.forget.remote(run_id)
            ended.append(self._exit(run_id, ref))
        return ended

    def _exit(self, run_id: str, ref: Any) -> Exit:
        """How a finished task ended, in the terms of a process exit."""
        errors = self.ray.exceptions
        try:
            self.ray.get(ref, timeout=0)
            return Exit(run_id, code=0)
        except errors.TaskCancelledError:
            return Exit(run_id, signal=signal.SIGKILL)
        except errors.RayTaskError as exc:  # raised outside run_training, e.g. cnnkit missing on the node
            self._log(run_id, f"the task failed: {_first_line(exc.cause or exc)}")
            return Exit(run_id, code=1)
        except errors.RayError as exc:  # its worker or node died
            self._log(run_id, f"the task was lost: {_first_line(exc)}")
            return Exit(run_id)

    def close(self) -> None:
        """Stop the tasks gracefully (they checkpoint and end cancelled), then leave Ray if we joined it."""
        self.closing = True
        try:
            for run_id in self.refs:
                self.mailbox.cancel.remote(run_id)
            deadline = time.time() + CLOSE_GRACE
            while self.refs and time.time() < deadline:
                for ended in self.reap():
                    self.store.finish(ended.run_id, Status.LOST, error="stopped with its supervisor")
                time.sleep(0.1)
            for run_id, ref in self.refs.items():
                self.ray.cancel(ref, force=True)
                self.store.finish(run_id, Status.LOST, error="its supervisor stopped before it could checkpoint")
            self.refs.clear()
        finally:
            if self.owns_ray:
                self.ray.shutdown()

    def _log(self, run_id: str, line: str) -> None:
        """The supervisor's side of a run's log (the task's own output goes to the worker's log)."""
        path = self.store.log_path(run_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as f:
            f.write(f"[ray] {time.strftime('%H:%M:%S')} {line}\n")


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0] if lines else ''}"[:300]
