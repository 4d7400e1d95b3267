"""``python -m cnnkit bench``: our engine against the textbook loop, job start, dashboard speed.

The textbook loop is d2l's ``train_ch6`` on d2l's ``load_data_fashion_mnist``: a torchvision dataset
with ``Resize`` + ``ToTensor``, a ``DataLoader``, a ``.to(device)`` per batch and a ``float()`` per
batch for the metrics. Both loops train the same architecture with the same batch size, learning
rate and initialisation on the same images; they alternate within one process, so that a noisy
machine slows both alike, and the ratio of medians is what we report.
"""
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from cnnkit import bench_dashboard, bench_threads, data
from cnnkit.config import RunConfig
from cnnkit.engine import MetricPoint, Reporter, build_for, fit, resolve_device
from cnnkit.plan import plan_run
from cnnkit.store import Status, Store


@dataclass(frozen=True)
class Case:
    """One throughput comparison: a model at an input size, over ``images`` training images."""

    model: str
    input_size: int
    images: int  # per timed pass on the CPU; scaled up on a GPU
    batch_size: int = 256
    lr: float = 0.1

    @property
    def label(self) -> str:
        return f"{self.model}@{self.input_size}"


CASES = (
    Case("lenet", 28, 60_000, 256, 0.9),
    Case("mlp", 28, 60_000, 256, 0.1),
    Case("resnet18", 32, 2_048, 128, 0.05),
    Case("resnet18", 96, 512, 128, 0.05),
    Case("alexnet", 65, 2_048, 128, 0.01),  # AlexNet's smallest valid input (shapes.smallest_input)
)
SHORT_IMAGES = {"lenet": 6_000, "mlp": 6_000, "resnet18": 256, "alexnet": 256}
TEXTBOOK_WORKERS = (4, 0)  # d2l's default, and none: we compare against the faster of the two


@dataclass
class CaseResult:
    case: str
    images: int
    textbook_workers: int
    textbook_seconds: list[float] = field(default_factory=list)
    ours_seconds: list[float] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return statistics.median(self.textbook_seconds) / statistics.median(self.ours_seconds)

    def row(self) -> dict[str, Any]:
        tb, ours = statistics.median(self.textbook_seconds), statistics.median(self.ours_seconds)
        return {"case": self.case, "images": self.images, "textbook_s": tb, "ours_s": ours,
                "textbook_img_s": self.images / tb, "ours_img_s": self.images / ours, "speedup": tb / ours,
                "epoch_textbook_s": tb * 60_000 / self.images, "epoch_ours_s": ours * 60_000 / self.images,
                "repeats": len(self.ours_seconds), "textbook_workers": self.textbook_workers}


# ---- the two loops ------------------------------------------------------------------------------

def _config(case: Case, images: int, device: str, epochs: int = 1) -> RunConfig:
    return RunConfig(model=case.model, dataset="fashion-mnist", input_size=case.input_size,
                     subset=min(1.0, images / 60_000), test_subset=0.01, epochs=epochs, batch_size=case.batch_size,
                     lr=case.lr, init="xavier", device=device, reports_per_epoch=1)


def textbook_pass(case: Case, images: int, device: torch.device, workers: int) -> float:
    """Seconds for one pass of d2l's loop over the first ``images`` of a fixed shuffle."""
    import torchvision
    from torch.utils.data import DataLoader, Subset
    from torchvision import transforms

    trans = [transforms.ToTensor()]
    if case.input_size != 28:
        trans.insert(0, transforms.Resize(case.input_size))
    dataset = torchvision.datasets.FashionMNIST(str(data.data_root()), train=True,
                                                transform=transforms.Compose(trans), download=False)
    if images < len(dataset):
        dataset = Subset(dataset, torch.randperm(len(dataset), generator=torch.Generator().manual_seed(0))[:images])
    loader = DataLoader(dataset, case.batch_size, shuffle=True, num_workers=workers)
    net = build_for(plan_run(_config(case, images, "cpu"), device))  # same architecture, d2l's layout (NCHW)
    optimizer = torch.optim.SGD(net.parameters(), lr=case.lr)
    loss = nn.CrossEntropyLoss()
    net.train()
    _sync(device)
    start = time.perf_counter()
    metric = [0.0, 0.0, 0]
    for x, y in loader:
        optimizer.zero_grad()
        x, y = x.to(device), y.to(device)
        y_hat = net(x)
        batch_loss = loss(y_hat, y)
        batch_loss.backward()
        optimizer.step()
        with torch.no_grad():  # d2l's Accumulator: a host sync per batch
            metric[0] += float(batch_loss * x.shape[0])
            metric[1] += float((y_hat.argmax(1) == y).sum())
            metric[2] += x.shape[0]
    _sync(device)
    return time.perf_counter() - start


def engine_pass(case: Case, images: int, device: str, dataset: data.Data) -> float:
    """Seconds of training (the engine's own epoch_seconds) for one epoch over the same images."""
    result = fit(_config(case, images, device), dataset=dataset)
    return result.epochs[-1]["epoch_seconds"]


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def compare_loops(case: Case, images: int, device: str, repeats: int, dataset: data.Data,
                  log: Callable[[str], None] = print) -> CaseResult:
    torch_device = resolve_device(device)
    engine_pass(case, min(images, 1024), device, dataset)  # warm both up: first-call costs are not steady state
    calibration = {w: textbook_pass(case, min(images, 2048), torch_device, w) for w in TEXTBOOK_WORKERS}
    workers = min(calibration, key=calibration.get)
    result = CaseResult(case.label, images, workers)
    for r in range(repeats):
        result.textbook_seconds.append(textbook_pass(case, images, torch_device, workers))
        result.ours_seconds.append(engine_pass(case, images, device, dataset))
        log(f"  {case.label} repeat {r + 1}/{repeats}: textbook {result.textbook_seconds[-1]:.2f} s, "
            f"ours {result.ours_seconds[-1]:.2f} s")
    return result


# ---- time to accuracy -----------------------------------------------------------------------------

def time_to_accuracy(device: str, dataset: data.Data, target: float = 0.89, epochs: int = 12) -> dict[str, Any]:
    """Wall seconds (training + evaluation) until ReLU/max-pool LeNet reaches ``target`` test accuracy.

    The recipe (Adam 3e-3, batch 256, cosine over ``epochs``, normalised input, Kaiming) was the faster
    of the two we tried; SGD with momentum 0.05 needed 8 epochs instead of 5–6.
    """
    config = RunConfig(model="lenet", model_options={"activation": "relu", "pool": "max"}, epochs=epochs,
                       batch_size=256, optimizer="adam", lr=0.003, schedule="cosine", init="kaiming",
                       normalize=True, device=device, reports_per_epoch=1)
    start = time.perf_counter()
    reached: dict[str, Any] = {}

    def stop() -> bool:
        return bool(reached)

    class Watch(Reporter):
        def log(self, points: list[MetricPoint]) -> None:
            for p in points:
                if p.split == "test" and p.name == "acc" and p.value >= target and not reached:
                    reached.update(seconds=time.perf_counter() - start, epoch=p.epoch, test_acc=p.value)

    result = fit(config, Watch(), stop, dataset=dataset)
    if not reached:
        return {"target": target, "reached": False, "epochs": len(result.epochs),
                "best_test_acc": max(e["test_acc"] for e in result.epochs)}
    return {"target": target, "reached": True, **reached}


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


def system_metrics_share(dataset: data.Data, short: bool) -> dict[str, float]:
    """What a job's system-metric sampling costs: its seconds over a LeNet run's training seconds."""
    from cnnkit.jobs.system_reporter import SystemMetrics

    config = bench_threads.lenet_run(short, epochs=2)
    reporter = SystemMetrics(Reporter(), "cpu")
    result = fit(config, reporter, dataset=dataset)
    train = sum(e["epoch_seconds"] for e in result.epochs)
    return {"sampling_seconds": reporter.seconds, "train_seconds": train, "share": reporter.seconds / train,
            "reports_per_epoch": config.reports_per_epoch}


def compare_render_seconds(runs: int = 200, epochs: int = 50, repeats: int = 3) -> list[float]:
    """Time of the Compare page's data + figure building with ``runs`` × ``epochs`` in the store."""
    from cnnkit import compare
    with tempfile.TemporaryDirectory() as home:
        store = Store(home)
        fill_store(store, runs, epochs)
        out = []
        for _ in range(repeats):
            start = time.perf_counter()
            compare.build_view(store, compare.Selection())
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
        }, points)


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


SECTIONS = ("throughput", "accuracy", "threads", "jobs", "dashboard")


def run(models: list[str] | None = None, device: str = "auto", short: bool = False, repeats: int = 3,
        log: Callable[[str], None] = print, sections: tuple[str, ...] = SECTIONS) -> dict[str, Any]:
    """What ``bench`` measures in ``sections``, as one JSON-ready dict."""
    dataset = data.load("fashion-mnist")
    report: dict[str, Any] = {"machine": machine(), "device": device, "short": short,
                              "date": time.strftime("%Y-%m-%d"), "sections": list(sections)}
    if "throughput" in sections:
        report["throughput"] = throughput(models, device, short, repeats, dataset, log)
    if "accuracy" in sections:
        if short:
            report["time_to_accuracy"] = {"skipped": "short mode"}
        else:
            log("time to 89 % test accuracy, ReLU/max-pool LeNet on Fashion-MNIST")
            report["time_to_accuracy"] = {"fashion-mnist": time_to_accuracy(device, dataset)}
            if data.is_available("mnist"):
                report["time_to_accuracy"]["mnist"] = time_to_accuracy(device, data.load("mnist"), target=0.99)
    if "threads" in sections and resolve_device(device).type == "cpu":
        log("job threads: epoch time idle and beside one busy process")
        report["threads"] = bench_threads.run(short, log, dataset)
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
    if "dashboard" in sections:
        report["dashboard"] = bench_dashboard.run(short, log, fill_store)
    return report


def throughput(models: list[str] | None, device: str, short: bool, repeats: int, dataset: data.Data,
               log: Callable[[str], None]) -> list[dict[str, Any]]:
    on_gpu = resolve_device(device).type == "cuda"
    results = []
    for case in [c for c in CASES if not models or c.model in models]:
        images = SHORT_IMAGES[case.model] if short else case.images
        if on_gpu and not short:
            images = 60_000 if case.model in ("lenet", "mlp") else min(60_000, case.images * 8)
        log(f"{case.label}: {images} images, textbook vs ours, {repeats} repeats")
        results.append(compare_loops(case, images, device, repeats, dataset, log).row())
    return results


def format_report(report: dict[str, Any]) -> str:
    from cnnkit.table import format_table

    m = report["machine"]
    lines = [f"machine: {m['cpu']}, {m['cores']} cores, torch {m['torch']}, gpu: {m['gpu'] or 'none'}; "
             f"device {report['device']}; {report['date']}" + ("; short mode" if report["short"] else "")]
    if "throughput" in report:
        rows = [(r["case"], r["images"], r["textbook_s"], r["ours_s"], f"{r['speedup']:.1f}×",
                 r["epoch_textbook_s"], r["epoch_ours_s"], r["textbook_workers"]) for r in report["throughput"]]
        lines.append(format_table(rows, ["case", "images", "textbook s", "ours s", "speedup", "epoch textbook s",
                                         "epoch ours s", "tb workers"], "lrrrrrrr"))
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
        lines += bench_threads.format_section(report["threads"])
    if "job_start_seconds" in report:
        lines.append(f"job start (queue → first step, warm supervisor): {report['job_start_seconds']:.2f} s median")
        lines.append(f"compare page with {report['compare_runs']} runs: {report['compare_render_seconds']:.2f} s "
                     "median")
        sm = report["system_metrics"]
        lines.append(f"system metrics: {1000 * sm['sampling_seconds']:.1f} ms of sampling in "
                     f"{sm['train_seconds']:.1f} s of training ({100 * sm['share']:.2f} %, "
                     f"{sm['reports_per_epoch']} samples per epoch)")
    if "dashboard" in report:
        lines += bench_dashboard.format_section(report["dashboard"])
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

