"""Layer health as layer × time heatmaps: one run on the Runs page, two runs side by side on Compare, on one
colour scale, so that the sigmoid LeNet's starving first layer shows next to the ReLU net's."""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from cnnkit import plots
from cnnkit.insight import health
from cnnkit.store import Store
from cnnkit.watch.names import LAYER_QUANTITIES, LOG_SCALE, PROBE_PER_CLASS, SATURATION_MARGIN, TITLES

NO_HEALTH = ("No layer health recorded: runs trained before it was recorded, and runs imported without it, "
             "have none.")


MEANINGS = {
    "grad_norm": "the norm of the last step's gradient",
    "weight_norm": "the norm of the weights",
    "update_ratio": "the last step's update against the weights, ‖Δw‖ / ‖w‖",
    "dead": "the share of a ReLU's units (channels, features) that output 0 for every probe image",
    "saturated": f"the share of a sigmoid's or tanh's outputs within {SATURATION_MARGIN:g} of a bound",
    "mean": "the mean of an activation's outputs",
    "std": "the standard deviation of an activation's outputs",
}


def caption(quantity: str) -> str:
    """What the heatmap of ``quantity`` shows, in a line."""
    if quantity in LAYER_QUANTITIES:
        axes = "one row per layer with weights (input side on top), one column per report"
    else:
        axes = (f"one row per activation (input side on top), one column per epoch, on the first {PROBE_PER_CLASS} "
                "test images of every class")
    scale = "; colour on a log scale" if quantity in LOG_SCALE else ""
    return f"{TITLES[quantity].capitalize()}: {MEANINGS[quantity]}; {axes}{scale}."


@dataclass
class HealthView:
    """The health points of some runs, read once, and their heatmaps one quantity at a time."""

    run_ids: list[str]
    titles: list[str]  # one per run, above its heatmap
    frame: pd.DataFrame  # insight.health.points

    @property
    def quantities(self) -> list[str]:
        """The quantities these runs recorded (empty when none did)."""
        return health.quantities(self.frame)

    def figure(self, quantity: str) -> go.Figure:
        """``quantity`` of each run as a heatmap, side by side on one colour scale."""
        return figure([health.grid(self.frame, run_id, quantity) for run_id in self.run_ids], self.titles)


def load(store: Store, run_ids: Sequence[str], titles: Sequence[str]) -> HealthView:
    return HealthView(list(run_ids), list(titles), health.points(store, run_ids))


def run_title(run_id: str, name: str) -> str:
    return f"{name} · {run_id}"


def figure(grids: Sequence[health.HealthGrid], titles: Sequence[str]) -> go.Figure:
    """Heatmaps of ``grids`` (one quantity) side by side, one colour bar for all: equal colours, equal values."""
    quantity = grids[0].quantity if grids else ""
    log = quantity in LOG_SCALE
    values = [v for g in grids for v in g.values() if v > 0 or not log]
    shown = [_scaled(g, log) for g in grids]
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    low, high = (math.log10(low), math.log10(high)) if log and values else (low, high)
    bar: dict[str, Any] = {"title": {"text": TITLES.get(quantity, quantity), "side": "right"}, "thickness": 14}
    if log:
        ticks = list(range(math.floor(low), math.ceil(high) + 1))
        bar |= {"tickvals": ticks, "ticktext": [f"1e{t}" for t in ticks]}
    n, gap = max(1, len(grids)), 0.07
    width = (1 - gap * (n - 1)) / n
    traces, layout = [], {}
    for i, (grid, z, title) in enumerate(zip(grids, shown, titles)):
        axis = "" if i == 0 else str(i + 1)
        traces.append({"type": "heatmap", "x": grid.epochs, "y": grid.layers, "z": z, "coloraxis": "coloraxis",
                       "customdata": grid.z, "xaxis": f"x{axis}", "yaxis": f"y{axis}", "hoverongaps": False,
                       "hovertemplate": f"{_escape(title)}<br>%{{y}} at epoch %{{x:.3g}}<br>"
                                        f"{TITLES.get(quantity, quantity)} %{{customdata:.4g}}<extra></extra>"})
        left = i * (width + gap)
        layout[f"xaxis{axis}"] = {"domain": [left, left + width], "anchor": f"y{axis}", "title": {"text": "epoch"}}
        layout[f"yaxis{axis}"] = {"anchor": f"x{axis}", "autorange": "reversed", "type": "category",
                                  "tickfont": {"size": 10}}
    annotations = [{"text": _escape(t), "x": i * (width + gap) + width / 2, "y": 1.0, "xref": "paper",
                    "yref": "paper", "xanchor": "center", "yanchor": "bottom", "showarrow": False,
                    "font": {"size": 12}} for i, t in enumerate(titles)]
    rows = max((len(g.layers) for g in grids), default=1)
    return go.Figure(data=traces, layout={
        **plots.LAYOUT, **layout, "annotations": annotations, "height": max(260, 24 * rows + 130),
        "coloraxis": {"colorscale": "Viridis", "cmin": low, "cmax": high, "colorbar": bar},
        "margin": {"l": 110, "r": 20, "t": 40, "b": 45}})


def _scaled(grid: health.HealthGrid, log: bool) -> np.ndarray:
    z = np.array([[np.nan if v is None else v for v in row] for row in grid.z], dtype=float)
    z = z.reshape(len(grid.layers), len(grid.epochs))
    if not log:
        return z
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(z > 0, np.log10(z), np.nan)  # a zero norm has no place on a log scale: left blank


def _escape(text: str) -> str:
    return text.replace("<", "&lt;").replace(">", "&gt;")
