"""Running one claimed run: events, their application to the store, and how failures become ends."""
from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from support import requires_fmnist

from cnnkit.config import RunConfig
from cnnkit.data.loading import Data
from cnnkit.jobs import runner
from cnnkit.store import CHECKPOINT_NAME, Store

TINY = RunConfig(epochs=1, subset=0.02, test_subset=0.05, device="cpu")


class Events(list):
    def __call__(self, kind: str, payload: Any) -> None:
        self.append((kind, payload))

    def kinds(self) -> list[str]:
        return [k for k, _ in self]


def test_apply_event_writes_every_kind(store: Store) -> None:
    run_id = store.create_run(TINY)
    store.claim("w")
    start = {"device": "cpu · 1 threads", "total_steps": 10, "start_step": 0, "params": 61706}
    runner.apply_event(store, run_id, "start", start)
    runner.apply_event(store, run_id, "first_step", None)
    runner.apply_event(store, run_id, "log", [(5, 0.5, "train", "loss", 2.0, 1.0), (8, 0.8, "train", "loss", 2.0, 1.0)])
    runner.apply_event(store, run_id, "start", start | {"start_step": 5})  # resumed from a checkpoint at step 5
    runner.apply_event(store, run_id, "end", {"status": "completed", "summary": {"final": {}}})
    run = store.get(run_id)
    assert (run.status, run.total_steps, run.step, run.summary["params"]) == ("completed", 10, 5, 61706)
    assert run.first_step_at and store.metrics([run_id]).step.tolist() == [5]
    with pytest.raises(ValueError, match="unknown event"):
        runner.apply_event(store, run_id, "reboot", None)


def test_a_file_event_writes_the_file_a_remote_job_sent(store: Store) -> None:
    run_id = store.create_run(TINY)
    runner.apply_event(store, run_id, "file", {"name": CHECKPOINT_NAME, "data": b"weights"})
    assert store.checkpoint_path(run_id).read_bytes() == b"weights"


@pytest.fixture
def checkpoint(tmp_path: Path) -> Path:
    return tmp_path / CHECKPOINT_NAME


def test_a_bad_config_ends_failed_with_its_message(checkpoint: Path) -> None:
    events = Events()
    status = runner.run_training({"model": "lenet", "lr": -1}, events, threading.Event(), checkpoint)
    assert status == "failed" and events.kinds() == ["end"]
    assert events[0][1] == {"status": "failed", "error": "lr: must be a number in (0, 1000], got -1"}


def test_a_missing_dataset_ends_failed_with_the_data_error(tmp_path: Path, checkpoint: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CNNKIT_DATA", str(tmp_path / "no-data"))
    events = Events()
    assert runner.run_training(TINY.replace(dataset="mnist"), events, threading.Event(), checkpoint) == "failed"
    error = events[-1][1]["error"]
    assert "mnist" in error.lower() and "Traceback" not in error and "\n" not in error


def test_a_crash_ends_failed_with_the_traceback_tail(checkpoint: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(*_: object, **__: object) -> None:
        raise RuntimeError("kernel exploded")

    monkeypatch.setattr(runner, "fit", crash)
    events = Events()
    assert runner.run_training(TINY, events, threading.Event(), checkpoint) == "failed"
    assert events[-1][1]["error"].endswith("RuntimeError: kernel exploded")


@pytest.mark.slow
@requires_fmnist
def test_run_training_emits_start_steps_points_and_end(checkpoint: Path, fmnist: Data) -> None:
    events = Events()
    assert runner.run_training(TINY.to_dict(), events, threading.Event(), checkpoint, dataset=fmnist) == "completed"
    kinds = events.kinds()
    assert kinds[:2] == ["start", "first_step"] and kinds[-1] == "end" and "log" in kinds
    end = events[-1][1]
    assert end["status"] == "completed" and end["summary"]["epochs_done"] == 1
    assert checkpoint.exists()


@pytest.mark.slow
@requires_fmnist
def test_a_set_stop_event_cancels_and_resume_truncates(checkpoint: Path, fmnist: Data) -> None:
    stop = threading.Event()
    stop.set()
    events = Events()
    assert runner.run_training(TINY, events, stop, checkpoint, dataset=fmnist) == "cancelled"
    again = Events()
    runner.run_training(TINY, again, threading.Event(), checkpoint, resume=True, dataset=fmnist)
    assert again[0][0] == "start" and again[0][1]["start_step"] == 0 and again[-1][1]["status"] == "completed"


def test_heartbeat_beats_and_sets_stop_on_a_cancel(store: Store) -> None:
    run_id = store.create_run(TINY)
    store.claim("w")
    stop = threading.Event()
    beat = runner.Heartbeat(store, run_id, stop, every=0.02)
    beat.start()
    try:
        before = store.get(run_id).heartbeat
        time.sleep(0.1)
        assert store.get(run_id).heartbeat > before and not stop.is_set()
        store.request_cancel(run_id)
        assert stop.wait(5)
    finally:
        beat.done.set()
        beat.join(5)
