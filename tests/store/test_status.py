"""A run's Status: the stored words themselves, in groups, printed as words; the run record's checks."""
from __future__ import annotations

import json

import pytest

from cnnkit.errors import StoreError
from cnnkit.events import Status
from cnnkit.store import check_name, check_run_id, check_tags, is_run_id


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


def test_run_ids_names_and_tags_are_checked() -> None:
    assert is_run_id("0123abcd") and check_run_id("0123abcd") == "0123abcd"
    for bad in ("0123ABCD", "0123abc", "0123abcd\n", "../etc/x", None):
        assert not is_run_id(bad)
        with pytest.raises(StoreError, match="8 hex digits"):
            check_run_id(bad)
    assert check_name("  a run ") == "a run"
    with pytest.raises(StoreError, match="1–200 characters"):
        check_name("x" * 201)
    assert check_tags([" b", "a", "", "b"]) == ["a", "b"]
