"""The run store's database: one SQLite file shared by many processes, and the folders beside it.

Many processes share it (the dashboard, the supervisor, every job), so: WAL (readers never block
the writer), a busy timeout, and short ``BEGIN IMMEDIATE`` transactions (a writer takes the lock
up front instead of failing half-way). The schema grows by numbered migrations, its version kept
in ``PRAGMA user_version``. Checkpoints, snapshots and logs live in ``runs/<id>/`` beside the database: the
store decides those paths and hands them to the engine and the executors.
"""
from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cnnkit.errors import StoreError
from cnnkit.store.run import check_run_id

DB_NAME = "cnnkit.db"
CHECKPOINT_NAME = "checkpoint.pt"
PREDICTIONS_NAME = "predictions.pt"  # test-set index, label and prediction of the final model
SNAPSHOTS_NAME = "snapshots.pt"  # every epoch's filters, feature maps, Grad-CAM and confusion (cnnkit.watch)
RUN_FILES = (CHECKPOINT_NAME, PREDICTIONS_NAME, SNAPSHOTS_NAME)  # what a job writes into its run's folder
LOG_NAME = "log.txt"
BUSY_TIMEOUT_MS = 30_000
_INHERITED: list[sqlite3.Connection] = []  # connections a forked child got from its parent

MIGRATIONS = [
    # 1: the first schema
    """
    CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        grp TEXT,
        tags TEXT NOT NULL DEFAULT '[]',
        status TEXT NOT NULL,
        model TEXT NOT NULL,
        dataset TEXT NOT NULL,
        config TEXT NOT NULL,
        queued_at REAL NOT NULL,
        started_at REAL,
        first_step_at REAL,
        finished_at REAL,
        device TEXT,
        worker TEXT,
        pid INTEGER,
        pid_start TEXT,
        heartbeat REAL,
        cancel_requested INTEGER NOT NULL DEFAULT 0,
        resume INTEGER NOT NULL DEFAULT 0,
        step INTEGER NOT NULL DEFAULT 0,
        total_steps INTEGER NOT NULL DEFAULT 0,
        epoch REAL NOT NULL DEFAULT 0,
        error TEXT,
        summary TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX runs_status ON runs(status, queued_at);
    CREATE INDEX runs_grp ON runs(grp);
    CREATE TABLE groups (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        created_at REAL NOT NULL,
        meta TEXT NOT NULL DEFAULT '{}'
    );
    CREATE TABLE metrics (
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        step INTEGER NOT NULL,
        epoch REAL NOT NULL,
        split TEXT NOT NULL,
        name TEXT NOT NULL,
        value REAL NOT NULL,
        wall REAL NOT NULL
    );
    CREATE INDEX metrics_run ON metrics(run_id, split, name, step);
    """,
    # 2: metrics clustered by curve (WITHOUT ROWID, keyed by run, split, name, step): reading a
    # curve is one sequential range instead of an index walk with a table lookup per point
    """
    CREATE TABLE metrics_v2 (
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        split TEXT NOT NULL,
        name TEXT NOT NULL,
        step INTEGER NOT NULL,
        epoch REAL NOT NULL,
        value REAL NOT NULL,
        wall REAL NOT NULL,
        PRIMARY KEY (run_id, split, name, step)
    ) WITHOUT ROWID;
    INSERT OR REPLACE INTO metrics_v2 (run_id, split, name, step, epoch, value, wall)
        SELECT run_id, split, name, step, epoch, value, wall FROM metrics;
    DROP TABLE metrics;
    ALTER TABLE metrics_v2 RENAME TO metrics;
    """,
    # 3: the automatic tries a run has had since its job was lost (a node that died, a supervisor killed)
    """
    ALTER TABLE runs ADD COLUMN tries INTEGER NOT NULL DEFAULT 0;
    """,
]


def default_home() -> Path:
    """``CNNKIT_HOME`` or ``<project>/results``."""
    env = os.environ.get("CNNKIT_HOME")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "results"


class Database:
    """``<home>/cnnkit.db`` and ``<home>/runs/``: connections, transactions, schema, run folders.

    Connections are per thread (Streamlit serves sessions from threads) and per process (a forked
    job must not reuse its parent's connection).
    """

    def __init__(self, home: Path | str | None = None):
        self.home = Path(home).expanduser().resolve() if home else default_home().resolve()
        self.db_path = self.home / DB_NAME
        self._local = threading.local()
        try:
            self.home.mkdir(parents=True, exist_ok=True)
            (self.home / "runs").mkdir(exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the run store at {self.home}: {exc.strerror or exc}") from None
        self._migrate()

    # ---- connections and transactions ---------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid != os.getpid():
            # Inherited through fork: SQLite forbids using it in the child, and closing it could
            # disturb the parent's locks and WAL state, so it is parked, never used, never closed.
            _INHERITED.append(conn)
            conn = None
        if conn is None:
            try:
                conn = sqlite3.connect(self.db_path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
                conn.row_factory = sqlite3.Row
                conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                conn.execute("PRAGMA foreign_keys = ON")
                conn.execute("PRAGMA synchronous = NORMAL")
                if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                    conn.execute("PRAGMA journal_mode = WAL")
            except sqlite3.Error as exc:
                raise self._error("open", exc) from None
            self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def close(self) -> None:
        """Close this thread's connection (a forking supervisor calls it so children inherit no SQLite state)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid():
            conn.close()
        self._local.conn = None

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """A short write transaction that takes the write lock at BEGIN."""
        conn = self._conn()
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise self._error("write to", exc) from None
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException as exc:
            if conn.in_transaction:
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass  # the transaction is gone with the error that ended it
            if isinstance(exc, sqlite3.Error):
                raise self._error("write to", exc) from None
            raise

    def _read(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        try:
            return self._conn().execute(sql, tuple(params)).fetchall()
        except sqlite3.Error as exc:
            raise self._error("read", exc) from None

    def _error(self, verb: str, exc: sqlite3.Error) -> StoreError:
        msg = str(exc)
        hint = ""
        if "readonly" in msg or "read-only" in msg:
            hint = "; the store is read-only: fix its permissions or point CNNKIT_HOME / --store elsewhere"
        elif "disk is full" in msg or "disk I/O" in msg:
            hint = "; free some disk space, nothing was written"
        elif "locked" in msg or "busy" in msg:
            hint = "; another process held the store too long, try again"
        return StoreError(f"cannot {verb} the run store at {self.db_path} ({msg}){hint}")

    # ---- the schema ---------------------------------------------------------------------------
    def _migrate(self) -> None:
        conn = self._conn()
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise StoreError(f"the run store at {self.db_path} has schema v{version}, newer than this cnnkit "
                             f"(v{len(MIGRATIONS)}); upgrade cnnkit")
        if version == len(MIGRATIONS):
            return
        with self._tx() as tx:
            version = tx.execute("PRAGMA user_version").fetchone()[0]  # another process may have migrated
            for number, sql in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in filter(str.strip, sql.split(";")):
                    tx.execute(statement)
                tx.execute(f"PRAGMA user_version = {number}")

    def integrity_check(self) -> str:
        return self._read("PRAGMA integrity_check")[0][0]

    # ---- a run's folder -----------------------------------------------------------------------
    def run_dir(self, run_id: str) -> Path:
        return self.home / "runs" / check_run_id(run_id)

    def log_path(self, run_id: str) -> Path:
        return self.run_dir(run_id) / LOG_NAME

    def checkpoint_path(self, run_id: str) -> Path:
        return self.run_dir(run_id) / CHECKPOINT_NAME

    def predictions_path(self, run_id: str) -> Path:
        return self.run_dir(run_id) / PREDICTIONS_NAME

    def snapshots_path(self, run_id: str) -> Path:
        return self.run_dir(run_id) / SNAPSHOTS_NAME
