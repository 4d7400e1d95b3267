"""AppTest: Compare's verdict (from the URL, live, with "add seeds") and its "what changed" (levels or runs, flips
from the saved predictions, the note for runs without them)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from support.apptest import app, assert_clean
from support.experiments import finish_all
from support.verdict_data import confusion, finished, save_predictions

from cnnkit import experiments
from cnnkit.config import RunConfig
from cnnkit.store import Store

LABEL = np.arange(100) % 10


def sweep(home: Path, accs: dict[float, list[float]], predictions: bool = True) -> str:
    """A group of LeNet runs, lr → final test accuracy per seed; each run's predictions match its accuracy."""
    store = Store(home)
    group = store.create_group("sweep", "lr sweep", {})
    for lr, values in accs.items():
        for seed, acc in enumerate(values):
            pred = np.where(np.arange(100) < round(100 * acc), LABEL, (LABEL + 1) % 10)
            run_id = finished(store, RunConfig(lr=lr, seed=seed, epochs=1), acc, group,
                              name=f"lenet lr={lr} seed={seed}", summary={"confusion": confusion(LABEL, pred)})
            if predictions:
                save_predictions(store, run_id, LABEL, pred)
    return group


def markdown(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_a_grouped_sweep_gets_its_verdict_with_the_baseline_and_metric_from_the_url(app_env: Path) -> None:
    group = sweep(app_env, {0.1: [0.70, 0.71, 0.72], 0.3: [0.80, 0.82, 0.81]})
    at = app("pages/4_Compare.py", {"group": [group], "by": "cfg.lr", "base": "lr=0.3", "metric": "test_loss"})
    assert_clean(at)
    assert at.selectbox(key="compare.baseline").value == "lr=0.3"
    assert at.selectbox(key="compare.metric").value == "test_loss"
    assert "Against lr=0.3 on final test loss: lr=0.1 worse." in markdown(at)
    table = next(d.value for d in at.dataframe if "verdict" in d.value.columns)
    assert list(table["level"]) == ["lr=0.1", "lr=0.3 (baseline)"] and list(table["verdict"]) == ["worse", "baseline"]
    at.selectbox(key="compare.metric").set_value("test_acc").run()
    assert_clean(at)
    assert "Against lr=0.3 on final test accuracy: lr=0.1 worse." in markdown(at)
    assert at.query_params.get("metric") is None, "the default metric leaves the URL"


def test_without_a_grouping_the_page_says_how_to_get_a_verdict(app_env: Path) -> None:
    sweep(app_env, {0.1: [0.7, 0.71]})
    at = app("pages/4_Compare.py")
    assert_clean(at)
    assert any("Group the runs by a field" in c.value for c in at.caption)


def test_add_seeds_queues_the_missing_seeds_into_the_group_and_the_verdict_turns_preliminary(app_env: Path) -> None:
    group = sweep(app_env, {0.1: [0.70, 0.74, 0.72], 0.3: [0.71, 0.77, 0.73]})
    at = app("pages/4_Compare.py", {"group": [group], "by": "cfg.lr"})
    assert_clean(at)
    button = at.button(key="compare.add_seeds")
    runs = int(button.label.split()[2])
    assert runs > 0 and "open" in markdown(at)
    table = next(d.value for d in at.dataframe if "verdict" in d.value.columns)
    assert table["seeds to resolve"][0] == "" and table["seeds to resolve"][1].isdigit(), "blank where none"
    button.click().run()
    assert_clean(at)
    queued = Store(app_env).list_runs(group=group, status="queued")
    assert len(queued) == runs and all(r.config["seed"] >= 3 for r in queued)
    assert any(f"{runs} runs added to group {group}." in s.value for s in at.success)
    assert any("are queued or training" in c.value for c in at.caption), "no button for 0 runs"
    assert f"Preliminary ({runs} runs not finished)" in markdown(at)


def test_an_experiment_group_gets_no_seeds_and_is_sent_to_the_experiments_page(app_env: Path, no_missing_data
                                                                               ) -> None:
    store = Store(app_env)
    group = experiments.launch(store, "pooling", "smoke", start_worker=False)
    finish_all(store, group, {"average pooling (d2l)": [("completed", a, a) for a in (0.70, 0.74, 0.72)],
                              "max pooling": [("completed", a, a) for a in (0.71, 0.77, 0.73)]})
    at = app("pages/4_Compare.py", {"group": [group], "by": "cfg.model.pool"})
    assert_clean(at)
    assert not [b for b in at.button if b.key == "compare.add_seeds"]
    assert any("launch a new look with more seeds from the Experiments page" in i.value for i in at.info)


def test_what_changed_between_two_levels_shows_the_classes_the_confusion_and_the_flips(app_env: Path) -> None:
    pytest.importorskip("torch")
    group = sweep(app_env, {0.1: [0.70, 0.72], 0.3: [0.80, 0.82]})
    at = app("pages/4_Compare.py", {"group": [group], "by": "cfg.lr", "da": "level:lr=0.1", "db": "level:lr=0.3"})
    assert_clean(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["A: lr=0.1"] == "71.00 %" and metrics["B: lr=0.3"] == "81.00 %"
    # both lr=0.1 runs miss images 72–99, both lr=0.3 runs get 0–79 right: 72–79 flipped (70, 71: a tie in A)
    assert metrics["flipped test images"] == "0 ↓ · 8 ↑"
    keys = {c.key for c in at.get("plotly_chart")}
    assert {"compare.diff.classes", "compare.diff.confusion", "compare.diff.up"} <= keys
    assert "compare.diff.down" not in keys
    assert any("Right in A, wrong in B: 0" in c.value for c in at.caption)


def test_runs_without_predictions_are_diffed_by_their_confusion_and_say_why_there_are_no_flips(app_env: Path
                                                                                               ) -> None:
    group = sweep(app_env, {0.1: [0.70], 0.3: [0.80]}, predictions=False)
    ids = {r.config["lr"]: r.id for r in Store(app_env).list_runs(group=group)}
    at = app("pages/4_Compare.py", {"group": [group], "da": f"run:{ids[0.1]}", "db": f"run:{ids[0.3]}"})
    assert_clean(at)
    assert {m.label: m.value for m in at.metric}[f"B: {ids[0.3]}"] == "80.00 %"
    assert any("the flips need the saved test predictions" in i.value for i in at.info)
