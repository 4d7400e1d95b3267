"""The run store: one SQLite database, the single source of truth for runs, groups and metrics.

Many processes share it (the dashboard, the supervisor, every job), so: WAL (readers never block
the writer), a busy timeout, and short ``BEGIN IMMEDIATE`` transactions (a writer takes the lock
up front instead of failing half-way). Checkpoints and logs live in ``runs/<id>/`` beside it.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cnnkit.errors import StoreError

DB_NAME = "cnnkit.db"
RUN_ID_RE = re.compile(r"^[0-9a-f]{8}\Z")  # \Z, not $: "$" also matches before a trailing newline
STATUSES = ("queued", "running", "completed", "failed", "cancelled", "diverged", "oom", "lost")
ACTIVE = ("queued", "running")
FINISHED = tuple(s for s in STATUSES if s not in ACTIVE)
BUSY_TIMEOUT_MS = 30_000
MAX_NAME, MAX_TAGS, MAX_TAG = 200, 20, 50  # run names and tags, wherever they come from
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
]


@dataclass
class Run:
    id: str
    name: str
    group: str | None
    tags: list[str]
    status: str
    model: str
    dataset: str
    config: dict[str, Any]
    queued_at: float
    started_at: float | None
    first_step_at: float | None
    finished_at: float | None
    device: str | None
    worker: str | None
    pid: int | None
    pid_start: str | None
    heartbeat: float | None
    cancel_requested: bool
    resume: bool
    step: int
    total_steps: int
    epoch: float
    error: str | None
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def progress(self) -> float:
        if self.status == "completed":
            return 1.0
        return min(1.0, self.step / self.total_steps) if self.total_steps else 0.0

    @property
    def epochs(self) -> int:
        return int(self.config.get("epochs", 0))

    @property
    def active(self) -> bool:
        return self.status in ACTIVE


def default_home() -> Path:
    """``CNNKIT_HOME`` or ``<project>/results``."""
    env = os.environ.get("CNNKIT_HOME")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "results"


def check_name(name: str) -> str:
    """A run name as a user gives it (`--name`, the dashboard, rename): stripped, 1–200 characters."""
    name = name.strip() if isinstance(name, str) else ""
    if not name or len(name) > MAX_NAME:
        raise StoreError(f"name must be 1–{MAX_NAME} characters, got {len(name)}")
    return name


def check_tags(tags: Iterable[str]) -> list[str]:
    """Tags stripped, blanks and repeats dropped, sorted; at most 20 of at most 50 characters."""
    tags = sorted({t.strip() for t in tags if t.strip()})
    if len(tags) > MAX_TAGS or any(len(t) > MAX_TAG for t in tags):
        raise StoreError(f"tags: at most {MAX_TAGS}, each at most {MAX_TAG} characters")
    return tags


def check_run_id(run_id: str) -> str:
    """Run ids are made by the store: 8 hex digits. Anything else is refused before it reaches a path."""
    if not isinstance(run_id, str) or not RUN_ID_RE.match(run_id):
        raise StoreError(f"run id must be 8 hex digits as printed by cnnkit, got {run_id!r}")
    return run_id


class Store:
    """Runs, groups and metrics in ``<home>/cnnkit.db``; one handle per process is enough.

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

    # ---- paths --------------------------------------------------------------------------------
    def run_dir(self, run_id: str) -> Path:
        return self.home / "runs" / check_run_id(run_id)

    def log_path(self, run_id: str) -> Path:
        return self.run_dir(run_id) / "log.txt"

    def checkpoint_path(self, run_id: str) -> Path:
        from cnnkit.engine import CHECKPOINT_NAME

        return self.run_dir(run_id) / CHECKPOINT_NAME

    # ---- creating runs ------------------------------------------------------------------------
    def create_group(self, kind: str, name: str, meta: dict[str, Any] | None = None) -> str:
        group_id = f"{kind}-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"
        with self._tx() as tx:
            tx.execute("INSERT INTO groups (id, kind, name, created_at, meta) VALUES (?, ?, ?, ?, ?)",
                       (group_id, kind, name, time.time(), json.dumps(meta or {})))
        return group_id

    def update_group_meta(self, group_id: str, meta: dict[str, Any]) -> None:
        """Replace a group's meta (an experiment records its runs' levels once their ids exist)."""
        with self._tx() as tx:
            if tx.execute("UPDATE groups SET meta = ? WHERE id = ?", (json.dumps(meta), group_id)).rowcount != 1:
                raise StoreError(f"no group {group_id} in {self.home}")

    def group(self, group_id: str) -> dict[str, Any] | None:
        rows = self._read("SELECT * FROM groups WHERE id = ?", (group_id,))
        if not rows:
            return None
        row = dict(rows[0])
        row["meta"] = json.loads(row["meta"])
        return row

    def groups(self, kind: str | None = None) -> list[dict[str, Any]]:
        sql, params = "SELECT * FROM groups", []
        if kind:
            sql, params = sql + " WHERE kind = ?", [kind]
        rows = [dict(r) for r in self._read(sql + " ORDER BY created_at DESC", params)]
        for row in rows:
            row["meta"] = json.loads(row["meta"])
        return rows

    def create_runs(self, configs: list, group: str | None = None, names: list[str] | None = None,
                    tags: Iterable[str] = (), foreground: bool = False) -> list[str]:
        """Queue ``configs`` (validated RunConfigs) in one transaction; returns their new ids.

        ``foreground`` records them as already running in this process (``cnnkit train``), so that
        no supervisor claims them.
        """
        names = [check_name(n) for n in names] if names else None  # user text: bounded like rename's
        tags = check_tags(tags)
        now = time.time()
        ids = []
        status, worker, pid = ("running", "foreground", os.getpid()) if foreground else ("queued", None, None)
        start = (now, _process_start(pid)) if foreground else (None, None)
        with self._tx() as tx:
            for i, config in enumerate(configs):
                run_id = self._new_id(tx)
                name = names[i] if names else config.label()
                tx.execute(
                    "INSERT INTO runs (id, name, grp, tags, status, model, dataset, config, queued_at, worker, pid,"
                    " started_at, pid_start) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (run_id, name, group, json.dumps(tags), status, config.model, config.dataset,
                     config.to_json(), now + i * 1e-6, worker, pid, *start),
                )
                ids.append(run_id)
        return ids

    def create_run(self, config, name: str | None = None, group: str | None = None,  # noqa: ANN001
                   tags: Iterable[str] = (), foreground: bool = False) -> str:
        return self.create_runs([config], group, [name] if name else None, tags, foreground)[0]

    @staticmethod
    def _new_id(tx: sqlite3.Connection) -> str:
        while True:
            run_id = secrets.token_hex(4)
            if not tx.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone():
                return run_id

    # ---- reading runs -------------------------------------------------------------------------
    def get(self, run_id: str) -> Run:
        rows = self._read("SELECT * FROM runs WHERE id = ?", (check_run_id(run_id),))
        if not rows:
            raise StoreError(f"no run {run_id} in {self.home}")
        return _to_run(rows[0])

    def list_runs(self, status: str | Iterable[str] | None = None, group: str | None = None,
                  ids: Iterable[str] | None = None, limit: int | None = None) -> list[Run]:
        """Runs, newest first, filtered by status (one or several), group or ids."""
        where, params = [], []
        if status:
            statuses = [status] if isinstance(status, str) else list(status)
            bad = [s for s in statuses if s not in STATUSES]
            if bad:
                raise StoreError(f"status must be one of {', '.join(STATUSES)}, got {bad[0]!r}")
            where.append(f"status IN ({','.join('?' * len(statuses))})")
            params += statuses
        if group:
            where.append("grp = ?")
            params.append(group)
        if ids is not None:
            ids = [check_run_id(i) for i in ids]
            where.append(f"id IN ({','.join('?' * len(ids))})")
            params += ids
        sql = "SELECT * FROM runs" + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY queued_at DESC" + (f" LIMIT {int(limit)}" if limit else "")
        return [_to_run(r) for r in self._read(sql, params)]

    def counts(self) -> dict[str, int]:
        rows = self._read("SELECT status, COUNT(*) AS n FROM runs GROUP BY status")
        return {s: 0 for s in STATUSES} | {r["status"]: r["n"] for r in rows}

    def latest_metrics(self, run_ids: Iterable[str]) -> dict[str, dict[str, float]]:
        """{run id: {"train_loss": …, "test_acc": …}} from the last point of every metric."""
        ids = [check_run_id(i) for i in run_ids]
        if not ids:
            return {}
        # SQLite returns the other columns of the row that holds MAX(step) in a grouped query.
        rows = self._read(
            f"SELECT run_id, split, name, value, MAX(step) FROM metrics WHERE run_id IN ({','.join('?' * len(ids))})"
            " GROUP BY run_id, split, name", ids)
        out: dict[str, dict[str, float]] = {i: {} for i in ids}
        for r in rows:
            out[r["run_id"]][f"{r['split']}_{r['name']}"] = r["value"]
        return out

    def metrics(self, run_ids: Iterable[str], split: str | None = None, names: Iterable[str] | None = None,
                max_points: int | None = None):  # noqa: ANN201 - pandas is imported lazily
        """Metric points as a DataFrame (run_id, step, epoch, split, name, value, wall).

        ``max_points`` thins every (run, split, name) curve to about that many points, keeping the
        first and the last, so that plotting hundreds of long runs stays fast.
        """
        import pandas as pd

        ids = [check_run_id(i) for i in run_ids]
        cols = ["run_id", "step", "epoch", "split", "name", "value", "wall"]
        if not ids:
            return pd.DataFrame(columns=cols)
        where = [f"run_id IN ({','.join('?' * len(ids))})"]
        params: list[Any] = list(ids)
        if split:
            where.append("split = ?")
            params.append(split)
        if names is not None:
            names = list(names)
            where.append(f"name IN ({','.join('?' * len(names))})")
            params += names
        sql = f"SELECT {', '.join(cols)} FROM metrics WHERE {' AND '.join(where)} ORDER BY run_id, split, name, step"
        try:  # plain tuples, not sqlite3.Row: a tenth of the cost for tens of thousands of points
            cursor = self._conn().execute(sql, params)
            cursor.row_factory = None
            frame = pd.DataFrame.from_records(cursor.fetchall(), columns=cols)
        except sqlite3.Error as exc:
            raise self._error("read", exc) from None
        return _thin(frame, max_points) if max_points else frame

    def epoch_rows(self, run_id: str) -> list[dict[str, float]]:
        """One dict per finished epoch: epoch, train_loss, train_acc, test_loss, test_acc, lr,
        epoch_seconds, images_per_sec (the points logged at whole epochs)."""
        rows = self._read("SELECT epoch, split, name, value FROM metrics"
                          " WHERE run_id = ? AND epoch = CAST(epoch AS INT) ORDER BY step", (check_run_id(run_id),))
        by_epoch: dict[int, dict[str, float]] = {}
        for r in rows:
            key = r["name"] if r["name"] in ("lr", "epoch_seconds", "images_per_sec") else f"{r['split']}_{r['name']}"
            by_epoch.setdefault(int(r["epoch"]), {"epoch": int(r["epoch"])})[key] = r["value"]
        return [row for _, row in sorted(by_epoch.items()) if "test_acc" in row]

    def runs_frame(self, runs: list[Run] | None = None):  # noqa: ANN201
        """One row per run with its latest metrics and flattened config (``cfg.*`` columns)."""
        import pandas as pd

        runs = self.list_runs() if runs is None else runs
        latest = self.latest_metrics([r.id for r in runs])
        rows = []
        for r in runs:
            row = {
                "id": r.id, "name": r.name, "group": r.group, "tags": ",".join(r.tags), "status": r.status,
                "model": r.model, "dataset": r.dataset, "progress": r.progress, "epoch": r.epoch,
                "epochs": r.epochs, "device": r.device, "queued_at": r.queued_at, "started_at": r.started_at,
                "finished_at": r.finished_at, "error": r.error,
                "params": r.summary.get("params"), "macs": r.summary.get("macs"),
                "train_seconds": r.summary.get("train_seconds"),
                "images_per_sec": r.summary.get("images_per_sec"),
                "best_test_acc": r.summary.get("best", {}).get("test_acc"),
            }
            row.update(latest.get(r.id, {}))
            row.update({f"cfg.{k}": v for k, v in _flatten(r.config).items()})
            rows.append(row)
        return pd.DataFrame(rows)

    # ---- the job lifecycle --------------------------------------------------------------------
    def claim(self, worker: str, accept: Iterable[str] | None = None) -> Run | None:
        """Atomically move the oldest queued run (optionally only of device kinds ``accept``) to running."""
        if not self._read("SELECT 1 FROM runs WHERE status = 'queued' LIMIT 1"):
            return None  # an idle supervisor polls often: reading first spares everyone its write lock
        with self._tx() as tx:
            for row in tx.execute("SELECT * FROM runs WHERE status = 'queued' ORDER BY queued_at"):
                run = _to_run(row)
                if accept is not None and _device_kind(run.config.get("device", "auto")) not in accept:
                    continue
                tx.execute("UPDATE runs SET status = 'running', worker = ?, started_at = ?, heartbeat = ?,"
                           " pid = NULL, pid_start = NULL, first_step_at = NULL WHERE id = ?",
                           (worker, time.time(), time.time(), run.id))
                run.status, run.worker = "running", worker
                return run
        return None

    def set_process(self, run_id: str, pid: int | None, pid_start: str | None) -> None:
        with self._tx() as tx:
            tx.execute("UPDATE runs SET pid = ?, pid_start = ?, heartbeat = ? WHERE id = ?",
                       (pid, pid_start, time.time(), run_id))

    def mark_started(self, run_id: str, info: dict[str, Any]) -> None:
        with self._tx() as tx:
            row = tx.execute("SELECT summary FROM runs WHERE id = ?", (run_id,)).fetchone()
            summary = json.loads(row["summary"]) if row else {}
            summary.update({k: info[k] for k in ("params", "macs", "input_shape", "train_size", "test_size")
                            if k in info})
            tx.execute("UPDATE runs SET device = ?, total_steps = ?, step = ?, summary = ?, heartbeat = ?"
                       " WHERE id = ?", (info.get("device"), info.get("total_steps", 0), info.get("start_step", 0),
                                         json.dumps(summary), time.time(), run_id))

    def mark_first_step(self, run_id: str) -> None:
        with self._tx() as tx:
            tx.execute("UPDATE runs SET first_step_at = COALESCE(first_step_at, ?) WHERE id = ?",
                       (time.time(), run_id))

    def log_metrics(self, run_id: str, points: Iterable[Any]) -> None:
        """Append metric points (objects with step, epoch, split, name, value, wall) in one transaction."""
        rows = [(run_id, p.step, p.epoch, p.split, p.name, p.value, p.wall) for p in points]
        if not rows:
            return
        last = max(rows, key=lambda r: r[1])
        with self._tx() as tx:
            tx.executemany("INSERT OR REPLACE INTO metrics (run_id, step, epoch, split, name, value, wall)"
                           " VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
            tx.execute("UPDATE runs SET step = MAX(step, ?), epoch = MAX(epoch, ?), heartbeat = ? WHERE id = ?",
                       (last[1], last[2], time.time(), run_id))

    def truncate_metrics(self, run_id: str, after_step: int) -> None:
        """Drop points after ``after_step`` (a resumed run replays from its checkpoint)."""
        with self._tx() as tx:
            tx.execute("DELETE FROM metrics WHERE run_id = ? AND step > ?", (run_id, after_step))
            tx.execute("UPDATE runs SET step = ?, epoch = COALESCE((SELECT MAX(epoch) FROM metrics"
                       " WHERE run_id = ?), 0) WHERE id = ?", (after_step, run_id, run_id))

    def beat(self, run_id: str) -> bool:
        """Record that the job is alive; returns whether a cancel was requested."""
        with self._tx() as tx:
            tx.execute("UPDATE runs SET heartbeat = ? WHERE id = ?", (time.time(), run_id))
            row = tx.execute("SELECT cancel_requested FROM runs WHERE id = ?", (run_id,)).fetchone()
        return bool(row and row["cancel_requested"])

    def finish(self, run_id: str, status: str, summary: dict[str, Any] | None = None,
               error: str | None = None) -> bool:
        """Record how a running run ended; returns False when it had already ended (first word wins)."""
        if status not in FINISHED:
            raise StoreError(f"finish status must be one of {', '.join(FINISHED)}, got {status!r}")
        with self._tx() as tx:
            row = tx.execute("SELECT status, summary FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None or row["status"] != "running":
                return False
            merged = json.loads(row["summary"]) | (summary or {})
            # A run stopped between two reports is further along than its last metric point says.
            last_step = (summary or {}).get("step")
            last_step = last_step if isinstance(last_step, int) else 0
            tx.execute("UPDATE runs SET status = ?, finished_at = ?, error = ?, summary = ?, cancel_requested = 0,"
                       " resume = 0, step = MAX(step, ?) WHERE id = ?",
                       (status, time.time(), error, json.dumps(merged), last_step, run_id))
        return True

    def requeue(self, run_id: str) -> None:
        """A claimed run that never started goes back to the queue, keeping its place."""
        with self._tx() as tx:
            tx.execute("UPDATE runs SET status = 'queued', worker = NULL, pid = NULL, pid_start = NULL,"
                       " started_at = NULL WHERE id = ? AND status = 'running'", (run_id,))

    def request_cancel(self, run_id: str) -> str:
        """Queued runs are cancelled at once; running ones get the flag their loop checks. Returns the status."""
        check_run_id(run_id)
        with self._tx() as tx:
            status = self._status(tx, run_id)
            if status == "queued":
                tx.execute("UPDATE runs SET status = 'cancelled', finished_at = ? WHERE id = ?", (time.time(), run_id))
                status = "cancelled"
            elif status == "running":
                tx.execute("UPDATE runs SET cancel_requested = 1 WHERE id = ?", (run_id,))
        return status

    def resume(self, run_id: str) -> None:
        """Queue a finished run again to continue from its last checkpoint."""
        check_run_id(run_id)
        with self._tx() as tx:
            status = self._status(tx, run_id)
            if status in ACTIVE:
                raise StoreError(f"run {run_id} is {status}; only a finished run can be resumed")
            tx.execute("UPDATE runs SET status = 'queued', resume = 1, cancel_requested = 0, error = NULL,"
                       " finished_at = NULL, pid = NULL, pid_start = NULL, worker = NULL, queued_at = ?"
                       " WHERE id = ?", (time.time(), run_id))

    def _status(self, tx: sqlite3.Connection, run_id: str) -> str:
        """A run's status read inside a write transaction, so that the decision taken on it is atomic."""
        row = tx.execute("SELECT status FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise StoreError(f"no run {run_id} in {self.home}")
        return row["status"]

    # ---- editing ------------------------------------------------------------------------------
    def rename(self, run_id: str, name: str) -> None:
        name = check_name(name)
        self.get(run_id)
        with self._tx() as tx:
            tx.execute("UPDATE runs SET name = ? WHERE id = ?", (name, run_id))

    def set_tags(self, run_id: str, tags: Iterable[str]) -> None:
        tags = check_tags(tags)
        self.get(run_id)
        with self._tx() as tx:
            tx.execute("UPDATE runs SET tags = ? WHERE id = ?", (json.dumps(tags), run_id))

    def delete(self, run_id: str) -> None:
        """Delete a run, its metric points and its folder; a running run must be cancelled first."""
        check_run_id(run_id)
        with self._tx() as tx:
            if self._status(tx, run_id) == "running":
                raise StoreError(f"run {run_id} is running; cancel it first")
            tx.execute("DELETE FROM metrics WHERE run_id = ?", (run_id,))
            tx.execute("DELETE FROM runs WHERE id = ?", (run_id,))
        shutil.rmtree(self.run_dir(run_id), ignore_errors=True)

    # ---- bulk (bundles, benchmarks) -----------------------------------------------------------
    def insert_finished(self, run: dict[str, Any], metrics: list[tuple]) -> str:
        """Insert a finished run with its metric rows (step, epoch, split, name, value, wall) under a new id."""
        return self.insert_finished_runs([(run, metrics)])[0]

    def insert_finished_runs(self, runs: list[tuple[dict[str, Any], list[tuple]]],
                             groups: Iterable[dict[str, Any]] = ()) -> list[str]:
        """Insert finished runs (each with its metric rows) and their groups in one transaction: all or
        nothing, so that an import that fails half-way (a full disk) leaves no half of it behind."""
        with self._tx() as tx:
            for g in groups:
                tx.execute("INSERT OR IGNORE INTO groups (id, kind, name, created_at, meta) VALUES (?, ?, ?, ?, ?)",
                           (g["id"], g["kind"], g["name"], time.time(), json.dumps(g["meta"])))
            return [self._insert_finished(tx, run, metrics) for run, metrics in runs]

    def _insert_finished(self, tx: sqlite3.Connection, run: dict[str, Any], metrics: list[tuple]) -> str:
        run_id = self._new_id(tx)
        tx.execute(
            "INSERT INTO runs (id, name, grp, tags, status, model, dataset, config, queued_at, started_at,"
            " finished_at, device, step, total_steps, epoch, error, summary)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (run_id, run["name"], run.get("group"), json.dumps(run.get("tags", [])), run["status"],
             run["model"], run["dataset"], json.dumps(run["config"]), run["queued_at"], run.get("started_at"),
             run.get("finished_at"), run.get("device"), run.get("step", 0), run.get("total_steps", 0),
             run.get("epoch", 0), run.get("error"), json.dumps(run.get("summary", {}))),
        )
        tx.executemany("INSERT OR REPLACE INTO metrics (run_id, step, epoch, split, name, value, wall)"
                       " VALUES (?, ?, ?, ?, ?, ?, ?)", [(run_id, *m) for m in metrics])
        return run_id

    def integrity_check(self) -> str:
        return self._read("PRAGMA integrity_check")[0][0]


def _thin(frame, max_points: int):  # noqa: ANN001, ANN202 - pandas in, pandas out
    """Every ``stride``-th point of each curve longer than ``max_points``, its last point always kept.

    Done on the fetched frame, vectorised: a window function in SQL costs more than it saves.
    """
    curve = frame.groupby(["run_id", "split", "name"], sort=False)
    rank = curve.cumcount()
    size = curve["step"].transform("size")
    stride = -(-size // max_points)  # ceil
    keep = (size <= max_points) | (rank % stride == 0) | (rank == size - 1)
    return frame[keep.to_numpy()].reset_index(drop=True)


def _to_run(row: sqlite3.Row) -> Run:
    return Run(
        id=row["id"], name=row["name"], group=row["grp"], tags=json.loads(row["tags"]), status=row["status"],
        model=row["model"], dataset=row["dataset"], config=json.loads(row["config"]), queued_at=row["queued_at"],
        started_at=row["started_at"], first_step_at=row["first_step_at"], finished_at=row["finished_at"],
        device=row["device"], worker=row["worker"], pid=row["pid"], pid_start=row["pid_start"],
        heartbeat=row["heartbeat"], cancel_requested=bool(row["cancel_requested"]), resume=bool(row["resume"]),
        step=row["step"], total_steps=row["total_steps"], epoch=row["epoch"], error=row["error"],
        summary=json.loads(row["summary"]),
    )


def _process_start(pid: int) -> str | None:
    from cnnkit.jobs.process import process_start

    return process_start(pid)


def _device_kind(device: str) -> str:
    return "cpu" if device == "cpu" else ("cuda" if device.startswith("cuda") else "auto")


def _flatten(config: dict[str, Any]) -> dict[str, Any]:
    flat = {k: v for k, v in config.items() if k != "model_options"}
    for key, value in config.get("model_options", {}).items():
        flat[f"model.{key}"] = value
    return {k: (",".join(map(str, v)) if isinstance(v, list) else v) for k, v in flat.items()}
