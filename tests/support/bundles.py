"""Finished runs to export, and bundles rewritten into bad ones."""
from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cnnkit.config import RunConfig
from cnnkit.events import MetricPoint
from cnnkit.store import Store
from support.runs import finished_run


def finished_runs(store: Store, n: int = 2, group: bool = True) -> list[str]:
    """``n`` completed runs (seeds 0, 1, …) tagged "paper", in a sweep group unless ``group`` is False; run i has
    10 train-loss points and a test accuracy of 0.5 + i/10."""
    group_id = store.create_group("sweep", "seeds", {"axes": {"seed": "2 seeds"}}) if group else None
    ids = []
    for i in range(n):
        points = [MetricPoint(s, s / 5, "train", "loss", 2.0 / s + i, 1e9 + s / 3) for s in range(1, 11)]
        points.append(MetricPoint(10, 2.0, "test", "acc", 0.5 + i / 10, 1e9 + 4))
        ids.append(finished_run(store, RunConfig(epochs=2, seed=i), group=group_id, tags=["paper"], worker="w",
                                points=points, summary={"best": {"test_acc": 0.5}}))
    return ids


def rewrite(src: Path, dst: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    """Copy bundle ``src`` to ``dst`` with ``change`` applied to {member name: parsed JSON}."""
    with zipfile.ZipFile(src) as zf:
        docs = {name: json.loads(zf.read(name)) for name in zf.namelist()}
    change(docs)
    with zipfile.ZipFile(dst, "w") as zf:
        for name, doc in docs.items():
            zf.writestr(name, doc if isinstance(doc, bytes) else json.dumps(doc))
    return dst


def first_run(docs: dict[str, Any]) -> dict[str, Any]:
    return docs[f"runs/{docs['manifest.json']['runs'][0]}.json"]


def with_extra_member(src: Path, dst: Path, info: zipfile.ZipInfo | str, data: bytes = b"{}") -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for name in zin.namelist():
            zout.writestr(name, zin.read(name))
        zout.writestr(info, data)
    return dst
