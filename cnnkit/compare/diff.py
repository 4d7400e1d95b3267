"""What changed between two runs or two groups of runs (A, the reference, and B): each class's test accuracy and
its change (with an interval when a side has several runs: ``judge.versus_baseline``, seed by seed where the
pairing rule holds), the change of the confusion matrix, and the test images that flipped.

A run's answers come from its saved test predictions (arrays of test-set index, true label and predicted label);
a run without them (imported from a bundle) gives only its confusion matrix, which is enough for everything but
the flips. Within a side, an image counts as right when more than half of the side's runs that tested it got it
right and as wrong when more than half got it wrong (one run: its answer); it flipped when it is right on one
side and wrong on the other, and each side shows its most frequent prediction. A group's per-class accuracy is
the mean of its runs'; runs tested on the same number of images per class (the stratified test subsets are),
the class changes weighted by class size add up to the change of the overall accuracy.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from cnnkit.experiments.judge import versus_baseline


@dataclass(frozen=True)
class Outcome:
    """One run's final test answers: its confusion matrix and, when saved, its predictions."""

    run_id: str
    seed: int | None
    confusion: np.ndarray  # (K, K) counts, rows the true class
    index: np.ndarray | None = None  # test-set positions
    label: np.ndarray | None = None
    pred: np.ndarray | None = None

    @property
    def has_predictions(self) -> bool:
        return self.index is not None


def from_predictions(run_id: str, seed: int | None, index: np.ndarray, label: np.ndarray, pred: np.ndarray,
                     num_classes: int) -> Outcome:
    k = num_classes
    confusion = np.bincount(label * k + pred, minlength=k * k).reshape(k, k)
    return Outcome(run_id, seed, confusion, np.asarray(index), np.asarray(label), np.asarray(pred))


def from_confusion(run_id: str, seed: int | None, matrix: list[list[int]]) -> Outcome:
    return Outcome(run_id, seed, np.asarray(matrix, dtype=np.int64))


@dataclass
class ClassChange:
    cls: int
    name: str
    size: float  # test images of the class per run (mean over A's runs)
    acc_a: float | None
    acc_b: float | None
    change: float | None  # acc_b − acc_a (means over each side's runs)
    low: float | None = None  # the interval of the change (several runs a side), within the possible −1…+1
    high: float | None = None
    paired: bool = False


@dataclass
class Flip:
    index: int  # test-set position
    label: int
    pred_a: int
    pred_b: int


@dataclass
class Diff:
    a: str
    b: str
    runs_a: list[str]
    runs_b: list[str]
    classes: list[str]
    acc_a: float
    acc_b: float
    per_class: list[ClassChange]
    confusion_a: list[list[float]]  # mean counts per run
    confusion_b: list[list[float]]
    to_wrong: list[Flip] | None  # right in A, wrong in B; None without predictions
    to_right: list[Flip] | None
    tested_both: int = 0  # images with an answer on both sides (0 without predictions)
    note: str = ""  # why there are no flips
    paired: bool = False
    pairing: str = ""

    @property
    def change(self) -> float:
        return self.acc_b - self.acc_a

    @property
    def confusion_change(self) -> list[list[float]]:
        return (np.asarray(self.confusion_b) - np.asarray(self.confusion_a)).tolist()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"change": self.change, "confusion_change": self.confusion_change}


@dataclass
class _Side:
    right: np.ndarray  # per test-set position: runs that got it right
    tested: np.ndarray  # runs that tested it
    mode: np.ndarray  # the most frequent prediction
    label: np.ndarray


def diff(a: list[Outcome], b: list[Outcome], classes: list[str], a_name: str = "A", b_name: str = "B",
         paired: bool = False, pairing: str = "") -> Diff:
    """B against A: per-class accuracy and its change, the confusion matrices, the flips."""
    if not a or not b:
        raise ValueError("diff needs at least one run a side")
    k = len(classes)
    per_a, per_b = np.stack([_class_acc(o.confusion) for o in a]), np.stack([_class_acc(o.confusion) for o in b])
    sizes = np.mean([o.confusion.sum(1) for o in a], axis=0)
    changes = []
    for c in range(k):
        acc_a, acc_b = _nanmean(per_a[:, c]), _nanmean(per_b[:, c])
        tested = versus_baseline({"A": _seeded(a, per_a[:, c]), "B": _seeded(b, per_b[:, c])}, "A", {"B": paired})
        vs = tested.get("B") or {}
        low, high = (None, None) if vs.get("low") is None else (max(-1.0, vs["low"]), min(1.0, vs["high"]))
        changes.append(ClassChange(c, classes[c], float(sizes[c]), acc_a, acc_b,
                                   None if acc_a is None or acc_b is None else acc_b - acc_a, low, high,
                                   bool(vs.get("paired"))))
    out = Diff(a_name, b_name, [o.run_id for o in a], [o.run_id for o in b], list(classes),
               float(np.mean([_accuracy(o.confusion) for o in a])), float(np.mean([_accuracy(o.confusion) for o in b])),
               changes, np.mean([o.confusion for o in a], axis=0).tolist(),
               np.mean([o.confusion for o in b], axis=0).tolist(), None, None, paired=paired, pairing=pairing)
    missing = [o.run_id for o in a + b if not o.has_predictions]
    if missing:
        out.note = (f"the flips need the saved test predictions, and run{'s' * (len(missing) > 1)} "
                    f"{', '.join(missing)} {'have' if len(missing) > 1 else 'has'} none (a run imported from a "
                    "bundle keeps only its confusion matrix)")
        return out
    size = 1 + max(int(o.index.max(initial=-1)) for o in a + b)
    side_a, side_b = _side(a, k, size), _side(b, k, size)
    both = (side_a.tested > 0) & (side_b.tested > 0)
    right_a, wrong_a = _majority(side_a), _majority(side_a, wrong=True)
    right_b, wrong_b = _majority(side_b), _majority(side_b, wrong=True)
    out.tested_both = int(both.sum())
    out.to_wrong = _flips(both & right_a & wrong_b, side_a, side_b)
    out.to_right = _flips(both & wrong_a & right_b, side_a, side_b)
    return out


def _class_acc(confusion: np.ndarray) -> np.ndarray:
    sizes = confusion.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(sizes > 0, np.diag(confusion) / np.maximum(sizes, 1), np.nan)


def _accuracy(confusion: np.ndarray) -> float:
    return float(np.trace(confusion) / max(1, confusion.sum()))


def _nanmean(values: np.ndarray) -> float | None:
    kept = values[~np.isnan(values)]
    return float(kept.mean()) if kept.size else None


def _seeded(outcomes: list[Outcome], values: np.ndarray) -> dict[Any, float]:
    """{seed: value} for versus_baseline; a repeated seed is keyed by its run so that no value is lost."""
    out: dict[Any, float] = {}
    for outcome, value in zip(outcomes, values):
        if not np.isnan(value):
            out[outcome.seed if outcome.seed not in out else (outcome.seed, outcome.run_id)] = float(value)
    return out


def _side(outcomes: list[Outcome], k: int, size: int) -> _Side:
    """Per test-set position below ``size``: how many of the side's runs tested it and got it right, and their
    most frequent answer."""
    index = np.concatenate([o.index for o in outcomes]).astype(np.int64)
    label = np.concatenate([o.label for o in outcomes]).astype(np.int64)
    pred = np.concatenate([o.pred for o in outcomes]).astype(np.int64)
    right = np.bincount(index, weights=(label == pred), minlength=size)
    tested = np.bincount(index, minlength=size)
    votes = np.bincount(index * k + pred, minlength=size * k).reshape(size, k)
    truth = np.zeros(size, dtype=np.int64)
    truth[index] = label
    return _Side(right, tested, votes.argmax(1), truth)


def _majority(side: _Side, wrong: bool = False) -> np.ndarray:
    count = side.tested - side.right if wrong else side.right
    return 2 * count > side.tested


def _flips(mask: np.ndarray, a: _Side, b: _Side) -> list[Flip]:
    """The positions of ``mask``, in test-set order."""
    return [Flip(int(i), int(a.label[i]), int(a.mode[i]), int(b.mode[i])) for i in np.flatnonzero(mask)]
