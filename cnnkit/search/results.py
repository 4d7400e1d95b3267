"""What a search found: its trials (values, states, parameters, runs), the best one, how many were
pruned, how long it took; and waiting for it from the command line."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from cnnkit.events import Status
from cnnkit.search.driver import ADDED, RUN_ID
from cnnkit.search.study import OBJECTIVE, SearchPlan, open_study, plan_of
from cnnkit.store import Store
from cnnkit.text import value_text

TRIAL_COLUMNS = ("trial", "state", "value", "run_id", "run_status", "pruned_at_epoch")


@dataclass
class SearchReport:
    group: str
    name: str
    plan: SearchPlan
    trials: pd.DataFrame  # TRIAL_COLUMNS, then one column per searched key; by trial number
    wall_seconds: float  # from the search's start to its last run's end (or now, while it runs)
    done: bool  # every trial asked and closed

    @property
    def completed(self) -> pd.DataFrame:
        return self.trials[self.trials["state"] == "COMPLETE"]

    @property
    def pruned(self) -> int:
        return int((self.trials["state"] == "PRUNED").sum())

    @property
    def paused_by(self) -> list[str]:
        """Runs the user cancelled while their trial was open: the search waits for their resume."""
        open_trials = self.trials[self.trials["state"] == "RUNNING"]
        return [r for r, s in zip(open_trials["run_id"], open_trials["run_status"]) if s == Status.CANCELLED]

    @property
    def best(self) -> dict[str, Any] | None:
        """The completed trial with the highest value: trial, value, run_id and the searched values."""
        done = self.completed
        if done.empty:
            return None
        row = done.loc[done["value"].idxmax()]
        return {"trial": int(row["trial"]), "value": float(row["value"]), "run_id": row["run_id"],
                "params": {k: _plain(row[k]) for k in self.plan.space.keys}}

    def progress_line(self) -> str:
        states = self.trials["state"].value_counts()
        parts = [f"{int(states.get(s, 0))} {w}" for s, w in (("COMPLETE", "completed"), ("PRUNED", "pruned"),
                                                             ("FAIL", "failed"), ("RUNNING", "in flight"))]
        best = self.best
        tail = f"; best {best['value']:.4f} (trial {best['trial']})" if best else ""
        return f"search {self.group}: {len(self.trials)}/{self.plan.trials} trials, {', '.join(parts)}{tail}"

    def to_dict(self) -> dict[str, Any]:
        trials = [{k: _plain(v) for k, v in row.items()} for row in self.trials.to_dict(orient="records")]
        return {"group": self.group, "name": self.name, "objective": OBJECTIVE, "space": self.plan.space.to_meta(),
                "trials": trials, "best": self.best, "pruned": self.pruned, "wall_seconds": round(self.wall_seconds, 1),
                "done": self.done, "paused_by": self.paused_by}

    def to_text(self) -> str:
        from cnnkit.text import format_table

        keys = self.plan.space.keys
        rows = [[int(r["trial"]), r["state"].lower(), "" if pd.isna(r["value"]) else f"{r['value']:.4f}",
                 *[value_text(_plain(r[k]), 4) for k in keys], r["run_id"] or ""] for _, r in self.trials.iterrows()]
        lines = [format_table(rows, ["trial", "state", "value", *keys, "run"], "rlr" + "r" * len(keys) + "l"), ""]
        best = self.best
        if best:
            values = " ".join(f"{k}={value_text(v, 4)}" for k, v in best["params"].items())
            lines.append(f"best: trial {best['trial']}, {OBJECTIVE} {best['value']:.4f} ({values}), "
                         f"run {best['run_id']}")
        lines.append(f"{len(self.trials)} trials ({len(self.completed)} completed, {self.pruned} pruned) in "
                     f"{self.wall_seconds / 60:.1f} min" + ("" if self.done else "; not done yet"))
        if self.paused_by:
            lines.append(f"paused: run {', '.join(self.paused_by)} was cancelled; `cnnkit resume ID` continues the "
                         "search, `cnnkit delete ID` skips that trial")
        return "\n".join(lines)


def search_report(store: Store, group_id: str) -> SearchReport:
    """The trials of search group ``group_id`` as its study records them, with their runs' status."""
    plan = plan_of(store, group_id)
    group = store.group(group_id) or {}
    study = open_study(store, group_id, plan)
    keys = plan.space.keys
    trials = study.get_trials(deepcopy=False)
    runs = {r.id: r for r in store.list_runs(group=group_id)}
    rows = []
    for t in trials:
        run = runs.get(t.user_attrs.get(RUN_ID))
        rows.append({"trial": t.number, "state": t.state.name, "value": t.value, "run_id": t.user_attrs.get(RUN_ID),
                     "run_status": str(run.status) if run else None,
                     "pruned_at_epoch": t.user_attrs.get("pruned_at_epoch"), "added": bool(t.user_attrs.get(ADDED)),
                     **{k: t.params.get(k) for k in keys}})
    frame = pd.DataFrame(rows, columns=[*TRIAL_COLUMNS, "added", *keys])
    frame["pruned_at_epoch"] = frame["pruned_at_epoch"].astype("Int64")  # whole epochs, not 1.0
    ends = [r.finished_at for r in runs.values() if r.finished_at]
    done = bool(group.get("meta", {}).get("done"))
    end = max(ends) if done and ends else time.time()
    return SearchReport(group_id, group.get("name", group_id), plan, frame.drop(columns="added"),
                        end - group.get("created_at", end), done)


def wait(store: Store, group_id: str, progress: Callable[[str], None] | None = None, poll: float = 2.0,
         timeout: float | None = None) -> SearchReport:
    """Poll until the search is done or paused (or ``timeout`` seconds have passed); the last report.

    ``progress`` gets a line whenever the trials change.
    """
    deadline = None if timeout is None else time.time() + timeout
    last = None
    while True:
        report = search_report(store, group_id)
        line = report.progress_line()
        if progress and line != last:
            progress(line)
        last = line
        if report.done or report.paused_by or (deadline is not None and time.time() > deadline):
            return report
        time.sleep(poll)


def _plain(value: Any) -> Any:
    """A frame's cell as JSON has it: numpy scalars as Python's, NaN and pandas' NA as None."""
    if not isinstance(value, (str, list, dict)) and pd.isna(value):
        return None
    return value.item() if hasattr(value, "item") else value

