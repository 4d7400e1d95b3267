"""The Runs page (and the home page's recent runs): one row per run with its progress, latest metrics and
ETA; the text search; the runs that went wrong."""
from __future__ import annotations

import math
import time

import pandas as pd

from cnnkit.estimate import format_seconds
from cnnkit.events import Status
from cnnkit.store import Run, run_row

PROBLEMS = (Status.FAILED, Status.DIVERGED, Status.OOM, Status.LOST)  # the statuses whose error and log it shows
MAX_PROBLEMS = 10

LIVE_COLUMNS = ["id", "name", "status", "progress", "epoch", "train_loss", "train_acc", "test_acc", "eta_s", "device",
                "model", "dataset", "group", "tags", "queued"]


def eta_seconds(run: Run, now: float | None = None) -> float | None:
    """Seconds left for a running run, from its pace since the first step; None when unknown."""
    if run.status != Status.RUNNING or not run.total_steps or run.step <= 0:
        return None
    now = now or time.time()
    began = run.first_step_at or run.started_at
    if not began or now <= began:
        return None
    return (now - began) / run.step * max(0, run.total_steps - run.step)


def live_table(runs: list[Run], latest: dict[str, dict[str, float]], now: float | None = None) -> pd.DataFrame:
    """The runs page's table: each run's row (``run_row``) with its status, epoch x/y, tags and time
    made for reading, and its ETA."""
    now = now or time.time()
    rows = [run_row(r, latest.get(r.id)) | {
        "status": r.status + (" (cancelling)" if r.cancel_requested and r.active else ""),
        "epoch": f"{math.floor(r.epoch + 1e-9)}/{r.epochs}", "eta_s": eta_seconds(r, now), "device": r.device or "",
        "group": r.group or "", "tags": ",".join(r.tags), "queued": pd.Timestamp(r.queued_at, unit="s"),
    } for r in runs]
    return pd.DataFrame(rows, columns=LIVE_COLUMNS)


def search_runs(runs: list[Run], text: str) -> list[Run]:
    """The runs whose id, name, model, group or a tag contains ``text`` (any case); all for empty text."""
    needle = text.lower()
    if not needle:
        return runs
    return [r for r in runs if needle in f"{r.id} {r.name} {r.model} {r.group or ''} {' '.join(r.tags)}".lower()]


def with_eta_text(table: pd.DataFrame) -> pd.DataFrame:
    """The table with an ``eta`` text column ("2 min 5 s", "" if unknown) where its ``eta_s`` seconds were."""
    out = table.copy()
    position = list(out.columns).index("eta_s")
    seconds = out.pop("eta_s")
    out.insert(position, "eta", seconds.map(lambda s: "" if s is None or pd.isna(s) else format_seconds(s)))
    return out


def is_problem(run: Run) -> bool:
    return run.status in PROBLEMS


def problem_runs(runs: list[Run]) -> list[Run]:
    """The first few runs that went wrong, in the given order."""
    return [r for r in runs if is_problem(r)][:MAX_PROBLEMS]
