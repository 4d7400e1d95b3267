"""The runs the export tests hand over (see helpers.finished_runs)."""
from __future__ import annotations

import pytest

from cnnkit.store import Run, Store

from .helpers import finished_runs


@pytest.fixture
def exported(store: Store) -> list[Run]:
    return finished_runs(store)
