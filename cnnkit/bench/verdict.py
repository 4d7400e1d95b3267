"""The verdict section of ``cnnkit bench``: Compare's verdict (200 finished runs grouped by lr, every level
against the first) and its diff (the 100 runs at the two small learning rates against the 100 at the two large
ones, with their saved predictions for the 10,000 test images),
each timed as the page computes them, in wall and CPU seconds, after one warm-up (imports, the models the pairing
rule builds once)."""
from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

import torch

from cnnkit.store import Store

TEST_IMAGES = 10_000  # Fashion-MNIST's test set
CLASSES = 10
SLOW = 0.1  # fill_store's learning rates below this miss the hard images most of the time


def run(short: bool, log: Callable[[str], None], fill_store: Callable[[Store, int, int], None],
        repeats: int = 3) -> dict[str, Any]:
    """Median seconds of the verdict and of the diff over ``repeats``."""
    from cnnkit.views import diff, verdict

    runs = 40 if short else 200
    log(f"verdict and diff: {runs} finished runs, predictions for {TEST_IMAGES:,} test images each")
    with tempfile.TemporaryDirectory() as home:
        store = Store(home)
        fill_store(store, runs, 10 if short else 50)
        write_predictions(store)
        frame = store.runs_frame()
        every = store.list_runs()
        a, b = [r for r in every if r.config["lr"] < SLOW], [r for r in every if r.config["lr"] >= SLOW]
        verdict.build(store, frame, "lr")
        diff.build(store, a, b)
        judged = _timed(lambda: verdict.build(store, frame, "lr"), repeats)
        changed = _timed(lambda: diff.build(store, a, b), repeats)
        flips = diff.build(store, a, b)
    return {"runs": runs, "levels": frame["cfg.lr"].nunique(), "verdict": judged, "diff": changed,
            "flips": [len(flips.to_wrong), len(flips.to_right)]}


def write_predictions(store: Store) -> None:
    """Every run's final test predictions as the engine saves them, its errors drawn by its id: one image in ten is
    hard (missed 80 % of the time at a small learning rate, 20 % at a large one), the others are missed 10 %."""
    labels = torch.arange(TEST_IMAGES) % CLASSES
    hard = torch.arange(TEST_IMAGES) % 10 == 3
    for run in store.list_runs():
        gen = torch.Generator().manual_seed(int(run.id, 16))
        miss = torch.where(hard, 0.8 if run.config["lr"] < SLOW else 0.2, 0.1)
        wrong = torch.rand(TEST_IMAGES, generator=gen) < miss
        pred = torch.where(wrong, (labels + torch.randint(1, CLASSES, (TEST_IMAGES,), generator=gen)) % CLASSES,
                           labels)
        store.predictions_path(run.id).parent.mkdir(parents=True, exist_ok=True)
        torch.save({"index": torch.arange(TEST_IMAGES), "label": labels, "pred": pred}, store.predictions_path(run.id))


def _timed(work: Callable[[], object], repeats: int) -> dict[str, float]:
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        work()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return {"wall": statistics.median(walls), "cpu": statistics.median(cpus)}


def format_section(section: dict[str, Any]) -> list[str]:
    v, d = section["verdict"], section["diff"]
    return [f"compare verdict, {section['runs']} runs in {section['levels']} levels: {v['wall']:.3f} s "
            f"({v['cpu']:.3f} s CPU) median",
            f"compare diff, {section['runs'] // 2} runs against {section['runs'] - section['runs'] // 2}: "
            f"{d['wall']:.3f} s "
            f"({d['cpu']:.3f} s CPU) median; {section['flips'][0]} images right → wrong, "
            f"{section['flips'][1]} wrong → right",
            f"compare verdict and diff together: {v['wall'] + d['wall']:.3f} s ({v['cpu'] + d['cpu']:.3f} s CPU)"]
