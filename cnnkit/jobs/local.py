"""The local executor: every job is a child process in its own process group.

Jobs start warm: the supervisor has already imported torch and cnnkit and keeps decoded datasets
in memory, and a job is a plain ``fork`` of it, so a run takes its first step well within a second
instead of paying Python's and torch's start-up (seconds) every time.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path

import torch

from cnnkit.cpu_threads import ThreadGovernor
from cnnkit.data import loading
from cnnkit.engine import warm_up
from cnnkit.events import Status
from cnnkit.jobs.base import Executor, Exit, Slot
from cnnkit.store import Run, Store, is_alive, process_start

START_METHODS = ("fork", "spawn")


def default_cpu_threads(cpu_slots: int) -> int:
    return max(1, (os.cpu_count() or 1) // max(1, cpu_slots))


def visible_gpus() -> int:
    """Number of CUDA devices, asked through NVML so that this process never initialises CUDA.

    A process that has initialised CUDA cannot fork children that use it.
    """
    os.environ.setdefault("PYTORCH_NVML_BASED_CUDA_CHECK", "1")  # read by torch at each call
    return torch.cuda.device_count() if torch.cuda.is_available() else 0


class LocalExecutor(Executor):
    """Runs jobs on this machine's slots. With ``fork`` its process turns single-threaded for good:
    build it in a process of its own (``cnnkit worker``), never in one that trains."""

    name = "local"

    def __init__(self, store: Store, cpu_slots: int = 1, gpu_slots: int = 2, start_method: str = "fork",
                 lock_fd: int | None = None):
        if start_method not in START_METHODS:
            raise ValueError(f"start method must be one of {START_METHODS}")
        self.store = store
        self.start_method = start_method
        self.lock_fd = lock_fd
        gpus = visible_gpus()
        self._slots = [Slot("cuda", g, torch.get_num_threads()) for g in range(gpus) for _ in range(gpu_slots)]
        threads = default_cpu_threads(cpu_slots)
        self._slots += [Slot("cpu", i, threads) for i in range(cpu_slots)]
        self.children: dict[str, int] = {}  # run id → pid of a process we started
        self.adopted: dict[str, tuple[int, str | None]] = {}  # run id → (pid, start) of earlier ones
        self.popen: dict[str, subprocess.Popen] = {}
        self.datasets: dict[str, loading.Data | None] = {}
        if start_method == "fork":
            # GNU OpenMP does not survive fork: a child of a process that has ever run a parallel
            # region deadlocks in its own first one. This process only decodes datasets, so it stays
            # single-threaded for good and each job sets its slot's thread count.
            torch.set_num_threads(1)
            warm_up()

    def slots(self) -> list[Slot]:
        return self._slots

    # ---- starting jobs ----------------------------------------------------------------------
    def submit(self, run: Run, slot: Slot) -> None:
        log = self.store.log_path(run.id)
        log.parent.mkdir(parents=True, exist_ok=True)
        if self.start_method == "spawn":
            self._spawn(run, slot, log)
        else:
            self._fork(run, slot, log)

    def _fork(self, run: Run, slot: Slot, log: Path) -> None:
        dataset = self._dataset(run.dataset)
        self.store.close()  # SQLite state must not cross a fork; the parent reopens on its next query
        pid = os.fork()
        if pid == 0:  # the child: never returns
            code = 1
            try:
                os.setsid()
                if self.lock_fd is not None:
                    os.close(self.lock_fd)  # the supervisor's lock must die with the supervisor
                fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
                os.dup2(fd, 1)
                os.dup2(fd, 2)
                sys.stdout = open(1, "w", buffering=1, closefd=False)
                sys.stderr = open(2, "w", buffering=1, closefd=False)
                code = job_main(self.store, run.id, slot, dataset)
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(code)
        self._started(run.id, pid)

    def _spawn(self, run: Run, slot: Slot, log: Path) -> None:
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "cnnkit", "job", run.id, "--store", str(self.store.home),
                 "--slot", f"{slot.kind}:{slot.index}:{slot.threads}"],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            )
        self.popen[run.id] = proc
        self._started(run.id, proc.pid)

    def _started(self, run_id: str, pid: int) -> None:
        self.children[run_id] = pid
        self.store.set_process(run_id, pid, process_start(pid))

    def _dataset(self, name: str) -> loading.Data | None:
        """Decoded datasets stay in this process; forked jobs share the pages copy-on-write."""
        if name not in self.datasets:
            try:
                self.datasets[name] = loading.load(name)
            except Exception:
                return None  # the job loads it itself and reports the error as its own
        return self.datasets[name]

    # ---- watching jobs ----------------------------------------------------------------------
    def reap(self) -> list[Exit]:
        ended = []
        for run_id, pid in list(self.children.items()):
            if run_id in self.popen:
                code = self.popen[run_id].poll()
                if code is None:
                    continue
                del self.popen[run_id]
                exit_ = Exit(run_id, code if code >= 0 else None, -code if code < 0 else None)
            else:
                try:
                    done, status = os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    done, status = pid, 0
                if done == 0:
                    continue
                exit_ = Exit(run_id, os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
                             os.WTERMSIG(status) if os.WIFSIGNALED(status) else None)
            del self.children[run_id]
            ended.append(exit_)
        for run_id, (pid, start) in list(self.adopted.items()):
            if not is_alive(pid, start):
                del self.adopted[run_id]
                ended.append(Exit(run_id))
        return ended

    def adopt(self, run: Run) -> bool:
        if not is_alive(run.pid, run.pid_start):
            return False
        self.adopted[run.id] = (run.pid, run.pid_start)
        return True

    def status(self, run_id: str) -> Status | None:
        return Status.RUNNING if run_id in self.children or run_id in self.adopted else None

    def cancel(self, run_id: str, force: bool = False) -> None:
        pid = self.children.get(run_id) or self.adopted.get(run_id, (None,))[0]
        if not pid or (run_id in self.adopted and not is_alive(*self.adopted[run_id])):
            return  # an adopted pid may have been reused by an unrelated process
        sig = signal.SIGKILL if force else signal.SIGTERM
        try:
            # Our jobs lead their own group (the job and anything it started); an adopted
            # foreground `cnnkit train` may not, and its shell's group must be left alone.
            if os.getpgid(pid) == pid:
                os.killpg(pid, sig)
            else:
                os.kill(pid, sig)
        except ProcessLookupError:
            pass

    def logs(self, run_id: str) -> str:
        return self.store.log_tail(run_id)


def _name_process(name: str) -> None:
    """Show forked jobs as what they are in ps/top, not as copies of `cnnkit worker` (Linux only)."""
    try:
        Path("/proc/self/comm").write_text(name[:15])
    except OSError:
        pass


def job_main(store: Store, run_id: str, slot: Slot, dataset: loading.Data | None = None) -> int:
    """Body of a job process: pin it to its slot, run it, exit 0 whatever the run's outcome."""
    from cnnkit.jobs.runner import execute

    if slot.kind == "cuda":
        os.environ["CUDA_VISIBLE_DEVICES"] = str(slot.index)
    import torch

    governor = None
    if slot.kind == "cpu":  # the slot's threads on an idle machine, fewer while others keep cores busy
        governor = ThreadGovernor(slot.threads or torch.get_num_threads())
    elif slot.threads:
        torch.set_num_threads(slot.threads)
    _name_process("cnnkit-job")
    store.set_process(run_id, os.getpid(), process_start(os.getpid()))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())  # SIGTERM = cancel: checkpoint, then end
    t0 = time.time()
    status = execute(store, run_id, stop, dataset, device=slot.kind, governor=governor)
    print(f"run {run_id} ended {status} after {time.time() - t0:.1f} s", flush=True)
    return 0
