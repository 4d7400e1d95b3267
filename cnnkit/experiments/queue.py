"""Launching an experiment: its plan written and hashed, then every run of a preset queued in one store group;
and following the group until its runs end."""
from __future__ import annotations

import datetime as _dt
import os
import time
from collections.abc import Callable, Mapping
from typing import Any

from cnnkit.data.datasets import DATASETS, stand_ins
from cnnkit.errors import DataError
from cnnkit.events import Status
from cnnkit.experiments.configs import build_configs, check_budget, get, missing_datasets
from cnnkit.experiments.protocol import plan_hash, write_plan
from cnnkit.experiments.records import GROUP_KIND, NAME_SEP
from cnnkit.jobs.process import supervisor_running
from cnnkit.store import Store

# torch and the supervisor (which imports the engine, hence torch) are imported inside the functions
# that use them: listing or analysing experiments must not wait a second for torch.

META_VERSION = 2  # 2: the plan and its hash in the meta
SUPERVISOR_START_GRACE = 20.0  # seconds a new supervisor may take to import torch and take its lock


def launch(store: Store, name: str, budget: str = "quick", seeds: int | None = None,
           start_worker: bool = True, *, command: str | None = None, meta: Mapping[str, Any] | None = None) -> str:
    """Write the plan of a look at preset ``name`` (cnnkit.experiments.protocol), then queue every run in a new
    group of kind "experiment"; returns the group id.

    The group's meta holds the plan and its sha256 (``plan``, ``plan_hash``), written before the first run is
    queued, and the level of every run id (``runs``); ``meta`` adds entries. Refuses (DataError) when a
    dataset is missing and downloads are off (CNNKIT_OFFLINE).
    """
    preset = get(name)
    check_budget(budget)
    configs = build_configs(preset, budget, seeds)
    missing = missing_datasets(preset)
    if missing and os.environ.get("CNNKIT_OFFLINE"):
        spec = DATASETS[missing[0]]
        instead = "".join(f"; or, to run it on the {DATASETS[other].title}: {DATASETS[other].how_to_get}"
                          for other in stand_ins(spec.name))
        raise DataError(f"experiment {name} needs {spec.title}, which is not installed and downloads are off: "
                        f"{spec.how_to_get}{instead}")
    plan = write_plan(preset, budget, seeds, command)
    group_meta = {"version": META_VERSION, "preset": preset.name, "levels": preset.labels, "budget": budget,
                  "created": _now_iso(), "plan": plan, "plan_hash": plan_hash(plan), "runs": {}, **(meta or {})}
    group = store.create_group(GROUP_KIND, f"{preset.title} · {budget}", group_meta)
    names_ = [f"{preset.name}{NAME_SEP}{label}{NAME_SEP}seed {config.seed}" for label, config in configs]
    ids = store.create_runs([c for _, c in configs], group, names=names_, tags=[f"experiment:{preset.name}"])
    group_meta["runs"] = {run_id: label for run_id, (label, _) in zip(ids, configs)}
    store.update_group_meta(group, group_meta)
    if start_worker:
        from cnnkit.jobs.supervisor import ensure_supervisor

        ensure_supervisor(store)
    return group


def latest_group(store: Store, name: str) -> str | None:
    """The newest experiment group of preset ``name`` in ``store``, or None."""
    get(name)
    for group in store.groups(kind=GROUP_KIND):
        if group["meta"].get("preset") == name:
            return group["id"]
    return None


def group_progress(store: Store, group_id: str) -> dict[str, int]:
    """{status: count} of the group's runs, plus "total" and "finished"."""
    counts: dict[str, int] = {}
    runs = store.list_runs(group=group_id)
    for run in runs:
        counts[run.status] = counts.get(run.status, 0) + 1
    counts["total"] = len(runs)
    counts["finished"] = sum(1 for r in runs if r.status not in Status.ACTIVE)
    return counts


def wait(store: Store, group_id: str, progress: Callable[[str], None] | None = None, poll: float = 2.0,
         timeout: float | None = None, keep_supervisor: bool = True) -> bool:
    """Poll until every run of the group has finished; returns False on timeout.

    ``progress`` gets one line whenever the counts change. With ``keep_supervisor`` a supervisor is
    started again when runs wait and none has been alive for a while (it may have idled out or
    been stopped; a freshly started one needs a few seconds to take its lock).
    """
    from cnnkit.jobs.supervisor import ensure_supervisor

    name = (store.group(group_id) or {}).get("meta", {}).get("preset", group_id)
    deadline = None if timeout is None else time.time() + timeout
    last = None
    absent_since: float | None = None
    while True:
        counts = group_progress(store, group_id)
        if counts != last and progress:
            progress(_progress_line(name, counts))
        last = counts
        if counts["finished"] == counts["total"]:
            return True
        if keep_supervisor and not supervisor_running(store.home):
            absent_since = absent_since or time.time()
            if time.time() - absent_since > SUPERVISOR_START_GRACE:
                ensure_supervisor(store)
                absent_since = None
        else:
            absent_since = None
        if deadline is not None and time.time() > deadline:
            return False
        time.sleep(poll)


def _progress_line(name: str, counts: dict[str, int]) -> str:
    done = ", ".join(f"{counts[s]} {s}" for s in (Status.COMPLETED, Status.DIVERGED, Status.FAILED, Status.OOM,
                                                  Status.LOST, Status.CANCELLED) if counts.get(s))
    waiting = ", ".join(f"{counts[s]} {s}" for s in (Status.RUNNING, Status.QUEUED) if counts.get(s))
    text = f"{time.strftime('%H:%M:%S')} {name}: {counts['finished']}/{counts['total']} finished"
    return text + (f" ({done})" if done else "") + (f"; {waiting}" if waiting else "")


def _now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

