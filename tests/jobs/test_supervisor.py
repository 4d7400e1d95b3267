"""The supervisor's decisions, driven tick by tick with a recording executor over a real store."""
from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

import pytest
from optuna.trial import TrialState
from support.searches import begin

from cnnkit.config import RunConfig
from cnnkit.events import MetricPoint
from cnnkit.jobs import supervisor as sup
from cnnkit.jobs.base import Executor, Exit, Slot
from cnnkit.jobs.process import WorkerLock, supervisor_pid
from cnnkit.search.study import open_study, plan_of, storage
from cnnkit.store import Run, Store


class Recorder(Executor):
    """Executes nothing; remembers what it was asked and reports the exits a test gives it."""

    name = "fake"

    def __init__(self, slots: list[Slot], adoptable: set[str] = frozenset(), fail_submit: bool = False):
        self._slots, self.adoptable, self.fail_submit = slots, adoptable, fail_submit
        self.submitted: list[tuple[str, str]] = []
        self.cancels: list[tuple[str, bool]] = []
        self.exits: list[Exit] = []
        self.closed = False

    def slots(self) -> list[Slot]:
        return self._slots

    def submit(self, run: Run, slot: Slot) -> None:
        if self.fail_submit:
            raise OSError("no more processes")
        self.submitted.append((run.id, slot.label))

    def cancel(self, run_id: str, force: bool = False) -> None:
        self.cancels.append((run_id, force))

    def status(self, run_id: str) -> str | None:
        return None

    def logs(self, run_id: str) -> str:
        return ""

    def reap(self) -> list[Exit]:
        exits, self.exits = self.exits, []
        return exits

    def adopt(self, run: Run) -> bool:
        return run.id in self.adoptable

    def close(self) -> None:
        self.closed = True


def supervisor(store: Store, executor: Executor) -> sup.Supervisor:
    lock = WorkerLock(store.home)
    assert lock.acquire()
    return sup.Supervisor(store, executor, lock, poll=0.01)


def tiny(**changes: Any) -> RunConfig:
    return RunConfig(epochs=1, **changes)


def test_free_slots_are_filled_with_runs_they_accept(store: Store) -> None:
    cpu_only, gpu_only, auto = store.create_runs([tiny(device="cpu"), tiny(device="cuda"), tiny()])
    executor = Recorder([Slot("cpu", 0)])
    s = supervisor(store, executor)
    s.tick()
    s.tick()  # the slot is busy: nothing more is claimed
    assert executor.submitted == [(cpu_only, "cpu0")]
    assert store.get(cpu_only).worker.startswith("fake:") and store.get(auto).status == "queued"
    executor.exits.append(Exit(cpu_only, code=0))
    store.finish(cpu_only, "completed")
    s.tick()
    assert executor.submitted[-1] == (auto, "cpu0") and store.get(gpu_only).status == "queued"


def test_a_job_that_could_not_start_fails(store: Store) -> None:
    run_id = store.create_run(tiny())
    supervisor(store, Recorder([Slot("cpu", 0)], fail_submit=True)).tick()
    run = store.get(run_id)
    assert (run.status, run.error) == ("failed", "could not start the job: no more processes")


@pytest.mark.parametrize("exit_, cancel, status, error", [
    (Exit("", code=3), False, "failed", "the job exited with code 3"),
    (Exit("", signal=signal.SIGKILL), False, "lost", "the job's process was killed by SIGKILL"),
    (Exit(""), False, "lost", "the job's process vanished"),
    (Exit("", signal=signal.SIGTERM), True, "cancelled", "stopped by signal after a cancel request"),
])
def test_an_exit_without_a_result_is_recorded(store: Store, exit_: Exit, cancel: bool, status: str,
                                              error: str) -> None:
    run_id = store.create_run(tiny())
    executor = Recorder([Slot("cpu", 0)])
    s = supervisor(store, executor)
    s.tick()
    store.log_path(run_id).parent.mkdir(parents=True, exist_ok=True)
    store.log_path(run_id).write_text("Traceback …\nRuntimeError: boom\n")
    if cancel:
        store.request_cancel(run_id)
    executor.exits.append(Exit(run_id, exit_.code, exit_.signal))
    s.tick()
    run = store.get(run_id)
    assert run.status == status and run.error.startswith(error)
    assert ("RuntimeError: boom" in run.error) == (status != "cancelled")
    assert run_id not in s.busy


def test_an_exit_after_the_job_recorded_its_end_changes_nothing(store: Store) -> None:
    run_id = store.create_run(tiny())
    executor = Recorder([Slot("cpu", 0)])
    s = supervisor(store, executor)
    s.tick()
    store.finish(run_id, "diverged", error="loss became non-finite at step 3")
    executor.exits.append(Exit(run_id, signal=signal.SIGKILL))
    s.tick()
    assert (store.get(run_id).status, store.get(run_id).error) == ("diverged", "loss became non-finite at step 3")


def test_orphans_are_adopted_or_queued_again(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sup, "UNSTARTED_GRACE", 0.0)
    adoptable, dead, dead_untrained, unstarted, trained = store.create_runs([tiny(seed=s) for s in range(5)])
    for _ in range(5):
        store.claim("fake:1/cpu0")
    store.set_process(adoptable, 123, "1")
    store.set_process(dead, 456, "1")
    store.mark_first_step(dead)
    store.set_process(dead_untrained, 789, "1")
    store.mark_first_step(trained)
    time.sleep(0.01)
    s = supervisor(store, Recorder([Slot("cpu", 0)], adoptable={adoptable}))
    s._recover_orphans()
    assert s.busy == {adoptable: Slot("cpu", 0)}  # back on the slot it was claimed for
    # Its process went with a restarted machine after it trained: it continues from its last checkpoint.
    run = store.get(dead)
    assert (run.status, run.resume, run.tries) == ("queued", True, 1)
    assert "vanished while no supervisor watched it; queued to continue" in store.log_tail(dead)
    assert (store.get(dead_untrained).status, store.get(dead_untrained).tries) == ("queued", 0)
    assert store.get(unstarted).status == "queued"
    # It trained somewhere out of reach (a Ray task of a killed supervisor): it continues from its checkpoint.
    run = store.get(trained)
    assert (run.status, run.resume, run.tries) == ("queued", True, 1)
    assert "lost with the supervisor that ran it; queued to continue" in store.log_tail(trained)


def test_a_job_lost_with_its_node_continues_until_its_tries_are_spent(store: Store) -> None:
    run_id = store.create_run(tiny())
    executor = Recorder([Slot("cpu", 0)])
    s = supervisor(store, executor)
    reason = "its Ray task was lost on node 0123abcd (NodeDiedError: Task failed)"
    s.tick()
    for tries in range(1, sup.LOST_RETRIES + 1):
        executor.exits.append(Exit(run_id, lost=reason))
        s.tick()
        run = store.get(run_id)
        assert (run.status, run.resume, run.tries) == ("running", True, tries)  # claimed again in the same tick
    assert [r for r, _ in executor.submitted] == [run_id] * (sup.LOST_RETRIES + 1)
    executor.exits.append(Exit(run_id, lost=reason))
    s.tick()
    run = store.get(run_id)
    assert run.status == "lost" and run.error == (f"{reason}; it had been resumed {sup.LOST_RETRIES} times already, "
                                                  "so it stops here: resume it to continue")
    assert f"automatic try {sup.LOST_RETRIES} of {sup.LOST_RETRIES}" in store.log_tail(run_id)


def test_a_search_sees_a_trial_whose_job_was_lost_once_with_each_epoch_once(store: Store) -> None:
    group, driver = begin(store, trials=1)
    executor = Recorder([Slot("cpu", 0)])
    lock = WorkerLock(store.home)
    assert lock.acquire()
    s = sup.Supervisor(store, executor, lock, poll=0.01, searches=driver)
    s.tick()  # the search asks its trial; the supervisor claims its run
    (run,) = store.list_runs(group=group)
    store.mark_started(run.id, {"start_step": 0, "total_steps": 30})
    store.log_metrics(run.id, [acc_point(1, 0.5), acc_point(2, 0.6)])  # epoch 2's checkpoint never reached the store
    s.tick()
    executor.exits.append(Exit(run.id, lost="its Ray task was lost on node 0123abcd (NodeDiedError)"))
    s.tick()  # queued again and claimed again at once
    store.mark_started(run.id, {"start_step": 10, "total_steps": 30})  # from epoch 1's checkpoint: epoch 2 dropped
    store.log_metrics(run.id, [acc_point(2, 0.6), acc_point(3, 0.7)])
    store.finish(run.id, "completed", {"final": {"test_acc": 0.7}})
    executor.exits.append(Exit(run.id, code=0))
    s.tick()
    (trial,) = open_study(store, group, plan_of(store, group), storage(store.home)).trials
    assert (trial.state, trial.value, trial.intermediate_values) == (TrialState.COMPLETE, 0.7, {1: 0.5, 2: 0.6, 3: 0.7})
    assert [r.id for r in store.list_runs(group=group)] == [run.id] and store.get(run.id).tries == 1


def acc_point(epoch: int, acc: float) -> MetricPoint:
    return MetricPoint(10 * epoch, float(epoch), "test", "acc", acc, time.time())


def test_a_lost_job_whose_cancel_was_asked_for_is_cancelled(store: Store) -> None:
    run_id = store.create_run(tiny())
    executor = Recorder([Slot("cpu", 0)])
    s = supervisor(store, executor)
    s.tick()
    store.request_cancel(run_id)
    executor.exits.append(Exit(run_id, lost="its Ray task was lost on a node (NodeDiedError)"))
    s.tick()
    assert store.get(run_id).status == "cancelled" and executor.submitted == [(run_id, "cpu0")]


def test_an_unstarted_claim_keeps_its_grace(store: Store) -> None:
    run_id = store.create_run(tiny())
    store.claim("fake:1/cpu0")
    supervisor(store, Recorder([]))._recover_orphans()
    assert store.get(run_id).status == "running"


def test_cancels_escalate_from_flag_to_term_to_kill(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    run_id = store.create_run(tiny())
    executor = Recorder([Slot("cpu", 0)])
    s = supervisor(store, executor)
    s.tick()
    store.request_cancel(run_id)
    s.tick()
    assert executor.cancels == []  # the job gets time to notice the flag itself
    monkeypatch.setattr(sup, "CANCEL_TERM_AFTER", 0.0)
    time.sleep(0.01)
    s.tick()
    assert executor.cancels == [(run_id, False)]
    monkeypatch.setattr(sup, "CANCEL_KILL_AFTER", 0.0)
    s.tick()
    assert executor.cancels[-1] == (run_id, True)


def test_serve_leaves_when_idle_and_releases_the_lock(store: Store) -> None:
    executor = Recorder([Slot("cpu", 0)])
    s = supervisor(store, executor)
    s.idle_exit = 0.1
    assert supervisor_pid(store.home)
    s.serve()
    assert executor.closed and supervisor_pid(store.home) is None


def test_serve_refuses_a_second_supervisor(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    lock = WorkerLock(store.home)
    assert lock.acquire()
    assert sup.serve(store, idle_exit=0) == 1
    assert "a supervisor already runs" in capsys.readouterr().err
    lock.release()


def test_a_failing_executor_start_releases_the_lock(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object) -> Executor:
        raise RuntimeError("no executor")

    monkeypatch.setattr(sup, "_make_executor", broken)
    with pytest.raises(RuntimeError):
        sup.serve(store)
    assert supervisor_pid(store.home) is None


def test_ensure_supervisor_does_nothing_when_one_runs(store: Store, tmp_path: Path) -> None:
    lock = WorkerLock(store.home)
    assert lock.acquire()
    assert sup.ensure_supervisor(store) is None
    lock.release()


def test_a_store_that_keeps_refusing_ends_serve(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    from cnnkit.errors import StoreError

    executor = Recorder([Slot("cpu", 0)])
    s = supervisor(store, executor)
    calls = []

    def refuse() -> None:
        calls.append(1)
        raise StoreError("cannot write to the run store (database is locked)")

    monkeypatch.setattr(s, "tick", refuse)
    monkeypatch.setattr(sup, "STORE_RETRIES", 2)
    monkeypatch.setattr(sup.time, "sleep", lambda _: None)
    with pytest.raises(StoreError):
        s.serve()
    assert len(calls) == 2 and executor.closed and supervisor_pid(store.home) is None
