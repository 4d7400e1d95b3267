"""System samples: the CPU counters always, torch's GPU counters on CUDA, NVML's when it answers
(faked here: this machine has no GPU), and what a sample costs."""
from __future__ import annotations

import time

import pytest
import torch

from cnnkit.jobs import system_metrics
from cnnkit.jobs.system_metrics import CPU_METRICS, CUDA_METRICS, MIB, NVML_METRICS, SystemSampler


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
