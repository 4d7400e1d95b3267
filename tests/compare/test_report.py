"""cnnkit.compare.report: the exports carry the table faithfully and the HTML report stands alone."""
from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd

from cnnkit import plots
from cnnkit.compare import report


def table() -> pd.DataFrame:
    return pd.DataFrame({"id": ["0123abcd", "89abcdef"], "name": ["lenet | relu", "<b>mlp</b>"],
                         "lr": [0.1, 0.9], "final_test_acc": [0.8123456, np.nan], "params": [61706, 203530]})


def test_csv_round_trips() -> None:
    back = pd.read_csv(io.StringIO(report.to_csv(table())))
    pd.testing.assert_frame_equal(back, table())


def test_markdown_escapes_pipes_and_aligns_numbers() -> None:
    md = report.to_markdown(table(), "Runs")
    lines = md.splitlines()
    assert lines[0] == "## Runs" and lines[2].startswith("| id | name | lr |")
    assert lines[3] == "| --- | --- | ---: | ---: | ---: |"
    assert "lenet \\| relu" in md and "0.8123" in md and "61706" in md
    assert len(lines) == 2 + 2 + 2


def test_json_is_strict_and_nan_becomes_null() -> None:
    doc = json.loads(report.to_json(table(), {"group": "g"}, {"note": "x"}))
    assert doc["selection"] == {"group": "g"} and doc["note"] == "x"
    assert doc["runs"][1]["final_test_acc"] is None and doc["runs"][0]["params"] == 61706


def test_html_report_is_standalone_escaped_and_has_every_figure() -> None:
    figs = {"test accuracy": plots.curves([plots.Series("a", [1, 2], [0.5, 0.6])]),
            "scatter": plots.scatter([{"x": 1, "y": 0.5}], "x", "y")}
    page = report.to_html("My <report>", table(), figs, notes=["grouped by lr"],
                          summary=pd.DataFrame({"group": ["lr=0.1"], "runs": [2]}), link="?group=g")
    assert page.startswith("<!DOCTYPE html>") and "My &lt;report&gt;" in page
    assert page.count("Plotly.newPlot") == 2
    assert page.count("plotly.js v") == 1 and '<script src="http' not in page  # plotly.js embedded, once
    assert "&lt;b&gt;mlp&lt;/b&gt;" in page and "<b>mlp</b>" not in page
    assert "grouped by lr" in page and "lr=0.1" in page and "?group=g" in page
