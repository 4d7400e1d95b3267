"""The executor interface: where and how a claimed run executes (a local process, a Ray task)."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from cnnkit.events import Status
from cnnkit.store import Run


@dataclass(frozen=True)
class Slot:
    """A place to run one job: ``kind`` is "cpu" or "cuda", ``index`` the GPU (or CPU slot) number."""

    kind: str
    index: int
    threads: int = 0  # CPU threads for the job; 0 leaves torch's default

    @property
    def label(self) -> str:
        return f"{self.kind}{self.index}"

    def accepts(self) -> tuple[str, ...]:
        """Device requests (config.device kinds) this slot serves."""
        return ("cpu", "auto") if self.kind == "cpu" else ("cuda", "auto")


# A run whose job is lost through no fault of its own (its node died, its supervisor was killed) continues
# from its last checkpoint this many times; the next loss ends it ``lost``, with the reason.
LOST_RETRIES = 3


@dataclass(frozen=True)
class Exit:
    """A job that ended: its exit code, or the signal that killed it (None when unknown). ``lost`` says why a
    job was lost with the machine under it (its node or its worker process died): its run continues elsewhere."""

    run_id: str
    code: int | None = None
    signal: int | None = None
    lost: str | None = None


class Executor(ABC):
    """Runs claimed runs. The supervisor owns the queue and the store; an executor only executes."""

    name = "executor"

    @abstractmethod
    def slots(self) -> list[Slot]:
        """The places this executor can run jobs at once."""

    @abstractmethod
    def submit(self, run: Run, slot: Slot) -> None:
        """Start executing ``run`` (already marked running in the store) on ``slot``."""

    @abstractmethod
    def cancel(self, run_id: str, force: bool = False) -> None:
        """Ask the job to stop (SIGTERM-like); ``force`` kills it (SIGKILL-like)."""

    @abstractmethod
    def status(self, run_id: str) -> Status | None:
        """RUNNING while the job executes here, None when this executor does not hold it."""

    @abstractmethod
    def logs(self, run_id: str) -> str:
        """The job's output so far."""

    @abstractmethod
    def reap(self) -> list[Exit]:
        """Jobs that ended since the last call."""

    def adopt(self, run: Run) -> bool:
        """Take over a job started by an earlier supervisor; False when it cannot be reached."""
        return False

    def pump(self) -> None:
        """Move pending events into the store (executors whose jobs cannot write it themselves)."""

    def close(self) -> None:
        """Release resources; running jobs are left to finish."""
