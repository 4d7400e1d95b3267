"""compare.results: the result table and the per-group summary."""
from __future__ import annotations

import pandas as pd
import pytest

from cnnkit.compare.filtering import filter_runs
from cnnkit.compare.grouping import group_values, labelled_groups
from cnnkit.compare.results import RESULT_COLUMNS, config_column, group_summary, result_table
from cnnkit.compare.urlstate import Selection
from cnnkit.store import Store


def test_result_table_shows_only_differing_config_columns(sweep_store: tuple[Store, str]) -> None:
    store, group = sweep_store
    frame = filter_runs(store.runs_frame(), Selection(groups=[group]))
    table = result_table(frame)
    config_cols = [c for c in table.columns if c not in ("id", "name", "status", "model", "dataset", *RESULT_COLUMNS)]
    assert sorted(config_cols) == ["lr", "seed"]
    assert table["lr"].dtype.kind == "f" and table["best_test_acc"].notna().all()
    assert table["final_test_acc"].tolist() == pytest.approx(table["best_test_acc"].tolist())
    mixed = result_table(store.runs_frame())  # lenet and mlp: the model column says it, no cfg.model
    assert "lr" in mixed.columns and "model" in mixed.columns and "cfg.model" not in mixed.columns


def test_result_table_of_no_runs_has_the_columns(store: Store) -> None:
    assert list(result_table(store.runs_frame()).columns) == ["id", "name", "status", "model", "dataset",
                                                              *RESULT_COLUMNS]


def test_config_columns_are_numeric_or_text_throughout() -> None:
    assert config_column(pd.Series([1, 2.5, None])).dtype.kind == "f"
    assert config_column(pd.Series([True, None, (6, 16), 0.5])).tolist() == ["true", "", "6,16", "0.5"]


def test_group_summary(sweep_store: tuple[Store, str]) -> None:
    store, group = sweep_store
    frame = filter_runs(store.runs_frame(), Selection(groups=[group]))
    summary = group_summary(result_table(frame), group_values(frame, "cfg.lr"))
    assert summary["runs"].tolist() == [2, 2]
    assert summary["final_test_acc_mean"].tolist() == pytest.approx([0.655, 0.855])
    assert group_summary(result_table(frame), group_values(frame, "")).empty, "not grouped: no summary"
    ids = list(frame["id"])
    levels = labelled_groups({ids[0]: "b", ids[1]: "a", ids[2]: "b"}, ["b", "a"])
    assert group_summary(result_table(frame), levels)["group"].tolist() == ["b", "a"]
