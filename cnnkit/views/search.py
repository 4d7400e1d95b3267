"""What the Train page's Search part and the Compare page's search section show."""
from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from cnnkit.config import RunConfig
from cnnkit.search import GROUP_KIND, SearchPlan, parse_space
from cnnkit.store import Store
from cnnkit.text import value_text

if TYPE_CHECKING:
    import pandas as pd

    from cnnkit.search.results import SearchReport

SPACE_HELP = ("log:LOW:HIGH (log-uniform, e.g. lr log:1e-3:1), LOW:HIGH (uniform, e.g. momentum 0:0.9) or "
              "V1,V2,… (a choice, e.g. batch_size 64,128,256; | between list values: 120,84|256)")


def search_plan(config: RunConfig, axes: list[tuple[str, str]], trials: int, prune: bool, prune_after: int,
                parallel: int, tags: Iterable[str] = ()) -> SearchPlan:
    """The checked plan of the form; ConfigError naming ``--space`` (or the budget's field) if not."""
    tags = [t.strip() for t in tags if t.strip()]
    return SearchPlan(config, parse_space(config.model, axes), trials, prune, prune_after, parallel, tags)


def plan_preview(plan: SearchPlan) -> str:
    """"8 trials of lenet … over lr in [0.001, 1] (log); … Each trial is one run of this group."."""
    return (f"{plan.describe()}. TPE samples the first {min(plan.random_trials, plan.trials)} at random, then "
            "proposes each trial from the results so far; every trial is a run of one group.")


def selected_search(store: Store, groups: list[str]) -> str | None:
    """The search group the Compare page's selection is about: the one group picked, when it is a search."""
    if len(groups) != 1:
        return None
    group = store.group(groups[0])
    return groups[0] if group is not None and group["kind"] == GROUP_KIND else None


def best_line(report: SearchReport) -> str:
    """"**Best: trial 3**, final test accuracy 0.8512 (lr=0.0123, batch_size=128), run `ab12cd34`." or why none."""
    best = report.best
    if best is None:
        return "No completed trial yet."
    values = ", ".join(f"{k}={value_text(v, 4)}" for k, v in best["params"].items())
    return (f"**Best: trial {best['trial']}**, final test accuracy {best['value']:.4f} ({values}), "
            f"run `{best['run_id']}`.")


def status_line(report: SearchReport) -> str:
    """Trials, pruned, wall time; and why it waits when a cancelled trial pauses it."""
    state = "done" if report.done else "running"
    line = (f"{len(report.trials)}/{report.plan.trials} trials, {len(report.completed)} completed, "
            f"{report.pruned} pruned · {report.wall_seconds / 60:.1f} min · {state}")
    if report.paused_by:
        line += f" · paused: run {', '.join(report.paused_by)} was cancelled (resume it to go on)"
    return line


def trials_table(report: SearchReport) -> pd.DataFrame:
    """The trials as the page lists them: state in words, the searched values, the run."""
    table = report.trials.copy()
    table["state"] = table["state"].str.lower()
    return table[["trial", "state", "value", *report.plan.space.keys, "run_id", "run_status", "pruned_at_epoch"]]

