"""The store's database against a real SQLite file: schema and migrations, run folders, connections
across fork, a read-only store, many writers at once."""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from reliability.recording import Record
from support.permissions import read_only, unprivileged, writable
from support.procs import TRAIN_LOGGER, finish_all, run_python
from support.store_data import config, point

from cnnkit.errors import StoreError
from cnnkit.store import CHECKPOINT_NAME, MIGRATIONS, Store

# ---- schema -------------------------------------------------------------------------------------

def test_schema_version_and_wal(store: Store) -> None:
    conn = sqlite3.connect(store.db_path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    again = Store(store.home)  # opening a current store migrates nothing
    assert again.counts()["queued"] == 0


def test_store_newer_than_cnnkit_is_refused(store: Store) -> None:
    conn = sqlite3.connect(store.db_path)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    conn.close()
    with pytest.raises(StoreError, match="newer than this cnnkit"):
        Store(store.home)


def test_old_store_is_migrated(tmp_path: Path) -> None:
    sqlite3.connect(tmp_path / "cnnkit.db").close()  # an empty v0 database
    store = Store(tmp_path)
    assert store._read("PRAGMA user_version")[0][0] == len(MIGRATIONS)
    assert store.create_run(config())


def test_a_store_from_before_tries_counts_none(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "cnnkit.db")
    for number, sql in enumerate(MIGRATIONS[:2], start=1):  # the schema of v2, with a run in it
        conn.executescript(sql)
        conn.execute(f"PRAGMA user_version = {number}")
    conn.execute("INSERT INTO runs (id, name, status, model, dataset, config, queued_at) VALUES"
                 " ('0123abcd', 'old', 'completed', 'lenet', 'fashion-mnist', '{}', 0)")
    conn.commit()
    conn.close()
    assert Store(tmp_path).get("0123abcd").tries == 0


# ---- run folders ---------------------------------------------------------------------------------

def test_run_ids_are_checked_before_they_reach_a_path(store: Store, record: Record) -> None:
    for bad in ("../etc", "ABCDEF12", "1234567", "12345678/..", ""):
        with pytest.raises(StoreError, match="8 hex digits"):
            store.run_dir(bad)
        record("path", "run id given to the store", "refused")
    with pytest.raises(StoreError, match="no run"):
        store.get("0123abcd")


def test_a_run_folder_holds_its_log_checkpoint_and_predictions(store: Store) -> None:
    run_id = store.create_run(config())
    folder = store.home / "runs" / run_id
    assert store.run_dir(run_id) == folder
    assert store.log_path(run_id) == folder / "log.txt"
    assert store.checkpoint_path(run_id) == folder / CHECKPOINT_NAME
    assert store.predictions_path(run_id) == folder / "predictions.pt"


# ---- connections ----------------------------------------------------------------------------------

def test_a_fork_child_gets_its_own_connection(store: Store) -> None:
    run_id = store.create_run(config())
    store.counts()  # the parent has a connection open
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            store.log_metrics(run_id, [point(1, 0.1)])
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0
    store.log_metrics(run_id, [point(2, 0.2)])
    assert len(store.metrics([run_id])) == 2 and store.integrity_check() == "ok"


def test_eight_writers_at_once_lose_no_point(store: Store, record: Record) -> None:
    ids = store.create_runs([config(seed=s) for s in range(8)])
    procs = [run_python(TRAIN_LOGGER, str(store.home), run_id) for run_id in ids]
    finish_all(procs, timeout=300)
    counts = store.metrics(ids).groupby("run_id").size()
    assert counts.to_dict() == {run_id: 1000 for run_id in ids}
    assert store.integrity_check() == "ok"
    record("concurrency", "metric writers, one process each", "0 lost", writers=8, points=1000, lost=0)


# ---- a read-only store ---------------------------------------------------------------------------

READ_THEN_WRITE = """
import sys
from cnnkit.store import Store
from cnnkit.errors import StoreError
try:
    store = Store(sys.argv[1])
    print(store.counts()["queued"])
    store.rename(sys.argv[2], "renamed")
except StoreError as exc:
    print(exc)
"""


@pytest.mark.parametrize("what", ["database", "folder"])
def test_read_only_store_gives_one_clear_line_and_stays_intact(store: Store, what: str, record: Record) -> None:
    prefix = unprivileged()
    run_id = store.create_run(config())
    store.log_metrics(run_id, [point(1, 0.1)])
    store.close()
    read_only(store.home if what == "folder" else store.db_path)
    try:
        out = finish_all([run_python(READ_THEN_WRITE, str(store.home), run_id, prefix=prefix)])[0]
    finally:
        writable(store.home)
    lines = out.strip().splitlines()
    message = lines[-1]
    assert "read-only" in message and str(store.db_path) in message and "\n" not in message
    if what == "database":  # the -wal and -shm files could be made: reading works, writing does not
        assert lines[0] == "1" and message.startswith("cannot write to the run store")
    assert store.integrity_check() == "ok"
    assert store.get(run_id).name != "renamed" and len(store.metrics([run_id])) == 1
    record("fault", f"read-only store ({what}), store API", "one-line error")
