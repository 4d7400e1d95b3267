"""How many CPU threads a training job should use right now.

A job that runs 2 threads on a 2-core machine where another process keeps one core busy is about
twice as slow as the same job on 1 thread: each parallel region waits for the thread that the other
process pushed off its core. (OpenMP's passive waiting does not help; measured in `cnnkit bench`.)
So a CPU job looks, every few seconds, at how much of the machine the *other* processes use, and
runs on the cores they leave free: all of its threads on an idle machine, fewer on a busy one, never
fewer than one.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

CHECK_EVERY_S = 2.0
BUSY_CORE = 0.5  # another process counts as holding a core once it uses half of one


def machine_busy_seconds() -> float | None:
    """CPU seconds all processes of the machine have used since boot (/proc/stat), None off Linux."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def own_busy_seconds() -> float:
    """CPU seconds this process (all its threads) has used."""
    t = os.times()
    return t.user + t.system


def threads_for(free_cores: float, most: int) -> int:
    """Threads for the cores others leave free: ``free_cores`` rounded down at BUSY_CORE, in 1..most."""
    return max(1, min(most, int(free_cores + BUSY_CORE)))


class ThreadGovernor:
    """Call ``tick()`` between training steps; every CHECK_EVERY_S it sets the thread count to the cores
    that other processes leave free (through ``set_threads``, torch.set_num_threads by default)."""

    def __init__(self, most: int, cores: int | None = None, set_threads: Callable[[int], None] | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 machine: Callable[[], float | None] = machine_busy_seconds,
                 own: Callable[[], float] = own_busy_seconds):
        if set_threads is None:
            import torch

            set_threads = torch.set_num_threads
        self.most = max(1, most)
        self.cores = cores or os.cpu_count() or 1
        self.set_threads, self.clock, self.machine, self.own = set_threads, clock, machine, own
        self.threads = self.most
        self.set_threads(self.threads)
        self._mark = self._sample()

    def _sample(self) -> tuple[float, float | None, float]:
        return self.clock(), self.machine(), self.own()

    def tick(self) -> int:
        """The thread count in force after this call."""
        now = self.clock()
        if now - self._mark[0] < CHECK_EVERY_S:
            return self.threads
        then, self._mark = self._mark, self._sample()
        if then[1] is None or self._mark[1] is None:
            return self.threads
        others = max(0.0, (self._mark[1] - then[1]) - (self._mark[2] - then[2])) / (now - then[0])
        wanted = threads_for(self.cores - others, self.most)
        if wanted != self.threads:
            self.threads = wanted
            self.set_threads(wanted)
        return self.threads
