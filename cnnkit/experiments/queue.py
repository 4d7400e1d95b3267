"""Launching an experiment: every run of a preset queued in one store group, and following it."""
from __future__ import annotations

import datetime as _dt
import os
import platform
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from cnnkit.data.datasets import DATASETS, stand_ins
from cnnkit.errors import DataError
from cnnkit.events import Status
from cnnkit.experiments.presets import build_configs, check_budget, check_seeds, describe_budget, get, missing_datasets
from cnnkit.jobs.process import supervisor_running
from cnnkit.store import Store

# torch and the supervisor (which imports the engine, hence torch) are imported inside the functions
# that use them: listing or analysing experiments must not wait a second for torch.

GROUP_KIND = "experiment"  # the store group kind of an experiment; the analysis reads only these
META_VERSION = 1
NAME_SEP = " · "  # run names: "<preset> · <level> · seed <n>"; the analysis falls back on them
SUPERVISOR_START_GRACE = 20.0  # seconds a new supervisor may take to import torch and take its lock


def launch(store: Store, name: str, budget: str = "quick", seeds: int | None = None,
           start_worker: bool = True, *, meta: Mapping[str, Any] | None = None) -> str:
    """Queue every run of preset ``name`` in a new group of kind "experiment"; returns the group id.

    The group's meta holds the preset, budget, seeds, level order, baseline and the level of every
    run id (``meta["runs"]``); ``meta`` adds entries (the reference command records itself there).
    Refuses (DataError) when a dataset is missing and downloads are off (CNNKIT_OFFLINE).
    """
    preset = get(name)
    check_budget(budget)
    configs = build_configs(preset, budget, seeds)
    n_seeds = check_seeds(seeds, preset, budget)
    missing = missing_datasets(preset)
    if missing and os.environ.get("CNNKIT_OFFLINE"):
        spec = DATASETS[missing[0]]
        instead = "".join(f"; or, to run it on the {DATASETS[other].title}: {DATASETS[other].how_to_get}"
                          for other in stand_ins(spec.name))
        raise DataError(f"experiment {name} needs {spec.title}, which is not installed and downloads are off: "
                        f"{spec.how_to_get}{instead}")
    group_meta = {
        "version": META_VERSION, "preset": preset.name, "title": preset.title, "question": preset.question,
        "factor": preset.factor, "levels": preset.labels, "baseline": preset.baseline, "budget": budget,
        "budget_text": describe_budget(preset, budget), "seeds": n_seeds, "lines": list(preset.lines),
        "created": _now_iso(), "host": host_info(), "runs": {}, **(meta or {}),
    }
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


def host_info() -> dict[str, Any]:
    """CPU model, cores, GPU (read without initialising CUDA), torch and Python versions: the host an
    experiment is launched on, kept in its group's meta (the reference README's setting reads it back)."""
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpu = None
    for info in sorted(Path("/proc/driver/nvidia/gpus").glob("*/information")):
        try:
            model = [ln for ln in info.read_text().splitlines() if ln.startswith("Model:")]
        except OSError:
            continue
        gpu = model[0].split(":", 1)[1].strip() if model else "NVIDIA GPU"
        break
    return {"cpu": cpu, "cores": os.cpu_count(), "gpu": gpu, "torch": torch.__version__.split("+")[0],
            "python": platform.python_version(), "os": f"{platform.system()} {platform.release()}"}


def _now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

