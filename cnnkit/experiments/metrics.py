"""The quantities a claim can be about, read from a finished run the same way wherever the run comes from.

Accuracies and the gap are fractions (shown in percentage points); throughput and time are compared as
ratios, on the log scale, because their spread grows with their size. The gap is train accuracy *evaluated
like the test accuracy* (eval mode, no augmentation, a fixed sample of training images as large as the test
evaluation) minus test accuracy: d2l's running training figure sees dropout and augmentation, which shrinks the
gap by construction.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RunRecord:
    """One run as the analysis needs it, whether it comes from a store or from a bundle."""

    id: str
    origin: str | None  # the id it had before an import
    name: str
    status: str
    config: dict[str, Any]
    summary: dict[str, Any]
    error: str | None
    started_at: float | None
    finished_at: float | None
    device: str | None
    final: dict[str, float]  # the last epoch's train/train_eval/test loss and acc
    epochs: tuple[dict[str, float], ...] = ()  # per epoch: epoch, test_acc, …, epoch_seconds
    health: tuple[tuple[int, float, str, float], ...] = ()  # (step, epoch, name, value) of split "health", if read

    @property
    def seed(self) -> int | None:
        return self.config.get("seed")


@dataclass(frozen=True)
class Metric:
    key: str
    title: str  # "final test accuracy"
    higher_is_better: bool = True
    ratio: bool = False  # compared as log ratios, shown as "×1.15"
    at_chance_when_diverged: bool = False  # a diverged run counts at chance (accuracies), else it has no value

    def value(self, run: RunRecord) -> float | None:
        raw = _READERS[self.key](run)
        if raw is None or not math.isfinite(raw) or (self.ratio and raw <= 0):
            return None
        return math.log(raw) if self.ratio else float(raw)

    def show(self, x: float) -> str:
        """A value on the compared scale as a reader wants it: "87.3 %", "×1.15" (from a log ratio), "12,000 /s"."""
        if self.ratio:
            return f"{math.exp(x):,.0f}{self.unit}"
        return f"{100 * x:.1f} %" if self.fraction else f"{x:.3g}"

    def show_diff(self, d: float) -> str:
        """A difference: "+2.3 points", "×0.85"."""
        if self.ratio:
            return f"×{math.exp(d):.2f}"
        return f"{100 * d:+.1f} points" if self.fraction else f"{d:+.3g}"

    def show_band(self, effect: float) -> str:
        """The smallest effect of interest as a band around no difference: "±1 point", "×0.91 to ×1.10"."""
        if self.ratio:
            return f"×{math.exp(-effect):.2f} to ×{math.exp(effect):.2f}"
        return f"±{100 * effect:g} point{'s' * (100 * effect != 1)}" if self.fraction else f"±{effect:g}"

    @property
    def fraction(self) -> bool:
        return self.key in FRACTIONS

    @property
    def unit(self) -> str:
        return {"images_per_sec": " images/s", "wall_seconds": " s", "train_seconds": " s"}.get(self.key, "")


def _final(key: str):
    return lambda run: run.final.get(key)


def _gap(run: RunRecord) -> float | None:
    train, test = run.final.get("train_eval_acc"), run.final.get("test_acc")
    return None if train is None or test is None else train - test


def _wall(run: RunRecord) -> float | None:
    return run.finished_at - run.started_at if run.finished_at and run.started_at else None


_READERS = {
    "test_acc": _final("test_acc"),
    "best_test_acc": lambda run: (run.summary.get("best") or {}).get("test_acc"),
    "train_eval_acc": _final("train_eval_acc"),
    "train_acc": _final("train_acc"),
    "gap": _gap,
    "test_loss": _final("test_loss"),
    "images_per_sec": lambda run: run.summary.get("images_per_sec"),
    "train_seconds": lambda run: run.summary.get("train_seconds"),
    "wall_seconds": _wall,
}
FRACTIONS = ("test_acc", "best_test_acc", "train_eval_acc", "train_acc", "gap")

METRICS: dict[str, Metric] = {m.key: m for m in (
    Metric("test_acc", "final test accuracy", at_chance_when_diverged=True),
    Metric("best_test_acc", "best test accuracy over the epochs", at_chance_when_diverged=True),
    Metric("train_eval_acc", "train accuracy, evaluated like the test accuracy", at_chance_when_diverged=True),
    Metric("train_acc", "train accuracy, the running mean in training mode (d2l's)"),
    Metric("gap", "train − test accuracy gap (train evaluated like test)", higher_is_better=False),
    Metric("test_loss", "final test loss", higher_is_better=False),
    Metric("images_per_sec", "training throughput", ratio=True),
    Metric("train_seconds", "training time per run", higher_is_better=False, ratio=True),
    Metric("wall_seconds", "wall time per run", higher_is_better=False, ratio=True),
)}


def get(key: str) -> Metric:
    if key not in METRICS:
        from cnnkit.errors import ConfigError

        raise ConfigError("metric", f"must be one of {', '.join(METRICS)}, got {key!r}")
    return METRICS[key]


def time_to(run: RunRecord, target: float) -> float | None:
    """Training seconds until the test accuracy first reached ``target`` (epoch ends only); None if never."""
    seconds = 0.0
    for row in run.epochs:
        seconds += row.get("epoch_seconds") or 0.0
        if (row.get("test_acc") or 0.0) >= target:
            return seconds
    return None
