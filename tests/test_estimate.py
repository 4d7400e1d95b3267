"""estimate: measured from the store when it can, scaled by MACs otherwise, a labelled guess last."""
from __future__ import annotations

import os

import pytest

from cnnkit import estimate
from cnnkit.config import RunConfig
from cnnkit.store import Store


def finished(store: Store, config: RunConfig, ips: float, macs: int, device: str = "cpu · 2 threads") -> None:
    run_id = store.create_run(config)
    store.claim("test")
    store.set_process(run_id, os.getpid(), None)
    store.mark_started(run_id, {"device": device, "macs": macs, "total_steps": 1})
    store.finish(run_id, "completed", {"images_per_sec": ips, "macs": macs})


def test_guess_when_the_store_is_empty(store: Store) -> None:
    config = RunConfig(subset=0.1, epochs=3)
    est = estimate.estimate(config, store)
    assert est.basis == "guess" and "guess" in est.note
    assert est.train_images == 6000 and est.test_images == 10000
    assert est.total_seconds == pytest.approx(3 * est.epoch_seconds)
    big = estimate.estimate(RunConfig(model="vgg16", subset=0.1), store)
    assert big.epoch_seconds > 100 * est.epoch_seconds


def test_measured_from_runs_of_the_same_model_and_input(store: Store) -> None:
    finished(store, RunConfig(batch_size=64), 5000, 416520)
    finished(store, RunConfig(batch_size=128), 7000, 416520)
    finished(store, RunConfig(), 3000, 416520, device="cuda:0 · H100")  # another device kind: ignored
    est = estimate.estimate(RunConfig(subset=0.5, test_subset=0.3), store)
    assert est.basis == "measured" and est.runs_used == 2 and est.images_per_sec == pytest.approx(6000)
    assert est.epoch_seconds == pytest.approx(30000 / 6000 + 3000 / 6000 / 3)


def test_scaled_by_macs_from_other_models(store: Store) -> None:
    finished(store, RunConfig(), 6000, 416520)
    config = RunConfig(model="lenet", model_options={"channels": [24, 64]})
    est = estimate.estimate(config, store)
    assert est.basis == "scaled"
    macs = estimate.model_macs(config)
    assert est.images_per_sec == pytest.approx(6000 * 416520 / macs)


def test_gpu_runs_are_estimated_from_gpu_history(store: Store) -> None:
    finished(store, RunConfig(), 50_000, 416520, device="cuda:0 · H100 · 80 GiB")
    assert estimate.estimate(RunConfig(), store, gpu_available=True).basis == "measured"
    assert estimate.estimate(RunConfig(device="cpu"), store, gpu_available=True).basis == "guess"


@pytest.mark.parametrize("seconds, text", [(0.25, "0.2 s"), (12, "12 s"), (125, "2 min 5 s"), (120, "2 min"),
                                           (7300, "2 h 1 min"), (None, "–")])
def test_format_seconds(seconds: float | None, text: str) -> None:
    assert estimate.format_seconds(seconds) == text
