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
            "last_finish": report.last_finish, "bundle": bundle, "outcomes": report.outcomes()}


def busy_seconds(looks: list[dict[str, Any]]) -> float:
    """How long at least one look's runs were running: the union of their spans (looks overlap when slots run
    two presets at once; pauses between sittings are left out)."""
    total, end = 0.0, float("-inf")
    for start, finish in sorted((look["first_start"], look["last_finish"]) for look in looks
                                if look.get("first_start") is not None and look.get("last_finish") is not None):
        total += max(0.0, finish - max(start, end))
        end = max(end, finish)
    return total


def write_whole(path: Path, text: str) -> None:
    """Write ``path`` whole or not at all."""
    tmp = path.with_name(f"{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
