"""AppTest of what issue 22 added to the pages: a run's layer health (Runs), two runs' side by side (Compare), and
the epoch slider with two runs at the same epoch (Activations)."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from support import requires_fmnist
from support.apptest import app, assert_clean
from support.health_runs import health_run
from support.runs import finished_run, trained_run

from cnnkit.config import RunConfig
from cnnkit.data import loading
from cnnkit.store import Store
from cnnkit.views.health import NO_HEALTH


def charts(at: AppTest, key: str) -> list:
    return [c for c in at.get("plotly_chart") if key in c.proto.id]


def test_runs_page_draws_a_runs_layer_health_per_quantity(app_env: Path) -> None:
    store = Store(app_env)
    run_id = health_run(store, "sigmoid", first_grad=1e-4, saturated=0.1)
    old = finished_run(store, name="old run")
    at = app("pages/3_Runs.py")
    at.multiselect(key="runs.chosen").set_value([run_id]).run()
    assert_clean(at)
    assert any(e.label.startswith("Layer health") for e in at.expander)
    assert len(charts(at, f"runs.health.{run_id}.figure")) == 1
    at.segmented_control(key=f"runs.health.{run_id}.quantity").set_value("saturated").run()
    assert_clean(at)
    assert any("outputs within 0.02 of a bound" in c.value for c in at.caption)
    at.multiselect(key="runs.chosen").set_value([old]).run()
    assert_clean(at)
    assert any(NO_HEALTH in i.value for i in at.info)


def test_compare_page_draws_two_runs_side_by_side_when_asked(app_env: Path) -> None:
    store = Store(app_env)
    ids = [health_run(store, name, first_grad=g, saturated=s) for name, g, s in (("sigmoid", 1e-4, 0.1),
                                                                                  ("relu", 0.1, 0.0))]
    at = app("pages/4_Compare.py")
    assert_clean(at)
    assert not charts(at, "compare.health"), "drawn only when asked for"
    at.toggle(key="compare.health").set_value(True).run()
    assert_clean(at)
    figure = charts(at, "compare.health.figure")
    assert len(figure) == 1 and {at.selectbox(key="compare.health.a").value,
                                 at.selectbox(key="compare.health.b").value} == set(ids)
    at = app("pages/4_Compare.py", {"run": ids[:1]})
    at.toggle(key="compare.health").set_value(True).run()
    assert_clean(at)
    assert any("Select two runs or more" in i.value for i in at.info)


@pytest.fixture(scope="module")
def two_trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("epochs") / "store"
    store = Store(home)
    dataset = loading.load("fashion-mnist")
    base = {"epochs": 2, "subset": 0.01, "test_subset": 0.02, "batch_size": 64, "device": "cpu"}
    trained_run(store, RunConfig(**base), "sigmoid", dataset=dataset)
    trained_run(store, RunConfig(**base, model_options={"activation": "relu"}, lr=0.1), "relu", dataset=dataset)
    store.close()
    return home


@requires_fmnist
def test_activations_page_moves_through_the_epochs_of_two_runs(two_trained: Path, app_env: Path) -> None:
    import shutil

    shutil.copytree(two_trained, app_env)
    store = Store(app_env)
    relu, sigmoid = store.list_runs()  # newest first: the page opens on the relu run
    at = app("pages/5_Activations.py")
    assert_clean(at)
    slider = at.select_slider(key=f"act.epoch.{relu.id}")
    assert slider.options == ["1", "2"] and slider.value == 2
    assert len(charts(at, f"act.epoch.{relu.id}")) == 7  # Grad-CAM, filters, 2 × 2 maps, confusion
    slider.set_value(1).run()
    at.selectbox(key="act.epoch.other").set_value(sigmoid.id).run()
    assert_clean(at)
    assert len(charts(at, f"act.epoch.{sigmoid.id}")) == 7
    assert sum(c.value.startswith("epoch 1 · test accuracy") for c in at.caption) == 2
