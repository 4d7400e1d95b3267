"""The threads section of ``cnnkit bench``: a job's epoch time on an idle machine and beside one other
busy process, with all cores' threads, with one thread, and with the jobs' ThreadGovernor (which
follows the cores the other processes leave free)."""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import torch

from cnnkit.config import RunConfig
from cnnkit.cpu_threads import ThreadGovernor
from cnnkit.data import loading
from cnnkit.engine import fit

MODES = ("all cores", "one thread", "governor")
LOADS = ("idle", "one busy process")
BUSY_LOOP = "while True: pass"


def lenet_run(short: bool, **changes: object) -> RunConfig:
    """The benchmark's CPU job: ReLU LeNet on half of Fashion-MNIST (a tenth in short mode)."""
    base = RunConfig(model="lenet", model_options={"activation": "relu", "pool": "max"}, lr=0.1, device="cpu",
                     epochs=3, subset=0.1 if short else 0.5, test_subset=0.02)
    return base.replace(**changes)


def _epoch_seconds(config: RunConfig, dataset: loading.Data, mode: str, cores: int) -> float:
    governor = None
    if mode == "governor":
        governor = ThreadGovernor(cores)
    else:
        torch.set_num_threads(cores if mode == "all cores" else 1)
    result = fit(config, dataset=dataset, governor=governor)
    return statistics.median(e["epoch_seconds"] for e in result.epochs[1:])  # the first one warms up


def run(short: bool, log: Callable[[str], None], dataset: loading.Data | None = None) -> dict[str, Any]:
    """Median epoch seconds per (load, mode), the modes alternating within each load."""
    dataset = dataset or loading.load("fashion-mnist")
    cores = os.cpu_count() or 1
    config = lenet_run(short, reports_per_epoch=1)
    before = torch.get_num_threads()
    table: dict[str, dict[str, float]] = {}
    try:
        _epoch_seconds(config, dataset, "all cores", cores)  # warm-up: the process's first training is slower
        for load in LOADS:
            hog = subprocess.Popen([sys.executable, "-c", BUSY_LOOP]) if load != "idle" else None
            try:
                samples: dict[str, list[float]] = {m: [] for m in MODES}
                for _ in range(1 if short else 2):
                    for mode in MODES:
                        samples[mode].append(_epoch_seconds(config, dataset, mode, cores))
                table[load] = {m: statistics.median(v) for m, v in samples.items()}
                log(f"  {load}: " + ", ".join(f"{m} {s:.2f} s" for m, s in table[load].items()))
            finally:
                if hog:
                    hog.kill()
                    hog.wait()
    finally:
        torch.set_num_threads(before)
    return {"cores": cores, "run": config.to_dict(), "epoch_seconds": table}


def format_section(section: dict[str, Any]) -> list[str]:
    from cnnkit.text import format_table

    rows = [(load, *(section["epoch_seconds"][load][m] for m in MODES)) for load in section["epoch_seconds"]]
    return [f"job threads ({section['cores']} cores; LeNet epoch seconds):",
            format_table(rows, ["machine", *MODES], "l" + "r" * len(MODES))]
