"""cnnkit.compare.diff: per-class change, the confusion change and the flipped test images between two runs or
two groups of runs."""
from __future__ import annotations

import numpy as np
import pytest

from cnnkit.compare.diff import diff, from_confusion, from_predictions

CLASSES = [f"c{i}" for i in range(10)]
LABEL = np.arange(1000) % 10  # 100 test images per class


def answers(rng: np.random.Generator, right: float, label: np.ndarray = LABEL) -> np.ndarray:
    """Predictions that are right with probability ``right`` (else another class)."""
    wrong = rng.random(len(label)) > right
    return np.where(wrong, (label + rng.integers(1, 10, len(label))) % 10, label)


def outcome(run_id: str, pred: np.ndarray, seed: int = 0, label: np.ndarray = LABEL, index: np.ndarray | None = None):
    return from_predictions(run_id, seed, np.arange(len(label)) if index is None else index, label, pred, 10)


def test_a_run_diffed_with_itself_has_no_flips_and_no_change() -> None:
    run = outcome("a", answers(np.random.default_rng(0), 0.8))
    result = diff([run], [run], CLASSES)
    assert result.to_wrong == [] and result.to_right == [] and result.tested_both == 1000
    assert result.change == 0 and all(c.change == 0 for c in result.per_class)
    assert not np.any(result.confusion_change)


def test_planted_flips_are_counted_exactly_with_both_answers() -> None:
    pred_a = LABEL.copy()
    pred_a[[3, 17, 400]] = (LABEL[[3, 17, 400]] + 1) % 10  # A wrong on 3 images
    pred_b = pred_a.copy()
    pred_b[[3, 17]] = LABEL[[3, 17]]  # B gets 2 of them right …
    pred_b[[5, 6, 7, 999]] = (LABEL[[5, 6, 7, 999]] + 2) % 10  # … and 4 others wrong
    result = diff([outcome("a", pred_a)], [outcome("b", pred_b)], CLASSES)
    assert [(f.index, f.label, f.pred_a, f.pred_b) for f in result.to_right] == [(3, 3, 4, 3), (17, 7, 8, 7)]
    assert [f.index for f in result.to_wrong] == [5, 6, 7, 999]
    assert result.to_wrong[0].pred_a == 5 and result.to_wrong[0].pred_b == 7
    assert result.change == pytest.approx((2 - 4) / 1000)


def test_per_class_changes_weighted_by_class_size_add_up_to_the_overall_change() -> None:
    rng = np.random.default_rng(1)
    label = np.repeat(np.arange(10), np.arange(10, 110, 10))  # classes of 10 … 100 images
    a = [outcome(f"a{s}", answers(rng, 0.7, label), s, label) for s in range(3)]
    b = [outcome(f"b{s}", answers(rng, 0.8, label), s, label) for s in range(4)]
    result = diff(a, b, CLASSES)
    weighted = sum(c.size * c.change for c in result.per_class) / sum(c.size for c in result.per_class)
    assert weighted == pytest.approx(result.change)
    assert result.change == pytest.approx(np.mean([(o.pred == label).mean() for o in b])
                                          - np.mean([(o.pred == label).mean() for o in a]))
    assert all(c.low is not None and -1 <= c.low <= c.change <= c.high <= 1 for c in result.per_class)


def test_within_a_group_an_image_is_right_or_wrong_by_the_majority_of_the_runs_that_tested_it() -> None:
    label = np.zeros(4, dtype=np.int64)
    a = [outcome("a1", np.array([0, 0, 1, 1]), 1, label), outcome("a2", np.array([0, 2, 1, 0]), 2, label),
         outcome("a3", np.array([0, 2, 2, 1]), 3, label)]
    b = [outcome("b1", np.array([1, 0, 0, 1]), 1, label)]
    result = diff(a, b, CLASSES)
    # image 0: right in A (3 of 3), wrong in B; image 1: A wrong 2 of 3 (answer 2), B right; image 2: A wrong, B right
    assert [(f.index, f.pred_a, f.pred_b) for f in result.to_wrong] == [(0, 0, 1)]
    assert [(f.index, f.pred_a, f.pred_b) for f in result.to_right] == [(1, 2, 0), (2, 1, 0)]


def test_only_images_both_sides_tested_can_flip() -> None:
    a = outcome("a", np.array([0, 0, 0]), label=np.array([0, 0, 0]), index=np.array([0, 1, 2]))
    b = outcome("b", np.array([1, 1]), label=np.array([0, 0]), index=np.array([2, 3]))
    result = diff([a], [b], CLASSES)
    assert result.tested_both == 1 and [f.index for f in result.to_wrong] == [2]


def test_runs_without_predictions_give_the_per_class_change_and_say_why_there_are_no_flips() -> None:
    pred = answers(np.random.default_rng(2), 0.8)
    matrix = np.bincount(LABEL * 10 + pred, minlength=100).reshape(10, 10).tolist()
    with_predictions = outcome("a", pred)
    result = diff([with_predictions], [from_confusion("b", 0, matrix)], CLASSES)
    assert result.to_wrong is None and result.to_right is None and result.change == 0
    assert "run b has none" in result.note and "bundle" in result.note
    assert result.per_class == diff([with_predictions], [with_predictions], CLASSES).per_class


def test_to_dict_holds_the_change_and_the_confusion_change() -> None:
    a, b = outcome("a", LABEL.copy()), outcome("b", np.where(LABEL == 3, 4, LABEL))
    out = diff([a], [b], CLASSES, "first", "second").to_dict()
    assert (out["a"], out["b"], out["change"]) == ("first", "second", pytest.approx(-0.1))
    assert out["confusion_change"][3][3] == -100 and out["confusion_change"][3][4] == 100
    assert len(out["to_wrong"]) == 100 and out["per_class"][3]["change"] == -1.0
