"""compare.system: the runs' system metrics as curves (one line per run or group means), only the
metrics they recorded, and their costs in the result table that every export is made from."""
from __future__ import annotations

from cnnkit.compare import report
from cnnkit.compare.grouping import group_values
from cnnkit.compare.results import result_table
from cnnkit.compare.system import system_figures
from cnnkit.compare.urlstate import Selection
from cnnkit.engine import MetricPoint
from cnnkit.jobs.system_metrics import SPLIT
from cnnkit.store import Store


def add_system(store: Store, run_id: str, rss: float, gpu: bool = False) -> None:
    points = []
    for e in range(1, 4):
        values = {"cpu_percent": 90.0 + e, "cpu_percent_avg": 95.0, "rss_mib": rss + e, "rss_peak_mib": rss + 3}
        if gpu:
            values |= {"gpu_mem_mib": 100.0, "gpu_util_percent": 60.0}
        points += [MetricPoint(e * 10, e, SPLIT, name, value, 1000.0 + e) for name, value in values.items()]
    store.log_metrics(run_id, points)


def test_figures_of_the_metrics_the_runs_recorded(sweep_store: tuple[Store, str]) -> None:
    store, _ = sweep_store
    runs = store.runs_frame()
    assert system_figures(store, runs, Selection()) == {}, "runs without system metrics: nothing to draw"
    for i, run_id in enumerate(runs["id"]):
        add_system(store, run_id, 500.0 + 10 * i, gpu=i == 0)
    figures = system_figures(store, runs, Selection())
    assert list(figures) == ["cpu_percent", "rss_mib", "rss_peak_mib", "gpu_mem_mib", "gpu_util_percent"]
    assert len(figures["rss_mib"].data) == len(runs) and list(figures["rss_mib"].data[0].x) == [1, 2, 3]
    assert len(figures["gpu_mem_mib"].data) == 1, "only the run that had a GPU"
    grouped = system_figures(store, runs, Selection(x="step"), group_values(runs, "model"))
    assert "model=lenet (n=4)" in [t.name for t in grouped["rss_mib"].data]


def test_the_result_table_and_its_exports_carry_the_costs(sweep_store: tuple[Store, str]) -> None:
    store, _ = sweep_store
    runs = store.runs_frame()
    add_system(store, runs["id"].iloc[0], 700.0)
    table = result_table(store.runs_frame())
    row = table.set_index("id").loc[runs["id"].iloc[0]]
    assert (row["rss_peak_mib"], row["cpu_percent_avg"]) == (703.0, 95.0)
    assert table["rss_peak_mib"].isna().sum() == len(table) - 1, "runs without system metrics stay empty"
    assert "rss_peak_mib" in report.to_csv(table).splitlines()[0] and "703" in report.to_markdown(table)
