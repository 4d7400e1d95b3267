"""`cnnkit search` and `cnnkit search-report`: what they queue, print, and refuse in one line."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import requires_fmnist

from cnnkit import cli
from cnnkit.cli import search_commands
from cnnkit.data import loading
from cnnkit.search import plan_of
from cnnkit.store import Store

SEARCH = ["search", "--model", "lenet", "--epochs", "2", "--subset", "0.02", "--set", "activation=relu",
          "--space", "lr=log:1e-3:1", "--space", "batch_size=64,128"]


@pytest.fixture
def no_supervisor(monkeypatch: pytest.MonkeyPatch) -> list[Store]:
    """`search` starts a supervisor: recorded instead (the slow tests run real ones)."""
    started: list[Store] = []
    monkeypatch.setattr(search_commands, "ensure_supervisor", started.append)
    return started


def run_cli(capsys, store: Store, *argv: str) -> tuple[int, str, str]:
    code = cli.main([*argv, "--store", str(store.home)])
    out, err = capsys.readouterr()
    return code, out, err


@requires_fmnist
def test_search_records_the_plan_starts_a_supervisor_and_prints_the_group(store: Store, no_supervisor, capsys) -> None:
    code, out, err = run_cli(capsys, store, *SEARCH, "--trials", "6", "--prune", "--prune-after", "2",
                             "--parallel", "2", "--name", "lr x batch", "--tag", "study", "--json")
    assert code == 0 and [s.home for s in no_supervisor] == [store.home]
    group = json.loads(out.strip().splitlines()[-1])["group"]
    plan = plan_of(store, group)
    assert (plan.trials, plan.prune, plan.prune_after, plan.parallel, plan.tags) == (6, True, 2, 2, ["study"])
    assert plan.base.epochs == 2 and plan.base.model_options == {"activation": "relu"}
    assert store.group(group)["name"] == "lr x batch"
    assert err.startswith(f"search {group}: 6 trials of lenet(activation=relu) (2 at a time, median pruning")
    code, out, _ = run_cli(capsys, store, "search-report", group, "--json")
    report = json.loads(out.strip().splitlines()[-1])
    assert code == 0 and report["trials"] == [] and report["best"] is None and report["done"] is False
    code, out, _ = run_cli(capsys, store, "search-report", group)
    assert code == 0 and out.strip().endswith("not done yet")


@pytest.mark.parametrize("argv, says", [
    (["--space", "lr=log:0:1"], "error: --space: lr=log:0:1: must be a number in (0, 1000], got 0.0"),
    (["--space", "foo=1,2"], "error: --space: 'foo' is neither a config field nor an option of lenet"),
    (["--space", "lr"], "error: --space: must look like KEY=SPEC, got 'lr'"),
    (["--space", "lr=0.1,0.2", "--trials", "0"], "error: --trials: must be an integer in [1, 500], got 0"),
    (["--space", "lr=0.1,0.2", "--parallel", "x"], "error: --parallel: must be an integer in [1, 64], got 'x'"),
    (["--space", "lr=0.1,0.2", "--set", "pool=mean"], "error: pool: must be one of"),
    pytest.param(["--space", "lr=0.1,0.2", "--dataset", "mnist"], "error: --dataset: MNIST is not installed here: ",
                 marks=pytest.mark.skipif(loading.is_available("mnist"), reason="MNIST is installed here")),
    ([], "error: the following arguments are required: --space"),
])
def test_bad_input_is_one_line_and_records_nothing(store: Store, no_supervisor, capsys, argv: list[str],
                                                   says: str) -> None:
    try:
        code, _, err = run_cli(capsys, store, "search", "--model", "lenet", *argv)
    except SystemExit as exc:  # argparse's own errors
        code, err = exc.code, capsys.readouterr().err
    assert code == 2 and err.startswith(says) and err.count("\n") == 1
    assert store.groups() == [] and no_supervisor == []


def test_report_of_an_unknown_group_is_one_line(store: Store, capsys) -> None:
    code, _, err = run_cli(capsys, store, "search-report", "search-nope")
    assert code == 2 and err.startswith("error: --group: no search group 'search-nope' in ") and err.count("\n") == 1


@requires_fmnist
def test_search_reports_studies_it_cannot_write(tmp_path: Path, no_supervisor, capsys) -> None:
    home = tmp_path / "store"
    home.mkdir()
    (home / "studies.db").mkdir()
    code = cli.main([*SEARCH, "--store", str(home)])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: cannot open the search studies at ") and err.count("\n") == 1
    assert Store(home).groups() == []
