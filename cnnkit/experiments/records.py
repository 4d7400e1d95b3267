"""An experiment's group and its runs as the analysis reads them, from a store or from a bundle zip.

Both give the group (its meta holds the plan) and one ``RunRecord`` per run with its final metrics and one row
per finished epoch, built by the same code from the same metric points.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from cnnkit.bundle import BundleError, read_bundle
from cnnkit.errors import ConfigError, StoreError
from cnnkit.events import EPOCH_NAMES, epoch_rows
from cnnkit.experiments.metrics import RunRecord
from cnnkit.store import Run, Store
from cnnkit.watch.names import SPLIT as HEALTH

GROUP_KIND = "experiment"  # the store group kind of an experiment; the analysis reads only these
NAME_SEP = " · "  # run names: "<preset> · <level> · seed <n>"; the analysis falls back on them
FINAL_KEYS = ("train_loss", "train_acc", "train_eval_loss", "train_eval_acc", "test_loss", "test_acc")


def from_store(store: Store, group_id: str) -> tuple[dict[str, Any], list[RunRecord]]:
    """The experiment group ``group_id`` of ``store`` and its runs."""
    group = store.group(group_id)
    if group is None:
        raise StoreError(f"no experiment group {group_id} in {store.home}")
    if group["kind"] != GROUP_KIND:
        raise ConfigError("group", f"{group_id} is a {group['kind']} group, not an experiment")
    runs = from_runs(store, store.list_runs(group=group_id))
    if _wants_health(group):
        points = store.metrics([r.id for r in runs], split=HEALTH)
        by_run: dict[str, list[tuple]] = {}
        for run_id, *point in zip(*(points[c].tolist() for c in ("run_id", "step", "epoch", "name", "value"))):
            by_run.setdefault(run_id, []).append(tuple(point))
        runs = [replace(r, health=tuple(by_run.get(r.id, ()))) for r in runs]
    return group, runs


def from_runs(store: Store, runs: list[Run]) -> list[RunRecord]:
    """``runs`` of ``store`` as the analysis reads them, whatever group they belong to (Compare's verdict)."""
    points = store.metrics([r.id for r in runs], names=("loss", "acc", *EPOCH_NAMES), whole_epochs=True)
    by_run: dict[str, list[tuple]] = {}
    columns = [points[c].tolist() for c in ("run_id", "step", "epoch", "split", "name", "value", "wall")]
    for run_id, *point in zip(*columns):  # column lists: a tenth of itertuples' cost over 100,000 points
        by_run.setdefault(run_id, []).append(tuple(point))
    return [_record(r.id, r.summary, r.name, str(r.status), r.config, r.error, r.started_at, r.finished_at,
                    r.device, by_run.get(r.id, [])) for r in runs]


def from_bundle(path: Path | str) -> tuple[dict[str, Any], list[RunRecord]]:
    """The experiment group in a bundle zip and its runs, read and validated without importing them."""
    bundle = read_bundle(path)
    groups = [g for g in bundle.groups if g["kind"] == GROUP_KIND]
    if not groups:
        raise BundleError(f"{Path(path).name} holds no experiment group")
    group = groups[0]
    health = _wants_health(group)
    runs = [replace(_record(r["id"], r["summary"], r["name"], r["status"], r["config"], r["error"], r["started_at"],
                            r["finished_at"], r["device"], r["metrics"]),
                    health=tuple((p[0], p[1], p[3], p[4]) for p in r["metrics"] if health and p[2] == HEALTH))
            for r in bundle.runs if r["group"] == group["id"]]
    return group, runs


def _wants_health(group: dict[str, Any]) -> bool:
    """Whether the group's plan reports layer health (it costs reading every health point)."""
    return bool((group.get("meta", {}).get("plan") or {}).get("health"))


def _record(run_id: str, summary: dict[str, Any], name: str, status: str, config: dict[str, Any], error: str | None,
            started_at: float | None, finished_at: float | None, device: str | None,
            points: list) -> RunRecord:
    epochs = epoch_rows(tuple(p) for p in points)
    final = dict(summary.get("final") or {})
    if epochs:  # the points are the record; a summary from before the evaluated train accuracy lacks it
        final |= {k: epochs[-1][k] for k in FINAL_KEYS if k in epochs[-1] and k not in final}
    return RunRecord(run_id, (summary.get("origin") or {}).get("id"), name, status, config, summary, error,
                     started_at, finished_at, device, final, tuple(epochs))
