"""cnnkit.text: plain-text tables for the terminal, and the number formats the reports share."""
from __future__ import annotations

import pytest

from cnnkit.text import format_count, format_mean_std, format_pct, format_table


def test_columns_are_padded_to_the_widest_cell():
    text = format_table([("lenet", 61706), ("alexnet", 46764746)], ["model", "params"])
    assert text.splitlines() == [
        "model    params",
        "-------  --------",
        "lenet    61706",
        "alexnet  46764746",
    ]


def test_right_alignment():
    text = format_table([("a", 1), ("bb", 123)], ["name", "n"], align="lr")
    assert text.splitlines() == [
        "name    n",
        "----  ---",
        "a       1",
        "bb    123",
    ]


def test_cells_none_and_floats():
    text = format_table([(None, 0.123456, 3.0, 1234567.0, 1234567.5, True)], ["a", "b", "c", "d", "e", "f"])
    assert text.splitlines()[2].split() == ["-", "0.1235", "3", "1234567", "1.235e+06", "True"]


def test_headers_wider_than_cells_and_no_trailing_spaces():
    lines = format_table([("x", "y")], ["long header", "h"]).splitlines()
    assert lines[1] == "-" * 11 + "  " + "-"
    assert lines[2] == "x            y"
    assert all(line == line.rstrip() for line in lines)


def test_no_rows_gives_the_header_only():
    assert format_table([], ["model", "input"]).splitlines() == ["model  input", "-----  -----"]


def test_unicode_cells_are_measured_in_characters():
    lines = format_table([("6×28×28", 1)], ["shape", "n"]).splitlines()
    assert lines[2] == "6×28×28  1"


# ---- number formats ----------------------------------------------------------------------------

@pytest.mark.parametrize("n,text", [(5, "5"), (1234, "1.23 k"), (61_706, "61.7 k"), (46_764_746, "46.8 M"),
                                    (7.55e9, "7.55 G"), (0, "0"), (float("nan"), "nan")])
def test_format_count(n: float, text: str) -> None:
    assert format_count(n) == text


def test_format_pct():
    assert format_pct(0.874) == "87 %"
    assert format_pct(0.874, 1) == "87.4 %"
    assert format_pct(0.005, 1) == "0.5 %"
    assert format_pct(None) == "—"


def test_format_mean_std():
    assert format_mean_std(0.8743, 0.0031) == "87.4 ± 0.3 %"
    assert format_mean_std(0.8743, None) == "87.4 %"
    assert format_mean_std(None, 0.01) == "—"
