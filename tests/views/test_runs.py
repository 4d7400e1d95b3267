"""views.runs: the Runs page's live table and ETA, text search and problem runs."""
from __future__ import annotations

import time
from dataclasses import replace

import pandas as pd
import pytest
from support.runs import running_run

from cnnkit.config import RunConfig
from cnnkit.engine import MetricPoint
from cnnkit.events import Status
from cnnkit.store import Store
from cnnkit.views.runs import eta_seconds, is_problem, live_table, problem_runs, search_runs, with_eta_text


def test_eta_text_takes_the_place_of_the_seconds() -> None:
    table = pd.DataFrame({"id": ["a", "b", "c"], "eta_s": [125.0, None, float("nan")], "device": ["cpu"] * 3})
    shown = with_eta_text(table)
    assert list(shown.columns) == ["id", "eta", "device"] and shown["eta"].tolist() == ["2 min 5 s", "", ""]
    assert "eta_s" in table.columns, "the given table is left as it was"


def test_search_matches_id_name_model_group_and_tags(store: Store) -> None:
    group = store.create_group("sweep", "lr sweep", {})
    lenet = store.create_run(RunConfig(), name="First Try", group=group)
    mlp = store.create_run(RunConfig(model="mlp"), name="other", tags=["Baseline"])
    runs = store.list_runs()
    found = {text: {r.id for r in search_runs(runs, text)} for text in ("", "first", "MLP", group, "baseline",
                                                                          lenet[:4], "nothing")}
    assert found[""] == {lenet, mlp} and found["first"] == {lenet} and found["MLP"] == {mlp}
    assert found[group] == {lenet} and found["baseline"] == {mlp} and lenet in found[lenet[:4]]
    assert found["nothing"] == set()


def test_problem_runs_are_the_first_few_that_went_wrong(store: Store) -> None:
    store.create_run(RunConfig(), name="queued")
    queued = store.list_runs()[0]
    assert problem_runs([queued]) == [] and not is_problem(queued)
    ended = [replace(queued, status=status) for status in Status]
    assert [r.status for r in problem_runs(ended)] == ["failed", "diverged", "oom", "lost"]
    assert len(problem_runs([replace(queued, status=Status.FAILED)] * 15)) == 10


def test_eta_and_live_table(store: Store) -> None:
    run_id = running_run(store, RunConfig(epochs=2), name="live", started={"device": "cpu", "total_steps": 100},
                         first_step=True, points=[MetricPoint(25, 0.5, "train", "loss", 1.0, time.time())])
    run = store.get(run_id)
    eta = eta_seconds(run, now=(run.first_step_at or 0) + 10)
    assert eta == pytest.approx(30)
    table = live_table([run], store.latest_metrics([run_id]))
    row = table.iloc[0]
    assert row["epoch"] == "0/2" and row["progress"] == 0.25 and row["train_loss"] == 1.0
    assert pd.isna(live_table([store.get(store.create_run(RunConfig()))], {}).iloc[0]["eta_s"])

