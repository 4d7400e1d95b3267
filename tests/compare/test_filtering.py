"""compare.filtering: the filters, their options, the run picker's labels, the store query."""
from __future__ import annotations

from cnnkit.compare.filtering import filter_options, filter_runs, run_choices, select
from cnnkit.compare.urlstate import Selection
from cnnkit.store import Store


def test_filter_runs_by_each_field(sweep_store: tuple[Store, str]) -> None:
    store, group = sweep_store
    frame = store.runs_frame()
    assert len(filter_runs(frame, Selection())) == 5
    assert set(filter_runs(frame, Selection(models=["mlp"]))["name"]) == {"mlp alone"}
    assert len(filter_runs(frame, Selection(groups=[group]))) == 4
    assert set(filter_runs(frame, Selection(tags=["baseline"]))["name"]) == {"mlp alone"}
    one = frame["id"].iloc[0]
    assert list(filter_runs(frame, Selection(runs=[one]))["id"]) == [one]
    assert filter_runs(frame, Selection(statuses=["failed"])).empty
    opts = filter_options(frame)
    assert opts["models"] == ["lenet", "mlp"] and opts["groups"] == [group] and opts["tags"] == ["baseline"]


def test_filter_options_of_an_empty_store(store: Store) -> None:
    assert filter_options(store.runs_frame()) == {"models": [], "datasets": [], "statuses": [], "groups": [],
                                                  "tags": []}


def test_select_reads_what_filter_runs_keeps(sweep_store: tuple[Store, str]) -> None:
    store, group = sweep_store
    sel = Selection(groups=[group], statuses=["completed"])
    assert list(select(store, sel)["id"]) == list(filter_runs(store.runs_frame(), sel)["id"])


def test_run_choices_label_each_run(sweep_store: tuple[Store, str]) -> None:
    store, _ = sweep_store
    frame = store.runs_frame()
    choices = run_choices(frame)
    assert list(choices) == list(frame["id"])
    mlp = frame[frame["name"] == "mlp alone"].iloc[0]
    assert choices[mlp["id"]] == f"mlp alone · {mlp['id']} · completed"
