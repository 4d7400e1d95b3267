"""Plotly figure builders for the dashboard and the HTML report (no Streamlit here).

Every builder takes plain data (arrays, lists of dicts) and returns a ``go.Figure``; where the data
comes from (the store, a checkpoint) is the caller's business. Figures with many traces are built
from plain dicts and validated once by ``go.Figure``, which is far faster than ``add_trace`` in a loop.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf", "#393b79", "#ad494a", "#637939", "#8c6d31", "#843c39", "#7b4173")
KIND_COLORS = {"conv": "#1f77b4", "fc": "#d62728", "other": "#b0b0b0"}
KIND_NAMES = {"conv": "convolution", "fc": "fully connected", "other": "other (pool, norm, activation)"}
# The look of plotly_white, spelled out: a named template is deep-copied into every figure, which
# costs more than drawing a page of small charts.
_AXIS = {"gridcolor": "#ebf0f8", "linecolor": "#ebf0f8", "zerolinecolor": "#ebf0f8", "ticks": "", "automargin": True}
LAYOUT = {"template": {"layout": {"plot_bgcolor": "white", "paper_bgcolor": "white", "xaxis": _AXIS,
                                  "yaxis": _AXIS, "colorway": list(PALETTE), "font": {"color": "#2a3f5f"}}},
          "margin": {"l": 55, "r": 15, "t": 45, "b": 45}, "legend": {"font": {"size": 10}}, "hovermode": "closest"}


def color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha:g})"


VALIDATE_UP_TO = 40  # traces; beyond, plotly's per-property validation costs more than the plot itself
# Hundreds of runs as hundreds of traces, each with a legend entry, took Chromium 2 s for the 4 curves of
# the compare page; past this many lines, they are merged (see curves) and hovering names a line.
LEGEND_UP_TO = 24


def _figure(traces: list[dict[str, Any]], layout: dict[str, Any]) -> go.Figure:
    """A Figure from plain dicts. Small figures are validated; large ones (hundreds of runs) are not,
    since every trace of a large figure has the structure the small ones (and the tests) validate."""
    return go.Figure(data=traces, layout={**LAYOUT, **layout}, _validate=len(traces) <= VALIDATE_UP_TO)


# ---- curves ---------------------------------------------------------------------------------------

@dataclass
class Series:
    """One line of a curve plot; ``low``/``high`` draw a band (mean ± std) behind it."""

    label: str
    x: Sequence[float]
    y: Sequence[float]
    color: str = PALETTE[0]
    width: float = 2.0
    opacity: float = 1.0
    low: Sequence[float] | None = None
    high: Sequence[float] | None = None
    legend_group: str | None = None
    show_legend: bool = True
    hover: str | None = None  # extra hover text (e.g. the run id)


def curves(series: list[Series], title: str = "", x_title: str = "epoch", y_title: str = "",
           log_y: bool = False, reference: list[dict[str, Any]] | None = None, height: int = 360) -> go.Figure:
    """Lines (faint members, bold group means with ± std bands) and optional reference markers.

    ``reference``: dicts with label, x, value; drawn as stars (the d2l figures after 10 epochs).
    Past LEGEND_UP_TO lines without a band, those are drawn as one trace per style (gaps between runs,
    the run named on hover), without legend entries: a browser draws hundreds of runs as a few paths
    far faster than as hundreds of traces, and a legend of hundreds of names helps nobody.
    """
    many = sum(1 for s in series if s.low is None) > LEGEND_UP_TO
    traces: list[dict[str, Any]] = []
    plain: dict[tuple[str, float, float], list[Series]] = {}
    for s in series:
        if s.low is not None and s.high is not None:
            traces.append(_band(s))
        if many and s.low is None:
            plain.setdefault((s.color, s.width, s.opacity), []).append(s)
        else:
            traces.append(_line(s, x_title, y_title))
    traces += [_merged_lines(members, x_title, y_title) for members in plain.values()]
    for ref in reference or []:
        traces.append({"type": "scatter", "x": [ref["x"]], "y": [ref["value"]], "mode": "markers",
                       "name": ref["label"], "legendgroup": "reference", "showlegend": True,
                       "marker": {"symbol": "star", "size": 13, "color": "black",
                                  "line": {"width": 1, "color": "white"}},
                       "hovertemplate": f"{_escape(ref['label'])}: %{{y:.3f}}<extra>reference</extra>"})
    entries = sum(1 for t in traces if t.get("showlegend") and t.get("legendgroup") != "reference")
    return _figure(traces, {"title": {"text": title, "font": {"size": 14}}, "height": height,
                            "showlegend": entries <= LEGEND_UP_TO, "xaxis": {"title": {"text": x_title}},
                            "yaxis": {"title": {"text": y_title}, "type": "log" if log_y else "linear"}})


def _band(s: Series) -> dict[str, Any]:
    x = np.asarray(s.x, dtype=float)
    lo, hi = np.asarray(s.low, dtype=float), np.asarray(s.high, dtype=float)
    return {"type": "scatter", "x": np.concatenate([x, x[::-1]]), "y": np.concatenate([hi, lo[::-1]]),
            "fill": "toself", "mode": "lines", "line": {"width": 0}, "fillcolor": rgba(s.color, 0.18),
            "hoverinfo": "skip", "legendgroup": s.legend_group or s.label, "showlegend": False,
            "name": f"{s.label} ± std"}


def _line(s: Series, x_title: str, y_title: str) -> dict[str, Any]:
    return {"type": "scatter", "x": np.asarray(s.x, dtype=float), "y": np.asarray(s.y, dtype=float),
            "mode": "lines" if len(s.x) > 1 else "markers",  # a 1-epoch run's test curve is one point
            "marker": {"color": s.color, "size": 7}, "name": s.label, "legendgroup": s.legend_group or s.label,
            "showlegend": s.show_legend, "opacity": s.opacity, "line": {"color": s.color, "width": s.width},
            "hovertemplate": f"{_escape(s.label)}<br>{x_title} %{{x:.4g}}<br>{y_title} %{{y:.4g}}"
                             + (f"<br>{_escape(s.hover)}" if s.hover else "") + "<extra></extra>"}


def _merged_lines(members: list[Series], x_title: str, y_title: str) -> dict[str, Any]:
    """Several lines of one style as one trace: NaN gaps between them, each point's run in its hover text."""
    xs, ys, names = [], [], []
    for s in members:
        label = _escape(s.label) + (f"<br>{_escape(s.hover)}" if s.hover else "")
        xs += [np.asarray(s.x, dtype=float), [np.nan]]
        ys += [np.asarray(s.y, dtype=float), [np.nan]]
        names += [label] * (len(s.x) + 1)
    first = members[0]
    mode = "lines" if any(len(s.x) > 1 for s in members) else "markers"
    return {"type": "scatter", "x": np.concatenate(xs), "y": np.concatenate(ys), "text": names, "mode": mode,
            "marker": {"color": first.color, "size": 5},
            "name": f"{len(members)} runs", "showlegend": False, "opacity": first.opacity, "connectgaps": False,
            "line": {"color": first.color, "width": first.width},
            "hovertemplate": f"%{{text}}<br>{x_title} %{{x:.4g}}<br>{y_title} %{{y:.4g}}<extra></extra>"}


# ---- anatomy --------------------------------------------------------------------------------------

def layer_bars(layers: list[dict[str, Any]], value: str = "params", log: bool = False, title: str = "",
               height: int = 380) -> go.Figure:
    """One bar per layer with weights (or MACs), coloured conv / fully connected / other.

    ``layers``: dicts with name, type, kind and the ``value`` key (Anatomy.layers as dicts).
    Layers without any of it (activations, pools for params) are left out so the chart stays readable.
    """
    rows = [layer for layer in layers if layer.get(value)]
    total = sum(layer[value] for layer in rows) or 1
    traces = []
    for kind in ("conv", "fc", "other"):
        mine = [r for r in rows if r["kind"] == kind]
        if not mine:
            continue
        traces.append({
            "type": "bar", "name": KIND_NAMES[kind], "marker": {"color": KIND_COLORS[kind]},
            "x": [f"{r['name']} {r['type']}" for r in mine], "y": [r[value] for r in mine],
            "customdata": [[100 * r[value] / total] for r in mine],
            "hovertemplate": "%{x}<br>%{y:,} " + value + " (%{customdata[0]:.1f}%)<extra></extra>",
        })
    order = [f"{r['name']} {r['type']}" for r in rows]
    return _figure(traces, {
        "title": {"text": title, "font": {"size": 14}}, "height": height, "barmode": "overlay",
        "xaxis": {"categoryorder": "array", "categoryarray": order, "tickangle": -45, "tickfont": {"size": 9}},
        "yaxis": {"title": {"text": value}, "type": "log" if log else "linear"},
    })


def split_bars(models: dict[str, dict[str, dict[str, float]]], value: str = "params", log: bool = False,
               title: str = "", height: int = 360) -> go.Figure:
    """Per model, its ``value`` (params or macs) stacked by layer kind: Anatomy.split per label."""
    labels = list(models)
    traces = []
    for kind in ("conv", "fc", "other"):
        ys = [models[m].get(kind, {}).get(value, 0) for m in labels]
        if not any(ys):
            continue
        shares = [[100 * models[m].get(kind, {}).get(f"{value}_share", 0)] for m in labels]
        traces.append({"type": "bar", "name": KIND_NAMES[kind], "x": labels, "y": ys, "customdata": shares,
                       "marker": {"color": KIND_COLORS[kind]},
                       "hovertemplate": "%{x}<br>%{y:,} " + value + " (%{customdata[0]:.1f}%)<extra>"
                                        + KIND_NAMES[kind] + "</extra>"})
    return _figure(traces, {"title": {"text": title, "font": {"size": 14}}, "height": height,
                            "barmode": "stack" if not log else "group",
                            "yaxis": {"title": {"text": value}, "type": "log" if log else "linear"}})


def share_bars(rows: list[dict[str, Any]], title: str = "", min_share: float = 0.005, height: int = 380
               ) -> go.Figure:
    """Per layer, its share of the MACs next to its share of a training step's time (``time_shares`` rows);
    layers below ``min_share`` of both are left out."""
    shown = [r for r in rows if max(r["macs_share"], r["time_share"]) >= min_share]
    x = [f"{r['name']} {r['type']}" for r in shown]
    traces = [{"type": "bar", "name": label, "x": x, "y": [100 * r[key] for r in shown],
               "marker": {"color": colour},
               "hovertemplate": "%{x}<br>%{y:.1f} % of the " + what + "<extra></extra>"}
              for key, label, colour, what in (("macs_share", "share of MACs", KIND_COLORS["conv"], "MACs"),
                                               ("time_share", "share of time", PALETTE[1], "step's time"))]
    return _figure(traces, {"title": {"text": title, "font": {"size": 14}}, "height": height, "barmode": "group",
                            "xaxis": {"tickangle": -45, "tickfont": {"size": 9}},
                            "yaxis": {"title": {"text": "% of the model's total"}}})


# ---- results --------------------------------------------------------------------------------------

def scatter(points: list[dict[str, Any]], x: str, y: str, x_title: str = "", y_title: str = "",
            log_x: bool = True, title: str = "", height: int = 380) -> go.Figure:
    """Each point: x, y, label, group (colour) and optional ``std`` (error bar on y)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for p in points:
        groups.setdefault(str(p.get("group", "")), []).append(p)
    traces = []
    for i, (group, members) in enumerate(groups.items()):
        errors = [m.get("std") for m in members]
        trace = {"type": "scatter", "mode": "markers", "name": group or "runs",
                 "x": [m[x] for m in members], "y": [m[y] for m in members],
                 "text": [m.get("label", "") for m in members],
                 "marker": {"size": 10, "color": color(i), "line": {"width": 1, "color": "white"}},
                 "hovertemplate": "%{text}<br>" + (x_title or x) + " %{x:.4g}<br>" + (y_title or y)
                                  + " %{y:.4f}<extra></extra>"}
        if any(e is not None for e in errors):
            trace["error_y"] = {"type": "data", "array": [e or 0 for e in errors], "visible": True}
        traces.append(trace)
    return _figure(traces, {"title": {"text": title, "font": {"size": 14}}, "height": height,
                            "xaxis": {"title": {"text": x_title or x}, "type": "log" if log_x else "linear"},
                            "yaxis": {"title": {"text": y_title or y}}})


def confusion(matrix: Sequence[Sequence[float]], classes: Sequence[str], normalize: bool = True,
              title: str = "Confusion matrix", height: int = 480) -> go.Figure:
    """Rows: true class, columns: predicted; ``normalize`` shows each row as fractions (recall)."""
    counts = np.asarray(matrix, dtype=float)
    shown = counts / np.maximum(counts.sum(1, keepdims=True), 1) if normalize else counts
    text = [[f"{v:.2f}" if normalize else f"{int(v)}" for v in row] for row in shown]
    trace = {"type": "heatmap", "z": shown, "x": list(classes), "y": list(classes), "colorscale": "Blues",
             "text": text, "texttemplate": "%{text}", "textfont": {"size": 9}, "customdata": counts,
             "hovertemplate": "true %{y}<br>predicted %{x}<br>%{customdata:.0f} images<extra></extra>",
             "showscale": False}
    return _figure([trace], {"title": {"text": title, "font": {"size": 14}}, "height": height,
                             "xaxis": {"title": {"text": "predicted"}, "tickangle": -45},
                             "yaxis": {"title": {"text": "true"}, "autorange": "reversed"}})


def confusion_change(matrix: Sequence[Sequence[float]], classes: Sequence[str], title: str = "Confusion change",
                     height: int = 480) -> go.Figure:
    """B − A of two confusion matrices (images per run), written in each cell and coloured by what it means:
    blue where B does better (more right answers on the diagonal, fewer confusions off it), red where worse."""
    change = np.asarray(matrix, dtype=float)
    better = np.where(np.eye(len(change), dtype=bool), change, -change)
    reach = max(1e-9, float(np.abs(change).max()))
    text = [["" if abs(v) < 0.05 else f"{v:+.0f}" if float(v).is_integer() else f"{v:+.1f}" for v in row]
            for row in change]
    trace = {"type": "heatmap", "z": better, "x": list(classes), "y": list(classes), "colorscale": "RdBu",
             "zmin": -reach, "zmax": reach, "text": text, "texttemplate": "%{text}", "textfont": {"size": 9},
             "showscale": False, "customdata": change,
             "hovertemplate": "true %{y}<br>predicted %{x}<br>%{customdata:+.1f} images<extra></extra>"}
    return _figure([trace], {"title": {"text": title, "font": {"size": 14}}, "height": height,
                             "xaxis": {"title": {"text": "predicted"}, "tickangle": -45},
                             "yaxis": {"title": {"text": "true"}, "autorange": "reversed"}})


def class_changes(classes: Sequence[str], change: Sequence[float | None], low: Sequence[float | None],
                  high: Sequence[float | None], title: str = "", height: int = 360) -> go.Figure:
    """Each class's change in points, with its interval as an error bar where there is one."""
    y = [None if c is None else 100 * c for c in change]
    trace = {"type": "bar", "x": list(classes), "y": y, "hovertemplate": "%{x}<br>%{y:+.1f} points<extra></extra>",
             "marker": {"color": [color(3) if (v or 0) < 0 else color(0) for v in y]}}
    if any(v is not None for v in low):
        trace["error_y"] = {"type": "data", "symmetric": False, "visible": True, "color": "#555",
                            "array": [0 if h is None or c is None else 100 * (h - c) for c, h in zip(change, high)],
                            "arrayminus": [0 if lo is None or c is None else 100 * (c - lo)
                                           for c, lo in zip(change, low)]}
    return _figure([trace], {"title": {"text": title, "font": {"size": 14}}, "height": height,
                             "xaxis": {"tickangle": -45}, "yaxis": {"title": {"text": "change, points"}}})


# ---- images ---------------------------------------------------------------------------------------

def tile(images: np.ndarray, cols: int, pad: int = 1, normalize_each: bool = False, fill: float = np.nan,
         top: int = 0) -> np.ndarray:
    """(N, H, W) or (N, H, W, 3) → one mosaic with ``cols`` columns, ``pad`` pixels between cells and
    ``top`` extra pixels above every row (room for titles)."""
    images = np.asarray(images, dtype=float)
    if normalize_each and len(images):
        flat = images.reshape(len(images), -1)
        lo, hi = flat.min(1), flat.max(1)
        shape = (-1,) + (1,) * (images.ndim - 1)
        images = (images - lo.reshape(shape)) / np.maximum(hi - lo, 1e-12).reshape(shape)
    n = len(images)
    cols = max(1, min(cols, n))
    rows = -(-n // cols)
    h, w = images.shape[1:3]
    step_y, step_x = h + pad + top, w + pad
    out = np.full((rows * step_y - pad, cols * step_x - pad, *images.shape[3:]), fill, dtype=float)
    for i, img in enumerate(images):
        r, c = divmod(i, cols)
        out[r * step_y + top:r * step_y + top + h, c * step_x:c * step_x + w] = img
    return out


def image_grid(images: np.ndarray, titles: Sequence[str] | None = None, cols: int = 8, title: str = "",
               normalize_each: bool = False, colorscale: str = "gray", cell: int = 72,
               height: int | None = None) -> go.Figure:
    """A grid of images as one mosaic trace (fast for hundreds of cells) with a title above each cell.

    ``images``: (N, H, W) grey, (N, 1, H, W) or (N, 3, H, W). Grey cells use ``colorscale``
    (feature maps: "viridis" with ``normalize_each`` so that every map uses its own range).
    """
    arr = np.asarray(images, dtype=float)
    if arr.ndim == 4 and arr.shape[1] == 1:
        arr = arr[:, 0]
    rgb = arr.ndim == 4
    if rgb:
        arr = arr.transpose(0, 2, 3, 1)
    n = len(arr)
    if n == 0:
        return _figure([], {"title": {"text": title or "no images"}, "height": 120})
    cols = max(1, min(cols, n))
    h, w = arr.shape[1:3]
    pad = max(1, h // 14)
    top = max(4, round(h * 0.4)) if titles else 0
    if rgb:
        if arr.max() > 1.5:  # uint8 scale
            arr = arr / 255.0
        if normalize_each:
            lo = arr.reshape(n, -1).min(1).reshape(-1, 1, 1, 1)
            hi = arr.reshape(n, -1).max(1).reshape(-1, 1, 1, 1)
            arr = (arr - lo) / np.maximum(hi - lo, 1e-12)
        mosaic = tile(arr, cols, pad, fill=1.0, top=top)
        trace = {"type": "image", "z": np.clip(mosaic * 255, 0, 255).astype(np.uint8), "hoverinfo": "skip"}
    else:
        mosaic = tile(arr, cols, pad, normalize_each, top=top)
        if not normalize_each and colorscale == "gray" and np.nanmax(mosaic) > 1.5:
            zrange = {"zmin": 0, "zmax": 255}  # uint8 images keep their absolute brightness
        else:
            zrange = {}
        trace = {"type": "heatmap", "z": mosaic, "colorscale": "Greys_r" if colorscale == "gray" else colorscale,
                 "showscale": False, "hoverinfo": "skip", **zrange}
    annotations = []
    for i, text in enumerate(titles or []):
        r, c = divmod(i, cols)
        annotations.append({"x": c * (w + pad) + w / 2 - 0.5, "y": r * (h + pad + top) + top - 0.8,
                            "text": _escape(str(text)), "showarrow": False, "yanchor": "bottom",
                            "font": {"size": 9}, "xref": "x", "yref": "y"})
    mosaic_h, mosaic_w = mosaic.shape[:2]
    scale = cell / w
    layout = {
        "title": {"text": title, "font": {"size": 13}}, "annotations": annotations,
        "height": height or int(mosaic_h * scale + (40 if title else 10)),
        "margin": {"l": 5, "r": 5, "t": 35 if title else 5, "b": 5},
        "xaxis": {"visible": False, "range": [-0.5, mosaic_w - 0.5], "constrain": "domain"},
        "yaxis": {"visible": False, "range": [mosaic_h - 0.5, -0.5], "scaleanchor": "x", "constrain": "domain"},
    }
    if mosaic_w * scale < 900:
        layout["width"] = int(mosaic_w * scale + 10)
    return _figure([trace], layout)


def _escape(text: str) -> str:
    return text.replace("<", "&lt;").replace(">", "&gt;")
