"""What flows from a training job to the store: metric points, the reporter that receives them, and
the status a run ends with. No torch here: the store, the CLI and the pages share these types.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import astuple, dataclass
from enum import Enum
from typing import Any, ClassVar


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


@dataclass(frozen=True)
class MetricPoint:
    """One value of one metric at one step: ``split`` "train", "test", "system", … and ``name`` "loss",
    "acc", …; ``epoch`` is fractional between epochs; ``wall`` is the Unix time it was measured."""

    step: int
    epoch: float
    split: str
    name: str
    value: float
    wall: float

    def as_row(self) -> tuple[int, float, str, str, float, float]:
        """(step, epoch, split, name, value, wall): the order of the store's columns and of a bundle's lists."""
        return astuple(self)


EPOCH_NAMES = ("lr", "epoch_seconds", "images_per_sec")  # logged under split "train", named alone in epoch rows
HEALTH_SPLIT = "health"  # layer health (cnnkit.watch): most of a run's points, none of them a headline figure


def epoch_rows(points: Iterable[tuple]) -> list[dict[str, float]]:
    """One dict per finished epoch (one with a test accuracy) from (step, epoch, split, name, value, wall)
    points at whole epochs: ``epoch``, ``train_loss``, ``train_eval_acc``, ``test_acc``, …, ``lr``,
    ``epoch_seconds``, ``images_per_sec``."""
    rows: dict[int, dict[str, float]] = {}
    for _step, epoch, split, name, value, _wall in sorted(points, key=lambda p: p[0]):
        if float(epoch).is_integer():
            key = name if name in EPOCH_NAMES else f"{split}_{name}"
            rows.setdefault(int(epoch), {"epoch": int(epoch)})[key] = value
    return [row for _, row in sorted(rows.items()) if "test_acc" in row]


class Reporter:
    """Receives a run's events; subclass and override what you need (all methods are no-ops)."""

    def start(self, info: dict[str, Any]) -> None:
        """Once, before the first step: device, params, MACs, steps per epoch, total steps, the step it
        starts from (``start_step``, above 0 when it resumes from a checkpoint)."""

    def first_step(self) -> None:
        """Once, when this process has finished its first optimizer step (job-start latency)."""

    def log(self, points: list[MetricPoint]) -> None:
        """Every report (``reports_per_epoch`` per epoch) and at every epoch's end."""


class CallbackReporter(Reporter):
    """Calls ``callback(points)`` with every batch of metric points (the notebook-friendly reporter)."""

    def __init__(self, callback: Callable[[list[MetricPoint]], None]):
        self.callback = callback

    def log(self, points: list[MetricPoint]) -> None:
        self.callback(points)
