"""The measured peak memory of one real training step, to hold memory.training_memory against.

The step runs in a fresh interpreter (``python -m cnnkit.memory_probe``), built the way the engine
builds it, after a warm-up step at batch 2 that loads the kernels and is then freed.
CPU: the growth of the process's peak resident set (VmHWM) over the step. glibc is told to hand
every block of 64 KiB or more straight back to the system (``MALLOC_MMAP_THRESHOLD_``), so memory
freed by the warm-up is not silently reused, and on Linux the peak is reset
(``/proc/self/clear_refs``) just before the step. CUDA: ``torch.cuda.max_memory_allocated`` over the
step, which runs under bf16 autocast as the engine's does, so it is held against the bf16 estimate.
"""
from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psutil
import torch
from torch.nn import functional as F

from cnnkit.config import RunConfig
from cnnkit.engine import make_optimizer
from cnnkit.errors import CnnkitError
from cnnkit.insight.memory import engine_layout, training_memory
from cnnkit.jobs.system_metrics import peak_rss
from cnnkit.models import registry

MMAP_THRESHOLD = 65536
TIMEOUT_S = 600


@dataclass
class MemoryCheck:
    """An estimate and the measured peak of the same step; ``ratio`` is estimate / measured."""

    model: str
    input_size: int
    batch: int
    optimizer: str
    device: str
    estimate: int
    measured: int

    @property
    def ratio(self) -> float:
        return self.estimate / self.measured if self.measured else float("inf")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"ratio": self.ratio}

    def line(self) -> str:
        return (f"{self.model}@{self.input_size} batch {self.batch} ({self.optimizer}, {self.device}): estimate "
                f"{self.estimate / 2**20:.1f} MiB, measured {self.measured / 2**20:.1f} MiB, ratio {self.ratio:.2f}")


def check(model: str, in_channels: int = 1, input_size: int | None = None, num_classes: int = 10,
          batch: int = 256, optimizer: str = "sgd", device: str = "cpu", **options: Any) -> MemoryCheck:
    """The training-memory estimate of ``model`` next to a real step's measured peak on ``device``."""
    size = input_size or registry.get(model).native_input
    estimate = training_memory(model, in_channels, size, num_classes, batch, optimizer, **options)
    measured = measure_peak(model, in_channels, size, num_classes, batch, optimizer, device, **options)
    total = estimate.bf16_total if device.startswith("cuda") else estimate.total
    return MemoryCheck(model, size, batch, optimizer, device, total, measured)


def measure_peak(model: str, in_channels: int, input_size: int, num_classes: int, batch: int, optimizer: str,
                 device: str = "cpu", **options: Any) -> int:
    """Bytes one training step of the model adds to the process at its peak, measured in a fresh process."""
    spec = {"model": model, "in_channels": in_channels, "input_size": input_size, "num_classes": num_classes,
            "batch": batch, "optimizer": optimizer, "device": device, "options": options}
    env = os.environ | {"MALLOC_MMAP_THRESHOLD_": str(MMAP_THRESHOLD)}
    root = Path(__file__).resolve().parents[2]
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    try:
        done = subprocess.run([sys.executable, "-m", "cnnkit.insight.memory_probe", json.dumps(spec)], env=env,
                              capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise CnnkitError(f"measuring {model} at batch {batch} took over {TIMEOUT_S} s; try a smaller batch") from None
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1][:200]
        raise CnnkitError(f"measuring {model} at batch {batch} failed: {tail}")
    return int(json.loads(done.stdout.strip().splitlines()[-1])["peak"])


def _step(spec: dict[str, Any], batch: int) -> None:
    """One training step as the engine takes it (channels_last for conv nets, fp32; bf16 autocast on CUDA)."""
    device = torch.device(spec["device"])
    size, channels = spec["input_size"], spec["in_channels"]
    layout = engine_layout(spec["model"])
    net = registry.build_model(spec["model"], channels, spec["num_classes"], size, **spec["options"])
    net = net.to(device, memory_format=layout)
    opt = make_optimizer(RunConfig(optimizer=spec["optimizer"]), net.parameters())
    x = torch.randn(batch, channels, size, size, device=device).contiguous(memory_format=layout)
    y = torch.randint(0, spec["num_classes"], (batch,), device=device)
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
        loss = F.cross_entropy(net(x), y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()


def _measure(spec: dict[str, Any]) -> int:
    _step(spec, 2)  # warm-up: kernels, thread pools, lazy imports
    gc.collect()
    device = torch.device(spec["device"])
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device)
        _step(spec, spec["batch"])
        torch.cuda.synchronize(device)
        return torch.cuda.max_memory_allocated(device) - base
    try:
        Path("/proc/self/clear_refs").write_text("5")  # Linux: the peak resident set starts again from here
    except OSError:
        pass  # elsewhere the peak since start-up, which the small warm-up stays below, has to do
    base = psutil.Process().memory_info().rss
    _step(spec, spec["batch"])
    return peak_rss() - base


if __name__ == "__main__":
    print(json.dumps({"peak": _measure(json.loads(sys.argv[1]))}))
