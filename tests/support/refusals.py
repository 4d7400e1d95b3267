"""Bad input refused cleanly: the CLI in this process, the checks that a refusal or a message is one line that
names the field and says what is allowed, and the Hypothesis settings the generated cases run under."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings


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
