"""The `experiment` commands of cnnkit/cli/experiment_commands.py: list, run, report and their one-line errors."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
from support import ROOT, requires_fmnist
from support.experiments import finish_all

from cnnkit import experiments as E
from cnnkit.bundle import export_bundle
from cnnkit.cli import main
from cnnkit.jobs.process import supervisor_pid
from cnnkit.store import Store


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_list(capsys):
    code, out, _ = run_cli(capsys, "experiment", "list", "--json")
    assert code == 0
    listed = json.loads(out.strip().splitlines()[-1])
    assert [p["name"] for p in listed] == [p.name for p in E.catalogue()]
    pooling = listed[0]
    assert pooling["levels"][1] == {"label": "max pooling", "changes": {"pool": "max"}}
    assert {"question", "factor", "baseline", "budgets", "claims", "confounds", "datasets", "missing_datasets"} <= \
        set(pooling)
    assert list(pooling["budgets"]) == ["quick", "standard", "full"]
    claim = pooling["claims"][0]
    assert claim["sources"] == ["notes 000:37", "notes 004:27"] and claim["effect"] == 0.01
    standard = pooling["budgets"]["standard"]
    assert standard["seeds"] == [1000, 1001, 1002, 1003, 1004] and standard["changes"] == {"epochs": 6}
    assert "sd at 1.8" in standard["note"]
    zoo = next(p for p in listed if p["name"] == "zoo")
    assert zoo["ranking"] and len(zoo["budgets"]["standard"]["seeds"]) == 5
    code, out, _ = run_cli(capsys, "experiment", "list")
    assert code == 0 and out.splitlines()[0].split()[:3] == ["name", "lines", "factor"]
    assert "pooling: What happens when LeNet's average pooling is replaced by max pooling?" in out


@pytest.mark.parametrize(("argv", "field"), [
    (["experiment", "run", "no-such"], "experiment"),
    (["experiment", "run", "pooling", "--budget", "huge"], "--budget: must be one of quick, standard, full"),
    (["experiment", "run", "pooling", "--seeds", "0"], "seeds"),
    (["experiment", "run", "pooling", "--seeds", "many"], "seeds"),
    (["experiment", "report", "no-such"], "experiment"),
    (["experiment", "report", "pooling"], "experiment"),
    (["experiment", "report", "pooling", "--group", "experiment-bogus"], "--group"),
    (["experiment", "report", "pooling", "--format", "html"], "--format"),
    (["experiment", "reference", "--only", "no-such"], "experiment"),
    (["experiment", "reference", "--budget", "huge"], "--budget: must be one of quick, standard, full"),
    (["experiment", "reference", "--only", "pooling", "--resume"], "--resume: needs --store"),
])
def test_cli_errors_exit_2_with_one_line_naming_the_field(capsys, tmp_path: Path, argv: list[str], field: str):
    store = ["--store", str(tmp_path / "store")] if argv[1] in ("run", "report") else ["--out", str(tmp_path)]
    try:
        code = main([*argv, *store])
    except SystemExit as exc:  # argparse's own errors (a bad --format choice)
        code = exc.code
    _, err = capsys.readouterr()
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and field in lines[0], err
    assert not (tmp_path / "store" / "worker.lock").exists() or supervisor_pid(tmp_path / "store") is None
    assert not (tmp_path / "reference").exists()


def test_cli_run_queues_the_standard_budget_by_default(capsys, tmp_path: Path, no_missing_data, monkeypatch):
    real_launch = E.launch
    monkeypatch.setattr(E, "launch", lambda *a, **kw: real_launch(*a, **{**kw, "start_worker": False}))
    home = tmp_path / "store"
    for argv, budget, seeds in ((["pooling"], "standard", "5 seeds (1000–1004)"),
                                (["pooling", "--budget", "standard"], "standard", "5 seeds (1000–1004)"),
                                (["kernel-size", "--budget", "standard"], "standard", "10 seeds (1000–1009)"),
                                (["pooling", "--budget", "quick"], "quick", "3 seeds (0–2)")):
        code, out, _ = run_cli(capsys, "experiment", "run", *argv, "--store", str(home))
        runs = int(seeds.split()[0]) * len(E.get(argv[0]).levels)
        assert code == 0 and out.startswith(f"queued {runs} runs of {argv[0]} ({budget} budget, {seeds})"), out
        group = E.latest_group(Store(home), argv[0])
        assert Store(home).group(group)["meta"]["budget"] == budget


def test_cli_reference_passes_the_standard_budget_on(capsys, tmp_path: Path, monkeypatch):
    calls = []

    def reference(out, budget, only, seeds, *rest, **kw):
        calls.append((budget, only, seeds))
        return []

    monkeypatch.setattr(E, "reference", reference)
    for argv, budget in (([], "standard"), (["--budget", "standard"], "standard"), (["--budget", "quick"], "quick")):
        code, out, _ = run_cli(capsys, "experiment", "reference", *argv, "--only", "pooling", "--out", str(tmp_path))
        assert code == 0 and calls[-1] == (budget, ["pooling"], None), out


def test_cli_report_of_a_group_json_and_md(capsys, tmp_path: Path, no_missing_data):
    store = Store(tmp_path / "store")
    group = E.launch(store, "pooling", seeds=2, start_worker=False)
    finish_all(store, group, {"average pooling (d2l)": [("completed", 0.7, 0.75), ("completed", 0.72, 0.74)],
                              "max pooling": [("completed", 0.8, 0.85), ("completed", 0.82, 0.86)]})
    code, out, _ = run_cli(capsys, "experiment", "report", "pooling", "--format", "json", "--store", str(store.home))
    assert code == 0
    doc = json.loads(out.strip().splitlines()[-1])
    assert doc["group"] == group and "Best: max pooling" in doc["verdict"]
    assert doc["claims"][0]["outcome"] == "confirmed" and doc["plan"]["seeds"] == [0, 1]
    assert [(lv["label"], lv["n_counted"]) for lv in doc["levels"]] == [("average pooling (d2l)", 2),
                                                                         ("max pooling", 2)]
    code, out, _ = run_cli(capsys, "experiment", "report", "pooling", "--group", group, "--store", str(store.home))
    assert code == 0 and "| max pooling | 81.0 ± 1.4 %" in out and "**Verdict.**" in out
    path = export_bundle(store, [r.id for r in store.list_runs(group=group)], tmp_path / "pooling.zip")
    code, out, _ = run_cli(capsys, "experiment", "report", "pooling", "--bundle", str(path))
    assert code == 0 and "| max pooling | 81.0 ± 1.4 %" in out
    code, _, err = run_cli(capsys, "experiment", "report", "shuffle", "--bundle", str(path))
    assert code == 2 and "--bundle" in err
    code, _, err = run_cli(capsys, "experiment", "report", "shuffle", "--group", group, "--store", str(store.home))
    assert code == 2 and "--group" in err and "pooling" in err


# ---- end to end: a real supervisor, real training ----------------------------------------------

def _stop_supervisor(home: Path) -> None:
    """End the supervisor the command under test started for this test's own store (by its pid)."""
    pid = supervisor_pid(home)
    if pid and pid > 0:
        os.kill(pid, signal.SIGTERM)
        deadline = time.time() + 10
        while supervisor_pid(home) and time.time() < deadline:
            time.sleep(0.1)


@pytest.mark.slow
@requires_fmnist
def test_experiment_run_wait_then_report(python: str, cli_env: dict[str, str], tmp_path: Path):
    home = tmp_path / "store"
    try:
        proc = subprocess.run([python, "-m", "cnnkit", "experiment", "run", "pooling", "--budget", "smoke",
                               "--seeds", "2", "--wait", "--store", str(home)], cwd=ROOT, env=cli_env,
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        out = proc.stdout
        assert out.startswith("queued 4 runs of pooling (smoke budget, 2 seeds (0–1))")
        assert re.search(r"pooling: 4/4 finished \(4 completed\)", out)
        assert "| average pooling (d2l) (baseline) |" in out and "**Verdict.**" in out
        proc = subprocess.run([python, "-m", "cnnkit", "experiment", "report", "pooling", "--format", "json",
                               "--store", str(home)], cwd=ROOT, env=cli_env, capture_output=True, text=True,
                              timeout=120)
        assert proc.returncode == 0, proc.stderr
        doc = json.loads(proc.stdout.strip().splitlines()[-1])
        assert [(lv["label"], lv["n_counted"], lv["statuses"]) for lv in doc["levels"]] == [
            ("average pooling (d2l)", 2, {"completed": 2}), ("max pooling", 2, {"completed": 2})]
        assert all(0 <= lv["means"]["test_acc"] <= 1 and lv["stds"]["test_acc"] is not None for lv in doc["levels"])
        assert all(lv["means"]["train_eval_acc"] is not None for lv in doc["levels"]), "evaluated, and recorded"
        assert doc["verdict"] and doc["budget"] == "smoke" and doc["plan_intact"]
    finally:
        _stop_supervisor(home)
