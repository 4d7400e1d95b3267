"""The reliability ledger: tests record what they tried and how it ended; every pytest run that recorded
something ends with a table and writes the same numbers to ``artifacts/reliability.json``.

Registered from tests/conftest.py (``pytest_plugins``), so the ``record`` fixture reaches every test
that exercises a fault, not only those under tests/reliability.

    def test_something(record):
        ...
        record("fault", "SIGKILL of a job", "lost")
        record("input", "RunConfig.lr", "rejected" if clean else "NOT rejected cleanly")
        record("concurrency", "metric writers", "0 lost", writers=8, points=1000, lost=0)
"""
from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pytest

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "artifacts" / "reliability.json"
CATEGORIES = {  # category → the table's row title
    "fault": "faults injected",
    "input": "invalid inputs tried",
    "concurrency": "concurrency",
    "import": "imports refused",
    "path": "ids and paths refused",
    "server": "server exposure",
}
CLEAN = {"input": "rejected", "import": "refused", "path": "refused", "server": "closed"}  # counts as handled


@dataclass
class Ledger:
    entries: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    current: str = ""  # node id of the running test

    def record(self, category: str, what: str, outcome: str, **numbers: Any) -> None:
        if category not in CATEGORIES:
            raise ValueError(f"category must be one of {', '.join(CATEGORIES)}, got {category!r}")
        entry = self.entries.setdefault((category, what, outcome), {
            "category": category, "what": what, "outcome": outcome, "count": 0, "tests": [], "runs": []})
        entry["count"] += 1
        if self.current and self.current not in entry["tests"]:
            entry["tests"].append(self.current)
        if numbers:  # a measured run (writers, points, lost, latency…): each kept as it was
            entry["runs"].append(numbers)

    def of(self, category: str) -> list[dict[str, Any]]:
        return [e for e in self.entries.values() if e["category"] == category]

    def summary(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for category in CATEGORIES:
            entries = self.of(category)
            if not entries:
                continue
            outcomes: Counter[str] = Counter()
            for e in entries:
                outcomes[e["outcome"]] += e["count"]
            clean = CLEAN.get(category)
            handled = outcomes[clean] if clean else sum(n for o, n in outcomes.items() if not o.startswith("NOT "))
            row: dict[str, Any] = {"count": sum(outcomes.values()), "handled": handled,
                                   "outcomes": dict(outcomes.most_common())}
            if category == "fault":
                row["faults"] = _grouped(entries)
            if category == "concurrency":
                row["runs"] = [{"what": e["what"], "outcome": e["outcome"], **run}
                               for e in entries for run in e["runs"]]
                row["lost"] = sum(r.get("lost", 0) for r in row["runs"])
            out[category] = row
        return out

    def table(self) -> list[str]:
        lines = []
        for category, row in self.summary().items():
            title = f"{CATEGORIES[category]:<22}"
            if category == "concurrency":
                for run in row["runs"]:
                    load = (f"{run['writers']} writers × {run['points']} points, {run['lost']} lost"
                            if "writers" in run else run["outcome"])
                    extras = ", ".join(f"{k} {v}" for k, v in run.items()
                                       if k not in ("what", "outcome", "writers", "points", "lost"))
                    lines.append(f"{title} {load}  ({run['what']}{'; ' + extras if extras else ''})")
                continue
            if category == "fault":
                lines.append(f"{title} {row['count']} injected, {row['handled']} handled")
                lines += [f"{'':<22}   {what}{f' ×{n}' if n > 1 else ''}: {outcome}"
                          for what, outcome, n in row["faults"]]
                continue
            outcomes = ", ".join(f"{n} {o}" for o, n in row["outcomes"].items())
            lines.append(f"{title} {row['count']} tried, {row['handled']} {CLEAN[category]} cleanly  [{outcomes}]")
        return lines

    def to_json(self) -> dict[str, Any]:
        return {"generated_at": time.strftime("%Y-%m-%dT%H:%M:%S"), "summary": self.summary(),
                "entries": sorted(self.entries.values(), key=lambda e: (e["category"], e["what"], e["outcome"]))}


def _grouped(entries: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    """(what, outcome, count) with "kind: detail" entries of one outcome folded into one line."""
    groups: dict[tuple[str, str], int] = {}
    for e in entries:
        key = (e["what"].split(": ")[0], e["outcome"])
        groups[key] = groups.get(key, 0) + e["count"]
    return [(what, outcome, n) for (what, outcome), n in groups.items()]


_KEY = pytest.StashKey[Ledger]()


def _ledger(config: pytest.Config) -> Ledger:
    if _KEY not in config.stash:
        config.stash[_KEY] = Ledger()
    return config.stash[_KEY]


class Record(Protocol):
    """The type of the ``record`` fixture, for test signatures."""

    def __call__(self, category: str, what: str, outcome: str, **numbers: Any) -> None: ...


@pytest.fixture(scope="session")
def record(pytestconfig: pytest.Config) -> Record:
    """``record(category, what, outcome, **numbers)``: add one line to the reliability ledger.

    Session-scoped so that hypothesis tests may take it; the entry is attributed to the running test.
    """
    return _ledger(pytestconfig).record


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    _ledger(item.config).current = item.nodeid


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    ledger = _ledger(config)
    if not ledger.entries:
        return
    terminalreporter.write_sep("=", "reliability")
    for line in ledger.table():
        terminalreporter.write_line(line)
    try:
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(json.dumps(ledger.to_json(), indent=1, default=str) + "\n")
        terminalreporter.write_line(f"(written to {OUT.relative_to(ROOT)})")
    except OSError as exc:
        terminalreporter.write_line(f"(could not write {OUT}: {exc})")
