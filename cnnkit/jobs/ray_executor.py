"""The Ray executor (``python -m cnnkit worker --executor ray [--address ADDR]``): one Ray task per run, on any node.

The supervisor stays the only writer of the store, and a node needs neither a shared disk nor cnnkit nor the
datasets. A task gets the run's config, the store's last checkpoint of the run (to continue from), this
cnnkit's source through Ray's runtime env and, when its node lacks the dataset, the copy the supervisor put
into Ray's object store (``ray_shipping``). It trains in a scratch folder on its node and sends its events,
each new checkpoint and snapshots file, and the final predictions to a mailbox actor on the supervisor's
node (``ray_task``); ``pump()`` drains the mailbox and writes all of it with ``runner.apply_event``.
Cancelling sets a flag in the mailbox that the task polls, so the engine checkpoints and ends ``cancelled``;
``ray.cancel(force=True)`` is the SIGKILL behind it.

A task whose node or worker process dies comes back from ``reap`` as a lost exit, and the supervisor queues
its run to continue from the last checkpoint in the store on whichever node has room (``LOST_RETRIES``
times). Each submission is a new attempt: what a lost attempt sent late is dropped, and the next attempt's
start drops the points logged after its checkpoint, so no step is counted twice. Ray's own retries stay off
(``max_retries=0``): they would start the task again from the checkpoint it was first given.

Tasks belong to the supervisor that submitted them. Stopping it stops them at their next step, with a
checkpoint, and queues their runs to continue under the next supervisor; a killed supervisor's runs are
continued by the next one as lost jobs. The slots follow the cluster's CPUs and GPUs as nodes come and go.
"""
from __future__ import annotations

import os
import signal
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnnkit.errors import CnnkitError, StoreError
from cnnkit.events import Status
from cnnkit.jobs.base import Executor, Exit, Slot
from cnnkit.jobs.ray_shipping import DatasetShelf, runtime_env
from cnnkit.jobs.ray_task import Mailbox, TaskSpec, train_task
from cnnkit.store import Run, Store
from cnnkit.store.database import CHECKPOINT_NAME, SNAPSHOTS_NAME

BEAT_EVERY = 0.5  # seconds between the supervisor's heartbeats for the runs it holds
SLOTS_EVERY = 2.0  # seconds between looks at the cluster's resources (nodes come and go)
CLOSE_GRACE = 10.0  # seconds running tasks get to checkpoint when the supervisor stops


@dataclass
class Held:
    """A run's task as this executor holds it."""

    ref: Any  # the task's ObjectRef
    attempt: int
    node: str | None = None  # the node it runs on, once the task has said


class RayExecutor(Executor):
    """Runs claimed runs as Ray tasks: a local Ray by default, the cluster at ``address`` when given.

    Slots follow the cluster's resources: one per GPU (the task asks for ``num_gpus=1``) and one per
    ``cpus_per_job`` of the remaining CPUs (``num_cpus=cpus_per_job``).
    """

    name = "ray"

    def __init__(self, store: Store, address: str | None = None, num_cpus: int | None = None,
                 cpus_per_job: int = 1):
        self.ray = ray = import_ray()
        self.store = store
        # A notebook or a test may have connected already: its job's runtime env must then bring cnnkit.
        self.owns_ray = not ray.is_initialized()
        if self.owns_ray:
            self._init(address, num_cpus)
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        # The mailbox lives on this node: it must outlive every other one.
        here = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=False)
        self.mailbox = ray.remote(Mailbox).options(num_cpus=0, scheduling_strategy=here).remote()
        self.task = ray.remote(train_task)
        self.datasets = DatasetShelf(ray)
        self.cpus_per_job = cpus_per_job
        self._slots: list[Slot] = []
        self.slots_at = 0.0
        self.held: dict[str, Held] = {}
        self.attempts = 0
        self.cancel_sent: set[str] = set()
        self.last_beat = 0.0
        self.closing = False

    def _init(self, address: str | None, num_cpus: int | None) -> None:
        try:
            with tempfile.TemporaryDirectory(prefix="cnnkit-code-") as code:
                if address:
                    self.ray.init(address=address, logging_level="warning", runtime_env=runtime_env(Path(code)))
                else:  # "local": a new Ray of our own, even when `ray start` runs on this machine
                    self.ray.init(address="local", num_cpus=num_cpus or os.cpu_count(), include_dashboard=False,
                                  logging_level="warning", runtime_env=runtime_env(Path(code)))
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
        if time.time() - self.slots_at > SLOTS_EVERY:
            self.slots_at = time.time()
            slots = self._make_slots(self.ray.cluster_resources(), self.cpus_per_job)
            if self._slots and slots != self._slots:
                print(f"ray: the cluster changed; slots now {', '.join(s.label for s in slots)}", flush=True)
            self._slots = slots
        return self._slots

    # ---- starting and stopping tasks ------------------------------------------------------------
    def submit(self, run: Run, slot: Slot) -> None:
        resources = {"num_gpus": 1, "num_cpus": 1} if slot.kind == "cuda" else {"num_cpus": slot.threads or 1}
        files = self._files_to_continue(run)
        self.attempts += 1
        spec = TaskSpec(run.id, self.attempts, run.config, slot.kind, slot.threads, files, run.dataset,
                        self.datasets.ref(run.dataset))
        ref = self.task.options(name=f"cnnkit-run-{run.id}", max_retries=0, scheduling_strategy="SPREAD",
                                **resources).remote(spec, self.mailbox)
        self.held[run.id] = Held(ref, self.attempts)
        sent = f", with its {' and '.join(files)} ({sum(map(len, files.values())) / 1024:.0f} KiB)" if files else ""
        self._log(run.id, f"submitted to Ray as task {ref.task_id().hex()} asking for {resources}{sent}")

    def _files_to_continue(self, run: Run) -> dict[str, bytes]:
        """The store's checkpoint and snapshots of a run that continues; none for a run that starts afresh."""
        files = {}
        for name in (CHECKPOINT_NAME, SNAPSHOTS_NAME) if run.resume else ():
            try:
                files[name] = (self.store.run_dir(run.id) / name).read_bytes()
            except FileNotFoundError:
                continue
        return files

    def cancel(self, run_id: str, force: bool = False) -> None:
        if run_id not in self.held:
            return
        self.mailbox.cancel.remote(run_id)
        if force:
            self.ray.cancel(self.held[run_id].ref, force=True)

    def adopt(self, run: Run) -> bool:
        return False  # a task dies with the supervisor that submitted it

    def status(self, run_id: str) -> Status | None:
        return Status.RUNNING if run_id in self.held else None

    def logs(self, run_id: str) -> str:
        return self.store.log_tail(run_id)

    # ---- events and ends ------------------------------------------------------------------------
    def pump(self) -> None:
        from cnnkit.jobs import runner  # torch; kept out of the module so that the mailbox actor starts light

        for run_id, attempt, kind, payload in self.ray.get(self.mailbox.drain.remote()):
            held = self.held.get(run_id)
            if held is None or held.attempt != attempt:
                continue  # sent by a task that was lost meanwhile: its run has moved on without it
            if kind == "where":  # for the log only: a pid on another node means nothing to the store
                held.node = payload["node"]
                self._log(run_id, f"running on {payload['host']} as pid {payload['pid']} ({payload['device']}), "
                                  f"node {payload['node'][:8]}; cnnkit from {payload['code']}, the dataset from "
                                  f"{payload['dataset']}")
                continue
            if kind == "start" and payload.get("start_step"):
                self._log(run_id, f"continues from its checkpoint at step {payload['start_step']}")
            if kind == "end" and self._ending(run_id, payload):
                continue
            try:
                runner.apply_event(self.store, run_id, kind, payload)
            except StoreError as exc:  # e.g. the run was deleted meanwhile; the others must go on
                self._log(run_id, f"could not record its {kind} event: {exc}")
        if time.time() - self.last_beat > BEAT_EVERY:
            self._beat()

    def _ending(self, run_id: str, payload: dict[str, Any]) -> bool:
        """Log a task's end; True when it is handled here: a task stopped with its supervisor, whose run
        is queued to continue from the checkpoint it just wrote."""
        self._log(run_id, f"ended {payload['status']}" + (f": {payload['error']}" if payload.get("error") else ""))
        if self.closing and payload["status"] == Status.CANCELLED and not self.store.get(run_id).cancel_requested:
            step = (payload.get("summary") or {}).get("step")
            self._requeue(run_id, f"stopped with its supervisor at step {step}, checkpointed")
            return True
        return False

    def _beat(self) -> None:
        """Heartbeats for the runs held here, and their cancel requests on to the tasks."""
        self.last_beat = time.time()
        for run_id in list(self.held):
            if self.store.beat(run_id) and run_id not in self.cancel_sent:
                self.cancel_sent.add(run_id)
                self.mailbox.cancel.remote(run_id)

    def reap(self) -> list[Exit]:
        if not self.held:
            return []
        run_of = {held.ref: run_id for run_id, held in self.held.items()}
        ready, _ = self.ray.wait(list(run_of), num_returns=len(run_of), timeout=0)
        if not ready:
            return []
        self.pump()  # a finished task's last events are in the mailbox: record them before its end counts
        ended = []
        for ref in ready:
            run_id = run_of[ref]
            held = self.held.pop(run_id)
            self.cancel_sent.discard(run_id)
            self.mailbox.forget.remote(run_id)
            ended.append(self._exit(run_id, held))
        return ended

    def _exit(self, run_id: str, held: Held) -> Exit:
        """How a finished task ended, in the terms of a process exit."""
        errors = self.ray.exceptions
        lost_with_its_machine = (errors.NodeDiedError, errors.WorkerCrashedError, errors.LocalRayletDiedError,
                                 errors.ObjectLostError, errors.OutOfMemoryError)
        try:
            self.ray.get(held.ref, timeout=0)
            return Exit(run_id, code=0)
        except errors.TaskCancelledError:
            return Exit(run_id, signal=signal.SIGKILL)
        except errors.RayTaskError as exc:  # raised outside run_training, e.g. fetching the dataset
            self._log(run_id, f"the task failed: {_first_line(exc.cause or exc)}")
            return Exit(run_id, code=1)
        except lost_with_its_machine as exc:
            node = f"node {held.node[:8]}" if held.node else "a node"
            reason = f"its Ray task was lost on {node} ({_first_sentence(exc)})"
            self._log(run_id, reason)
            return Exit(run_id, lost=reason)
        except errors.RayError as exc:  # e.g. its runtime env could not be set up on the node
            self._log(run_id, f"the task could not run: {_first_line(exc)}")
            return Exit(run_id, code=1)

    def close(self) -> None:
        """Stop the tasks gracefully (they checkpoint) and queue their runs to continue under the next
        supervisor; then leave Ray if we joined it."""
        self.closing = True
        try:
            for run_id in self.held:
                self.mailbox.cancel.remote(run_id)
            deadline = time.time() + CLOSE_GRACE
            while self.held and time.time() < deadline:
                for ended in self.reap():  # a task that ended without its end event: lost meanwhile
                    self._requeue(ended.run_id, "its task was lost as its supervisor stopped")
                time.sleep(0.1)
            for run_id, held in self.held.items():
                self.ray.cancel(held.ref, force=True)
                self._requeue(run_id, "its supervisor stopped before it could checkpoint")
            self.held.clear()
        finally:
            if self.owns_ray:
                self.ray.shutdown()

    def _requeue(self, run_id: str, why: str) -> None:
        if self.store.requeue(run_id, resume=True):
            self._log(run_id, f"{why}: queued to continue from its last checkpoint under the next supervisor")

    def _log(self, run_id: str, line: str) -> None:
        """The supervisor's side of a run's log (the task's own output goes to the supervisor's log)."""
        self.store.append_log(run_id, f"[ray] {time.strftime('%H:%M:%S')} {line}")


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise CnnkitError("the ray executor needs Ray: pip install -r requirements-ray.txt") from None
    return ray


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0] if lines else ''}"[:300]


def _first_sentence(exc: BaseException) -> str:
    return _first_line(exc).split(". ", 1)[0].rstrip(".")
