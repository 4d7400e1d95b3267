"""`python -m cnnkit` as users run it: a real subprocess in the project root, and what its output must be."""
from __future__ import annotations

import json
import subprocess
from typing import Any

from support import ROOT


def cnnkit(python: str, env: dict[str, str], *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([python, "-m", "cnnkit", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)


def last_json(stdout: str) -> Any:
    """The last line of ``stdout`` (where --json prints), parsed."""
    lines = stdout.strip().splitlines()
    assert lines, "no output"
    return json.loads(lines[-1])


def one_line_error(proc: subprocess.CompletedProcess, start: str) -> None:
    """Exit 2 and one line on stderr, starting ``error: <start>``."""
    assert proc.returncode == 2 and proc.stderr.startswith(f"error: {start}"), proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
