"""cnnkit.views.diff: the sides of a diff (run ids, groups, Compare's levels), each run's answers from its saved
predictions or its confusion matrix, and the flipped images; one-line errors for what cannot be diffed."""
from __future__ import annotations

import numpy as np
import pytest
from support.verdict_data import confusion, finished, save_predictions

from cnnkit.compare.grouping import group_values
from cnnkit.config import RunConfig
from cnnkit.errors import ConfigError, StoreError
from cnnkit.store import Store
from cnnkit.views import diff as view

LABEL = np.arange(200) % 10


def run_with(store: Store, pred: np.ndarray, seed: int = 0, group: str | None = None, saved: bool = True,
             **changes) -> str:
    run_id = finished(store, RunConfig(seed=seed, epochs=1, **changes), float((pred == LABEL).mean()), group,
                      summary={"confusion": confusion(LABEL, pred)})
    if saved:
        save_predictions(store, run_id, LABEL, pred)
    return run_id


def test_two_runs_with_saved_predictions_give_their_flips(store: Store) -> None:
    pred_b = LABEL.copy()
    pred_b[[4, 9]] = 0
    a, b = run_with(store, LABEL.copy()), run_with(store, pred_b, seed=1)
    result = view.build(store, [store.get(a)], [store.get(b)], a, b)
    assert [(f.index, f.label, f.pred_a, f.pred_b) for f in result.to_wrong] == [(4, 4, 4, 0), (9, 9, 9, 0)]
    assert result.to_right == [] and result.acc_a == 1.0 and result.change == pytest.approx(-0.01)
    assert not result.paired and result.pairing == "", "two single runs: no interval, no pairing"


def test_groups_are_paired_by_the_rule_and_give_intervals(store: Store) -> None:
    rng = np.random.default_rng(0)
    a = [run_with(store, np.where(rng.random(200) < 0.2, 0, LABEL), seed=s) for s in range(3)]
    b = [run_with(store, np.where(rng.random(200) < 0.1, 0, LABEL), seed=s, lr=0.3) for s in range(3)]
    result = view.build(store, store.list_runs(ids=a), store.list_runs(ids=b))
    assert result.paired and result.pairing.startswith("paired")
    assert all(c.low is not None for c in result.per_class if c.cls != 0)


def test_a_run_without_predictions_is_diffed_by_its_confusion_matrix_and_says_why_there_are_no_flips(
        store: Store) -> None:
    a = run_with(store, LABEL.copy())
    b = run_with(store, np.where(LABEL == 2, 3, LABEL), seed=1, saved=False)
    result = view.build(store, [store.get(a)], [store.get(b)])
    assert result.to_wrong is None and f"run {b} has none" in result.note
    assert result.per_class[2].change == -1.0 and result.change == pytest.approx(-0.1)


def test_a_run_with_neither_predictions_nor_a_confusion_matrix_is_a_one_line_error(store: Store) -> None:
    a = run_with(store, LABEL.copy())
    failed = finished(store, RunConfig(epochs=1), status="failed")
    with pytest.raises(StoreError, match=rf"^run {failed} \(failed\) has neither saved test predictions nor a "
                                         "confusion matrix"):
        view.build(store, [store.get(a)], [store.get(failed)])


def test_runs_on_different_datasets_are_refused(store: Store) -> None:
    a = run_with(store, LABEL.copy())
    b = finished(store, RunConfig(epochs=1, dataset="mnist"))
    with pytest.raises(ConfigError, match="^diff: the runs test on fashion-mnist and mnist"):
        view.build(store, [store.get(a)], [store.get(b)])


def test_a_side_is_a_run_id_or_a_group_with_finished_runs(store: Store) -> None:
    group = store.create_group("sweep", "g", {})
    done = run_with(store, LABEL.copy(), group=group)
    store.create_runs([RunConfig(epochs=1)], group)
    assert view.side(store, done) == (done, [store.get(done)])
    name, runs = view.side(store, group)
    assert name == group and [r.id for r in runs] == [done], "queued runs are left out"
    with pytest.raises(StoreError, match="^no run deadbeef in "):
        view.side(store, "deadbeef")
    with pytest.raises(StoreError, match="^no run or group 'nothing' in "):
        view.side(store, "nothing")
    empty = store.create_group("sweep", "empty", {})
    with pytest.raises(StoreError, match=f"^group {empty} has no finished run to compare$"):
        view.side(store, empty)


def test_compares_levels_and_finished_runs_are_the_sides_it_offers(store: Store) -> None:
    ids = [run_with(store, LABEL.copy(), seed=s, lr=lr) for lr in (0.1, 0.3) for s in range(2)]
    store.create_runs([RunConfig(epochs=1, lr=0.3)])
    frame = store.runs_frame()
    groups = group_values(frame, "cfg.lr")
    offered = view.options(frame, groups)
    assert list(offered)[:2] == ["level:lr=0.1", "level:lr=0.3"] and offered["level:lr=0.3"].endswith("2 finished runs")
    assert sorted(k for k in offered if k.startswith("run:")) == sorted(f"run:{i}" for i in ids)
    name, runs = view.resolve(store, "level:lr=0.3", groups)
    assert name == "lr=0.3" and sorted(r.id for r in runs) == sorted(ids[2:])
    assert view.resolve(store, f"run:{ids[0]}", groups)[1][0].id == ids[0]
    assert all(not k.startswith("level:") for k in view.options(frame, group_values(frame, "")))


def test_flip_grid_shows_both_answers_one_of_them_the_true_class() -> None:
    from cnnkit.compare.diff import Flip

    test_x = np.arange(5 * 4, dtype=np.uint8).reshape(5, 1, 2, 2)
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat"]
    images, titles = view.flip_grid(test_x, [Flip(3, 4, 4, 2), Flip(1, 1, 0, 1), Flip(0, 0, 0, 3)], classes, limit=2)
    assert images.shape == (2, 1, 2, 2) and images[0].tolist() == test_x[3].tolist()
    assert titles == ["Coat→Pullover", "T-shirt/top→Trouser"]
