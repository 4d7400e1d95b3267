"""compare.grouping: differing fields, group labels in their natural order, explicit levels, legend labels."""
from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from cnnkit.compare.filtering import filter_runs
from cnnkit.compare.grouping import (
    differing_columns,
    group_order,
    group_values,
    groupable_fields,
    is_grouped,
    labelled_groups,
    run_labels,
)
from cnnkit.compare.urlstate import Selection
from cnnkit.config import RunConfig
from cnnkit.store import Store


def test_group_values_and_groupable_fields(sweep_store: tuple[Store, str]) -> None:
    store, group = sweep_store
    frame = filter_runs(store.runs_frame(), Selection(groups=[group]))
    groups = group_values(frame, "cfg.lr")
    assert set(groups.values) == {"lr=0.1", "lr=0.5"}
    assert groupable_fields(frame) == ["cfg.lr", "cfg.seed"]
    assert sorted(differing_columns(frame)) == ["cfg.lr", "cfg.seed"]
    assert not is_grouped(group_values(frame, "")) and is_grouped(groups)


def test_groups_follow_the_values_natural_order(store: Store, add_finished: Callable[..., str]) -> None:
    for lr in (10.0, 2.0, 0.5):
        add_finished(RunConfig(lr=lr), f"lr={lr}")
    groups = group_values(store.runs_frame(), "cfg.lr")
    assert group_order(groups) == ["lr=0.5", "lr=2", "lr=10"]


def test_labelled_groups_keep_the_given_order() -> None:
    custom = labelled_groups({"a1": "b", "a2": "a", "a3": "b"}, ["c", "b", "a"])
    assert group_order(custom) == ["b", "a"] and custom["a2"] == "a"
    assert group_order(labelled_groups({"a1": "y", "a2": "x"})) == ["y", "x"]  # no order: first seen first
    assert group_order(pd.Series({"a1": "y", "a2": "x"})) == ["x", "y"]


def test_run_labels_add_the_id_where_names_repeat() -> None:
    frame = pd.DataFrame({"id": ["aaaaaaaa", "bbbbbbbb", "cccccccc"], "name": ["lenet", "lenet", "mlp"]})
    assert run_labels(frame) == {"aaaaaaaa": "lenet [aaaaaaaa]", "bbbbbbbb": "lenet [bbbbbbbb]", "cccccccc": "mlp"}
