"""A search's completed trials as parallel coordinates: one axis per searched key, the last one the
objective, each trial a line coloured by its value."""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from cnnkit.plots import LAYOUT
from cnnkit.search.results import SearchReport
from cnnkit.search.space import Dimension
from cnnkit.search.study import OBJECTIVE


def parallel_coordinates(report: SearchReport, height: int = 380) -> go.Figure:
    """Completed trials; a log-range key is drawn on a log axis (ticks at its powers of ten)."""
    done = report.completed
    dimensions = [_axis(dim, done[dim.key]) for dim in report.plan.space.dimensions]
    values = done["value"].astype(float).to_numpy()
    dimensions.append({"label": OBJECTIVE, "values": values})
    line: dict[str, Any] = {"color": values, "colorscale": "Viridis", "showscale": True,
                            "colorbar": {"title": {"text": "value"}}}
    title = f"{report.name}: {len(done)} completed trials of {len(report.trials)}"
    return go.Figure(data=[{"type": "parcoords", "dimensions": dimensions, "line": line}],
                     layout={**LAYOUT, "title": {"text": title}, "height": height,
                             "margin": {"l": 70, "r": 50, "t": 80, "b": 30}})


def _axis(dim: Dimension, column: pd.Series) -> dict[str, Any]:
    if dim.kind == "choice":
        labels = [str(c) for c in dim.choices]
        index = {c: i for i, c in enumerate(dim.choices)}
        return {"label": dim.key, "values": [index.get(v, math.nan) for v in column],
                "tickvals": list(range(len(labels))), "ticktext": labels, "range": [0, max(1, len(labels) - 1)]}
    values = column.astype(float).to_numpy()
    if dim.kind != "log":
        return {"label": dim.key, "values": values, "range": [dim.low, dim.high]}
    low, high = math.log10(dim.low), math.log10(dim.high)
    ticks = np.arange(math.ceil(low), math.floor(high) + 1)
    return {"label": f"{dim.key} (log)", "values": np.log10(values), "range": [low, high],
            "tickvals": ticks.tolist(), "ticktext": [f"{10.0 ** t:g}" for t in ticks]}
