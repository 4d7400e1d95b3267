"""The compare page's selection and its URL form, so that a view can be shared as a link."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import urlencode

from cnnkit.compare.verdict import VERDICT_METRICS
from cnnkit.events import Status
from cnnkit.store import is_run_id

X_AXES = {"epoch": "epoch", "step": "step", "wall": "wall time (s)"}
SCATTER_X = {"params": "parameters", "macs": "MACs per image", "train_seconds": "training time (s)"}
GROUPABLE = ("model", "dataset", "group", "status")  # besides every cfg.* column
MAX_RUNS = 500


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
    baseline: str = ""  # the verdict's baseline level ("" : an experiment's own, else the first)
    metric: str = "test_acc"  # the verdict's metric
    diff_a: str = ""  # what changed: "level:lr=0.1" or "run:<id>" (A, the reference) …
    diff_b: str = ""  # … and B

    # URL keys: short, stable, one per field
    _KEYS = {"models": "model", "datasets": "dataset", "statuses": "status", "groups": "group", "tags": "tag",
             "runs": "run", "group_by": "by", "x": "x", "smoothing": "smooth", "log_y": "logy",
             "reference": "ref", "scatter_x": "sx", "baseline": "base", "metric": "metric", "diff_a": "da",
             "diff_b": "db"}

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

    def query_lists(self) -> dict[str, list[str]]:
        """``to_query`` with every value a list: the form in which a URL's parameters are read back."""
        return {k: v if isinstance(v, list) else [v] for k, v in self.to_query().items()}

    def query_string(self) -> str:
        return urlencode(self.to_query(), doseq=True)

    def report_notes(self) -> list[str]:
        """What an exported report says about the selection it shows."""
        query = self.query_string()
        return [f"Selection: {query or 'all runs'}"] + ([f"Grouped by {self.group_by}"] if self.group_by else [])

    @classmethod
    def from_query(cls, query: Mapping[str, Any]) -> Selection:
        """Parse query parameters leniently: unknown keys and malformed values are dropped.

        Values may be strings or lists of strings (repeated keys); a comma-separated string also
        works for run ids. What the store does not know (a deleted run) is dropped by the page.
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
        sel.statuses = [s for s in values("status") if s in tuple(Status)]
        sel.runs = [r for v in values("run") for r in v.split(",") if is_run_id(r)]
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
        sel.baseline = last("base") or ""
        metric = last("metric")
        if metric in VERDICT_METRICS:
            sel.metric = metric
        sel.diff_a, sel.diff_b = (side if is_diff_side(side := last(key) or "") else "" for key in ("da", "db"))
        return sel


def is_diff_side(text: str) -> bool:
    """A side of the diff as the URL holds it: "level:<label>" or "run:<run id>"."""
    kind, _, value = text.partition(":")
    return (kind == "level" and bool(value)) or (kind == "run" and is_run_id(value))


FIELDS = tuple(f.name for f in fields(Selection))
