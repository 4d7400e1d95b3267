"""Everything the compare page draws, built without Streamlit so that it can be tested and timed
(``python -m cnnkit bench --sections jobs`` reports its time with 200 runs × 50 epochs in the store)."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pandas as pd

from cnnkit.compare.figures import METRICS, curve_figures, scatter_figure
from cnnkit.compare.filtering import filter_runs, select
from cnnkit.compare.grouping import group_values, groupable_fields
from cnnkit.compare.results import group_summary, result_table
from cnnkit.compare.urlstate import Selection
from cnnkit.store import Store

MAX_POINTS = 200  # per curve: 200 runs × 4 curves × 200 points plots in well under a second


@dataclass
class CompareView:
    runs: pd.DataFrame  # the selected rows of runs_frame
    table: pd.DataFrame  # result_table of them
    groups: pd.Series  # run id → group label ("" when not grouped)
    summary: pd.DataFrame  # group_summary (empty when not grouped)
    curves: dict[str, Any]  # "train_loss" … → plotly Figure
    scatter: Any  # plotly Figure
    groupable: list[str]
    points: int  # metric points read from the store
    seconds: float  # time it took to build


def build_view(store: Store, sel: Selection, max_points: int = MAX_POINTS,
               frame: pd.DataFrame | None = None, groups: pd.Series | None = None) -> CompareView:
    """Read, filter, thin, smooth, group and draw. ``frame`` (runs_frame rows) skips the store query
    for runs; ``groups`` (run id → label, e.g. ``labelled_groups`` of an experiment's levels) replaces
    group_by."""
    t0 = time.perf_counter()
    runs = select(store, sel) if frame is None else filter_runs(frame, sel)
    table = result_table(runs)
    groupable = groupable_fields(runs) if not runs.empty else []
    if groups is None:
        group_by = sel.group_by if sel.group_by in runs.columns else ""
        groups = group_values(runs, group_by) if not runs.empty else pd.Series(dtype=object)
    metrics = store.metrics(list(runs["id"]) if not runs.empty else [], split=sorted({s for s, _ in METRICS}),
                            names=("loss", "acc"), max_points=max_points)  # the curves' splits: no health read
    curves = curve_figures(runs, metrics, sel, groups)
    scatter = scatter_figure(table, groups, sel.scatter_x)
    return CompareView(runs, table, groups, group_summary(table, groups), curves, scatter, groupable,
                       len(metrics), time.perf_counter() - t0)
