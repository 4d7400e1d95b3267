"""cnnkit.bench.suite: the benchmark command runs end to end (short mode) and reports what the issue asks."""
from __future__ import annotations

import pytest
from support import requires_fmnist
from support.cli import cnnkit, last_json, one_line_error

from cnnkit.bench import dashboard, suite
from cnnkit.store import Store


def test_fill_store_makes_finished_runs_with_curves(tmp_path):
    store = Store(tmp_path / "store")
    suite.fill_store(store, runs=3, epochs=4)
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
        "system_metrics": {"sampling_seconds": 0.0019, "train_seconds": 19.0, "share": 0.0001, "reports_per_epoch": 5},
        "threads": {"cores": 2, "epoch_seconds": {"idle": {"all cores": 1.2, "one thread": 1.9, "governor": 1.25},
                                                  "one busy process": {"all cores": 3.1, "one thread": 1.95,
                                                                       "governor": 2.0}}},
        "dashboard": {"store_runs": 200, "store_epochs": 50,
                      "pages": [{"page": "runs", "first_s": 0.7, "again_s": 0.5, "idle_cpu": 0.004}],
                      "live_server_cpu": {"none": 0.003, "runs": 0.047, "compare": 0.01},
                      "epoch_seconds": {"none": 1.2, "runs": 1.26, "compare": 1.21},
                      "ratio": {"runs": 1.05, "compare": 1.008}},
    }
    text = suite.format_report(report)
    assert "4.0×" in text and "not reached" in text and "0.30 s" in text and "0.40 s" in text
    assert "one busy process" in text and "3.1" in text and "governor" in text
    assert "1.9 ms of sampling in 19.0 s of training (0.01 %" in text
    assert "0.4" in text and "4.7 % of a core with Runs open" in text and "(1.05×)" in text


def test_format_report_says_why_the_dashboard_was_not_measured():
    report = {"machine": {"cpu": "cpu", "cores": 2, "torch": "2", "gpu": None}, "device": "cpu",
              "date": "2026-01-01", "short": True, "dashboard": {"skipped": "Chromium is not installed"}}
    assert "dashboard: skipped (Chromium is not installed)" in suite.format_report(report)


@requires_fmnist
@pytest.mark.slow
def test_bench_short_runs_in_ci(python, cli_env):
    # The ray, health and verdict sections have short tests of their own (tests/bench/).
    proc = cnnkit(python, cli_env, "bench", "--short", "--models", "lenet", "mlp", "--json", "--sections",
                  "throughput", "accuracy", "threads", "jobs", "dashboard", timeout=1200)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = last_json(proc.stdout)
    assert [r["case"] for r in report["throughput"]] == ["lenet@28", "mlp@28"]
    for row in report["throughput"]:
        assert row["repeats"] == 3 and row["textbook_s"] > 0 and row["ours_s"] > 0
        assert row["speedup"] == pytest.approx(row["textbook_s"] / row["ours_s"])
    assert 0 < report["job_start_seconds"] < 60 and 0 < report["compare_render_seconds"] < 60
    assert 0 < report["system_metrics"]["sampling_seconds"] < report["system_metrics"]["train_seconds"]
    assert "speedup" in proc.stdout and "job start" in proc.stdout
    threads = report["threads"]["epoch_seconds"]
    assert set(threads) == {"idle", "one busy process"} and all(s > 0 for row in threads.values() for s in row.values())
    pages = report["dashboard"]
    if "skipped" not in pages:  # Chromium and Playwright come with setup.sh --dev
        assert [p["page"] for p in pages["pages"]] == list(dashboard.PAGES)
        assert all(p["first_s"] > 0 and 0 <= p["idle_cpu"] < 2 for p in pages["pages"])
        assert set(pages["ratio"]) == {"runs", "compare"} and all(r > 0 for r in pages["ratio"].values())
        assert "interference" in proc.stdout


def test_bench_refuses_unknown_sections_in_one_line(python, cli_env):
    one_line_error(cnnkit(python, cli_env, "bench", "--sections", "gpu-magic", timeout=120), "--sections")


def test_bench_refuses_unknown_models_in_one_line(python, cli_env):
    one_line_error(cnnkit(python, cli_env, "bench", "--models", "vgg99", timeout=120), "--models")
