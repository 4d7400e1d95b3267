"""A run as the store hands it out, and the checks on what users may call and label runs."""
from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cnnkit.errors import StoreError
from cnnkit.events import Status

RUN_ID_RE = re.compile(r"^[0-9a-f]{8}\Z")  # \Z, not $: "$" also matches before a trailing newline
MAX_NAME, MAX_TAGS, MAX_TAG = 200, 20, 50  # run names and tags, wherever they come from


@dataclass
class Run:
    id: str
    name: str
    group: str | None
    tags: list[str]
    status: Status
    model: str
    dataset: str
    config: dict[str, Any]
    queued_at: float
    started_at: float | None
    first_step_at: float | None
    finished_at: float | None
    device: str | None
    worker: str | None
    pid: int | None
    pid_start: str | None
    heartbeat: float | None
    cancel_requested: bool
    resume: bool
    step: int
    total_steps: int
    epoch: float
    error: str | None
    summary: dict[str, Any] = field(default_factory=dict)
    tries: int = 0  # automatic resumptions after its job was lost

    @property
    def progress(self) -> float:
        if self.status == Status.COMPLETED:
            return 1.0
        return min(1.0, self.step / self.total_steps) if self.total_steps else 0.0

    @property
    def epochs(self) -> int:
        return int(self.config.get("epochs", 0))

    @property
    def active(self) -> bool:
        return self.status in Status.ACTIVE


def run_from_row(row: sqlite3.Row) -> Run:
    return Run(
        id=row["id"], name=row["name"], group=row["grp"], tags=json.loads(row["tags"]), status=Status(row["status"]),
        model=row["model"], dataset=row["dataset"], config=json.loads(row["config"]), queued_at=row["queued_at"],
        started_at=row["started_at"], first_step_at=row["first_step_at"], finished_at=row["finished_at"],
        device=row["device"], worker=row["worker"], pid=row["pid"], pid_start=row["pid_start"],
        heartbeat=row["heartbeat"], cancel_requested=bool(row["cancel_requested"]), resume=bool(row["resume"]),
        step=row["step"], total_steps=row["total_steps"], epoch=row["epoch"], error=row["error"],
        summary=json.loads(row["summary"]), tries=row["tries"],
    )


def is_run_id(text: str) -> bool:
    """Whether ``text`` has the form of the ids the store makes: 8 hex digits."""
    return isinstance(text, str) and bool(RUN_ID_RE.match(text))


def check_run_id(run_id: str) -> str:
    """Run ids are made by the store: 8 hex digits. Anything else is refused before it reaches a path."""
    if not is_run_id(run_id):
        raise StoreError(f"run id must be 8 hex digits as printed by cnnkit, got {run_id!r}")
    return run_id


def check_name(name: str) -> str:
    """A run name as a user gives it (`--name`, the dashboard, rename): stripped, 1–200 characters."""
    name = name.strip() if isinstance(name, str) else ""
    if not name or len(name) > MAX_NAME:
        raise StoreError(f"name must be 1–{MAX_NAME} characters, got {len(name)}")
    return name


def check_tags(tags: Iterable[str]) -> list[str]:
    """Tags stripped, blanks and repeats dropped, sorted; at most 20 of at most 50 characters."""
    tags = sorted({t.strip() for t in tags if t.strip()})
    if len(tags) > MAX_TAGS or any(len(t) > MAX_TAG for t in tags):
        raise StoreError(f"tags: at most {MAX_TAGS}, each at most {MAX_TAG} characters")
    return tags
