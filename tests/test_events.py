"""cnnkit.events: a run's Status, the stored words themselves, in groups, printed as words."""
from __future__ import annotations

import json

from cnnkit.events import Status


def test_statuses_are_the_stored_words() -> None:
    assert [s.value for s in Status] == ["queued", "running", "completed", "failed", "cancelled", "diverged", "oom",
                                         "lost"]
    assert Status.QUEUED == "queued" and Status("lost") is Status.LOST
    assert {"running": 1}[Status.RUNNING] == 1  # looks up what was read back from the database
    assert str(Status.OOM) == "oom" and f"{Status.COMPLETED}" == "completed"
    assert json.dumps({"status": Status.FAILED}) == '{"status": "failed"}'


def test_active_and_finished_split_the_statuses() -> None:
    assert Status.ACTIVE == (Status.QUEUED, Status.RUNNING)
    assert set(Status.ACTIVE) | set(Status.FINISHED) == set(Status)
    assert not set(Status.ACTIVE) & set(Status.FINISHED)
    assert "cancelled" in Status.FINISHED and "queued" not in Status.FINISHED
