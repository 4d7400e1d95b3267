"""The supervisor (``python -m cnnkit worker``): claims queued runs, watches them, cancels, recovers.

One per store, guarded by a lock. The loop, every ``poll`` seconds: collect ended jobs, settle runs
nobody watches (after a restart), advance hyperparameter searches (cnnkit.search: report epochs,
prune, queue the next trials), escalate cancels (flag → SIGTERM → SIGKILL), fill free slots.
A job lost with the machine under it (a Ray node that died, a killed supervisor's task) is not the
run's fault: the run goes back to the queue to continue from its last checkpoint, ``LOST_RETRIES`` times.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from cnnkit.errors import StoreError
from cnnkit.events import Status
from cnnkit.jobs.base import LOST_RETRIES, Executor, Exit, Slot
from cnnkit.jobs.process import WorkerLock, supervisor_pid, supervisor_running
from cnnkit.search.driver import SearchDriver
from cnnkit.store import Run, Store

CANCEL_TERM_AFTER = 4.0  # seconds the loop gets to notice the flag before SIGTERM
CANCEL_KILL_AFTER = 7.0  # … and before SIGKILL
UNSTARTED_GRACE = 5.0  # a claimed run without a process after this long was never started
ERROR_TAIL_CHARS = 1500
STORE_RETRIES = 10  # ticks in a row the store may refuse before the supervisor gives up


@dataclass
class Supervisor:
    store: Store
    executor: Executor
    lock: WorkerLock
    poll: float = 0.2
    idle_exit: float | None = None
    busy: dict[str, Slot] = field(default_factory=dict)
    cancel_seen: dict[str, float] = field(default_factory=dict)
    stopping: bool = False
    searches: SearchDriver | None = None  # made from the store when not given

    def __post_init__(self) -> None:
        self.searches = self.searches or SearchDriver(self.store)

    def serve(self) -> None:
        """Run until SIGINT/SIGTERM, or ``idle_exit`` seconds with nothing queued or running."""
        previous = {sig: signal.signal(sig, self._stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        idle_since = time.time()
        try:
            failures = 0
            while not self.stopping:
                try:
                    self.tick()
                    failures = 0
                except StoreError as exc:  # a store locked for long: the jobs go on, so the supervisor retries
                    failures += 1
                    if failures >= STORE_RETRIES:
                        raise
                    print(f"supervisor: {exc}; retrying", file=sys.stderr, flush=True)
                    time.sleep(1.0)
                    continue
                if self.busy or self.store.counts()[Status.QUEUED]:
                    idle_since = time.time()
                elif self.idle_exit is not None and time.time() - idle_since > self.idle_exit:
                    break
                time.sleep(self.poll)
        finally:
            self.executor.close()
            self.lock.release()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _stop(self, *_: object) -> None:
        self.stopping = True  # running jobs carry on; the next supervisor re-adopts them

    def tick(self) -> None:
        self.executor.pump()
        for ended in self.executor.reap():
            self._settle(ended)
        self._recover_orphans()
        self.searches.step()  # before the cancels and the slots: a pruned trial stops, the next one starts
        self._escalate_cancels()
        self._fill_slots()

    # ---- the steps --------------------------------------------------------------------------
    def _settle(self, ended: Exit) -> None:
        """A job's process ended. If it did not record how, record it for the job."""
        self.busy.pop(ended.run_id, None)
        self.cancel_seen.pop(ended.run_id, None)
        run = self.store.get(ended.run_id)
        if run.status != Status.RUNNING:
            return
        if ended.lost and not run.cancel_requested:
            self._continue_lost(run, ended.lost)
            return
        tail = self.store.log_tail(run.id)[-ERROR_TAIL_CHARS:].strip()
        if run.cancel_requested:
            status, error = Status.CANCELLED, "stopped by signal after a cancel request"
        elif ended.signal:
            name = signal.Signals(ended.signal).name
            status, error = Status.LOST, f"the job's process was killed by {name} and recorded no result"
        elif ended.code is None:
            status, error = Status.LOST, "the job's process vanished while no supervisor could see its exit"
        else:
            status, error = Status.FAILED, f"the job exited with code {ended.code}"
        self.store.finish(run.id, status, error=f"{error}\n{tail}".strip() if status != Status.CANCELLED else error)

    def _recover_orphans(self) -> None:
        """Running runs this supervisor does not hold: adopt live ones; the others (a Ray task of a dead
        supervisor, a job process gone with a restarted machine) are queued again, from the start when they never
        trained and from their last checkpoint when they did."""
        for run in self.store.list_runs(status=Status.RUNNING):
            if run.id in self.busy:
                continue
            if run.pid is None and time.time() - (run.started_at or 0) <= UNSTARTED_GRACE:
                continue
            if run.pid is not None and self.executor.adopt(run):
                self.busy[run.id] = _slot_of(run, self.executor.slots())
            elif run.first_step_at is None:
                self.store.requeue(run.id)
            elif run.pid is None:
                self._continue_lost(run, "its job was lost with the supervisor that ran it")
            else:
                self._continue_lost(run, "its process vanished while no supervisor watched it")

    def _continue_lost(self, run: Run, reason: str) -> None:
        """A job lost with the machine under it: its run continues from its last checkpoint in the store (the
        resumed job's start drops the points logged after it), ``LOST_RETRIES`` times, then it ends lost."""
        tries = self.store.retry(run.id, LOST_RETRIES)
        if tries is None:
            self.store.finish(run.id, Status.LOST, error=f"{reason}; it had been resumed {LOST_RETRIES} times "
                                                         "already, so it stops here: resume it to continue")
            line = f"{reason}; no automatic try left: lost"
        else:
            line = f"{reason}; queued to continue from its last checkpoint (automatic try {tries} of {LOST_RETRIES})"
        self.store.append_log(run.id, f"[supervisor] {time.strftime('%H:%M:%S')} {line}")
        print(f"supervisor: run {run.id}: {line}", flush=True)

    def _escalate_cancels(self) -> None:
        now = time.time()
        for run in self.store.list_runs(status=Status.RUNNING, ids=list(self.busy)) if self.busy else []:
            if not run.cancel_requested:
                continue
            first = self.cancel_seen.setdefault(run.id, now)
            if now - first > CANCEL_KILL_AFTER:
                self.executor.cancel(run.id, force=True)
            elif now - first > CANCEL_TERM_AFTER:
                self.executor.cancel(run.id)

    def _fill_slots(self) -> None:
        taken = set(self.busy.values())
        for slot in self.executor.slots():
            if slot in taken or self.stopping:
                continue
            run = self.store.claim(f"{self.executor.name}:{os.getpid()}/{slot.label}", accept=slot.accepts())
            if run is None:
                continue
            self.busy[run.id] = slot
            taken.add(slot)
            try:
                self.executor.submit(run, slot)
            except Exception as exc:
                self.busy.pop(run.id, None)
                self.store.finish(run.id, Status.FAILED, error=f"could not start the job: {exc}")


def _slot_of(run: Run, slots: list[Slot]) -> Slot:
    """The slot an adopted run was claimed on (its label ends the worker field)."""
    label = (run.worker or "").rsplit("/", 1)[-1]
    for slot in slots:
        if slot.label == label:
            return slot
    return Slot("adopted", hash(run.id))


def serve(store: Store, executor_name: str = "local", cpu_slots: int = 1, gpu_slots: int = 2,
          idle_exit: float | None = None, start_method: str = "fork", ray_address: str | None = None) -> int:
    """Entry of ``python -m cnnkit worker``; returns the exit code (1 when another supervisor runs)."""
    lock = WorkerLock(store.home)
    if not lock.acquire():
        print(f"a supervisor already runs for {store.home} (pid {supervisor_pid(store.home)})", file=sys.stderr)
        return 1
    try:
        executor = _make_executor(store, executor_name, cpu_slots, gpu_slots, start_method, ray_address, lock)
    except BaseException:
        lock.release()
        raise
    slots = ", ".join(s.label for s in executor.slots())
    print(f"supervisor {os.getpid()} serving {store.home} with the {executor.name} executor ({slots})", flush=True)
    Supervisor(store, executor, lock, idle_exit=idle_exit).serve()
    return 0


def _make_executor(store: Store, name: str, cpu_slots: int, gpu_slots: int, start_method: str,
                   ray_address: str | None, lock: WorkerLock) -> Executor:
    # Imported here, not at the top: the local executor brings torch and the ray one Ray, and the
    # dashboard and `cnnkit submit` import this module only to start a supervisor.
    if name == "ray":
        from cnnkit.jobs.ray_executor import RayExecutor

        return RayExecutor(store, address=ray_address)
    from cnnkit.jobs.local import LocalExecutor

    return LocalExecutor(store, cpu_slots, gpu_slots, start_method, lock_fd=lock.fd)


def ensure_supervisor(store: Store, idle_exit: float = 900.0, extra_args: list[str] | None = None) -> int | None:
    """Start a detached supervisor for ``store`` unless one runs; returns the new pid, or None.

    Two callers racing here at once is harmless: the second supervisor finds the lock taken and exits.
    """
    if supervisor_running(store.home):
        return None
    log = store.home / "worker.log"
    try:
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "cnnkit", "worker", "--store", str(store.home), "--idle-exit",
                 str(idle_exit), *(extra_args or [])],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                cwd=Path(__file__).resolve().parents[2],
            )
    except OSError as exc:
        raise StoreError(f"cannot start the supervisor: {exc}") from None
    return proc.pid
