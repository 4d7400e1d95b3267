"""A run's life in the store: queued, claimed, started, its metric points, and how it ended.

Every change is one short transaction; a decision taken on a run's status (cancel, resume, delete)
reads that status inside the same transaction, so two processes never both act on it.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cnnkit.errors import StoreError
from cnnkit.events import MetricPoint, Status
from cnnkit.store.database import RUN_FILES, Database
from cnnkit.store.process_identity import process_start
from cnnkit.store.run import Run, check_name, check_run_id, check_tags, run_from_row

if TYPE_CHECKING:
    from cnnkit.config import RunConfig

FOREGROUND = "foreground"  # the worker of a run trained by `cnnkit train` in its own process


class RunLifecycle(Database):
    """Every write to runs, groups and metric points."""

    # ---- queueing runs ------------------------------------------------------------------------
    def create_group(self, kind: str, name: str, meta: dict[str, Any] | None = None) -> str:
        with self._tx() as tx:
            return self._insert_group(tx, kind, name, meta or {})

    def update_group_meta(self, group_id: str, meta: dict[str, Any]) -> None:
        """Replace a group's meta (an experiment records its runs' levels once their ids exist)."""
        with self._tx() as tx:
            if tx.execute("UPDATE groups SET meta = ? WHERE id = ?", (json.dumps(meta), group_id)).rowcount != 1:
                raise StoreError(f"no group {group_id} in {self.home}")

    def queue_group(self, name: str, configs: list[RunConfig], axes: dict[str, str], seeds: int = 1,
                    names: list[str] | None = None, tags: Iterable[str] = ()) -> tuple[str, list[str]]:
        """Queue ``configs`` as one sweep group, all or nothing: the group, whose meta records the
        ``axes`` it varies (and the number of seeds when there are several), and its runs.
        Returns the group id and the run ids."""
        meta = {"axes": dict(axes) | ({"seed": f"{seeds} seeds"} if seeds > 1 else {})}
        names, tags = self._labels(names, tags)
        with self._tx() as tx:
            group = self._insert_group(tx, "sweep", name, meta)
            return group, self._insert_runs(tx, configs, group, names, tags, foreground=False)

    def create_runs(self, configs: list[RunConfig], group: str | None = None, names: list[str] | None = None,
                    tags: Iterable[str] = (), foreground: bool = False) -> list[str]:
        """Queue ``configs`` (validated RunConfigs) in one transaction; returns their new ids.

        ``foreground`` records them as already running in this process (``cnnkit train``), so that
        no supervisor claims them.
        """
        names, tags = self._labels(names, tags)
        with self._tx() as tx:
            return self._insert_runs(tx, configs, group, names, tags, foreground)

    def create_run(self, config: RunConfig, name: str | None = None, group: str | None = None,
                   tags: Iterable[str] = (), foreground: bool = False) -> str:
        return self.create_runs([config], group, [name] if name else None, tags, foreground)[0]

    @staticmethod
    def _labels(names: list[str] | None, tags: Iterable[str]) -> tuple[list[str] | None, list[str]]:
        """Names and tags as users give them, bounded like rename's and set_tags'."""
        return ([check_name(n) for n in names] if names else None), check_tags(tags)

    @staticmethod
    def _insert_group(tx: sqlite3.Connection, kind: str, name: str, meta: dict[str, Any]) -> str:
        group_id = f"{kind}-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"
        tx.execute("INSERT INTO groups (id, kind, name, created_at, meta) VALUES (?, ?, ?, ?, ?)",
                   (group_id, kind, name, time.time(), json.dumps(meta)))
        return group_id

    def _insert_runs(self, tx: sqlite3.Connection, configs: list[RunConfig], group: str | None, names: list[str] | None,
                     tags: list[str], foreground: bool) -> list[str]:
        now = time.time()
        if foreground:
            pid = os.getpid()
            status, worker, started_at, pid_start = Status.RUNNING, FOREGROUND, now, process_start(pid)
        else:
            status, worker, pid, started_at, pid_start = Status.QUEUED, None, None, None, None
        ids = []
        for i, config in enumerate(configs):
            run_id = self._new_id(tx)
            name = names[i] if names else config.label()
            tx.execute(
                "INSERT INTO runs (id, name, grp, tags, status, model, dataset, config, queued_at, worker, pid,"
                " started_at, pid_start) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (run_id, name, group, json.dumps(tags), status, config.model, config.dataset,
                 config.to_json(), now + i * 1e-6, worker, pid, started_at, pid_start),
            )
            ids.append(run_id)
        return ids

    @staticmethod
    def _new_id(tx: sqlite3.Connection) -> str:
        while True:
            run_id = secrets.token_hex(4)
            if not tx.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone():
                return run_id

    # ---- a job's run --------------------------------------------------------------------------
    def claim(self, worker: str, accept: Iterable[str] | None = None) -> Run | None:
        """Atomically move the oldest queued run (optionally only of device kinds ``accept``) to running."""
        if not self._read("SELECT 1 FROM runs WHERE status = ? LIMIT 1", (Status.QUEUED,)):
            return None  # an idle supervisor polls often: reading first spares everyone its write lock
        with self._tx() as tx:
            for row in tx.execute("SELECT * FROM runs WHERE status = ? ORDER BY queued_at", (Status.QUEUED,)):
                run = run_from_row(row)
                if accept is not None and _device_kind(run.config.get("device", "auto")) not in accept:
                    continue
                tx.execute("UPDATE runs SET status = ?, worker = ?, started_at = ?, heartbeat = ?,"
                           " pid = NULL, pid_start = NULL, first_step_at = NULL WHERE id = ?",
                           (Status.RUNNING, worker, time.time(), time.time(), run.id))
                run.status, run.worker = Status.RUNNING, worker
                return run
        return None

    def set_process(self, run_id: str, pid: int | None, pid_start: str | None) -> None:
        with self._tx() as tx:
            tx.execute("UPDATE runs SET pid = ?, pid_start = ?, heartbeat = ? WHERE id = ?",
                       (pid, pid_start, time.time(), run_id))

    def mark_started(self, run_id: str, info: dict[str, Any]) -> None:
        """A job's start event: its device, steps and model figures. The points logged after the step it
        starts from (``start_step``: a resumed run's checkpoint, else 0) are dropped in the same transaction,
        so that a run that replays steps, or starts over, keeps one point per step."""
        start = int(info.get("start_step", 0))
        with self._tx() as tx:
            row = tx.execute("SELECT summary FROM runs WHERE id = ?", (run_id,)).fetchone()
            summary = json.loads(row["summary"]) if row else {}
            summary.update({k: info[k] for k in ("params", "macs", "input_shape", "train_size", "test_size")
                            if k in info})
            tx.execute("DELETE FROM metrics WHERE run_id = ? AND step > ?", (run_id, start))
            tx.execute("UPDATE runs SET device = ?, total_steps = ?, step = ?, summary = ?, heartbeat = ?,"
                       " epoch = COALESCE((SELECT MAX(epoch) FROM metrics WHERE run_id = ?), 0) WHERE id = ?",
                       (info.get("device"), info.get("total_steps", 0), start, json.dumps(summary), time.time(),
                        run_id, run_id))

    def mark_first_step(self, run_id: str) -> None:
        with self._tx() as tx:
            tx.execute("UPDATE runs SET first_step_at = COALESCE(first_step_at, ?) WHERE id = ?",
                       (time.time(), run_id))

    def log_metrics(self, run_id: str, points: Iterable[MetricPoint]) -> None:
        """Append metric points in one transaction."""
        rows = [(run_id, *p.as_row()) for p in points]
        if not rows:
            return
        last = max(rows, key=lambda r: r[1])
        with self._tx() as tx:
            tx.executemany("INSERT OR REPLACE INTO metrics (run_id, step, epoch, split, name, value, wall)"
                           " VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
            tx.execute("UPDATE runs SET step = MAX(step, ?), epoch = MAX(epoch, ?), heartbeat = ? WHERE id = ?",
                       (last[1], last[2], time.time(), run_id))

    def beat(self, run_id: str) -> bool:
        """Record that the job is alive; returns whether a cancel was requested."""
        with self._tx() as tx:
            tx.execute("UPDATE runs SET heartbeat = ? WHERE id = ?", (time.time(), run_id))
            row = tx.execute("SELECT cancel_requested FROM runs WHERE id = ?", (run_id,)).fetchone()
        return bool(row and row["cancel_requested"])

    def finish(self, run_id: str, status: Status | str, summary: dict[str, Any] | None = None,
               error: str | None = None) -> bool:
        """Record how a running run ended; returns False when it had already ended (first word wins)."""
        if status not in Status.FINISHED:
            raise StoreError(f"finish status must be one of {', '.join(Status.FINISHED)}, got {status!r}")
        with self._tx() as tx:
            row = tx.execute("SELECT status, summary FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None or row["status"] != Status.RUNNING:
                return False
            merged = json.loads(row["summary"]) | (summary or {})
            # A run stopped between two reports is further along than its last metric point says.
            last_step = (summary or {}).get("step")
            last_step = last_step if isinstance(last_step, int) else 0
            tx.execute("UPDATE runs SET status = ?, finished_at = ?, error = ?, summary = ?, cancel_requested = 0,"
                       " resume = 0, step = MAX(step, ?) WHERE id = ?",
                       (Status(status), time.time(), error, json.dumps(merged), last_step, run_id))
        return True

    def requeue(self, run_id: str, resume: bool = False) -> bool:
        """A running run goes back to the queue, keeping its place: one that never started, or with ``resume``
        one to continue from its last checkpoint (its job stopped with its supervisor). False when it was not
        running."""
        with self._tx() as tx:
            return self._requeue(tx, run_id, resume)

    def retry(self, run_id: str, limit: int) -> int | None:
        """A running run whose job was lost (its node died, its supervisor was killed) goes back to the queue to
        continue from its last checkpoint, as an automatic try; returns the tries so far, or None when ``limit``
        tries are spent (the run is left as it is)."""
        with self._tx() as tx:
            row = tx.execute("SELECT tries FROM runs WHERE id = ? AND status = ?", (run_id, Status.RUNNING)).fetchone()
            if row is None or row["tries"] >= limit:
                return None
            tx.execute("UPDATE runs SET tries = tries + 1 WHERE id = ?", (run_id,))
            self._requeue(tx, run_id, resume=True)
            return row["tries"] + 1

    @staticmethod
    def _requeue(tx: sqlite3.Connection, run_id: str, resume: bool) -> bool:
        return tx.execute("UPDATE runs SET status = ?, worker = NULL, pid = NULL, pid_start = NULL, started_at = NULL,"
                          " first_step_at = NULL, resume = MAX(resume, ?) WHERE id = ? AND status = ?",
                          (Status.QUEUED, int(resume), run_id, Status.RUNNING)).rowcount == 1

    # ---- a run's files ----------------------------------------------------------------------
    def write_run_file(self, run_id: str, name: str, data: bytes) -> Path:
        """Write a file a job keeps for its run (checkpoint, predictions, snapshots) from bytes received from a
        remote job: write, then rename, so that a reader never sees half a file."""
        if name not in RUN_FILES:
            raise StoreError(f"a run's file is one of {', '.join(RUN_FILES)}, got {name!r}")
        folder = self.run_dir(run_id)
        target = folder / name
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise StoreError(f"cannot write {target}: {exc.strerror or exc}") from None
        return target

    def append_log(self, run_id: str, line: str) -> None:
        """Add a line to a run's log: what the supervisor saw of its job (the job's own output goes there too)."""
        path = self.log_path(run_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as f:
            f.write(line.rstrip("\n") + "\n")

    # ---- what users do to runs ----------------------------------------------------------------
    def request_cancel(self, run_id: str) -> Status:
        """Queued runs are cancelled at once; running ones get the flag their loop checks. Returns the status."""
        check_run_id(run_id)
        with self._tx() as tx:
            status = self._status(tx, run_id)
            if status == Status.QUEUED:
                tx.execute("UPDATE runs SET status = ?, finished_at = ? WHERE id = ?",
                           (Status.CANCELLED, time.time(), run_id))
                status = Status.CANCELLED
            elif status == Status.RUNNING:
                tx.execute("UPDATE runs SET cancel_requested = 1 WHERE id = ?", (run_id,))
        return status

    def resume(self, run_id: str) -> None:
        """Queue a finished run again to continue from its last checkpoint."""
        check_run_id(run_id)
        with self._tx() as tx:
            status = self._status(tx, run_id)
            if status in Status.ACTIVE:
                raise StoreError(f"run {run_id} is {status}; only a finished run can be resumed")
            tx.execute("UPDATE runs SET status = ?, resume = 1, cancel_requested = 0, error = NULL, tries = 0,"
                       " finished_at = NULL, pid = NULL, pid_start = NULL, worker = NULL, queued_at = ?"
                       " WHERE id = ?", (Status.QUEUED, time.time(), run_id))

    def rename(self, run_id: str, name: str) -> None:
        name = check_name(name)
        check_run_id(run_id)
        with self._tx() as tx:
            self._status(tx, run_id)
            tx.execute("UPDATE runs SET name = ? WHERE id = ?", (name, run_id))

    def set_tags(self, run_id: str, tags: Iterable[str]) -> None:
        tags = check_tags(tags)
        check_run_id(run_id)
        with self._tx() as tx:
            self._status(tx, run_id)
            tx.execute("UPDATE runs SET tags = ? WHERE id = ?", (json.dumps(tags), run_id))

    def delete(self, run_id: str) -> None:
        """Delete a run, its metric points and its folder; a running run must be cancelled first."""
        check_run_id(run_id)
        with self._tx() as tx:
            if self._status(tx, run_id) == Status.RUNNING:
                raise StoreError(f"run {run_id} is running; cancel it first")
            tx.execute("DELETE FROM metrics WHERE run_id = ?", (run_id,))
            tx.execute("DELETE FROM runs WHERE id = ?", (run_id,))
        shutil.rmtree(self.run_dir(run_id), ignore_errors=True)

    def _status(self, tx: sqlite3.Connection, run_id: str) -> Status:
        """A run's status read inside a write transaction, so that the decision taken on it is atomic."""
        row = tx.execute("SELECT status FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise StoreError(f"no run {run_id} in {self.home}")
        return Status(row["status"])

    # ---- finished runs from elsewhere (bundles, benchmarks) -----------------------------------
    def insert_finished(self, run: dict[str, Any], metrics: list[MetricPoint]) -> str:
        """Insert a finished run with its metric points under a new id."""
        return self.insert_finished_runs([(run, metrics)])[0]

    def insert_finished_runs(self, runs: list[tuple[dict[str, Any], list[MetricPoint]]],
                             groups: Iterable[dict[str, Any]] = ()) -> list[str]:
        """Insert finished runs (each with its metric rows) and their groups in one transaction: all or
        nothing, so that an import that fails half-way (a full disk) leaves no half of it behind."""
        with self._tx() as tx:
            for g in groups:
                tx.execute("INSERT OR IGNORE INTO groups (id, kind, name, created_at, meta) VALUES (?, ?, ?, ?, ?)",
                           (g["id"], g["kind"], g["name"], time.time(), json.dumps(g["meta"])))
            return [self._insert_finished(tx, run, metrics) for run, metrics in runs]

    def _insert_finished(self, tx: sqlite3.Connection, run: dict[str, Any], metrics: list[MetricPoint]) -> str:
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
                       " VALUES (?, ?, ?, ?, ?, ?, ?)", [(run_id, *m.as_row()) for m in metrics])
        return run_id


def _device_kind(device: str) -> str:
    return "cpu" if device == "cpu" else ("cuda" if device.startswith("cuda") else "auto")
