"""compare.urlstate: the selection ↔ its URL, lenient parsing, the notes of a report."""
from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from cnnkit.compare.urlstate import FIELDS, Selection


def test_selection_round_trips_through_the_url() -> None:
    sel = Selection(models=["lenet", "mlp"], statuses=["completed"], runs=["0123abcd"], group_by="cfg.lr",
                    x="wall", smoothing=0.6, log_y=True, reference=True, scatter_x="macs", tags=["a b"])
    query = sel.to_query()
    assert query["model"] == ["lenet", "mlp"] and query["logy"] == "1" and "dataset" not in query
    assert Selection.from_query(query) == sel
    assert Selection.from_query(parse_qs(sel.query_string())) == sel
    assert Selection().to_query() == {}


def test_query_lists_is_the_query_as_a_url_reads_back() -> None:
    sel = Selection(models=["lenet"], smoothing=0.5, log_y=True)
    assert sel.query_lists() == {"model": ["lenet"], "smooth": ["0.5"], "logy": ["1"]}
    assert Selection.from_query(sel.query_lists()) == sel
    assert Selection().query_lists() == {}


@pytest.mark.parametrize("query", [
    {"x": "sideways"}, {"smooth": "nan"}, {"smooth": "1.5"}, {"smooth": "abc"}, {"by": "__import__"},
    {"status": ["bogus"]}, {"run": ["../../etc/passwd", "ZZZZZZZZ"]}, {"sx": "nope"}, {"unknown": "1"},
])
def test_malformed_queries_fall_back_to_defaults(query: dict) -> None:
    assert Selection.from_query(query) == Selection()


def test_comma_separated_run_ids_are_accepted() -> None:
    assert Selection.from_query({"run": "0123abcd,89abcdef"}).runs == ["0123abcd", "89abcdef"]


def test_report_notes_say_what_is_selected_and_how_it_is_grouped() -> None:
    assert Selection().report_notes() == ["Selection: all runs"]
    assert Selection(models=["lenet"], group_by="cfg.lr").report_notes() == ["Selection: model=lenet&by=cfg.lr",
                                                                            "Grouped by cfg.lr"]


def test_fields_are_the_selection_s_fields_in_order() -> None:
    assert FIELDS[:6] == ("models", "datasets", "statuses", "groups", "tags", "runs") and "scatter_x" in FIELDS
    assert Selection(**{name: getattr(Selection(), name) for name in FIELDS}) == Selection()


def test_a_shared_link_restores_the_verdicts_baseline_and_metric_and_the_diffs_sides() -> None:
    sel = Selection(group_by="cfg.lr", baseline="lr=0.1", metric="test_loss", diff_a="level:lr=0.1",
                    diff_b="run:0123abcd")
    assert sel.to_query() == {"by": "cfg.lr", "base": "lr=0.1", "metric": "test_loss", "da": "level:lr=0.1",
                              "db": "run:0123abcd"}
    assert Selection.from_query(sel.query_lists()) == sel


@pytest.mark.parametrize("query", [{"metric": "accuracy"}, {"da": "run:../../x"}, {"db": "level:"},
                                   {"da": "group:g"}])
def test_a_malformed_verdict_or_diff_falls_back_to_defaults(query: dict) -> None:
    assert Selection.from_query(query) == Selection()
