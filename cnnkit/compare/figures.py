"""The compare page's figures: the training curves (one line per run, or group means with a
± std band over faint members) and final test accuracy against a cost."""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import pandas as pd

from cnnkit import d2l, plots
from cnnkit.compare.bands import mean_band, smooth
from cnnkit.compare.grouping import group_order, is_grouped, run_labels
from cnnkit.compare.urlstate import SCATTER_X, X_AXES, Selection
from cnnkit.text import is_missing, value_text

METRICS = (("train", "loss"), ("train", "acc"), ("train_eval", "acc"), ("test", "loss"), ("test", "acc"))
METRIC_KEYS = tuple(f"{split}_{name}" for split, name in METRICS)
# d2l's training figures are running means over the epoch in training mode (dropout on, augmented images); the
# evaluated train accuracy is measured like the test accuracy, so the two can be compared.
METRIC_TITLES = {"train_loss": "train loss (running, training mode: d2l's)",
                 "train_acc": "train accuracy (running, training mode: d2l's)",
                 "train_eval_acc": "train accuracy, evaluated like test (eval mode, no augmentation)",
                 "test_loss": "test loss", "test_acc": "test accuracy"}
X_COLUMN = {"epoch": "epoch", "step": "step", "wall": "wall"}  # the metrics frame's column of each x axis
NO_COLOR = "#999999"


def curve_figures(runs: pd.DataFrame, metrics: pd.DataFrame, sel: Selection, groups: pd.Series
                  ) -> dict[str, Any]:
    """"train_loss" … → its plotly Figure, with d2l's results as stars when the selection asks for them."""
    series = curve_series(runs, metrics, sel, groups)
    reference = reference_points(runs) if sel.reference and not runs.empty and sel.x == "epoch" else []
    figures = {}
    for split, name in METRICS:
        key = f"{split}_{name}"
        points = [{"label": p["label"], "x": p["epoch"], "value": p["value"]} for p in reference if p["metric"] == key]
        figures[key] = plots.curves(series[key], METRIC_TITLES[key], X_AXES[sel.x], name,
                                    log_y=sel.log_y, reference=points)
    return figures


def curve_series(runs: pd.DataFrame, metrics: pd.DataFrame, sel: Selection, groups: pd.Series,
                 keys: Iterable[str] = METRIC_KEYS) -> dict[str, list[plots.Series]]:
    """Per metric ("train_loss", … or other ``keys`` "split_name"), the lines to draw: one per run,
    or faint members + group means."""
    out: dict[str, list[plots.Series]] = {key: [] for key in keys}
    if runs.empty or metrics.empty:
        return out
    labels = run_labels(runs)
    grouped = is_grouped(groups)
    group_names = group_order(groups) if grouped else []
    group_color = {g: plots.color(i) for i, g in enumerate(group_names)}
    run_color = {rid: plots.color(i) for i, rid in enumerate(runs["id"])}
    starts = metrics.groupby("run_id")["wall"].min() if sel.x == "wall" else None
    x_all = metrics[X_COLUMN[sel.x]].to_numpy(dtype=float)
    y_all = metrics["value"].to_numpy(dtype=float)
    for rid, key, part in _curve_slices(metrics):
        if key not in out:
            continue
        x = x_all[part] - (starts[rid] if starts is not None else 0.0)
        y = smooth(y_all[part], sel.smoothing)
        if grouped:
            g = groups.get(rid, "")
            g = "" if is_missing(g) else g
            out[key].append(plots.Series(labels.get(rid, rid), x, y, group_color.get(g, NO_COLOR), width=1,
                                         opacity=0.25, legend_group=g, show_legend=False, hover=g))
        else:
            out[key].append(plots.Series(labels.get(rid, rid), x, y, run_color.get(rid, NO_COLOR),
                                         hover=f"run {rid}"))
    if grouped:
        for key, members in out.items():
            out[key] = members + _group_means(members, group_names, group_color)
    return out


def _group_means(members: list[plots.Series], group_names: list[str], group_color: dict[str, str]
                 ) -> list[plots.Series]:
    """One mean line with a ± std band per group that has members."""
    means = []
    for g in group_names:
        mine = [(s.x, s.y) for s in members if s.legend_group == g]
        if not mine:
            continue
        gx, mean, std, _ = mean_band(mine)
        means.append(plots.Series(f"{g} (n={len(mine)})", gx, mean, group_color[g], width=2.5, low=mean - std,
                                  high=mean + std, legend_group=g))
    return means


def scatter_figure(table: pd.DataFrame, groups: pd.Series, x: str = "params") -> Any:
    """Final test accuracy against params / MACs / training time, one colour per group."""
    points = []
    for row in table.itertuples(index=False):
        xv, yv = getattr(row, x, None), row.final_test_acc
        if xv is None or yv is None or pd.isna(xv) or pd.isna(yv) or xv <= 0:
            continue
        group = groups.get(row.id, "") if len(groups) else ""
        points.append({"x": float(xv), "y": float(yv), "label": f"{row.name} [{row.id}]",
                       "group": row.model if is_missing(group) or group == "" else group})
    return plots.scatter(points, "x", "y", SCATTER_X.get(x, x), "final test accuracy",
                         title=f"test accuracy vs {SCATTER_X.get(x, x)}")


def reference_points(runs: pd.DataFrame) -> list[dict[str, Any]]:
    """d2l's results for the architectures (with the options) of ``runs``."""
    models = [(m, opts) for m in runs["model"].unique() for opts in model_options(runs, m)]
    return d2l.overlay_points(models)


def model_options(runs: pd.DataFrame, model: str) -> list[dict[str, Any]]:
    """The distinct model_options of ``model``'s runs (from the cfg.model.* columns)."""
    cols = [c for c in runs.columns if c.startswith("cfg.model.")]
    seen, out = set(), []
    for _, row in runs[runs["model"] == model].iterrows():
        opts = {c.removeprefix("cfg.model."): row[c] for c in cols if not is_missing(row[c])}
        key = tuple(sorted((k, value_text(v)) for k, v in opts.items()))
        if key not in seen:
            seen.add(key)
            out.append(opts)
    return out


def _curve_slices(metrics: pd.DataFrame) -> Iterator[tuple[str, str, slice]]:
    """The (run, "split_name") curves of a frame sorted by run_id, split, name, step, as index slices:
    no pandas object per curve, which is what keeps 200 runs × 4 curves fast."""
    run = metrics["run_id"].to_numpy()
    key = (metrics["split"] + "_" + metrics["name"]).to_numpy()
    change = np.flatnonzero((run[1:] != run[:-1]) | (key[1:] != key[:-1])) + 1
    bounds = np.concatenate(([0], change, [len(run)]))
    for start, end in zip(bounds[:-1], bounds[1:]):
        yield run[start], key[start], slice(start, end)
