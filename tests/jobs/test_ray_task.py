"""The mailbox between a run's Ray tasks and the supervisor, and how a task sends its files (no Ray needed)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from cnnkit.jobs.ray_task import FileShipper, Mailbox
from cnnkit.store import CHECKPOINT_NAME


def test_the_mailbox_keeps_events_in_order_with_their_attempt() -> None:
    box = Mailbox()
    box.put("a", 1, "start", {})
    box.put("a", 1, "log", [])
    box.put("b", 2, "end", {"status": "completed"})
    assert box.drain() == [("a", 1, "start", {}), ("a", 1, "log", []), ("b", 2, "end", {"status": "completed"})]
    assert box.drain() == []


def test_a_waiting_file_is_replaced_by_its_newer_version_of_the_same_attempt() -> None:
    box = Mailbox()
    box.put("a", 1, "file", {"name": CHECKPOINT_NAME, "data": b"epoch 1"})
    box.put("a", 1, "log", [])
    box.put("a", 1, "file", {"name": "snapshots.pt", "data": b"s"})
    box.put("a", 2, "file", {"name": CHECKPOINT_NAME, "data": b"attempt 2"})  # another attempt: kept apart
    box.put("a", 1, "file", {"name": CHECKPOINT_NAME, "data": b"epoch 2"})
    assert [(e[1], e[2], e[3]["data"] if e[2] == "file" else None) for e in box.drain()] == [
        (1, "log", None), (1, "file", b"s"), (2, "file", b"attempt 2"), (1, "file", b"epoch 2")]


def test_the_mailbox_keeps_cancel_flags_until_forgotten() -> None:
    box = Mailbox()
    box.cancel("a")
    assert box.is_cancelled("a") and not box.is_cancelled("b")
    box.forget("a")
    assert not box.is_cancelled("a")


class Sent(list):
    def __call__(self, kind: str, payload: Any) -> None:
        self.append((kind, payload["name"], payload["data"]))


def replace(path: Path, data: bytes) -> None:
    """As the engine writes a checkpoint: a new file renamed over the old one."""
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def test_a_file_is_sent_once_per_version(tmp_path: Path) -> None:
    path = tmp_path / CHECKPOINT_NAME
    sent = Sent()
    shipper = FileShipper({CHECKPOINT_NAME: path}, sent)
    shipper.ship_new((CHECKPOINT_NAME,))  # not written yet
    replace(path, b"epoch 1")
    shipper.ship_new((CHECKPOINT_NAME,))
    shipper.ship_new((CHECKPOINT_NAME,))
    replace(path, b"epoch 2")
    shipper.ship_new((CHECKPOINT_NAME,))
    assert sent == [("file", CHECKPOINT_NAME, b"epoch 1"), ("file", CHECKPOINT_NAME, b"epoch 2")]


def test_a_file_the_supervisor_gave_is_not_sent_back(tmp_path: Path) -> None:
    path = tmp_path / CHECKPOINT_NAME
    path.write_bytes(b"from the store")
    sent = Sent()
    shipper = FileShipper({CHECKPOINT_NAME: path}, sent)
    shipper.mark_sent(CHECKPOINT_NAME)
    shipper.ship_new((CHECKPOINT_NAME,))
    replace(path, b"epoch 3")
    shipper.ship_new((CHECKPOINT_NAME,))
    assert sent == [("file", CHECKPOINT_NAME, b"epoch 3")]
