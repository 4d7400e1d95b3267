"""The parallel-coordinates plot of a search's completed trials."""
from __future__ import annotations

import math

from support.runs import queued_runs
from support.searches import begin, play

from cnnkit.search.figures import parallel_coordinates
from cnnkit.search.results import search_report
from cnnkit.store import Store


def test_one_axis_per_key_then_the_value_log_keys_on_a_log_axis(store: Store) -> None:
    group, driver = begin(store, trials=3)
    for acc in (0.5, 0.7, 0.6):
        driver.step()
        play(store, queued_runs(store, group)[0].id, [acc])
    driver.step()
    report = search_report(store, group)
    figure = parallel_coordinates(report)
    (coords,) = figure.data
    lr, batch, value = coords.dimensions
    assert [d.label for d in coords.dimensions] == ["lr (log)", "batch_size", "final test accuracy"]
    assert list(value.values) == [0.5, 0.7, 0.6] and list(coords.line.color) == [0.5, 0.7, 0.6]
    assert list(lr.values) == [math.log10(v) for v in report.trials["lr"]]
    assert list(lr.ticktext) == ["0.001", "0.01", "0.1", "1"] and tuple(lr.range) == (-3.0, 0.0)
    assert list(batch.ticktext) == ["64", "128"]
    assert list(batch.values) == [(0 if b == 64 else 1) for b in report.trials["batch_size"]]
    assert "3 completed trials of 3" in figure.layout.title.text
