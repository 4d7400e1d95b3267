"""Time per epoch before launching, without training anything in the dashboard's process.

Three sources, best first, and the estimate says which one it used:
1. measured: the median images/s of finished runs of the same model, knobs and input size on the
   same kind of device (the batch size differs at most);
2. scaled: the median MAC throughput (images/s × MACs per image) of other finished runs on that
   kind of device, of models within a factor of SCALE_RANGE in MACs, divided by this model's MACs
   (a small model's throughput is bound by per-step overhead, not MACs: it says little about a big one);
3. a guess: an assumed throughput for the device kind, when the store has nothing to learn from.
Evaluating the test set is counted at a third of the cost of training on as many images; a launch of
several runs (runs_seconds) adds RUN_STARTUP_S per run.
"""
from __future__ import annotations

import json
import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cnnkit.config import RunConfig
from cnnkit.data.datasets import DATASETS
from cnnkit.events import Status
from cnnkit.store import Store

# The model side (cnnkit.anatomy, cnnkit.models, cnnkit.plan) is imported inside the functions that
# use it: it imports torch (about a second), which a page that only shows an estimate need not wait for.

SPLIT_SIZES = {name: (spec.train_size, spec.test_size) for name, spec in DATASETS.items()}
# The guess: a training image costs a fixed overhead (gathering, converting, per-layer bookkeeping) plus
# its MACs (forward + backward) at an assumed rate. The CPU's figures are one core of the reference
# machine (2-core AMD EPYC), 1 thread: AlexNet at 67 px trains at 290 images/s, ResNet-18 at 32 px at
# 600, VGG-16 ÷8 at 32 px at 2,300, LeNet at 7,000–10,000, where the overhead dominates.
GUESS_MACS_PER_SEC = {"cpu": 2e10, "cuda": 3e12}
GUESS_IMAGE_OVERHEAD_S = {"cpu": 1e-4, "cuda": 1 / 60_000}
EVAL_COST = 1 / 3
# A run's cost outside its epochs: the job's process, its data subset, building the model, a checkpoint
# per epoch and the final predictions (2–3 s per run in the reference bundles).
RUN_STARTUP_S = 2.0
SCALE_RANGE = 4.0
MAX_HISTORY = 500


@dataclass
class Estimate:
    epoch_seconds: float
    images_per_sec: float
    basis: str  # "measured", "scaled" or "guess"
    note: str  # one line saying where the number comes from
    train_images: int
    test_images: int
    runs_used: int = 0
    epochs: int = 1

    @property
    def total_seconds(self) -> float:
        return self.epoch_seconds * self.epochs


def device_kind(config: RunConfig, gpu_available: bool) -> str:
    """Where the supervisor will put the run: "cuda" or "cpu"."""
    if config.device == "cpu":
        return "cpu"
    if config.device.startswith("cuda"):
        return "cuda"
    return "cuda" if gpu_available else "cpu"


def sizes(config: RunConfig) -> tuple[int, int]:
    """Training and test images the run sees (stratified subsets round per class)."""
    train, test = SPLIT_SIZES.get(config.dataset, (60_000, 10_000))
    return max(10, round(train * config.subset)), max(10, round(test * config.test_subset))


def model_macs(config: RunConfig) -> int:
    """MACs per image of ``config``'s model, at the input its run gives it."""
    from cnnkit.plan import plan_run

    plan = plan_run(config)
    key = (config.model, json.dumps(config.model_options, sort_keys=True), plan.channels, plan.size, plan.num_classes)
    if key not in _MACS:  # an estimate asks for the same few models over and over; each count builds one
        from cnnkit.models import anatomy

        _MACS[key] = anatomy.describe(config.model, plan.channels, plan.size, plan.num_classes,
                                      **config.model_options).macs
    return _MACS[key]


_MACS: dict[tuple[str, str, int, int, int], int] = {}


def estimate(config: RunConfig, store: Store | None = None, gpu_available: bool = False) -> Estimate:
    """Seconds per epoch of ``config``, from the store's finished runs when it has any."""
    kind = device_kind(config, gpu_available)
    train, test = sizes(config)
    macs = max(1, model_macs(config))
    history = _history(store, kind) if store is not None else []
    same = [h for h in history if h["model"] == config.model and h["options"] == _options_key(config)
            and h["input"] == _input(config)]
    if same:
        ips = statistics.median(h["ips"] for h in same)
        basis, used = "measured", len(same)
        note = (f"measured: median of {used} finished {config.model} run{'s' * (used > 1)} at this input size on "
                f"{kind} ({ips:,.0f} images/s)")
    else:
        scalable = [h for h in history if h["macs"] and 1 / SCALE_RANGE <= h["macs"] / macs <= SCALE_RANGE]
        if scalable:
            throughput = statistics.median(h["ips"] * h["macs"] for h in scalable)
            ips = throughput / macs
            cap = max(h["ips"] for h in scalable) * 2  # tiny models do not speed up without bound
            ips = min(ips, cap)
            basis, used = "scaled", len(scalable)
            note = (f"scaled by MACs from {used} finished run{'s' * (used > 1)} of models of a similar size on "
                    f"{kind}; rough, within about 2×")
        else:
            ips = guess_images_per_sec(macs, kind)
            basis, used = "guess", 0
            note = (f"guess: no finished runs on {kind} to measure from; assumes {GUESS_MACS_PER_SEC[kind]:.0e} "
                    "MAC/s — finish one run and the estimate becomes a measurement")
    ips = max(ips, 1e-3)
    seconds = train / ips + EVAL_COST * test / ips
    return Estimate(seconds, ips, basis, note, train, test, used, config.epochs)


def runs_seconds(configs: Iterable[RunConfig], store: Store | None = None, gpu_available: bool = False) -> float:
    """Estimated wall seconds of ``configs`` run one after another, each run's startup included;
    configs that differ only in the seed cost the same, so each is estimated once."""
    costs: dict[str, float] = {}
    total = 0.0
    for config in configs:
        key = config.replace(seed=0).to_json()
        if key not in costs:
            costs[key] = estimate(config, store, gpu_available).total_seconds + RUN_STARTUP_S
        total += costs[key]
    return total


def guess_images_per_sec(macs: float, kind: str) -> float:
    """Training images per second of a model of ``macs`` MACs per image on ``kind``, with nothing measured."""
    return 1 / (GUESS_IMAGE_OVERHEAD_S[kind] + macs / GUESS_MACS_PER_SEC[kind])


def _history(store: Store, kind: str) -> list[dict[str, Any]]:
    """Finished runs with a measured throughput on ``kind``: model, knobs, input, images/s, MACs."""
    out = []
    for run in store.list_runs(status=Status.COMPLETED, limit=MAX_HISTORY):
        ips = run.summary.get("images_per_sec")
        if not ips or not math.isfinite(ips) or not (run.device or "").startswith(kind):
            continue
        try:
            config = RunConfig.from_dict(run.config)
        except Exception:
            continue
        out.append({"model": config.model, "options": _options_key(config), "input": _input(config),
                    "ips": float(ips), "macs": run.summary.get("macs")})
    return out


def _input(config: RunConfig) -> tuple[int, int, int]:
    from cnnkit.models import registry

    return registry.input_shape(config.model, config.dataset, config.input_size)


def _options_key(config: RunConfig) -> str:
    return json.dumps(config.to_dict()["model_options"], sort_keys=True)


def format_seconds(seconds: float | None) -> str:
    """12 → '12 s', 125 → '2 min 5 s', 7300 → '2 h 2 min'."""
    if seconds is None or not math.isfinite(seconds):
        return "–"
    seconds = max(0.0, seconds)
    if seconds < 1:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, sec = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {sec} s" if sec else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"
