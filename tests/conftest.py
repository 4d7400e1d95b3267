"""Shared fixtures: a fresh store per test, the real Fashion-MNIST when installed, offline mode."""
from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import FMNIST
from support.procs import Procs

from cnnkit.data import loading
from cnnkit.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "store")


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """Environment for `python -m cnnkit` subprocesses: their own store, the shared data cache."""
    env = dict(os.environ)
    env["CNNKIT_HOME"] = str(tmp_path / "store")
    env["CNNKIT_OFFLINE"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    return env


@pytest.fixture
def procs(cli_env: dict[str, str], tmp_path: Path) -> Iterator[Procs]:
    """`python -m cnnkit …` against this test's store; every supervisor and job is killed at the end."""
    p = Procs(cli_env, tmp_path / "store")
    yield p
    p.kill_all()


@pytest.fixture
def python() -> str:
    return sys.executable


@pytest.fixture
def no_missing_data(monkeypatch: pytest.MonkeyPatch) -> None:
    """Launching an experiment needs no dataset when its runs are finished by hand: every dataset counts as
    installed."""
    monkeypatch.setattr(loading, "is_available", lambda name, root=None: True)


@pytest.fixture(scope="session")
def fmnist() -> loading.Data:
    if not FMNIST:
        pytest.skip("Fashion-MNIST is not installed")
    return loading.load("fashion-mnist")


# The reliability ledger: the `record` fixture and the end-of-run table + artifacts/reliability.json.
pytest_plugins = ["reliability.recording"]
