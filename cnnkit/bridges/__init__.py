"""Handing finished runs over to the tools people already use: TensorBoard and MLflow.

``cnnkit export --tensorboard DIR`` (``tensorboard``) and ``cnnkit export --mlflow URI`` (``mlflow``)
take the same selection as a bundle export: run ids, or a group's finished runs, or every finished
run. Each exporter imports its library when called; this module only chooses the runs and names
their metrics.
"""
from __future__ import annotations

from collections.abc import Sequence

from cnnkit.errors import ConfigError, StoreError
from cnnkit.events import EPOCH_NAMES
from cnnkit.store import Run, Store


def finished_runs(store: Store, run_ids: Sequence[str] = (), group: str | None = None) -> list[Run]:
    """The runs to export, oldest first: ``run_ids`` (each must exist and have finished), else the
    finished runs of ``group`` (which must exist), else every finished run."""
    if run_ids:
        runs = store.list_runs(ids=run_ids)
        missing = sorted(set(run_ids) - {r.id for r in runs})
        if missing:
            raise StoreError(f"no run {missing[0]} in {store.home}")
        active = [r.id for r in runs if r.active]
        if active:
            raise StoreError(f"run {active[0]} has not finished; only finished runs can be exported")
    else:
        if group and store.group(group) is None:
            raise ConfigError("--group", f"no group {group!r} in {store.home} (`cnnkit runs` shows each run's group)")
        runs = [r for r in store.list_runs(group=group) if not r.active]
    if not runs:
        raise ConfigError("run_ids", "no finished runs to export")
    return runs[::-1]


def metric_key(split: str, name: str, sep: str) -> str:
    """"train/loss", "test/acc" (sep "/"); the per-epoch figures (lr, epoch_seconds, …) by their name."""
    return name if name in EPOCH_NAMES else f"{split}{sep}{name}"
