"""Reading the store for pages, the command line and exports: runs, groups, metric points, frames.

pandas is imported where a frame is built, so that the supervisor and the jobs, which never build
one, do not pay for it at start-up.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from cnnkit.errors import StoreError
from cnnkit.events import HEALTH_SPLIT, Status, epoch_rows
from cnnkit.store.database import Database
from cnnkit.store.run import Run, check_run_id, run_from_row

if TYPE_CHECKING:
    import pandas as pd

LOG_TAIL_BYTES = 4000
MAIN_METRICS = ("train_loss", "train_acc", "test_loss", "test_acc")  # in every run row, None until logged


def run_row(run: Run, latest: dict[str, float] | None = None) -> dict[str, Any]:
    """A run as one table row: its own fields, then the latest value of each of its metrics
    (``train_loss``, ``test_acc``, …; the main four None until logged). `cnnkit runs --json`, the
    Runs page and ``runs_frame`` build on it."""
    return {
        "id": run.id, "name": run.name, "status": str(run.status), "pid": run.pid, "model": run.model,
        "dataset": run.dataset, "group": run.group, "tags": run.tags, "progress": run.progress,
        "epoch": run.epoch, "epochs": run.epochs, "queued_at": run.queued_at, "started_at": run.started_at,
        "first_step_at": run.first_step_at, "finished_at": run.finished_at, "device": run.device,
        "error": run.error, **dict.fromkeys(MAIN_METRICS), **(latest or {}),
    }


class RunQueries(Database):
    """Every read of runs, groups and metric points."""

    # ---- runs and groups ----------------------------------------------------------------------
    def get(self, run_id: str) -> Run:
        rows = self._read("SELECT * FROM runs WHERE id = ?", (check_run_id(run_id),))
        if not rows:
            raise StoreError(f"no run {run_id} in {self.home}")
        return run_from_row(rows[0])

    def list_runs(self, status: str | Iterable[str] | None = None, group: str | None = None,
                  ids: Iterable[str] | None = None, limit: int | None = None) -> list[Run]:
        """Runs, newest first, filtered by status (one or several), group or ids."""
        where, params = [], []
        if status:
            statuses = [status] if isinstance(status, str) else list(status)
            bad = [s for s in statuses if s not in tuple(Status)]
            if bad:
                raise StoreError(f"status must be one of {', '.join(Status)}, got {bad[0]!r}")
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
        return [run_from_row(r) for r in self._read(sql, params)]

    def counts(self) -> dict[str, int]:
        """How many runs have each status (every status present, 0 where none), keyed by the stored word."""
        rows = self._read("SELECT status, COUNT(*) AS n FROM runs GROUP BY status")
        return {s.value: 0 for s in Status} | {r["status"]: r["n"] for r in rows}

    def group_activity(self, group_ids: Iterable[str]) -> dict[str, tuple[int, float]]:
        """{group id: (its queued and running runs, the latest time one of its runs ended, 0 if none)},
        in one query (the supervisor asks it about every finished search, every second)."""
        ids = list(group_ids)
        if not ids:
            return {}
        rows = self._read(
            "SELECT grp, SUM(status IN (?, ?)) AS active, COALESCE(MAX(finished_at), 0) AS last_end FROM runs"
            f" WHERE grp IN ({','.join('?' * len(ids))}) GROUP BY grp", [Status.QUEUED, Status.RUNNING, *ids])
        return {i: (0, 0.0) for i in ids} | {r["grp"]: (r["active"], r["last_end"]) for r in rows}

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

    def log_tail(self, run_id: str, size: int = LOG_TAIL_BYTES) -> str:
        """The last ``size`` bytes of a run's log ("" when it has none)."""
        path = self.log_path(run_id)
        try:
            with open(path, "rb") as f:
                f.seek(max(0, path.stat().st_size - size))
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    # ---- metric points ------------------------------------------------------------------------
    def latest_metrics(self, run_ids: Iterable[str]) -> dict[str, dict[str, float]]:
        """{run id: {"train_loss": …, "test_acc": …}} from the last point of every metric but layer health's."""
        ids = [check_run_id(i) for i in run_ids]
        if not ids:
            return {}
        # SQLite returns the other columns of the row that holds MAX(step) in a grouped query. The layer health
        # points (three in four of a run's) are no headline figure: two key ranges step over them instead of
        # reading them all, which kept the Runs page's refresh at its cost before health was recorded.
        latest = (f"SELECT run_id, split, name, value, MAX(step) FROM metrics WHERE run_id IN "
                  f"({','.join('?' * len(ids))}) AND split {{}} ? GROUP BY run_id, split, name")
        rows = self._read(f"{latest.format('<')} UNION ALL {latest.format('>')}",
                          [*ids, HEALTH_SPLIT, *ids, HEALTH_SPLIT])
        out: dict[str, dict[str, float]] = {i: {} for i in ids}
        for r in rows:
            out[r["run_id"]][f"{r['split']}_{r['name']}"] = r["value"]
        return out

    def metrics(self, run_ids: Iterable[str], split: str | Iterable[str] | None = None,
                names: Iterable[str] | None = None, max_points: int | None = None,
                whole_epochs: bool = False) -> pd.DataFrame:
        """Metric points as a DataFrame (run_id, step, epoch, split, name, value, wall) of ``split`` (one or
        several; naming them reads only their points, where ``names`` alone reads past every split's).

        ``max_points`` thins every (run, split, name) curve to about that many points, keeping the
        first and the last, so that plotting hundreds of long runs stays fast. ``whole_epochs`` keeps only
        the points at an epoch's end (what ``epoch_rows`` are made of).
        """
        import pandas as pd

        ids = [check_run_id(i) for i in run_ids]
        cols = ["run_id", "step", "epoch", "split", "name", "value", "wall"]
        if not ids:
            return pd.DataFrame(columns=cols)
        where = [f"run_id IN ({','.join('?' * len(ids))})"]
        params: list[Any] = list(ids)
        if split:
            splits = [split] if isinstance(split, str) else list(split)
            where.append(f"split IN ({','.join('?' * len(splits))})")
            params += splits
        if names is not None:
            names = list(names)
            where.append(f"name IN ({','.join('?' * len(names))})")
            params += names
        if whole_epochs:
            where.append("epoch = CAST(epoch AS INT)")
        sql = f"SELECT {', '.join(cols)} FROM metrics WHERE {' AND '.join(where)} ORDER BY run_id, split, name, step"
        try:  # plain tuples, not sqlite3.Row: a tenth of the cost for tens of thousands of points
            cursor = self._conn().execute(sql, params)
            cursor.row_factory = None
            frame = pd.DataFrame.from_records(cursor.fetchall(), columns=cols)
        except sqlite3.Error as exc:
            raise self._error("read", exc) from None
        return _thin(frame, max_points) if max_points else frame

    def epoch_rows(self, run_id: str) -> list[dict[str, float]]:
        """One dict per finished epoch (``cnnkit.events.epoch_rows``)."""
        rows = self._read("SELECT step, epoch, split, name, value, wall FROM metrics"
                          " WHERE run_id = ? AND epoch = CAST(epoch AS INT)", (check_run_id(run_id),))
        return epoch_rows(tuple(r) for r in rows)

    def runs_frame(self, runs: list[Run] | None = None) -> pd.DataFrame:
        """One row per run (``run_row``) with its summary's results and flattened config (``cfg.*`` columns)."""
        import pandas as pd

        runs = self.list_runs() if runs is None else runs
        latest = self.latest_metrics([r.id for r in runs])
        rows = []
        for r in runs:
            row = run_row(r, latest.get(r.id)) | {
                "tags": ",".join(r.tags), "params": r.summary.get("params"), "macs": r.summary.get("macs"),
                "train_seconds": r.summary.get("train_seconds"), "images_per_sec": r.summary.get("images_per_sec"),
                "best_test_acc": r.summary.get("best", {}).get("test_acc"),
            }
            row.update({f"cfg.{k}": v for k, v in flat_config(r.config).items()})
            rows.append(row)
        return pd.DataFrame(rows)


def _thin(frame: pd.DataFrame, max_points: int) -> pd.DataFrame:
    """Every ``stride``-th point of each curve longer than ``max_points``, its last point always kept.

    Done on the fetched frame, vectorised: a window function in SQL costs more than it saves.
    """
    curve = frame.groupby(["run_id", "split", "name"], sort=False)
    rank = curve.cumcount()
    size = curve["step"].transform("size")
    stride = -(-size // max_points)  # ceil
    keep = (size <= max_points) | (rank % stride == 0) | (rank == size - 1)
    return frame[keep.to_numpy()].reset_index(drop=True)


def flat_config(config: dict[str, Any]) -> dict[str, Any]:
    """A run's config as one level: model options as ``model.<key>``, lists as "a,b" text (the
    ``cfg.*`` columns of runs_frame, the params of an MLflow export, the hparams of a TensorBoard one)."""
    flat = {k: v for k, v in config.items() if k != "model_options"}
    for key, value in config.get("model_options", {}).items():
        flat[f"model.{key}"] = value
    return {k: (",".join(map(str, v)) if isinstance(v, list) else v) for k, v in flat.items()}
