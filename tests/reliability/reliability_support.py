"""Helpers of the reliability tests: the CLI in-process, one-line message checks, process-group cleanup,
and the fault-injection folder (``inject/``, a sitecustomize put on a subprocess's PYTHONPATH)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

INJECT = Path(__file__).resolve().parent / "inject"


def examples(n: int) -> settings:
    """``n`` examples, no deadline (a shape check takes a while), no example database (a clean run each time)."""
    return settings(max_examples=n, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


def cli_in_process(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """``python -m cnnkit ARGV`` through cnnkit.cli.main in this process: (exit code, stdout, stderr)."""
    from cnnkit import cli

    capsys.readouterr()
    try:
        code = cli.main(argv)
    except SystemExit as exc:  # argparse's own errors exit
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def refusal_problem(code: int, out: str, err: str, field: str, allowed: str, loose: bool = False) -> str:
    """What is wrong with a refusal ("" when it is clean): exit 2, exactly one stderr line
    "error: <field>: …" naming what is allowed, and no traceback anywhere."""
    lines = err.strip().splitlines()
    if "Traceback" in out + err:
        return "traceback"
    if code != 2:
        return f"exit code {code}"
    if len(lines) != 1:
        return f"{len(lines)} lines on stderr"
    line = lines[0]
    head = "error: " if loose else f"error: {field}: "
    if not line.startswith(head) or field not in line:
        return f"does not name {field!r}: {line}"
    if allowed not in line:
        return f"does not say {allowed!r}: {line}"
    return ""


def message_problem(message: str, field: str, allowed: str) -> str:
    """The same for an exception's or a page's message: "<field>: …", one line, what is allowed."""
    if "\n" in message or "Traceback" in message:
        return f"not one line: {message!r}"
    if not message.startswith(f"{field}: "):
        return f"does not start with {field!r}: {message}"
    if allowed not in message:
        return f"does not say {allowed!r}: {message}"
    return ""


def kill_group(pid: int) -> None:
    """SIGKILL the process group led by ``pid`` (our subprocesses start their own sessions)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


class Groups:
    """Processes started by a test, each leading its own process group; all killed at teardown."""

    def __init__(self) -> None:
        self.pids: list[int] = []
        self.popen: list[subprocess.Popen] = []

    def add(self, pid: int) -> int:
        self.pids.append(pid)
        return pid

    def start(self, args: list[str], **kw: Any) -> subprocess.Popen:
        proc = subprocess.Popen(args, start_new_session=True, **kw)
        self.popen.append(proc)
        self.add(proc.pid)
        return proc

    def close(self) -> None:
        for pid in self.pids:
            kill_group(pid)
        for proc in self.popen:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass


@pytest.fixture
def groups() -> Iterator[Groups]:
    g = Groups()
    yield g
    g.close()


def injected_env(env: dict[str, str], **settings: str) -> dict[str, str]:
    """``env`` with the fault-injection sitecustomize on PYTHONPATH and its settings (CNNKIT_INJECT_*)."""
    path = [str(INJECT), env.get("PYTHONPATH", "")]
    return {**env, "PYTHONPATH": os.pathsep.join(p for p in path if p), **settings}


def python() -> str:
    return sys.executable
