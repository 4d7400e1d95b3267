"""Fixtures of the reliability tests (the ledger's ``record`` comes from reliability/recording.py, a plugin)."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.procs import Groups


@pytest.fixture
def groups() -> Iterator[Groups]:
    """Processes the test starts, each in a process group of its own; all killed at teardown."""
    g = Groups()
    yield g
    g.close()
