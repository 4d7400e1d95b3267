"""Which runs a selection keeps: the filters, the values they can take, the store query."""
from __future__ import annotations

import pandas as pd

from cnnkit.compare.urlstate import MAX_RUNS, Selection
from cnnkit.events import Status
from cnnkit.store import Store


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
            "statuses": [s.value for s in Status if s in set(frame["status"])],
            "groups": sorted(g for g in frame["group"].dropna().unique() if g), "tags": tags}


def run_choices(frame: pd.DataFrame) -> dict[str, str]:
    """run id → its label in the run picker: "name · id · status"."""
    return dict(zip(frame["id"], frame["name"] + " · " + frame["id"] + " · " + frame["status"]))


def select(store: Store, sel: Selection) -> pd.DataFrame:
    """The runs_frame rows of the selection (filters applied in SQL where the store allows)."""
    statuses = sel.statuses or None
    runs = store.list_runs(status=statuses, ids=sel.runs or None)
    return filter_runs(store.runs_frame(runs), sel)
