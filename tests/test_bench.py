"""cnnkit.bench: the benchmark command runs end to end (short mode) and reports what the issue asks."""
from __future__ import annotations

import json
import subprocess

import pytest
from support import requires_fmnist

from cnnkit import bench
from cnnkit.store import Store


def test_fill_store_makes_finished_runs_with_curves(tmp_path):
    store = Store(tmp_path / "store")
    bench.fill_store(store, runs=3, epochs=4)
    runs = store.list_runs()
    assert len(runs) == 3 and {r.status for r in runs} == {"completed"}
    rows = store.epoch_rows(runs[0].id)
    assert [r["epoch"] for r in rows] == [1, 2, 3, 4]
    assert rows[-1]["train_loss"] < rows[0]["train_loss"]  # the synthetic curves fall like real ones


def test_format_report_prints_every_figure():
    report = {
        "machine": {"cpu": "cpu", "cores": 2, "torch": "2", "gpu": None}, "device": "cpu", "date": "2026-01-01",
        "short": True,
        "throughput": [{"case": "lenet@28", "images": 100, "textbook_s": 2.0, "ours_s": 0.5, "speedup": 4.0,
                        "epoch_textbook_s": 1200.0, "epoch_ours_s": 300.0, "textbook_workers": 0}],
        "time_to_accuracy": {"fashion-mnist": {"target": 0.89, "reached": False, "best_test_acc": 0.8}},
        "job_start_seconds": 0.3, "compare_render_seconds": 0.4, "compare_runs": 40,
    }
    text = bench.format_report(report)
    assert "4.0×" in text and "not reached" in text and "0.30 s" in text and "0.40 s" in text


@requires_fmnist
@pytest.mark.slow
def test_bench_short_runs_in_ci(python, cli_env):
    proc = subprocess.run([python, "-m", "cnnkit", "bench", "--short", "--models", "lenet", "mlp", "--json"],
                          env=cli_env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert [r["case"] for r in report["throughput"]] == ["lenet@28", "mlp@28"]
    for row in report["throughput"]:
        assert row["repeats"] == 3 and row["textbook_s"] > 0 and row["ours_s"] > 0
        assert row["speedup"] == pytest.approx(row["textbook_s"] / row["ours_s"])
    assert 0 < report["job_start_seconds"] < 60 and 0 < report["compare_render_seconds"] < 60
    assert "speedup" in proc.stdout and "job start" in proc.stdout


def test_bench_refuses_unknown_models_in_one_line(python, cli_env):
    proc = subprocess.run([python, "-m", "cnnkit", "bench", "--models", "vgg99"], env=cli_env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "--models" in proc.stderr and "Traceback" not in proc.stderr
