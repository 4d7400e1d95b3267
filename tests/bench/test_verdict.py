"""cnnkit.bench.verdict: the section times Compare's verdict and diff on a filled store (never asserts a time)."""
from __future__ import annotations

from cnnkit.bench import suite, verdict


def test_the_section_times_the_verdict_and_the_diff_and_formats_them() -> None:
    section = verdict.run(short=True, log=lambda _: None, fill_store=suite.fill_store, repeats=1)
    assert section["runs"] == 40 and section["levels"] == 4
    assert set(section["verdict"]) == set(section["diff"]) == {"wall", "cpu"}
    assert section["flips"][1] > section["flips"][0], "the large learning rates get the hard images right"
    lines = verdict.format_section(section)
    assert lines[0].startswith("compare verdict, 40 runs in 4 levels: ") and "20 runs against 20" in lines[1]
    assert "verdict" in suite.SECTIONS and "compare verdict" in suite.format_report(
        {"machine": suite.machine(), "device": "cpu", "date": "today", "short": True, "verdict": section})
