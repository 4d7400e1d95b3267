"""estimate: measured from the store when it can, scaled by MACs otherwise, a labelled guess last."""
from __future__ import annotations

import pytest
from support.runs import finished_run

from cnnkit import estimate
from cnnkit.config import RunConfig
from cnnkit.store import Store


def finished(store: Store, config: RunConfig, ips: float, macs: int, device: str = "cpu · 2 threads") -> None:
    """A completed run of ``config`` that measured ``ips`` images per second on ``device``."""
    finished_run(store, config, process=True, started={"device": device, "macs": macs, "total_steps": 1},
                 summary={"images_per_sec": ips, "macs": macs})


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
    config = RunConfig(model="lenet", model_options={"channels": [12, 32]})  # 3× LeNet's MACs: within SCALE_RANGE
    est = estimate.estimate(config, store)
    assert est.basis == "scaled"
    macs = estimate.model_macs(config)
    assert est.images_per_sec == pytest.approx(6000 * 416520 / macs)


def test_macs_are_counted_once_per_model_options_and_input(monkeypatch: pytest.MonkeyPatch) -> None:
    from cnnkit.models import anatomy

    lenet, wide = RunConfig(), RunConfig(model_options={"channels": [12, 32]})
    counts = (estimate.model_macs(lenet), estimate.model_macs(wide))
    assert counts[0] == 416_520 and counts[1] > counts[0]
    monkeypatch.setattr(anatomy, "describe", lambda *a, **k: pytest.fail("counted again"))
    assert (estimate.model_macs(lenet.replace(seed=3, lr=0.5)), estimate.model_macs(wide)) == counts


def test_gpu_runs_are_estimated_from_gpu_history(store: Store) -> None:
    finished(store, RunConfig(), 50_000, 416520, device="cuda:0 · H100 · 80 GiB")
    assert estimate.estimate(RunConfig(), store, gpu_available=True).basis == "measured"
    assert estimate.estimate(RunConfig(device="cpu"), store, gpu_available=True).basis == "guess"


@pytest.mark.parametrize("seconds, text", [(0.25, "0.2 s"), (12, "12 s"), (125, "2 min 5 s"), (120, "2 min"),
                                           (7300, "2 h 1 min"), (None, "–")])
def test_format_seconds(seconds: float | None, text: str) -> None:
    assert estimate.format_seconds(seconds) == text


def test_a_small_model_s_throughput_does_not_scale_to_a_big_one(store: Store) -> None:
    finished(store, RunConfig(), 6000, 416520)  # LeNet: bound by per-step overhead, not by its MACs
    alexnet = RunConfig(model="alexnet", input_size=67)
    est = estimate.estimate(alexnet, store)
    assert est.basis == "guess"
    assert est.images_per_sec == pytest.approx(estimate.guess_images_per_sec(estimate.model_macs(alexnet), "cpu"))
    finished(store, RunConfig(model="nin", input_size=67), 580, 53_900_000)  # within SCALE_RANGE of AlexNet's MACs
    assert estimate.estimate(alexnet, store).basis == "scaled"


def test_the_cpu_guess_matches_the_reference_machine(store: Store) -> None:
    """One core of the 2-core reference machine: AlexNet at 67 px trains at about 290 images/s, ResNet-18
    at 32 px about 600, VGG-16 ÷8 at 32 px about 2,300, LeNet about 8,000 (1 thread; see GUESS_MACS_PER_SEC)."""
    narrow_vgg = RunConfig(model="vgg16", input_size=32, model_options={"width_ratio": 8, "batchnorm": True,
                                                                        "fc_width": 512})
    for config, measured in ((RunConfig(model="alexnet", input_size=67, batch_size=128), 290),
                             (RunConfig(model="resnet18", input_size=32), 600), (narrow_vgg, 2300),
                             (RunConfig(), 8000)):
        assert estimate.estimate(config, store).images_per_sec == pytest.approx(measured, rel=0.3), config.model


def test_runs_seconds_estimates_each_config_once_and_adds_each_run_s_startup(store: Store) -> None:
    a, b = RunConfig(subset=0.1, epochs=2), RunConfig(subset=0.1, epochs=2, lr=0.3)
    one = estimate.estimate(a, store).total_seconds
    seeds = [a.replace(seed=s) for s in range(3)]
    assert estimate.runs_seconds(seeds, store) == pytest.approx(3 * (one + estimate.RUN_STARTUP_S))
    assert estimate.runs_seconds([*seeds, b], store) == pytest.approx(4 * (one + estimate.RUN_STARTUP_S))
    assert estimate.runs_seconds([], store) == 0


def test_the_standard_budget_is_estimated_and_costs_more_than_quick(store: Store) -> None:
    from cnnkit import experiments

    for name in ("pooling", "lr-schedule", "zoo"):
        quick, standard = (estimate.runs_seconds((c for _, c in experiments.build_configs(name, budget)), store)
                           for budget in ("quick", "standard"))
        assert standard > quick > 0, name
    pooling = experiments.build_configs("pooling", "standard")
    per_run = estimate.estimate(pooling[0][1], store).total_seconds + estimate.RUN_STARTUP_S
    assert len(pooling) == 10 and estimate.runs_seconds((c for _, c in pooling), store) == pytest.approx(10 * per_run)
