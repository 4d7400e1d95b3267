"""The runs the export tests hand over (see support.tracker_runs.finished_runs)."""
from __future__ import annotations

import pytest
from support.tracker_runs import finished_runs

from cnnkit.store import Run, Store


@pytest.fixture
def exported(store: Store) -> list[Run]:
    return finished_runs(store)
