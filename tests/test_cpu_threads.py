"""cnnkit.cpu_threads: a job runs on the cores other processes leave free, never on fewer than one."""
from __future__ import annotations

import pytest

from cnnkit.cpu_threads import CHECK_EVERY_S, ThreadGovernor, machine_busy_seconds, own_busy_seconds, threads_for


@pytest.mark.parametrize(("free", "most", "expected"), [
    (2.0, 2, 2), (1.6, 2, 2), (1.4, 2, 1), (1.0, 2, 1), (0.0, 2, 1), (-1.0, 4, 1), (7.9, 4, 4), (3.0, 8, 3)])
def test_threads_follow_the_free_cores(free: float, most: int, expected: int) -> None:
    assert threads_for(free, most) == expected


class FakeMachine:
    """A 2-core machine: ``others`` cores busy with other processes, this job using ``own`` cores."""

    def __init__(self) -> None:
        self.now, self.machine_s, self.own_s, self.others, self.own = 0.0, 0.0, 0.0, 0.0, 1.8

    def advance(self, seconds: float) -> None:
        self.now += seconds
        self.own_s += self.own * seconds
        self.machine_s += (self.own + self.others) * seconds

    def governor(self, set_threads: list[int]) -> ThreadGovernor:
        return ThreadGovernor(2, cores=2, set_threads=set_threads.append, clock=lambda: self.now,
                              machine=lambda: self.machine_s, own=lambda: self.own_s)


def test_a_busy_machine_drops_the_job_to_one_thread_and_an_idle_one_gives_it_back() -> None:
    fake, calls = FakeMachine(), []
    governor = fake.governor(calls)
    assert calls == [2] and governor.threads == 2
    fake.advance(CHECK_EVERY_S)
    assert governor.tick() == 2  # alone on the machine: both cores
    fake.others, fake.own = 1.0, 1.0  # another process takes a whole core
    fake.advance(CHECK_EVERY_S / 2)
    assert governor.tick() == 2, "checks only every CHECK_EVERY_S"
    fake.advance(CHECK_EVERY_S)
    assert governor.tick() == 1
    fake.others, fake.own = 0.05, 1.0
    fake.advance(CHECK_EVERY_S)
    assert governor.tick() == 2
    assert calls == [2, 1, 2], "set only when the count changes"


def test_without_proc_the_thread_count_stays() -> None:
    calls: list[int] = []
    clock = iter(range(0, 100, 5))
    governor = ThreadGovernor(2, cores=2, set_threads=calls.append, clock=lambda: float(next(clock)),
                              machine=lambda: None, own=lambda: 0.0)
    assert governor.tick() == 2 and calls == [2]


def test_the_real_counters_move_forward() -> None:
    before, own_before = machine_busy_seconds(), own_busy_seconds()
    sum(i * i for i in range(300_000))
    assert own_busy_seconds() >= own_before
    if before is not None:
        assert machine_busy_seconds() >= before
