"""AppTest: the Train page's Search part queues a study; Compare shows a search group with its
parallel coordinates and best trial."""
from __future__ import annotations

from pathlib import Path

from support.apptest import app, assert_clean
from support.runs import complete_queued

from cnnkit.search import plan_of
from cnnkit.search.driver import SearchDriver
from cnnkit.store import Store


def start_from_the_train_page(at, keys: list[tuple[str, str]]) -> None:  # noqa: ANN001
    for i, (key, values) in enumerate(keys):
        at.selectbox(key=f"train.search.key{i}").set_value(key).run()
        at.text_input(key=f"train.search.values{i}").set_value(values).run()


def test_search_queues_a_study_with_the_form_as_its_base(app_env: Path) -> None:
    at = app("pages/2_Train.py")
    at.number_input(key="train.epochs").set_value(2).run()
    start_from_the_train_page(at, [("lr", "log:1e-3:1"), ("batch_size", "64,128,256")])
    at.number_input(key="train.search.trials").set_value(8)
    at.toggle(key="train.search.prune").set_value(True)
    at.text_input(key="train.search.name").set_value("lenet lr x batch").run()
    assert_clean(at)
    assert not at.error
    assert any(c.value.startswith("8 trials of lenet (1 at a time, median pruning after 3 completed trials) over "
                                  "lr in [0.001, 1] (log); batch_size in {64, 128, 256}") for c in at.caption)
    at.button(key="train.search.go").click().run()
    assert_clean(at)
    store = Store(app_env)
    (group,) = store.groups(kind="search")
    plan = plan_of(store, group["id"])
    assert group["name"] == "lenet lr x batch" and plan.trials == 8 and plan.prune and plan.base.epochs == 2
    assert store.list_runs() == [], "the page queues no run itself: the supervisor asks the trials"
    assert any(f"Search {group['id']} started" in s.value for s in at.success)


def test_a_bad_space_is_an_inline_error_and_blocks_the_search(app_env: Path) -> None:
    at = app("pages/2_Train.py")
    start_from_the_train_page(at, [("lr", "log:0:1")])
    assert_clean(at)
    assert any(e.value.startswith("--space: lr=log:0:1: ") for e in at.error)
    assert at.button(key="train.search.go").disabled
    assert Store(app_env).groups() == []


def test_compare_shows_a_search_group_with_its_parallel_coordinates_and_best_trial(app_env: Path) -> None:
    at = app("pages/2_Train.py")
    start_from_the_train_page(at, [("lr", "log:1e-3:1"), ("batch_size", "64,128")])
    at.number_input(key="train.search.trials").set_value(3).run()
    at.button(key="train.search.go").click().run()
    store = Store(app_env)
    group = store.groups(kind="search")[0]["id"]
    driver = SearchDriver(store, every=0)
    for _ in range(3):  # what the supervisor does, with runs that end at once
        driver.step()
        complete_queued(store, lambda run: run.config["lr"])
    driver.step()
    at = app("pages/4_Compare.py", {"group": [group]})
    assert_clean(at)
    best = max(store.list_runs(group=group), key=lambda r: r.config["lr"])
    assert any(m.value.startswith("**Best: trial ") and f"run `{best.id}`" in m.value for m in at.markdown)
    assert any(c.value.startswith("3/3 trials, 3 completed, 0 pruned") for c in at.caption)
    figures = [c for c in at.get("plotly_chart") if "parcoords" in c.proto.spec]
    assert len(figures) == 1
    (trials,) = [d.value for d in at.dataframe if "run_status" in d.value.columns]
    assert list(trials["state"]) == ["complete"] * 3 and set(trials["run_id"]) == {
        r.id for r in store.list_runs(group=group)}
