"""compare.figures: the curves' lines, the scatter, d2l's reference points."""
from __future__ import annotations

import pandas as pd

from cnnkit.compare.figures import curve_series, model_options, reference_points, scatter_figure
from cnnkit.compare.grouping import group_values
from cnnkit.compare.results import result_table
from cnnkit.compare.urlstate import Selection
from cnnkit.config import RunConfig
from cnnkit.store import Store


def test_curve_series_one_line_per_run_or_members_and_means(sweep_store: tuple[Store, str]) -> None:
    store, _ = sweep_store
    runs = store.runs_frame()
    metrics = store.metrics(list(runs["id"]), names=("loss", "acc"))
    plain = curve_series(runs, metrics, Selection(), group_values(runs, ""))
    assert {k: len(v) for k, v in plain.items()} == {"train_loss": 5, "train_acc": 5, "train_eval_acc": 0,
                                                     "test_loss": 5, "test_acc": 5}
    assert plain["test_acc"][0].x.tolist() == [1, 2, 3]
    by_model = curve_series(runs, metrics, Selection(x="step"), group_values(runs, "model"))
    means = [s for s in by_model["test_acc"] if s.show_legend]
    assert [s.label for s in means] == ["model=lenet (n=4)", "model=mlp (n=1)"]
    assert by_model["test_acc"][0].x.tolist() == [10, 20, 30]
    assert curve_series(runs.iloc[:0], metrics, Selection(), group_values(runs, "")) == {
        "train_loss": [], "train_acc": [], "train_eval_acc": [], "test_loss": [], "test_acc": []}


def test_scatter_colours_by_group_else_by_model(sweep_store: tuple[Store, str]) -> None:
    store, _ = sweep_store
    table = result_table(store.runs_frame())
    assert {t.name for t in scatter_figure(table, pd.Series(dtype=object)).data} == {"lenet", "mlp"}
    fig = scatter_figure(table, group_values(store.runs_frame(), "cfg.lr"), "macs")
    assert [t.name for t in fig.data] == ["lr=0.1", "lr=0.5"] and "MACs" in fig.layout.title.text  # mlp: lr 0.1


def test_reference_points_for_the_runs_models_and_options(sweep_store: tuple[Store, str]) -> None:
    store, _ = sweep_store
    store.create_run(RunConfig(model="lenet", model_options={"activation": "relu"}))
    runs = store.runs_frame()
    assert model_options(runs, "mlp") == [{}] and model_options(runs, "lenet") == [{"activation": "relu"}, {}]
    points = reference_points(runs[runs["model"] == "lenet"])
    assert any(p["metric"] == "test_acc" and p["value"] == 0.779 for p in points)
