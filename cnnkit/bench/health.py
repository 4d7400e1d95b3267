"""The health section of ``cnnkit bench``: what watching a run learn (layer health at every report, the probe
batch and the snapshot at every epoch's end, the snapshots file) costs d2l's LeNet on this machine.

Two figures, from one process: the seconds the watcher itself spends, plus writing the snapshots file once an
epoch, against the epoch's training seconds (the medians of the repeats); and the same run with and without
watching, alternating which goes first, as the ratio of their fastest whole epochs (training and evaluation):
the direct but noisier figure on a shared machine.
"""
from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from cnnkit.config import RunConfig
from cnnkit.data import loading
from cnnkit.engine import Trainer
from cnnkit.events import MetricPoint, Reporter
from cnnkit.plan import plan_run
from cnnkit.watch.names import SPLIT


def lenet(short: bool) -> RunConfig:
    """d2l's LeNet (sigmoid, average pooling, lr 0.9, batch 256, Xavier) on all of Fashion-MNIST (a tenth short)."""
    return RunConfig(model="lenet", lr=0.9, batch_size=256, init="xavier", device="cpu", epochs=1 if short else 2,
                     subset=0.1 if short else 1.0)


class _Counter(Reporter):
    def __init__(self) -> None:
        self.health = 0

    def log(self, points: list[MetricPoint]) -> None:
        self.health += sum(p.split == SPLIT for p in points)


def _once(config: RunConfig, dataset: loading.Data, watch: bool, folder: Path) -> dict[str, float]:
    """One run: its whole seconds per epoch, its training seconds per epoch, and what watching cost per epoch."""
    snapshots = folder / "snapshots.pt"
    trainer = Trainer(plan_run(config, "cpu"), dataset, None, snapshots=snapshots if watch else None, watch=watch)
    counter = _Counter()
    start = time.perf_counter()
    result = trainer.train(counter, lambda: False)
    wall = time.perf_counter() - start
    epochs = len(result.epochs)
    out = {"wall": wall / epochs, "train": sum(e["epoch_seconds"] for e in result.epochs) / epochs}
    if watch:
        write = time.perf_counter()
        torch.save(trainer.watch.snapshot_state(), snapshots)  # the last, largest file: an upper bound per epoch
        out |= {"watch": trainer.watch.seconds / epochs + time.perf_counter() - write,
                "snapshot_bytes": snapshots.stat().st_size / epochs, "points": counter.health / epochs}
    return out


def run(short: bool, log: Callable[[str], None], dataset: loading.Data | None = None,
        repeats: int = 3) -> dict[str, Any]:
    """The watcher's share of an epoch, and whole epochs with and without it, alternating ``repeats`` times."""
    dataset = dataset or loading.load("fashion-mnist")
    config = lenet(short)
    samples: dict[bool, list[dict[str, float]]] = {True: [], False: []}
    with tempfile.TemporaryDirectory() as folder:
        _once(config.replace(epochs=1, subset=0.05), dataset, True, Path(folder))  # warm-up: first-run costs
        for repeat in range(1 if short else repeats):
            for watch in (True, False) if repeat % 2 == 0 else (False, True):
                samples[watch].append(_once(config, dataset, watch, Path(folder)))
    with_, without = samples[True], samples[False]
    median = lambda rows, key: statistics.median(r[key] for r in rows)  # noqa: E731
    section = {"run": config.to_dict(), "images": round(dataset.train_y.numel() * config.subset),
               "reports_per_epoch": config.reports_per_epoch, "repeats": len(with_),
               "train_seconds": median(with_, "train"), "watch_seconds": median(with_, "watch"),
               "wall_with": min(r["wall"] for r in with_), "wall_without": min(r["wall"] for r in without),
               "snapshot_bytes": median(with_, "snapshot_bytes"), "points": median(with_, "points")}
    section["share"] = section["watch_seconds"] / section["train_seconds"]
    section["ratio"] = section["wall_with"] / section["wall_without"]
    log(f"  watching costs {1000 * section['watch_seconds']:.1f} ms of a {section['train_seconds']:.2f} s epoch")
    return section


def format_section(section: dict[str, Any]) -> list[str]:
    return [f"layer health and snapshots (d2l's LeNet, {section['images']} images, {section['reports_per_epoch']} "
            f"reports per epoch): {1000 * section['watch_seconds']:.1f} ms per epoch of {section['train_seconds']:.2f}"
            f" s of training ({100 * section['share']:.2f} %)",
            f"  whole epochs side by side, fastest of {section['repeats']}: {section['wall_with']:.2f} s with, "
            f"{section['wall_without']:.2f} s without ({section['ratio']:.3f}×); {section['points']:.0f} health "
            f"points and {section['snapshot_bytes'] / 1000:.0f} KB of snapshots per epoch"]
