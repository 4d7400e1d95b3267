"""Layer health of runs, read back from the store (split "health", recorded by cnnkit.watch while they train):
a layer × time grid per run and quantity (the heatmaps of Runs and Compare) and a table of the figures that
tell a starving first layer from a healthy one, per run and epoch (the experiments' report).
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from cnnkit.store import Store
from cnnkit.watch.names import QUANTITIES, SPLIT, metric_name, parse

MAX_COLUMNS = 400  # reports per grid: a 1000-epoch run thins to this many columns
_KIND_ORDER = {"conv": 0, "fc": 2}  # conv layers first, fully connected last, the rest (norms) between


def layer_order(layer: str) -> tuple[int, int, str]:
    """Sort key that puts ``conv1 < conv2 < conv10 < bn1 < fc1`` and each activation right after its layer."""
    head, _, tail = layer.partition(".")
    match = re.fullmatch(r"([a-z_]+?)(\d+)", head)
    if not match:
        return (1, 0, layer)
    kind, number = match.groups()
    return (_KIND_ORDER.get(kind, 1), int(number), f"{kind}.{tail}")


@dataclass
class HealthGrid:
    """One quantity of one run: ``z[i][j]`` is layer ``layers[i]`` at ``epochs[j]`` (None where not measured)."""

    run_id: str
    quantity: str
    layers: list[str]  # top row first: the input side
    epochs: list[float]  # fractional between epochs for the per-report quantities
    z: list[list[float | None]]

    @property
    def empty(self) -> bool:
        return not self.layers

    def values(self) -> list[float]:
        return [v for row in self.z for v in row if v is not None and math.isfinite(v)]


def points(store: Store, run_ids: Iterable[str], max_points: int | None = MAX_COLUMNS) -> pd.DataFrame:
    """The health points of ``run_ids`` with their ``layer`` and ``quantity`` (run_id, step, epoch, name, value)."""
    return labelled(store.metrics(list(run_ids), split=SPLIT, max_points=max_points))


def labelled(frame: pd.DataFrame) -> pd.DataFrame:
    """Health points (run_id, step, epoch, name, value, …) with the ``layer`` and ``quantity`` of each name."""
    parts = frame["name"].map(parse)
    return frame.assign(layer=parts.map(lambda p: p[0]), quantity=parts.map(lambda p: p[1]))


def quantities(frame: pd.DataFrame) -> list[str]:
    """The quantities recorded in ``frame`` (of ``points``), in their canonical order."""
    present = set(frame["quantity"])
    return [q for q in QUANTITIES if q in present]


def grid(frame: pd.DataFrame, run_id: str, quantity: str) -> HealthGrid:
    """``quantity`` of run ``run_id`` as a layer × epoch grid, from ``points``."""
    mine = frame[(frame["run_id"] == run_id) & (frame["quantity"] == quantity)]
    if mine.empty:
        return HealthGrid(run_id, quantity, [], [], [])
    table = mine.pivot_table(index="layer", columns="epoch", values="value", aggfunc="last")
    layers = sorted(table.index, key=layer_order)
    table = table.loc[layers]
    z = [[None if pd.isna(v) else float(v) for v in row] for row in table.to_numpy()]
    return HealthGrid(run_id, quantity, layers, [float(e) for e in table.columns], z)


def health_table(store: Store, run_ids: Iterable[str]) -> list[dict[str, Any]]:
    """One row per run and finished epoch of ``run_ids`` in the store (``table``)."""
    ids = list(run_ids)
    frame = points(store, ids, max_points=None)
    if frame.empty:
        return []
    names = {r.id: r.name for r in store.list_runs(ids=ids)}
    tests = store.metrics(ids, split="test", names=("acc",))
    test_acc = {(r, int(e)): v for r, e, v in tests[["run_id", "epoch", "value"]].itertuples(index=False)}
    return table(frame, ids, names, test_acc)


def table(frame: pd.DataFrame, run_ids: list[str], names: dict[str, str],
          test_acc: dict[tuple[str, int], float]) -> list[dict[str, Any]]:
    """One row per run and finished epoch, from ``labelled`` health points: how much gradient reaches the first
    layer against the last, and how many activations are saturated or dead — the figures that show the sigmoid
    LeNet's plateau.

    Keys: ``run_id``, ``name``, ``epoch``, ``test_acc``; ``first_layer``, ``last_layer`` (the first and the last
    layer with weights in the forward order, e.g. conv1 and fc3); ``first_grad_norm``, ``last_grad_norm`` (the
    mean of the epoch's reports) and ``grad_ratio`` (first / last); ``saturated`` (the mean over the sigmoid and
    tanh activations of their saturated share at the epoch's end, None without any) and ``dead`` (the same over
    the ReLUs). Rows come in the order of ``run_ids``; runs without health points (from before it was recorded)
    have none.
    """
    rows = []
    for run_id in run_ids:  # in the order asked for
        run = frame[frame["run_id"] == run_id]
        grads = run[run["quantity"] == "grad_norm"]
        layers = sorted(set(grads["layer"]), key=layer_order)
        if not layers:
            continue
        first, last = layers[0], layers[-1]
        epoch_of = grads["epoch"].map(math.ceil)  # a report at epoch 0.2 belongs to epoch 1
        for epoch in sorted(set(epoch_of)):
            in_epoch = grads[epoch_of == epoch]
            first_norm = _mean(in_epoch, metric_name(first, "grad_norm"))
            last_norm = _mean(in_epoch, metric_name(last, "grad_norm"))
            at_end = run[run["epoch"] == epoch]
            rows.append({
                "run_id": run_id, "name": names.get(run_id, ""), "epoch": epoch,
                "test_acc": test_acc.get((run_id, epoch)),
                "first_layer": first, "last_layer": last, "first_grad_norm": first_norm, "last_grad_norm": last_norm,
                "grad_ratio": first_norm / last_norm if first_norm is not None and last_norm else None,
                **{q: _share(at_end, q) for q in ("saturated", "dead")},
            })
    return rows


def _mean(frame: pd.DataFrame, name: str) -> float | None:
    values = frame.loc[frame["name"] == name, "value"]
    return float(values.mean()) if len(values) else None


def _share(frame: pd.DataFrame, quantity: str) -> float | None:
    values = frame.loc[frame["quantity"] == quantity, "value"]
    return float(values.mean()) if len(values) else None
