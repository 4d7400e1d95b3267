"""`cnnkit compare` and `cnnkit diff`: the verdict and what changed, as text and as the last line of JSON, and a
one-line error for every wrong request."""
from __future__ import annotations

import json

import numpy as np
import pytest
from support.cli import cnnkit, last_json, one_line_error
from support.verdict_data import confusion, finished, save_predictions

from cnnkit import cli
from cnnkit.cli import compare_commands
from cnnkit.compare.verdict import VERDICT_METRICS
from cnnkit.config import RunConfig
from cnnkit.store import Store

LABEL = np.arange(100) % 10


@pytest.fixture
def sweep(store: Store) -> str:
    """lr 0.1 and 0.3 × 3 seeds, every run with its saved predictions; lr=0.3 is 10 to 12 points better."""
    group = store.create_group("sweep", "lr", {})
    for lr, base, step in ((0.1, 0.7, 0.01), (0.3, 0.8, 0.02)):
        for seed in range(3):
            pred = np.where(np.arange(100) < round(100 * (base + step * seed)), LABEL, (LABEL + 1) % 10)
            run_id = finished(store, RunConfig(lr=lr, seed=seed, epochs=1), float((pred == LABEL).mean()), group,
                              name=f"lenet lr={lr} seed={seed}", summary={"confusion": confusion(LABEL, pred)})
            save_predictions(store, run_id, LABEL, pred)
    return group


def run_cli(capsys, store: Store, *argv: str) -> tuple[int, str, str]:
    code = cli.main([*argv, "--store", str(store.home)])
    out, err = capsys.readouterr()
    return code, out, err


def test_compare_a_group_prints_the_verdict_and_its_json(store: Store, sweep: str, capsys) -> None:
    code, out, _ = run_cli(capsys, store, "compare", "--group", sweep, "--by", "lr", "--json")
    assert code == 0
    assert "lr=0.1 (baseline)" in out and "Against lr=0.1 on final test accuracy: lr=0.3 better" in out
    doc = json.loads(out.strip().splitlines()[-1])
    assert doc["baseline"] == "lr=0.1" and doc["metric"] == "test_acc" and doc["field"] == "lr"
    other = doc["levels"][1]
    assert other["outcome"] == "better" and other["vs"]["paired"] and other["vs"]["diff"] == pytest.approx(0.11)
    assert sorted(doc["runs"]) == ["lr=0.1", "lr=0.3"] and doc["add_seeds"]["runs"] == 0


def test_compare_run_ids_with_a_baseline_and_a_metric(store: Store, sweep: str, capsys) -> None:
    ids = [r.id for r in store.list_runs(group=sweep)]
    code, out, _ = run_cli(capsys, store, "compare", *ids, "--by", "lr", "--baseline", "0.3", "--metric",
                           "test_loss", "--json")
    doc = json.loads(out.strip().splitlines()[-1])
    assert code == 0 and doc["baseline"] == "lr=0.3" and doc["metric"] == "test_loss"
    assert doc["levels"][0]["outcome"] == "worse", "a higher loss is worse"


def test_compare_says_how_many_runs_would_resolve_an_open_verdict(store: Store, capsys) -> None:
    group = store.create_group("sweep", "lr", {})
    for lr, accs in ((0.1, (0.70, 0.74, 0.72)), (0.3, (0.71, 0.77, 0.73))):
        for seed, acc in enumerate(accs):
            finished(store, RunConfig(lr=lr, seed=seed, epochs=1), acc, group)
    code, out, _ = run_cli(capsys, store, "compare", "--group", group, "--by", "lr")
    assert code == 0 and "open" in out and "Seeds per level that would resolve it: lr=0.3 about" in out
    assert "More seeds: " in out and "add seeds" in out


def test_diff_of_two_groups_and_of_two_runs(store: Store, sweep: str, capsys) -> None:
    run = next(r for r in store.list_runs(group=sweep) if r.config["lr"] == 0.3)
    code, out, _ = run_cli(capsys, store, "diff", sweep, sweep, "--json")
    doc = json.loads(out.strip().splitlines()[-1])
    assert code == 0 and doc["change"] == 0 and doc["to_wrong"] == [] and doc["to_right"] == []
    low = next(r for r in store.list_runs(group=sweep) if r.config["lr"] == 0.1 and r.config["seed"] == 0)
    code, out, _ = run_cli(capsys, store, "diff", low.id, run.id, "--json")
    doc = json.loads(out.strip().splitlines()[-1])
    right = round(100 * (0.8 + 0.02 * run.config["seed"])) - 70
    assert code == 0 and doc["change"] == pytest.approx(right / 100) and len(doc["to_right"]) == right
    assert f"{right} wrong → right" in out and "Trouser" in out and doc["classes"][1] == "Trouser"


def test_compare_and_diff_in_a_real_process_end_with_json(store: Store, sweep: str, python, cli_env) -> None:
    cli_env["CNNKIT_HOME"] = str(store.home)
    done = cnnkit(python, cli_env, "compare", "--group", sweep, "--by", "lr", "--json")
    assert done.returncode == 0 and last_json(done.stdout)["levels"][1]["outcome"] == "better"
    done = cnnkit(python, cli_env, "diff", sweep, sweep, "--json")
    assert done.returncode == 0 and last_json(done.stdout)["tested_both"] == 100


@pytest.mark.parametrize("argv,start", [
    (["compare", "--by", "lr"], "runs: give run ids or --group G"),
    (["compare", "deadbeef", "--by", "lr"], "no run deadbeef in "),
    (["compare", "--group", "nothing", "--by", "lr"], "no group nothing in "),
    (["compare", "--group", "GROUP", "--by", "colour"], "by: unknown field 'colour'; fields that differ"),
    (["compare", "--group", "GROUP", "--by", "epochs"], "by: epochs takes one value among these runs"),
    (["compare", "--group", "GROUP", "--by", "lr", "--baseline", "0.5"], "baseline: '0.5' is not a level of lr"),
    (["compare", "--group", "GROUP", "--by", "lr", "--metric", "acc"], "metric: must be one of test_acc"),
    (["diff", "deadbeef", "GROUP"], "no run deadbeef in "),
    (["diff", "GROUP", "nothing"], "no run or group 'nothing' in "),
    (["diff", "GROUP", "EMPTY"], "group EMPTY has no finished run to compare"),
    (["diff", "GROUP", "NOPRED"], "run NOPRED (failed) has neither saved test predictions nor a confusion matrix"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else "")
def test_every_wrong_request_is_one_line_naming_what_is_wrong(store: Store, sweep: str, python, cli_env,
                                                              argv: list[str], start: str) -> None:
    empty = store.create_group("sweep", "empty", {})
    failed = finished(store, RunConfig(epochs=1), status="failed")
    names = {"GROUP": sweep, "EMPTY": empty, "NOPRED": failed}
    argv = [names.get(a, a) for a in argv]
    start = start.replace("EMPTY", empty).replace("NOPRED", failed)
    cli_env["CNNKIT_HOME"] = str(store.home)
    one_line_error(cnnkit(python, cli_env, *argv), start)


def test_the_metric_help_names_exactly_the_verdicts_metrics() -> None:
    assert compare_commands.METRICS_HELP.replace(" (default)", "").split(", ") == list(VERDICT_METRICS)
