"""bench.health: what watching a run costs, measured side by side (short mode here; no timing is asserted)."""
from __future__ import annotations

from support import requires_fmnist

from cnnkit.bench import health, suite


def test_the_section_says_what_watching_costs_per_epoch() -> None:
    section = {"images": 60000, "reports_per_epoch": 5, "repeats": 3, "train_seconds": 2.93, "watch_seconds": 0.0149,
               "share": 0.0051, "wall_with": 3.54, "wall_without": 3.50, "ratio": 1.0114, "points": 87,
               "snapshot_bytes": 60000}
    lines = health.format_section(section)
    assert lines[0].endswith("14.9 ms per epoch of 2.93 s of training (0.51 %)")
    assert "3.54 s with, 3.50 s without (1.011×)" in lines[1] and "87 health points and 60 KB" in lines[1]
    assert "health" in suite.SECTIONS


@requires_fmnist
def test_a_short_run_measures_both_sides(fmnist) -> None:
    section = health.run(short=True, log=lambda _: None, dataset=fmnist)
    assert section["repeats"] == 1 and section["images"] == 6000
    assert 0 < section["watch_seconds"] and 0 < section["train_seconds"]
    assert section["wall_with"] > 0 and section["wall_without"] > 0
    assert section["points"] == 87  # 5 reports × 5 layers × 3 norms, and 4 sigmoids × 3 at the epoch's end
    assert 40_000 < section["snapshot_bytes"] < 100_000
