"""The result table (one row per run: identity, the config that differs, results, costs) and its per-group summary."""
from __future__ import annotations

import numpy as np
import pandas as pd

from cnnkit.compare.grouping import differing_columns, is_grouped
from cnnkit.compare.values import is_number
from cnnkit.text import is_missing, value_text

IDENTITY_COLUMNS = ("id", "name", "status", "model", "dataset")
# result column → the runs_frame column it comes from
RESULT_SOURCES = {"final_test_acc": "test_acc", "best_test_acc": "best_test_acc", "final_train_loss": "train_loss",
                  "final_train_acc": "train_acc", "final_train_eval_acc": "train_eval_acc", "params": "params",
                  "macs": "macs", "train_seconds": "train_seconds", "images_per_sec": "images_per_sec",
                  # the job's own cost (split "system"; runs from before it or imported without it: empty)
                  "cpu_percent_avg": "system_cpu_percent_avg", "rss_peak_mib": "system_rss_peak_mib",
                  "gpu_mem_peak_mib": "system_gpu_mem_peak_mib"}
RESULT_COLUMNS = tuple(RESULT_SOURCES)


def result_table(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per run: identity, the config columns that differ, then results and costs."""
    if frame.empty:
        return pd.DataFrame(columns=[*IDENTITY_COLUMNS, *RESULT_COLUMNS])
    out = frame[list(IDENTITY_COLUMNS)].copy()
    for column in differing_columns(frame):
        if column not in ("cfg.model", "cfg.dataset"):  # the model and dataset columns already say it
            out[column.removeprefix("cfg.")] = config_column(frame[column])
    for column, source in RESULT_SOURCES.items():
        values = frame[source] if source in frame.columns else pd.Series(np.nan, index=frame.index)
        out[column] = pd.to_numeric(values, errors="coerce")
    return out.reset_index(drop=True)


def config_column(values: pd.Series) -> pd.Series:
    """A config column for the table: numeric when every value is a number, else text throughout
    (mixed columns would not survive Arrow, CSV round trips or sorting)."""
    present = [v for v in values if not is_missing(v)]
    if present and all(is_number(v) for v in present):
        return pd.to_numeric(values, errors="coerce")
    return values.map(lambda v: "" if is_missing(v) else value_text(v)).astype(object)


def group_summary(table: pd.DataFrame, groups: pd.Series) -> pd.DataFrame:
    """Per group: runs, mean ± std of final and best test accuracy, mean params/MACs/time."""
    if table.empty or groups.empty or not is_grouped(groups):
        return pd.DataFrame()
    t = table.assign(_group=table["id"].map(groups))
    agg = t.groupby("_group", sort=True, observed=True).agg(
        runs=("id", "count"),
        final_test_acc_mean=("final_test_acc", "mean"), final_test_acc_std=("final_test_acc", "std"),
        best_test_acc_mean=("best_test_acc", "mean"), best_test_acc_std=("best_test_acc", "std"),
        params=("params", "mean"), macs=("macs", "mean"), train_seconds=("train_seconds", "mean"))
    out = agg.reset_index().rename(columns={"_group": "group"})
    out["group"] = out["group"].astype(str)
    return out
