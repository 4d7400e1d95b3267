"""The commands that make and manage runs: `train`, `submit`, `worker`, `job`, `runs`, `cancel`, `logs`,
`resume`, `delete`, `rename`, `tag`, `export`, `import`."""
from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from functools import partial
from typing import Any

from tqdm import tqdm

from cnnkit.bridges import finished_runs
from cnnkit.bundle import export_bundle, import_bundle
from cnnkit.cli.common import (
    add_command,
    add_train_options,
    check_labels,
    config_from_args,
    emit_json,
    split_assignment,
    store_of,
)
from cnnkit.events import MetricPoint, Reporter, Status
from cnnkit.jobs.base import Slot
from cnnkit.jobs.process import supervisor_running
from cnnkit.jobs.supervisor import ensure_supervisor, serve
from cnnkit.params import Param
from cnnkit.store import run_row
from cnnkit.sweep import expand, run_name
from cnnkit.text import format_table

# The data and the engine import torch: imported inside `train` and `job`, so that `runs`, `submit`,
# `cancel`, … answer in a fraction of a second instead of paying torch's import of a second or more.


class _ProgressBar(Reporter):
    """A tqdm bar over the run's steps, fed by the engine's reports."""

    def __init__(self) -> None:
        self.bar: tqdm | None = None

    def start(self, info: dict[str, Any]) -> None:
        self.bar = tqdm(total=info["total_steps"], initial=info["start_step"], unit="step", file=sys.stderr,
                             dynamic_ncols=True, disable=None)

    def log(self, points: list[MetricPoint]) -> None:
        values = {f"{p.split}_{p.name}": p.value for p in points}
        if self.bar is not None:
            self.bar.update(max(p.step for p in points) - self.bar.n)
            shown = {k: f"{v:.4f}" for k, v in values.items() if k in ("train_loss", "train_acc", "test_acc")}
            if shown:
                self.bar.set_postfix(shown, refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def cmd_train(args: argparse.Namespace) -> int:
    from cnnkit.data import loading
    from cnnkit.jobs.runner import execute

    config = config_from_args(args)
    check_labels(args)
    dataset = loading.load(config.dataset)  # a missing dataset is a one-line error before any run exists
    store = store_of(args)
    run_id = store.create_run(config, args.name, tags=args.tag, foreground=True)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())  # Ctrl-C: checkpoint and end as cancelled
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    bar = _ProgressBar()
    print(f"run {run_id}: {config.label()} on {config.dataset}, recorded in {store.home}", file=sys.stderr)
    try:
        status = execute(store, run_id, stop, dataset, also=bar)
    finally:
        bar.close()
    run = store.get(run_id)
    epochs = store.epoch_rows(run_id)
    final = {k: epochs[-1][k] for k in ("train_loss", "train_acc", "test_loss", "test_acc")} if epochs else {}
    if args.json:
        emit_json({"run_id": run_id, "status": status, "config": config.to_dict(), "final": final,
                    "epochs": epochs, "error": run.error})
    else:
        keys = ("epoch", "train_loss", "train_acc", "test_loss", "test_acc", "lr", "epoch_seconds", "images_per_sec")
        print(format_table([[e.get(k) for k in keys] for e in epochs], keys, "r" * len(keys)))
        print(f"\nrun {run_id} {status}" + (f": {run.error}" if run.error else ""))
    return 0 if status == Status.COMPLETED else 1


def cmd_submit(args: argparse.Namespace) -> int:
    base = config_from_args(args)
    sweeps = [split_assignment(s, "--sweep") for s in args.sweep or []]
    configs = expand(base, sweeps, args.seeds)
    check_labels(args)
    store = store_of(args)
    group = None
    if len(configs) > 1 or args.group_name:
        keys = [k for k, _ in sweeps]
        names = [args.name or run_name(c, keys, args.seeds) for c in configs]
        group, ids = store.queue_group(args.group_name or f"{base.label()} sweep", configs, dict(sweeps),
                                       args.seeds, names, args.tag)
    else:
        ids = store.create_runs(configs, tags=args.tag, names=[args.name] if args.name else None)
    if args.start_worker:
        ensure_supervisor(store)
    elif not supervisor_running(store.home):
        print(f"note: no supervisor runs for {store.home}; start one with `python -m cnnkit worker` "
              "(or pass --start-worker)", file=sys.stderr)
    if args.json:
        emit_json({"run_id": ids[0], "group": group} if len(ids) == 1 else {"run_ids": ids, "group": group})
    else:
        print("\n".join(ids))
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    cpu = Param("--cpu-slots", "int", 1, low=1, high=256).parse(args.cpu_slots)
    gpu = Param("--gpu-slots", "int", 2, low=0, high=64).parse(args.gpu_slots)
    idle = Param("--idle-exit", "float", None, low=0, high=10**7, optional=True).parse(args.idle_exit or "none")
    return serve(store_of(args), args.executor, cpu, gpu, idle, args.start_method, args.address)


def cmd_job(args: argparse.Namespace) -> int:
    from cnnkit.jobs.local import job_main

    kind, index, threads = args.slot.split(":")
    return job_main(store_of(args), args.run_id, Slot(kind, int(index), int(threads)))


# The fields of `runs --json`, in order: a contract, whatever else a run's table row holds.
RUN_RECORD = ("id", "name", "status", "pid", "model", "dataset", "group", "tags", "progress", "epoch", "epochs",
              "queued_at", "started_at", "first_step_at", "finished_at", "device", "train_loss", "train_acc",
              "test_loss", "test_acc", "error")


def cmd_runs(args: argparse.Namespace) -> int:
    store = store_of(args)
    runs = store.list_runs(status=args.status, group=args.group, limit=args.limit)
    latest = store.latest_metrics([r.id for r in runs])
    rows = [run_row(r, latest[r.id]) for r in runs]
    records = [{key: row[key] for key in RUN_RECORD} | {"progress": round(row["progress"], 4)} for row in rows]
    if args.json:
        emit_json(records)
        return 0
    rows = [(r["id"], r["status"], r["model"], r["dataset"], f"{100 * r['progress']:.0f}%",
             f"{r['epoch']:g}/{r['epochs']}", r["train_loss"], r["test_acc"], r["name"]) for r in records]
    print(format_table(rows, ["id", "status", "model", "dataset", "done", "epoch", "train_loss", "test_acc", "name"],
                       "lllllrrrl"))
    return 0


def cmd_cancel(args: argparse.Namespace) -> int:
    store = store_of(args)
    status = store.request_cancel(args.run_id)
    deadline = time.time() + args.wait
    while status == Status.RUNNING and time.time() < deadline:
        time.sleep(0.2)
        status = store.get(args.run_id).status
    print(f"{args.run_id} {status}" + (" (cancel requested)" if status == Status.RUNNING else ""))
    return 0


def cmd_logs(args: argparse.Namespace) -> int:
    store = store_of(args)
    run = store.get(args.run_id)
    print(store.log_tail(run.id, size=args.bytes), end="")
    if run.error:
        print(f"\n[{run.status}] {run.error}")
    return 0


def cmd_resume(args: argparse.Namespace) -> int:
    store = store_of(args)
    store.resume(args.run_id)
    print(f"{args.run_id} queued to resume from its last checkpoint")
    if not supervisor_running(store.home):
        print("note: no supervisor runs for this store; start one with `python -m cnnkit worker`", file=sys.stderr)
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    store_of(args).delete(args.run_id)
    print(f"{args.run_id} deleted")
    return 0


def cmd_rename(args: argparse.Namespace) -> int:
    store_of(args).rename(args.run_id, args.name)
    return 0


def cmd_tag(args: argparse.Namespace) -> int:
    store = store_of(args)
    store.set_tags(args.run_id, args.tags)
    print(f"{args.run_id}: {', '.join(store.get(args.run_id).tags) or 'no tags'}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    store = store_of(args)
    runs = finished_runs(store, args.run_ids, args.group)
    if args.tensorboard:
        from cnnkit.bridges.tensorboard import export_tensorboard

        export_tensorboard(store, runs, args.tensorboard)
        print(f"exported {len(runs)} runs to {args.tensorboard}; "
              f"view them with: tensorboard --logdir {args.tensorboard}")
    elif args.mlflow:
        from cnnkit.bridges.mlflow import export_mlflow

        print(export_mlflow(store, runs, args.mlflow).summary_line())
    else:
        path = export_bundle(store, [r.id for r in runs], args.out)
        print(f"exported {len(runs)} runs to {path}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    ids = import_bundle(store_of(args), args.file)
    print(f"imported {len(ids)} runs" + (f": {' '.join(ids)}" if ids else " (all were imported before)"))
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    command = partial(add_command, sub)

    p = command("train", cmd_train, "train in the foreground and record the run")
    add_train_options(p)

    p = command("submit", cmd_submit, "queue runs for the background supervisor")
    add_train_options(p)
    p.add_argument("--sweep", action="append", metavar="KEY=V1,V2", help="one axis of a sweep (repeatable)")
    p.add_argument("--seeds", type=int, default=1, help="repeat every config with seeds 0..N-1 (N ≤ 20)")
    p.add_argument("--group-name", help="name of the sweep group")
    p.add_argument("--start-worker", action="store_true", help="start a supervisor if none runs")

    p = command("worker", cmd_worker, "run the supervisor in the foreground")
    p.add_argument("--cpu-slots", default="1", metavar="N", help="CPU jobs at once (default 1)")
    p.add_argument("--gpu-slots", default="2", metavar="N", help="jobs per GPU at once (default 2)")
    p.add_argument("--executor", choices=("local", "ray"), default="local")
    p.add_argument("--address", help="Ray cluster address (default: start a local Ray)")
    p.add_argument("--idle-exit", metavar="SECONDS", help="exit after this long with nothing to do")
    p.add_argument("--start-method", choices=("fork", "spawn"), default="fork" if hasattr(os, "fork") else "spawn",
                   help="fork (warm start, default) or spawn a fresh interpreter per job")

    p = command("job", cmd_job, argparse.SUPPRESS)
    p.add_argument("run_id")
    p.add_argument("--slot", default="cpu:0:0")

    p = command("runs", cmd_runs, "list runs")
    p.add_argument("--json", action="store_true")
    p.add_argument("--status")
    p.add_argument("--group")
    p.add_argument("--limit", type=int)

    p = command("cancel", cmd_cancel, "cancel a queued or running run")
    p.add_argument("run_id")
    p.add_argument("--wait", type=float, default=0.0, metavar="SECONDS", help="wait until it has stopped")

    p = command("logs", cmd_logs, "the end of a run's log")
    p.add_argument("run_id")
    p.add_argument("--bytes", type=int, default=8000)

    for name, func, text in (("resume", cmd_resume, "continue a finished run from its last checkpoint"),
                             ("delete", cmd_delete, "delete a run, its metrics and its files")):
        command(name, func, text).add_argument("run_id")

    p = command("rename", cmd_rename, "rename a run")
    p.add_argument("run_id")
    p.add_argument("name")

    p = command("tag", cmd_tag, "set a run's tags")
    p.add_argument("run_id")
    p.add_argument("tags", nargs="*")

    p = command("export", cmd_export, "export finished runs as a bundle (zip of JSON), to TensorBoard or to MLflow")
    p.add_argument("run_ids", nargs="*")
    p.add_argument("--group", help="export the finished runs of this group")
    to = p.add_mutually_exclusive_group(required=True)
    to.add_argument("--out", metavar="FILE", help="a bundle zip")
    to.add_argument("--tensorboard", metavar="DIR", help="event files, one folder per run (tensorboard --logdir DIR)")
    to.add_argument("--mlflow", metavar="URI",
                    help="an MLflow tracking store: sqlite:///FILE.db, file:///DIR or a folder")

    p = command("import", cmd_import, "import a bundle")
    p.add_argument("file")
