"""A run's status: the words the store keeps, as one type."""
from __future__ import annotations

from enum import Enum
from typing import ClassVar


class Status(str, Enum):
    """Where a run stands. Members are the stored strings themselves (``Status.QUEUED == "queued"``),
    so they go into SQL, JSON and tables unchanged and compare equal to what was read back."""

    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"  # an error ended it
    CANCELLED = "cancelled"
    DIVERGED = "diverged"  # its loss became NaN or infinite
    OOM = "oom"  # out of memory
    LOST = "lost"  # its process died unseen

    ACTIVE: ClassVar[tuple[Status, ...]]  # not ended yet
    FINISHED: ClassVar[tuple[Status, ...]]  # ended, one way or another

    # Printed and formatted as the word itself, as Python 3.11's StrEnum does (the project supports 3.10).
    __str__ = str.__str__
    __format__ = str.__format__


# Set once the members exist; declared above so that readers and type checkers find them on the class.
Status.ACTIVE = (Status.QUEUED, Status.RUNNING)
Status.FINISHED = tuple(s for s in Status if s not in Status.ACTIVE)
