"""cnnkit.experiments.looks: the ledger of every look, the archive of the bundles they replaced, the busy time."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import ROOT

from cnnkit.experiments import looks


def entry(preset: str, group: str, start: float, end: float, bundle: str) -> dict:
    return {"preset": preset, "protocol": 2, "budget": "standard", "seeds": [1000, 1001], "group": group,
            "first_start": start, "last_finish": end, "run_seconds": end - start, "bundle": bundle}


def test_a_new_look_archives_the_bundle_it_replaces(tmp_path: Path) -> None:
    (tmp_path / "reference").mkdir()
    (tmp_path / "reference" / "pooling.zip").write_bytes(b"first look")
    looks.record(tmp_path, entry("pooling", "g1", 0, 60, "reference/pooling.zip"))
    looks.archive_current(tmp_path, "pooling")
    assert (tmp_path / "looks" / "pooling-g1.zip").read_bytes() == b"first look"
    assert not (tmp_path / "reference" / "pooling.zip").exists()
    looks.record(tmp_path, entry("pooling", "g2", 100, 160, "reference/pooling.zip"))
    ledger = looks.load(tmp_path)
    assert [(lk["group"], lk["bundle"]) for lk in ledger] == [("g1", "looks/pooling-g1.zip"),
                                                              ("g2", "reference/pooling.zip")]


def test_recording_the_same_group_again_replaces_its_entry(tmp_path: Path) -> None:
    looks.record(tmp_path, entry("a", "g1", 0, 10, "x"))
    looks.record(tmp_path, entry("a", "g1", 0, 20, "x"))
    assert len(looks.load(tmp_path)) == 1 and looks.load(tmp_path)[0]["last_finish"] == 20


def test_busy_time_counts_overlapping_looks_once_and_leaves_pauses_out() -> None:
    ledger = [entry("a", "1", 0, 100, ""), entry("b", "2", 50, 150, ""), entry("c", "3", 1000, 1100, ""),
              {"first_start": None, "last_finish": None}]
    assert looks.busy_seconds(ledger) == pytest.approx(250)


def test_a_look_with_the_spans_of_its_runs_leaves_its_own_pauses_out() -> None:
    interrupted = entry("a", "1", 0, 1000, "") | {"busy_spans": [[0, 100], [900, 1000]]}  # a restart between
    assert looks.busy_seconds([interrupted, entry("b", "2", 50, 150, "")]) == pytest.approx(250)


def test_spans_merge_into_disjoint_ones_in_order() -> None:
    assert looks.merge_spans([(5, 7), (0, 2), (1, 3), (3, 4)]) == [(0, 4), (5, 7)]
    assert looks.merge_spans([]) == []


def test_the_current_looks_get_their_spans_from_their_bundles_once(tmp_path: Path) -> None:
    class Report:
        group, busy_spans = "g2", [(0.04, 10.0), (20.0, 30.06)]

    looks.record(tmp_path, entry("a", "g1", 0, 5, "looks/a-g1.zip"))
    looks.record(tmp_path, entry("a", "g2", 0, 30, "reference/a.zip"))
    looks.fill_spans(tmp_path, {"a": Report()})
    assert [lk.get("busy_spans") for lk in looks.load(tmp_path)] == [None, [[0.0, 10.0], [20.0, 30.1]]]


def test_the_shipped_ledger_lists_every_archived_bundle() -> None:
    results = ROOT / "results"
    ledger = json.loads((results / "looks.json").read_text())
    assert {lk["bundle"] for lk in ledger if lk["bundle"]} == {
        *(f"looks/{p.name}" for p in (results / "looks").glob("*.zip")),
        *(f"reference/{p.name}" for p in (results / "reference").glob("*.zip"))}
    assert all(lk["protocol"] in (1, 2) and lk["seeds"] for lk in ledger)
    # A look without a bundle is one still running: its plan and hash are recorded all the same.
    assert all(lk["plan_hash"] for lk in ledger if not lk["bundle"])
