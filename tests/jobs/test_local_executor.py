"""The local executor with real processes: forked and spawned jobs, exits, signals to the right process."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from support import requires_fmnist

from cnnkit.config import RunConfig
from cnnkit.jobs.base import Exit, Slot
from cnnkit.jobs.local import LocalExecutor
from cnnkit.store import Store, process_start

TINY = RunConfig(epochs=1, subset=0.02, test_subset=0.05)
SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]


def reap_until_exit(executor: LocalExecutor, timeout: float = 120) -> Exit:
    deadline = time.time() + timeout
    while time.time() < deadline:
        ended = executor.reap()
        if ended:
            return ended[0]
        time.sleep(0.05)
    raise AssertionError("the job did not end")


def adopted(store: Store, executor: LocalExecutor, pid: int) -> str:
    run_id = store.create_run(TINY)
    store.claim("local:1/cpu0")
    store.set_process(run_id, pid, process_start(pid))
    assert executor.adopt(store.get(run_id))
    return run_id


@pytest.fixture
def executor(store: Store) -> LocalExecutor:
    return LocalExecutor(store, cpu_slots=2, start_method="spawn")  # spawn: no warm-up needed here


def test_slots_are_one_per_cpu_job(executor: LocalExecutor) -> None:
    assert [s.label for s in executor.slots()] == ["cpu0", "cpu1"]
    assert all(s.threads >= 1 for s in executor.slots())


def test_cancel_signals_an_adopted_process_but_never_its_shell_group(store: Store, executor: LocalExecutor) -> None:
    proc = subprocess.Popen(SLEEPER)  # in pytest's own process group, like a foreground `cnnkit train`
    try:
        run_id = adopted(store, executor, proc.pid)
        executor.cancel(run_id)
        assert proc.wait(timeout=10) == -signal.SIGTERM  # it got the signal, and we are still here
        assert executor.reap() == [Exit(run_id)]
    finally:
        proc.kill()
        proc.wait()


def test_cancel_kills_a_job_with_everything_it_started(store: Store, executor: LocalExecutor) -> None:
    script = f"import subprocess, time; subprocess.Popen({SLEEPER!r}); print('ready', flush=True); time.sleep(60)"
    leader = subprocess.Popen([sys.executable, "-c", script], start_new_session=True, stdout=subprocess.PIPE, text=True)
    try:
        assert leader.stdout.readline().strip() == "ready"
        run_id = adopted(store, executor, leader.pid)
        executor.cancel(run_id, force=True)
        assert leader.wait(timeout=10) == -signal.SIGKILL
        deadline = time.time() + 10
        while time.time() < deadline:  # the grandchild went with its group
            try:
                os.killpg(leader.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the job's group outlived the cancel")
    finally:
        try:
            os.killpg(leader.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        leader.wait()


def test_cancel_leaves_a_reused_pid_alone(store: Store, executor: LocalExecutor) -> None:
    proc = subprocess.Popen(SLEEPER)
    try:
        run_id = adopted(store, executor, proc.pid)
        executor.adopted[run_id] = (proc.pid, "1")  # as if the recorded process had ended and its pid been reused
        executor.cancel(run_id, force=True)
        time.sleep(0.2)
        assert proc.poll() is None
    finally:
        proc.kill()
        proc.wait()


# Forking executors are tested through `cnnkit worker` processes (tests/cli/test_run_commands.py): forked from
# pytest, whose earlier tests ran multi-threaded torch, a job would deadlock in GNU OpenMP.
@pytest.mark.slow
@requires_fmnist
def test_a_job_runs_to_completed(store: Store) -> None:
    executor = LocalExecutor(store, start_method="spawn")
    run_id = store.create_run(TINY)
    run = store.claim("local:1/cpu0")
    executor.submit(run, executor.slots()[0])
    pid = store.get(run_id).pid
    try:
        assert executor.status(run_id) == "running"
        assert reap_until_exit(executor) == Exit(run_id, code=0)
    finally:
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert store.get(run_id).status == "completed"
    assert f"run {run_id} ended completed" in executor.logs(run_id)
    assert executor.status(run_id) is None


@pytest.mark.slow
@requires_fmnist
def test_a_killed_job_is_reaped_with_its_signal(store: Store) -> None:
    executor = LocalExecutor(store, start_method="spawn")
    run_id = store.create_run(TINY.replace(epochs=50))
    executor.submit(store.claim("local:1/cpu0"), Slot("cpu", 0, 1))
    pid = store.get(run_id).pid
    try:
        os.kill(pid, signal.SIGKILL)
        assert reap_until_exit(executor) == Exit(run_id, None, signal.SIGKILL)
    finally:
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
