"""views.compare: build_view, the whole compare page's data and figures for one selection."""
from __future__ import annotations

from support.compare_data import compare_run, sweep

from cnnkit.compare.grouping import labelled_groups
from cnnkit.compare.urlstate import Selection
from cnnkit.config import RunConfig
from cnnkit.store import Store
from cnnkit.views.compare import build_view


def test_build_view_plain_and_grouped(store: Store) -> None:
    group = sweep(store)
    view = build_view(store, Selection())
    assert len(view.runs) == 5 and set(view.curves) == {"train_loss", "train_acc", "train_eval_acc", "test_loss",
                                                                "test_acc"}
    assert len(view.curves["test_acc"].data) == 5 and view.points == 5 * 12
    grouped = build_view(store, Selection(groups=[group], group_by="cfg.lr", smoothing=0.5, x="wall", log_y=True))
    fig = grouped.curves["test_acc"]
    names = [t.name for t in fig.data]
    assert sum(n.endswith("(n=2)") for n in names) == 2 and sum(n.endswith("± std") for n in names) == 2
    members = [t for t in fig.data if t.opacity == 0.25]
    assert len(members) == 4 and fig.layout.yaxis.type == "log"
    assert not grouped.summary.empty and len(grouped.scatter.data) == 2


def test_build_view_with_reference_overlay_and_empty_selection(store: Store) -> None:
    sweep(store)
    view = build_view(store, Selection(models=["lenet"], reference=True))
    stars = [t for t in view.curves["test_acc"].data if t.legendgroup == "reference"]
    assert len(stars) == 1 and stars[0].y == (0.779,)
    empty = build_view(store, Selection(models=["alexnet"]))
    assert empty.runs.empty and empty.table.empty and all(len(f.data) == 0 for f in empty.curves.values())


def test_groups_follow_the_values_natural_order_and_explicit_levels(store: Store) -> None:
    for lr in (10.0, 2.0, 0.5):
        compare_run(store, RunConfig(lr=lr), f"lr={lr}")
    view = build_view(store, Selection(group_by="cfg.lr"))
    assert view.summary["group"].tolist() == ["lr=0.5", "lr=2", "lr=10"]
    means = [t.name for t in view.curves["test_acc"].data if t.name.endswith(")") and "n=" in t.name]
    assert means == ["lr=0.5 (n=1)", "lr=2 (n=1)", "lr=10 (n=1)"]
    ids = list(store.runs_frame()["id"])
    custom = labelled_groups({ids[0]: "b", ids[1]: "a", ids[2]: "b"}, ["b", "a"])
    view = build_view(store, Selection(), groups=custom)
    assert view.summary["group"].tolist() == ["b", "a"] and view.summary["runs"].tolist() == [2, 1]


def test_build_view_from_a_given_frame(store: Store) -> None:
    group = sweep(store)
    view = build_view(store, Selection(groups=[group]), frame=store.runs_frame())
    assert len(view.runs) == 4 and view.groupable == ["cfg.lr", "cfg.seed"]
