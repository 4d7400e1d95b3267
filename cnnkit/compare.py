"""Comparing runs: the selection (and its URL form), filtering, smoothing, grouping, the result table.

``build_view(store, selection)`` does all the work of the compare page (read the store, filter,
thin, smooth, group, build every figure) without Streamlit, so it can be tested and timed
(``scripts/bench_compare.py`` reports ``compare_render_seconds``).
"""
from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import urlencode

import numpy as np
import pandas as pd

from cnnkit import plots
from cnnkit.store import STATUSES, Run, Store

X_AXES = {"epoch": "epoch", "step": "step", "wall": "wall time (s)"}
METRICS = (("train", "loss"), ("train", "acc"), ("test", "loss"), ("test", "acc"))
METRIC_TITLES = {"train_loss": "train loss", "train_acc": "train accuracy", "test_loss": "test loss",
                 "test_acc": "test accuracy"}
SCATTER_X = {"params": "parameters", "macs": "MACs per image", "train_seconds": "training time (s)"}
MAX_POINTS = 200  # per curve: 200 runs × 4 curves × 200 points plots in well under a second
MAX_RUNS = 500
RESULT_COLUMNS = ("final_test_acc", "best_test_acc", "final_train_loss", "final_train_acc", "params", "macs",
                  "train_seconds", "images_per_sec")
GROUPABLE = ("model", "dataset", "group", "status")  # besides every cfg.* column


# ---- the selection and its URL form ---------------------------------------------------------------

@dataclass
class Selection:
    """What the compare page shows. Empty filter lists mean "any"; empty ``runs`` means every run
    the filters keep (newest first, at most MAX_RUNS)."""

    models: list[str] = field(default_factory=list)
    datasets: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)
    group_by: str = ""
    x: str = "epoch"
    smoothing: float = 0.0
    log_y: bool = False
    reference: bool = False
    scatter_x: str = "params"

    # URL keys: short, stable, one per field
    _KEYS = {"models": "model", "datasets": "dataset", "statuses": "status", "groups": "group", "tags": "tag",
             "runs": "run", "group_by": "by", "x": "x", "smoothing": "smooth", "log_y": "logy",
             "reference": "ref", "scatter_x": "sx"}

    def to_query(self) -> dict[str, str | list[str]]:
        """Query parameters holding this selection; defaults are left out so that links stay short."""
        default = Selection()
        out: dict[str, str | list[str]] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value == getattr(default, f.name):
                continue
            key = self._KEYS[f.name]
            if isinstance(value, list):
                out[key] = [str(v) for v in value]
            elif isinstance(value, bool):
                out[key] = "1" if value else "0"
            elif isinstance(value, float):
                out[key] = f"{value:g}"
            else:
                out[key] = str(value)
        return out

    def query_string(self) -> str:
        return urlencode(self.to_query(), doseq=True)

    @classmethod
    def from_query(cls, query: Mapping[str, Any]) -> Selection:
        """Parse query parameters leniently: unknown keys and malformed values are dropped.

        Values may be strings or lists of strings (repeated keys); a comma-separated string also
        works for run ids. What the store does not know (a deleted run) is dropped by ``resolve``.
        """
        def values(key: str) -> list[str]:
            raw = query.get(key)
            if raw is None:
                return []
            items = [raw] if isinstance(raw, str) else [str(v) for v in raw]
            return [v.strip()[:200] for v in items if v and v.strip()][:MAX_RUNS]

        def last(key: str) -> str | None:
            items = values(key)
            return items[-1] if items else None

        sel = cls()
        sel.models, sel.datasets, sel.groups, sel.tags = (values("model"), values("dataset"), values("group"),
                                                          values("tag"))
        sel.statuses = [s for s in values("status") if s in STATUSES]
        sel.runs = [r for v in values("run") for r in v.split(",") if _is_run_id(r)]
        by = last("by")
        if by and (by in GROUPABLE or by.startswith("cfg.")) and len(by) <= 80:
            sel.group_by = by
        x = last("x")
        if x in X_AXES:
            sel.x = x
        smooth = last("smooth")
        try:
            value = float(smooth) if smooth is not None else 0.0
            sel.smoothing = value if 0.0 <= value < 1.0 else 0.0
        except ValueError:
            pass
        sel.log_y = last("logy") in ("1", "true")
        sel.reference = last("ref") in ("1", "true")
        sx = last("sx")
        if sx in SCATTER_X:
            sel.scatter_x = sx
        return sel


def _is_run_id(text: str) -> bool:
    return len(text) == 8 and all(c in "0123456789abcdef" for c in text)


# ---- filtering ------------------------------------------------------------------------------------

def filter_runs(frame: pd.DataFrame, sel: Selection) -> pd.DataFrame:
    """Rows of ``store.runs_frame()`` that the selection keeps, in the frame's order."""
    if frame.empty:
        return frame
    keep = pd.Series(True, index=frame.index)
    for column, wanted in (("model", sel.models), ("dataset", sel.datasets), ("status", sel.statuses),
                           ("group", sel.groups)):
        if wanted:
            keep &= frame[column].isin(wanted)
    if sel.tags:
        wanted = set(sel.tags)
        keep &= frame["tags"].fillna("").map(lambda t: bool(wanted & set(filter(None, str(t).split(",")))))
    if sel.runs:
        keep &= frame["id"].isin(sel.runs)
    return frame[keep].head(MAX_RUNS)


def filter_options(frame: pd.DataFrame) -> dict[str, list[str]]:
    """The values each filter can take in this store."""
    if frame.empty:
        return {"models": [], "datasets": [], "statuses": [], "groups": [], "tags": []}
    tags = sorted({t for value in frame["tags"].fillna("") for t in str(value).split(",") if t})
    return {"models": sorted(frame["model"].unique()), "datasets": sorted(frame["dataset"].unique()),
            "statuses": [s for s in STATUSES if s in set(frame["status"])],
            "groups": sorted(g for g in frame["group"].dropna().unique() if g), "tags": tags}


# ---- smoothing and grouping -----------------------------------------------------------------------

def smooth(values: np.ndarray | list[float], weight: float) -> np.ndarray:
    """TensorBoard's debiased exponential moving average; ``weight`` 0 returns the values unchanged."""
    y = np.asarray(values, dtype=float)
    if weight <= 0 or len(y) < 2:
        return y
    out = np.empty_like(y)
    last, debias = 0.0, 0.0
    for i, v in enumerate(y):
        if not math.isfinite(v):
            out[i] = v
            continue
        last = weight * last + (1 - weight) * v
        debias = weight * debias + (1 - weight)
        out[i] = last / debias
    return out


def config_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c.startswith("cfg.")]


def differing_columns(frame: pd.DataFrame) -> list[str]:
    """Config columns whose value is not the same in every row (the only ones worth showing)."""
    out = []
    for column in config_columns(frame):
        values = frame[column].map(_text)
        if values.nunique(dropna=False) > 1:
            out.append(column)
    return out


def group_values(frame: pd.DataFrame, field_name: str) -> pd.Series:
    """run id → group label ("lr=0.1") for grouping by a config field (or model, dataset, …).

    The result is categorical, its categories in the values' natural order (0.01 before 0.1 before 1),
    which is the order of legends and tables. Not grouped: every label is "".
    """
    if not field_name or field_name not in frame.columns:
        return pd.Series({rid: "" for rid in frame["id"]}, dtype=object)
    short = field_name.removeprefix("cfg.")
    raw = dict(zip(frame["id"], frame[field_name]))
    ordered = sorted({_text(v): v for v in raw.values()}.items(), key=lambda kv: _order_key(kv[1]))
    categories = [f"{short}={text}" for text, _ in ordered]
    labels = pd.Series({rid: f"{short}={_text(v)}" for rid, v in raw.items()}, dtype=object)
    return labels.astype(pd.CategoricalDtype(categories, ordered=True))


def labelled_groups(labels: Mapping[str, str], order: list[str] | None = None) -> pd.Series:
    """run id → group label from an explicit mapping (an experiment's levels), in ``order``."""
    order = [o for o in (order or list(dict.fromkeys(labels.values()))) if o in set(labels.values())]
    return pd.Series(dict(labels), dtype=object).astype(pd.CategoricalDtype(order, ordered=True))


def group_order(groups: pd.Series) -> list[str]:
    """The group labels present, in their category order (sorted for plain series)."""
    present = set(groups.dropna().values)
    if isinstance(groups.dtype, pd.CategoricalDtype):
        return [c for c in groups.cat.categories if c in present]
    return sorted(present)


def _order_key(value: Any) -> tuple:
    if _missing(value):
        return (2, "")
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_)):
        return (0, float(value))
    return (1, _text(value))


def groupable_fields(frame: pd.DataFrame) -> list[str]:
    """Fields worth grouping by: those that differ among the selected runs (cfg.seed last)."""
    fields_ = [c for c in GROUPABLE if c in frame.columns and frame[c].map(_text).nunique() > 1]
    cfg = [c for c in differing_columns(frame) if c != "cfg.seed"]
    return fields_ + cfg + (["cfg.seed"] if "cfg.seed" in differing_columns(frame) else [])


def run_labels(frame: pd.DataFrame) -> dict[str, str]:
    """run id → a legend label: the run's name, with its id where names repeat."""
    counts = frame["name"].value_counts()
    return {rid: (name if counts[name] == 1 else f"{name} [{rid}]") for rid, name in zip(frame["id"], frame["name"])}


def mean_band(members: list[tuple[np.ndarray, np.ndarray]], grid_points: int = 200
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Mean and std over member curves (x, y) on a common x grid: x, mean, std, n.

    Curves on the same x values (epochs, steps of runs with the same config) are averaged exactly;
    otherwise (wall time) each member is interpolated linearly within its own range.
    """
    xs = [np.asarray(x, dtype=float) for x, _ in members if len(x)]
    if not xs:
        empty = np.array([])
        return empty, empty, empty, empty
    union = np.unique(np.concatenate(xs))
    grid = union if len(union) <= max(grid_points, max(len(x) for x in xs)) else np.linspace(union[0], union[-1],
                                                                                             grid_points)
    stack = np.full((len(members), len(grid)), np.nan)
    for i, (x, y) in enumerate(members):
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        if not len(x):
            continue
        inside = (grid >= x[0]) & (grid <= x[-1])
        stack[i, inside] = np.interp(grid[inside], x, y)
    n = np.sum(~np.isnan(stack), axis=0)
    with np.errstate(invalid="ignore"), _quiet():
        mean = np.nanmean(stack, axis=0)
        std = np.where(n > 1, np.nanstd(stack, axis=0, ddof=1) if len(members) > 1 else 0.0, 0.0)
    keep = n > 0
    return grid[keep], mean[keep], np.nan_to_num(std[keep]), n[keep]


class _quiet:
    """Silence numpy's "mean of empty slice" warnings for all-NaN grid columns (dropped anyway)."""

    def __enter__(self) -> None:
        import warnings

        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc: object) -> None:
        self._ctx.__exit__(*exc)


# ---- the result table -----------------------------------------------------------------------------

def result_table(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per run: identity, the config columns that differ, then results and costs."""
    if frame.empty:
        return pd.DataFrame(columns=["id", "name", "status", "model", "dataset", *RESULT_COLUMNS])
    out = frame[["id", "name", "status", "model", "dataset"]].copy()
    for column in differing_columns(frame):
        if column not in ("cfg.model", "cfg.dataset"):
            out[column.removeprefix("cfg.")] = _config_column(frame[column])
    get = lambda c: frame[c] if c in frame.columns else pd.Series(np.nan, index=frame.index)  # noqa: E731
    out["final_test_acc"] = get("test_acc")
    out["best_test_acc"] = get("best_test_acc")
    out["final_train_loss"] = get("train_loss")
    out["final_train_acc"] = get("train_acc")
    out["params"] = get("params")
    out["macs"] = get("macs")
    out["train_seconds"] = get("train_seconds")
    out["images_per_sec"] = get("images_per_sec")
    for column in RESULT_COLUMNS:
        out[column] = pd.to_numeric(out[column], errors="coerce")
    return out.reset_index(drop=True)


def group_summary(table: pd.DataFrame, groups: pd.Series) -> pd.DataFrame:
    """Per group: runs, mean ± std of final and best test accuracy, mean params/MACs/time."""
    if table.empty or groups.empty or not any(g for g in groups.dropna().values):
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


# ---- the whole view -------------------------------------------------------------------------------

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


def select(store: Store, sel: Selection) -> pd.DataFrame:
    """The runs_frame rows of the selection (filters applied in SQL where the store allows)."""
    statuses = sel.statuses or None
    runs = store.list_runs(status=statuses, ids=sel.runs or None)
    return filter_runs(store.runs_frame(runs), sel)


def build_view(store: Store, sel: Selection, max_points: int = MAX_POINTS,
               frame: pd.DataFrame | None = None, groups: pd.Series | None = None) -> CompareView:
    """Everything the compare page draws. ``frame`` (runs_frame rows) skips the store query for runs;
    ``groups`` (run id → label, e.g. ``labelled_groups`` of an experiment's levels) replaces group_by."""
    t0 = time.perf_counter()
    runs = select(store, sel) if frame is None else filter_runs(frame, sel)
    table = result_table(runs)
    groupable = groupable_fields(runs) if not runs.empty else []
    if groups is None:
        group_by = sel.group_by if sel.group_by in runs.columns else ""
        groups = group_values(runs, group_by) if not runs.empty else pd.Series(dtype=object)
    metrics = store.metrics(list(runs["id"]) if not runs.empty else [], names=("loss", "acc"),
                            max_points=max_points)
    curves = curve_figures(runs, metrics, sel, groups)
    scatter = scatter_figure(table, groups, sel.scatter_x)
    return CompareView(runs, table, groups, group_summary(table, groups), curves, scatter, groupable,
                       len(metrics), time.perf_counter() - t0)


def curve_series(runs: pd.DataFrame, metrics: pd.DataFrame, sel: Selection, groups: pd.Series
                 ) -> dict[str, list[plots.Series]]:
    """Per metric ("train_loss", …), the lines to draw: one per run, or faint members + group means."""
    out: dict[str, list[plots.Series]] = {f"{s}_{n}": [] for s, n in METRICS}
    if runs.empty or metrics.empty:
        return out
    labels = run_labels(runs)
    grouped = bool(len(groups)) and any(g for g in groups.dropna().values)
    group_names = group_order(groups) if grouped else []
    group_color = {g: plots.color(i) for i, g in enumerate(group_names)}
    run_color = {rid: plots.color(i) for i, rid in enumerate(runs["id"])}
    starts = metrics.groupby("run_id")["wall"].min() if sel.x == "wall" else None
    x_all = metrics[X_COLUMN[sel.x]].to_numpy(dtype=float)
    y_all = metrics["value"].to_numpy(dtype=float)
    for rid, key, part in _curves(metrics):  # slices of the sorted frame: no per-curve pandas objects
        if key not in out:
            continue
        x = x_all[part] - (starts[rid] if starts is not None else 0.0)
        y = smooth(y_all[part], sel.smoothing)
        if grouped:
            g = groups.get(rid, "")
            g = "" if _missing(g) else g
            out[key].append(plots.Series(labels.get(rid, rid), x, y, group_color.get(g, "#999999"), width=1,
                                         opacity=0.25, legend_group=g, show_legend=False, hover=g))
        else:
            out[key].append(plots.Series(labels.get(rid, rid), x, y, run_color.get(rid, "#999999"),
                                         hover=f"run {rid}"))
    if grouped:
        for key, members in out.items():
            means = []
            for g in group_names:
                mine = [(s.x, s.y) for s in members if s.legend_group == g]
                if not mine:
                    continue
                gx, mean, std, n = mean_band(mine)
                label = f"{g} (n={len(mine)})"
                means.append(plots.Series(label, gx, mean, group_color[g], width=2.5, low=mean - std, high=mean + std,
                                          legend_group=g))
            out[key] = members + means
    return out


def curve_figures(runs: pd.DataFrame, metrics: pd.DataFrame, sel: Selection, groups: pd.Series
                  ) -> dict[str, Any]:
    series = curve_series(runs, metrics, sel, groups)
    reference = []
    if sel.reference and not runs.empty and sel.x == "epoch":
        from cnnkit import reference as ref

        models = [(m, _options(runs, m)) for m in runs["model"].unique()]
        models = [(m, o) for m, opts in models for o in opts]
        reference = ref.overlay_points(models)
    figures = {}
    for split, name in METRICS:
        key = f"{split}_{name}"
        points = [{"label": p["label"], "x": p["epoch"], "value": p["value"]} for p in reference if p["metric"] == key]
        figures[key] = plots.curves(series[key], METRIC_TITLES[key], X_AXES[sel.x], name,
                                    log_y=sel.log_y, reference=points)
    return figures


def scatter_figure(table: pd.DataFrame, groups: pd.Series, x: str = "params") -> Any:
    """Final test accuracy against params / MACs / training time, one colour per group."""
    points = []
    for row in table.itertuples(index=False):
        xv, yv = getattr(row, x, None), row.final_test_acc
        if xv is None or yv is None or pd.isna(xv) or pd.isna(yv) or xv <= 0:
            continue
        group = groups.get(row.id, "") if len(groups) else ""
        points.append({"x": float(xv), "y": float(yv), "label": f"{row.name} [{row.id}]",
                       "group": row.model if _missing(group) or group == "" else group})
    return plots.scatter(points, "x", "y", SCATTER_X.get(x, x), "final test accuracy",
                         title=f"test accuracy vs {SCATTER_X.get(x, x)}")


X_COLUMN = {"epoch": "epoch", "step": "step", "wall": "wall"}


def _curves(metrics: pd.DataFrame):  # noqa: ANN202 - yields (run id, "split_name", slice)
    """The (run, metric) curves of a frame sorted by run_id, split, name, step, as index slices."""
    run = metrics["run_id"].to_numpy()
    key = (metrics["split"] + "_" + metrics["name"]).to_numpy()
    change = np.flatnonzero((run[1:] != run[:-1]) | (key[1:] != key[:-1])) + 1
    bounds = np.concatenate(([0], change, [len(run)]))
    for start, end in zip(bounds[:-1], bounds[1:]):
        yield run[start], key[start], slice(start, end)


def _options(runs: pd.DataFrame, model: str) -> list[dict[str, Any]]:
    """The distinct model_options of ``model``'s runs (from the cfg.model.* columns)."""
    cols = [c for c in runs.columns if c.startswith("cfg.model.")]
    mine = runs[runs["model"] == model]
    seen, out = set(), []
    for _, row in mine.iterrows():
        opts = {c.removeprefix("cfg.model."): row[c] for c in cols if not _missing(row[c])}
        key = tuple(sorted((k, _text(v)) for k, v in opts.items()))
        if key not in seen:
            seen.add(key)
            out.append(opts)
    return out


# ---- the live runs table --------------------------------------------------------------------------

def eta_seconds(run: Run, now: float | None = None) -> float | None:
    """Seconds left for a running run, from its pace since the first step; None when unknown."""
    if run.status != "running" or not run.total_steps or run.step <= 0:
        return None
    now = now or time.time()
    began = run.first_step_at or run.started_at
    if not began or now <= began:
        return None
    return (now - began) / run.step * max(0, run.total_steps - run.step)


def live_table(runs: list[Run], latest: dict[str, dict[str, float]], now: float | None = None) -> pd.DataFrame:
    """The runs page's table: status, progress, epoch x/y, latest metrics, ETA, device."""
    now = now or time.time()
    rows = []
    for r in runs:
        m = latest.get(r.id, {})
        rows.append({
            "id": r.id, "name": r.name,
            "status": r.status + (" (cancelling)" if r.cancel_requested and r.active else ""),
            "progress": r.progress, "epoch": f"{math.floor(r.epoch + 1e-9)}/{r.epochs}",
            "train_loss": m.get("train_loss"), "train_acc": m.get("train_acc"), "test_acc": m.get("test_acc"),
            "eta_s": eta_seconds(r, now), "device": r.device or "", "model": r.model, "dataset": r.dataset,
            "group": r.group or "", "tags": ",".join(r.tags), "queued": pd.Timestamp(r.queued_at, unit="s"),
        })
    columns = ["id", "name", "status", "progress", "epoch", "train_loss", "train_acc", "test_acc", "eta_s", "device",
               "model", "dataset", "group", "tags", "queued"]
    return pd.DataFrame(rows, columns=columns)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _text(value: Any) -> str:
    if _missing(value):
        return "none"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    return str(value)


def _config_column(values: pd.Series) -> pd.Series:
    """A config column for the table: numeric when every value is a number, else text throughout
    (mixed columns would not survive Arrow, CSV round trips or sorting)."""
    present = [v for v in values if not _missing(v)]
    if present and all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
                       for v in present):
        return pd.to_numeric(values, errors="coerce")
    return values.map(lambda v: "" if _missing(v) else (str(bool(v)).lower() if isinstance(v, (bool, np.bool_))
                                                       else _text(v))).astype(object)
