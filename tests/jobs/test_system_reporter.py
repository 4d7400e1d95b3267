"""System metrics recorded by jobs: the reporter adds one sample per report, a real 1-epoch job stores
them as split "system" at < 1 % of its epoch time, and a bundle carries them."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support import requires_fmnist

from cnnkit.bundle import export_bundle, import_bundle
from cnnkit.config import RunConfig
from cnnkit.engine import MetricPoint, Reporter
from cnnkit.jobs import runner
from cnnkit.jobs.system_metrics import CPU_METRICS, SPLIT, SystemMetrics
from cnnkit.store import Store


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
    reporter = SystemMetrics(inner, "cpu")
    reporter.start({"device": "cpu · 2 threads"})
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
    run_id = store.create_run(config, foreground=True)
    spent = []
    original = SystemMetrics.log

    def timed(self: SystemMetrics, points: list[MetricPoint]) -> None:
        original(self, points)
        spent.append(self.seconds)  # the job's reporter's total time spent sampling

    monkeypatch.setattr(SystemMetrics, "log", timed)
    assert runner.execute(store, run_id) == "completed"
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
