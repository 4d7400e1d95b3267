"""Which process runs a run: its pid and the kernel's start time of that pid.

The store records both; a supervisor checks them. A pid alone can be reused by an unrelated
process; pid plus start time cannot.
"""
from __future__ import annotations

import os
from pathlib import Path


def process_start(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (clock ticks since boot), or None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None if not _exists(pid) else "?"
    # The command name (field 2) may contain spaces and parentheses; fields after it are plain.
    fields = stat[stat.rfind(")") + 2:].split()
    if fields[0] == "Z":  # a zombie has ended; only its exit status remains
        return None
    return fields[19]


def is_alive(pid: int | None, start: str | None) -> bool:
    if not pid:
        return False
    now = process_start(pid)
    return now is not None and (start in (None, "?") or now in ("?", start))


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
