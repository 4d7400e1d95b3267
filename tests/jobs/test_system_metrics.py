"""cnnkit.jobs.system_metrics: system samples (the CPU counters always, torch's GPU counters on CUDA, NVML's when
it answers, faked here: this machine has no GPU) and what a sample costs; the reporter that adds one sample per
report, a real 1-epoch job that stores them as split "system" at < 1 % of its epoch time, and a bundle that
carries them."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import torch
from support import requires_fmnist
from support.runs import trained_run

from cnnkit.bundle import export_bundle, import_bundle
from cnnkit.config import RunConfig
from cnnkit.engine import MetricPoint, Reporter
from cnnkit.jobs import system_metrics
from cnnkit.jobs.system_metrics import (
    CPU_METRICS,
    CUDA_METRICS,
    MIB,
    NVML_METRICS,
    SPLIT,
    SystemMetrics,
    SystemSampler,
)
from cnnkit.store import Store

# ---- samples ----------------------------------------------------------------------------------------------

def test_a_cpu_sample() -> None:
    sampler = SystemSampler("cpu")
    start = time.process_time()
    while time.process_time() - start < 0.1:  # some work between samples, past the counters' 10 ms ticks
        sum(i * i for i in range(10_000))
    values = sampler.sample()
    assert tuple(values) == CPU_METRICS
    assert values["rss_mib"] > 10 and values["rss_peak_mib"] >= values["rss_mib"]
    assert 0 <= values["cpu_percent"] and 0 < values["cpu_percent_avg"] < 100 * (torch.get_num_threads() + 2)


def test_peak_rss_is_this_process_high_water_mark() -> None:
    before = system_metrics.peak_rss()
    block = bytearray(64 * MIB)
    block[::4096] = b"x" * len(block[::4096])  # touch every page
    assert system_metrics.peak_rss() >= before and system_metrics.peak_rss() >= 64 * MIB


@pytest.fixture
def fake_gpu(monkeypatch: pytest.MonkeyPatch) -> dict[str, list]:
    calls: dict[str, list] = {"utilization": [], "used": []}
    monkeypatch.setattr(torch.cuda, "memory_allocated", lambda device=None: 3 * MIB)
    monkeypatch.setattr(torch.cuda, "max_memory_allocated", lambda device=None: 5 * MIB)

    def utilization(device: object = None) -> int:
        calls["utilization"].append(device)
        return 87

    def used(device: object = None) -> int:
        calls["used"].append(device)
        return 7 * MIB

    monkeypatch.setattr(torch.cuda, "utilization", utilization)
    monkeypatch.setattr(torch.cuda, "device_memory_used", used)
    return calls


def test_a_cuda_sample_reads_torch_and_nvml(fake_gpu: dict[str, list]) -> None:
    values = SystemSampler("cuda:1").sample()
    assert tuple(values) == CPU_METRICS + CUDA_METRICS + NVML_METRICS
    assert (values["gpu_mem_mib"], values["gpu_mem_peak_mib"]) == (3, 5)
    assert (values["gpu_util_percent"], values["gpu_mem_used_mib"]) == (87, 7)
    assert fake_gpu["utilization"] == ["cuda:1"], "the job's own device"


def test_without_nvml_the_torch_counters_still_count(fake_gpu: dict[str, list], monkeypatch: pytest.MonkeyPatch
                                                      ) -> None:
    def missing(device: object = None) -> int:
        raise ModuleNotFoundError("nvidia-ml-py does not seem to be installed")

    monkeypatch.setattr(torch.cuda, "utilization", missing)
    sampler = SystemSampler("cuda")
    assert tuple(sampler.sample()) == CPU_METRICS + CUDA_METRICS
    assert tuple(sampler.sample()) == CPU_METRICS + CUDA_METRICS and not sampler.nvml, "asked once, not every time"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU here")
def test_a_real_cuda_sample() -> None:
    torch.ones(1024, 1024, device="cuda")
    values = SystemSampler("cuda").sample()
    assert values["gpu_mem_peak_mib"] >= 4


def test_a_sample_costs_well_under_a_millisecond() -> None:
    assert system_metrics.sampling_cost(samples=50) < 1e-3


# ---- the reporter: one sample per report --------------------------------------------------------------

class Recorder(Reporter):
    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def start(self, info: dict[str, Any]) -> None:
        self.events.append(("start", info))

    def first_step(self) -> None:
        self.events.append(("first_step", None))

    def log(self, points: list[MetricPoint]) -> None:
        self.events.append(("log", points))


def test_every_report_gets_one_sample_at_its_last_step() -> None:
    inner = Recorder()
    reporter = SystemMetrics(inner)
    reporter.start({"device": "cpu · 2 threads", "device_name": "cpu"})  # the device comes with the start event
    reporter.first_step()
    reporter.log([MetricPoint(4, 0.5, "train", "loss", 2.0, 100.0), MetricPoint(5, 0.6, "train", "acc", 0.3, 101.0)])
    reporter.log([])
    kinds = [k for k, _ in inner.events]
    assert kinds == ["start", "first_step", "log", "log"]
    points = inner.events[2][1]
    system = [p for p in points if p.split == SPLIT]
    assert [p.name for p in system] == list(CPU_METRICS)
    assert {(p.step, p.epoch, p.wall) for p in system} == {(5, 0.6, 101.0)}
    assert inner.events[3][1] == [], "no report, no sample"
    assert 0 < reporter.seconds < 0.05


@requires_fmnist
def test_a_real_one_epoch_job_records_them_cheaply(store: Store, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # a quarter of Fashion-MNIST: an epoch of a second or so, still short next to the real ones
    config = RunConfig(model="lenet", epochs=1, subset=0.25, test_subset=0.05, device="cpu", reports_per_epoch=5)
    spent = []
    original = SystemMetrics.log

    def timed(self: SystemMetrics, points: list[MetricPoint]) -> None:
        original(self, points)
        spent.append(self.seconds)  # the job's reporter's total time spent sampling

    monkeypatch.setattr(SystemMetrics, "log", timed)
    run_id = trained_run(store, config)
    system = store.metrics([run_id], split=SPLIT)
    assert set(system["name"]) == set(CPU_METRICS)
    assert system.groupby("name").size().min() == 5, "every report (the last one and the epoch's end share a step)"
    assert (system[system.name == "rss_mib"]["value"] > 10).all()
    epoch_seconds = store.epoch_rows(run_id)[0]["epoch_seconds"]
    assert spent[-1] < 0.01 * epoch_seconds, f"sampling took {spent[-1]:.4f} s of a {epoch_seconds:.2f} s epoch"
    latest = store.runs_frame([store.get(run_id)]).iloc[0]
    assert latest["system_rss_peak_mib"] >= latest["system_rss_mib"] > 0

    other = Store(tmp_path / "other")
    [copy] = import_bundle(other, export_bundle(store, [run_id], tmp_path / "run.zip"))
    assert len(other.metrics([copy], split=SPLIT)) == len(system), "bundles carry the system metrics"
