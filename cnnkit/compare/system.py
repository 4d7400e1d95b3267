"""The system metrics of runs (split "system": CPU, memory, GPU) as curves, one figure per metric,
drawn like the training curves (one line per run, or group means with ± std bands)."""
from __future__ import annotations

from typing import Any

import pandas as pd

from cnnkit import plots
from cnnkit.compare.figures import curve_series
from cnnkit.compare.urlstate import X_AXES, Selection
from cnnkit.jobs.system_metrics import CPU_METRICS, CUDA_METRICS, NVML_METRICS, SPLIT, TITLES
from cnnkit.store import Store

PLOTTED = tuple(n for n in (*CPU_METRICS, *CUDA_METRICS, *NVML_METRICS) if n != "cpu_percent_avg")  # a running mean
MAX_POINTS = 200


def system_figures(store: Store, runs: pd.DataFrame, sel: Selection, groups: pd.Series | None = None,
                   max_points: int = MAX_POINTS) -> dict[str, Any]:
    """metric name → plotly Figure for the system metrics that ``runs`` (runs_frame rows) recorded;
    empty when none did (runs from before system metrics, or imported without them)."""
    ids = list(runs["id"]) if not runs.empty else []
    metrics = store.metrics(ids, split=SPLIT, names=PLOTTED, max_points=max_points)
    present = set(metrics["name"])
    names = [n for n in PLOTTED if n in present]
    series = curve_series(runs, metrics, sel, groups if groups is not None else pd.Series(dtype=object),
                          keys=[f"{SPLIT}_{n}" for n in names])
    return {n: plots.curves(series[f"{SPLIT}_{n}"], TITLES[n], X_AXES[sel.x], n, height=300) for n in names}
