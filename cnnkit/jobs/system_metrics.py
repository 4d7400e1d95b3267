"""System metrics of a training job: what its process costs the machine, as ordinary metric points.

At every report of the engine (``reports_per_epoch`` times per epoch, and at each epoch's end) a
job samples its process: CPU utilisation (percent of one core since the previous sample, as top
shows it, and the average since the job started), resident memory now and at its peak; on CUDA
also torch's own counters (memory this process has allocated, and its peak) and, through NVIDIA's
management library (nvidia-ml-py) when it is there, the GPU's utilisation and the memory all
processes use on it. ``SystemMetrics``, a reporter, adds them to every report with the report's step and
epoch, under split "system". A sample reads a handful of counters: ``sampling_cost`` measures tens of
microseconds, about 0.3 ms inside a training job (the first read after a step waits on the kernel's
accounting of the busy threads), next to epochs of seconds. torch is imported only to read the GPU's
counters, so the pages that plot these metrics do not load it.
"""
from __future__ import annotations

import resource
import sys
import time
from typing import Any

import psutil

from cnnkit.events import MetricPoint, Reporter

SPLIT = "system"
MIB = 2**20
CPU_METRICS = ("cpu_percent", "cpu_percent_avg", "rss_mib", "rss_peak_mib")
CUDA_METRICS = ("gpu_mem_mib", "gpu_mem_peak_mib")  # torch's counters
NVML_METRICS = ("gpu_util_percent", "gpu_mem_used_mib")  # NVIDIA's management library
TITLES = {"cpu_percent": "CPU utilisation (% of one core)", "cpu_percent_avg": "CPU utilisation, run average (%)",
          "rss_mib": "resident memory (MiB)", "rss_peak_mib": "peak resident memory (MiB)",
          "gpu_mem_mib": "GPU memory allocated (MiB)", "gpu_mem_peak_mib": "GPU memory peak (MiB)",
          "gpu_util_percent": "GPU utilisation (%)", "gpu_mem_used_mib": "GPU memory used, all processes (MiB)"}


class SystemSampler:
    """Reads this process's counters; ``device`` ("cpu", "cuda:1", …) says whether the GPU ones are read too."""

    def __init__(self, device: str = "cpu"):
        self.device = str(device)
        self.cuda = self.device.startswith("cuda")
        self.process = psutil.Process()
        self.start = self.last = (time.monotonic(), self._cpu_seconds())  # (wall, CPU) seconds
        self.nvml = self.cuda  # until NVIDIA's library turns out to be missing

    def sample(self) -> dict[str, float]:
        # CPU time over wall time since the last sample and since the start: one cpu_times() read for both
        now = (time.monotonic(), self._cpu_seconds())
        (wall0, cpu0), (last_wall, last_cpu) = self.start, self.last
        self.last = now
        rss = self.process.memory_info().rss
        values = {"cpu_percent": 100 * (now[1] - last_cpu) / max(now[0] - last_wall, 1e-9),
                  "cpu_percent_avg": 100 * (now[1] - cpu0) / max(now[0] - wall0, 1e-9),
                  "rss_mib": rss / MIB, "rss_peak_mib": max(rss, peak_rss()) / MIB}  # the kernel's mark can lag
        if self.cuda:
            import torch

            values["gpu_mem_mib"] = torch.cuda.memory_allocated(self.device) / MIB
            values["gpu_mem_peak_mib"] = torch.cuda.max_memory_allocated(self.device) / MIB
            if self.nvml:
                values |= self._nvml()
        return values

    def _cpu_seconds(self) -> float:
        times = self.process.cpu_times()
        return times.user + times.system

    def _nvml(self) -> dict[str, float]:
        import torch

        try:  # torch maps its device index to NVML's (CUDA_VISIBLE_DEVICES) and calls pynvml
            return {"gpu_util_percent": float(torch.cuda.utilization(self.device)),
                    "gpu_mem_used_mib": torch.cuda.device_memory_used(self.device) / MIB}
        except Exception:  # no nvidia-ml-py, no driver library, an NVML error: torch's counters still count
            self.nvml = False
            return {}


def peak_rss() -> int:
    """This process's peak resident memory in bytes (the kernel's high-water mark).

    On Linux VmHWM: getrusage's maximum also counts the memory of the parent that forked this
    process (the pre-exec image, or a forking supervisor's), which can exceed this process's own.
    """
    try:
        with open("/proc/self/status", "rb") as status:
            for line in status:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB elsewhere


def sampling_cost(device: str = "cpu", samples: int = 200) -> float:
    """Seconds one sample takes here (the median of ``samples``)."""
    sampler = SystemSampler(device)
    times = []
    for _ in range(samples):
        t0 = time.perf_counter()
        sampler.sample()
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2]


class SystemMetrics(Reporter):
    """Forwards every event to ``inner``, adding a system sample of this process to each batch of metric
    points; the device to sample is the one the run's start event names (``device_name``: "cpu", "cuda:0")."""

    def __init__(self, inner: Reporter):
        self.inner = inner
        self.sampler: SystemSampler | None = None  # from the start of training: CPU averages count from there
        self.seconds = 0.0  # spent sampling

    def start(self, info: dict[str, Any]) -> None:
        self.sampler = SystemSampler(info.get("device_name", "cpu"))
        self.inner.start(info)

    def first_step(self) -> None:
        self.inner.first_step()

    def log(self, points: list[MetricPoint]) -> None:
        if points and self.sampler is not None:
            t0 = time.perf_counter()
            last = max(points, key=lambda p: p.step)
            points = points + [MetricPoint(last.step, last.epoch, SPLIT, name, value, last.wall)
                               for name, value in self.sampler.sample().items()]
            self.seconds += time.perf_counter() - t0
        self.inner.log(points)
