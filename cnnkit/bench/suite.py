"""``python -m cnnkit bench``: the sections (engine vs textbook loop, time to accuracy, job threads, job
start, the Compare page, the dashboard in a browser) run in one process and printed as one report."""
from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from cnnkit.bench import dashboard, health, ray, threads, throughput, verdict
from cnnkit.bench.throughput import time_to_accuracy
from cnnkit.config import RunConfig
from cnnkit.data import loading
from cnnkit.engine import fit, resolve_device
from cnnkit.events import MetricPoint, Reporter, Status
from cnnkit.store import Store

# ---- job start and dashboard -----------------------------------------------------------------------

def job_start_seconds(repeats: int = 3, timeout: float = 120.0) -> list[float]:
    """Queue-to-first-step seconds of tiny runs handed to an already running (warm) supervisor."""
    with tempfile.TemporaryDirectory() as home:
        store = Store(home)
        proc = subprocess.Popen([sys.executable, "-m", "cnnkit", "worker", "--store", home, "--idle-exit", "60"],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True, text=True)
        try:
            proc.stdout.readline()  # "supervisor … serving …": imports and warm-up are done
            config = RunConfig(epochs=1, subset=0.02, test_subset=0.02)
            seconds = []
            for _ in range(repeats + 1):  # the first run also decodes/caches the dataset in the supervisor
                run_id = store.create_run(config)
                deadline = time.time() + timeout
                while time.time() < deadline:
                    run = store.get(run_id)
                    if run.status not in Status.ACTIVE:
                        break
                    time.sleep(0.05)
                if run.first_step_at is None:
                    raise RuntimeError(f"bench job {run_id} ended {run.status} without a step: {run.error}")
                seconds.append(run.first_step_at - run.queued_at)
            return seconds[1:]
        finally:
            os.killpg(proc.pid, 15)
            proc.wait(timeout=30)


def system_metrics_share(dataset: loading.Data, short: bool) -> dict[str, float]:
    """What a job's system-metric sampling costs: its seconds over a LeNet run's training seconds."""
    from cnnkit.jobs.system_metrics import SystemMetrics

    config = threads.lenet_run(short, epochs=2)
    reporter = SystemMetrics(Reporter())
    result = fit(config, reporter, dataset=dataset)
    train = sum(e["epoch_seconds"] for e in result.epochs)
    return {"sampling_seconds": reporter.seconds, "train_seconds": train, "share": reporter.seconds / train,
            "reports_per_epoch": config.reports_per_epoch}


def compare_render_seconds(runs: int = 200, epochs: int = 50, repeats: int = 3) -> list[float]:
    """Time of the Compare page's data + figure building with ``runs`` × ``epochs`` in the store."""
    from cnnkit import compare
    from cnnkit.views.compare import build_view
    with tempfile.TemporaryDirectory() as home:
        store = Store(home)
        fill_store(store, runs, epochs)
        out = []
        for _ in range(repeats):
            start = time.perf_counter()
            build_view(store, compare.Selection())
            out.append(time.perf_counter() - start)
        return out


def fill_store(store: Store, runs: int, epochs: int, reports_per_epoch: int = 5) -> None:
    """Finished synthetic runs with realistic curves (for the dashboard timing only)."""
    import math
    import random

    rng = random.Random(0)
    models = ["lenet", "mlp", "alexnet", "resnet18"]
    for i in range(runs):
        config = RunConfig(model=models[i % len(models)], lr=[0.01, 0.05, 0.1, 0.9][i % 4], seed=i % 3,
                           epochs=epochs, input_size=96 if models[i % len(models)] in ("alexnet", "resnet18") else None)
        points, t = [], 1.7e9
        steps = 235
        for e in range(epochs):
            for k in range(reports_per_epoch):
                pos = e + (k + 1) / reports_per_epoch
                loss = 2.3 * math.exp(-pos / (3 + i % 5)) + 0.2 + rng.gauss(0, 0.01)
                points += [(int(pos * steps), pos, "train", "loss", loss, t + pos * 10),
                           (int(pos * steps), pos, "train", "acc", 1 - loss / 2.5, t + pos * 10)]
            points += [((e + 1) * steps, e + 1.0, "test", n, v, t + (e + 1) * 10) for n, v in
                       (("loss", loss + 0.05), ("acc", 1 - loss / 2.4))]
            points += [((e + 1) * steps, e + 1.0, "train", n, v, t + (e + 1) * 10) for n, v in
                       (("lr", config.lr), ("epoch_seconds", 10.0), ("images_per_sec", 6000.0))]
        store.insert_finished({
            "name": f"synthetic {i}", "status": Status.COMPLETED, "model": config.model, "dataset": config.dataset,
            "config": config.to_dict(), "queued_at": t, "started_at": t, "finished_at": t + epochs * 10,
            "step": epochs * steps, "total_steps": epochs * steps, "epoch": epochs,
            "summary": {"params": 61706, "macs": 416520, "final": {"test_acc": 1 - loss / 2.4},
                        "best": {"test_acc": 1 - loss / 2.4, "epoch": epochs}, "train_seconds": epochs * 10.0,
                        "images_per_sec": 6000.0},
        }, [MetricPoint(*row) for row in points])


# ---- the command ------------------------------------------------------------------------------------

def machine() -> dict[str, Any]:
    info = {"cpu": _cpu_name(), "cores": os.cpu_count(), "threads": torch.get_num_threads(),
            "torch": torch.__version__, "python": platform.python_version(), "gpu": None}
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        info["gpu"] = f"{props.name} ({props.total_memory / 2**30:.0f} GiB)"
    return info


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


SECTIONS = ("throughput", "accuracy", "threads", "jobs", "health", "verdict", "ray", "dashboard")


def run(models: list[str] | None = None, device: str = "auto", short: bool = False, repeats: int = 3,
        log: Callable[[str], None] = print, sections: tuple[str, ...] = SECTIONS) -> dict[str, Any]:
    """What ``bench`` measures in ``sections``, as one JSON-ready dict."""
    dataset = loading.load("fashion-mnist")
    report: dict[str, Any] = {"machine": machine(), "device": device, "short": short,
                              "date": time.strftime("%Y-%m-%d"), "sections": list(sections)}
    if "throughput" in sections:
        report["throughput"] = throughput.run(models, device, short, repeats, dataset, log)
    if "accuracy" in sections:
        if short:
            report["time_to_accuracy"] = {"skipped": "short mode"}
        else:
            log("time to 89 % test accuracy, ReLU/max-pool LeNet on Fashion-MNIST")
            report["time_to_accuracy"] = {"fashion-mnist": time_to_accuracy(device, dataset)}
            if loading.is_available("mnist"):
                report["time_to_accuracy"]["mnist"] = time_to_accuracy(device, loading.load("mnist"), target=0.99)
    if "threads" in sections and resolve_device(device).type == "cpu":
        log("job threads: epoch time idle and beside one busy process")
        report["threads"] = threads.run(short, log, dataset)
    if "jobs" in sections:
        log("job start: queue → first step through a warm supervisor")
        starts = job_start_seconds(repeats=2 if short else 5)
        report["job_start_seconds"] = statistics.median(starts)
        report["job_start_samples"] = starts
        log("compare page: data + figures with 200 runs × 50 epochs")
        renders = compare_render_seconds(runs=40 if short else 200, epochs=10 if short else 50)
        report["compare_render_seconds"] = statistics.median(renders)
        report["compare_runs"] = 40 if short else 200
        log("system metrics: what sampling costs a training job")
        report["system_metrics"] = system_metrics_share(dataset, short)
    if "health" in sections:
        log("layer health and snapshots: what watching costs a LeNet epoch")
        report["health"] = health.run(short, log, dataset)
    if "verdict" in sections:
        report["verdict"] = verdict.run(short, log, fill_store)
    if "ray" in sections:
        report["ray"] = ray.run(short, log, repeats)
    if "dashboard" in sections:
        report["dashboard"] = dashboard.run(short, log, fill_store)
    return report




def format_report(report: dict[str, Any]) -> str:

    m = report["machine"]
    lines = [f"machine: {m['cpu']}, {m['cores']} cores, torch {m['torch']}, gpu: {m['gpu'] or 'none'}; "
             f"device {report['device']}; {report['date']}" + ("; short mode" if report["short"] else "")]
    if "throughput" in report:
        lines.append(throughput.format_section(report["throughput"]))
    for name, value in report.get("time_to_accuracy", {}).items():
        if isinstance(value, dict) and value.get("reached"):
            lines.append(f"time to {value['test_acc']:.3f} ≥ {value['target']} test acc on {name}: "
                         f"{value['seconds']:.1f} s (epoch {value['epoch']:g})")
        elif isinstance(value, dict):
            lines.append(f"time to accuracy on {name}: target {value.get('target')} not reached "
                         f"(best {value.get('best_test_acc')})")
        else:
            lines.append(f"time to accuracy: {value}")
    if "threads" in report:
        lines += threads.format_section(report["threads"])
    if "job_start_seconds" in report:
        lines.append(f"job start (queue → first step, warm supervisor): {report['job_start_seconds']:.2f} s median")
        lines.append(f"compare page with {report['compare_runs']} runs: {report['compare_render_seconds']:.2f} s "
                     "median")
        sm = report["system_metrics"]
        lines.append(f"system metrics: {1000 * sm['sampling_seconds']:.1f} ms of sampling in "
                     f"{sm['train_seconds']:.1f} s of training ({100 * sm['share']:.2f} %, "
                     f"{sm['reports_per_epoch']} samples per epoch)")
    if "health" in report:
        lines += health.format_section(report["health"])
    if "verdict" in report:
        lines += verdict.format_section(report["verdict"])
    if "ray" in report:
        lines += ray.format_section(report["ray"])
    if "dashboard" in report:
        lines += dashboard.format_section(report["dashboard"])
    return "\n".join(lines)


def main(models: list[str] | None, device: str, short: bool, repeats: int, as_json: bool,
         sections: tuple[str, ...] = SECTIONS) -> int:
    import warnings

    warnings.filterwarnings("ignore", message="This DataLoader will create")  # d2l's 4 workers on 2 cores: we know
    log = (lambda msg: print(msg, file=sys.stderr, flush=True))
    report = run(models, device, short, repeats, log, sections)
    print(format_report(report))
    if as_json:
        print(json.dumps(report))
    return 0

