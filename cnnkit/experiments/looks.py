"""Every look ever taken at a preset's question, and what they cost: ``results/looks.json``.

A look is one launch of a preset whose runs were seen: a first run, a rerun, a second look at more seeds, a
redesign. Each is counted (another look at the same question is another chance of a false alarm), shown in
results/README.md, and its bundle shipped: the current one in ``results/reference/``, earlier ones in
``results/looks/``. The first protocol's looks (before plans were recorded, 2026-11-22 to 2026-12-01) are
listed from the bundles the project shipped then.
"""
from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

LEDGER = "looks.json"
ARCHIVE = "looks"


def load(results_dir: Path) -> list[dict[str, Any]]:
    path = results_dir / LEDGER
    return json.loads(path.read_text()) if path.exists() else []


def record(results_dir: Path, entry: dict[str, Any]) -> None:
    """Add a look (or replace the entry of the same group), keeping the ledger ordered by preset and start."""
    looks = [look for look in load(results_dir) if look.get("group") != entry.get("group")] + [entry]
    looks.sort(key=lambda look: (look["preset"], look.get("first_start") or 0))
    results_dir.mkdir(parents=True, exist_ok=True)
    write_whole(results_dir / LEDGER, json.dumps(looks, indent=1) + "\n")


def archive_current(results_dir: Path, preset: str) -> None:
    """Move ``results/reference/<preset>.zip`` into the archive before a new look replaces it, and point its
    ledger entry there."""
    current = results_dir / "reference" / f"{preset}.zip"
    if not current.exists():
        return
    looks = load(results_dir)
    entry = next((look for look in looks if look.get("bundle") == f"reference/{preset}.zip"), None)
    name = f"{preset}-{entry['group'] if entry else 'unrecorded'}.zip"
    (results_dir / ARCHIVE).mkdir(parents=True, exist_ok=True)
    shutil.move(current, results_dir / ARCHIVE / name)
    if entry is not None:
        entry["bundle"] = f"{ARCHIVE}/{name}"
        write_whole(results_dir / LEDGER, json.dumps(looks, indent=1) + "\n")


def entry_of(report: Any, bundle: str, protocol: int = 2) -> dict[str, Any]:
    """The ledger entry of a finished look, from its report (cnnkit.experiments.report.ExperimentReport)."""
    return {"preset": report.preset, "protocol": protocol, "budget": report.budget, "seeds": report.plan["seeds"],
            "group": report.group, "date": (report.created or "")[:10], "plan_hash": report.plan_hash,
            "run_seconds": round(report.run_seconds, 1), "first_start": report.first_start,
            "last_finish": report.last_finish, "busy_spans": _rounded(report.busy_spans), "bundle": bundle,
            "outcomes": report.outcomes()}


def entry_at_launch(group: str, meta: dict[str, Any]) -> dict[str, Any]:
    """The ledger entry of a look as it is launched (``meta``: its group's, with the plan and its hash): counted
    from the start, without a bundle until it is finished and shipped (``entry_of`` replaces it then)."""
    plan = meta["plan"]
    return {"preset": plan["preset"], "protocol": 2, "budget": plan["budget"], "seeds": plan["seeds"],
            "group": group, "date": (meta.get("created") or "")[:10], "plan_hash": meta["plan_hash"],
            "run_seconds": 0.0, "first_start": None, "last_finish": None, "bundle": None, "outcomes": {}}


def fill_spans(results_dir: Path, reports: dict[str, Any]) -> None:
    """Give the ledger entries of the current looks that lack them the spans their runs ran (from the reports of
    their bundles, by preset name)."""
    ledger = load(results_dir)
    changed = False
    for look in ledger:
        report = reports.get(look["preset"])
        if "busy_spans" not in look and report is not None and look.get("group") == report.group \
                and look.get("bundle") == f"reference/{look['preset']}.zip":
            look["busy_spans"] = _rounded(report.busy_spans)
            changed = True
    if changed:
        write_whole(results_dir / LEDGER, json.dumps(ledger, indent=1) + "\n")


def _rounded(spans: list[tuple[float, float]]) -> list[list[float]]:
    return [[round(start, 1), round(end, 1)] for start, end in spans]


def busy_seconds(looks: list[dict[str, Any]]) -> float:
    """How long at least one look's runs were running: the union of their spans (looks overlap when slots run
    two presets at once; pauses between sittings are left out, and within a look too where the ledger has the
    spans of its runs)."""
    spans = []
    for look in looks:
        if look.get("busy_spans"):
            spans += [(start, end) for start, end in look["busy_spans"]]
        elif look.get("first_start") is not None and look.get("last_finish") is not None:
            spans.append((look["first_start"], look["last_finish"]))
    return sum(end - start for start, end in merge_spans(spans))


def write_whole(path: Path, text: str) -> None:
    """Write ``path`` whole or not at all."""
    tmp = path.with_name(f"{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def merge_spans(spans: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    """The union of time spans as disjoint spans in order: when at least one of them was running (a machine
    restart between two runs of a look is a pause, not busy time)."""
    merged: list[tuple[float, float]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
