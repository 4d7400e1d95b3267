"""views.experiments: the catalogue and preset tables, a launch's cost, a report's table, curves by level."""
from __future__ import annotations

from pathlib import Path

import pytest

from cnnkit import estimate, experiments
from cnnkit.store import Store
from cnnkit.views.experiments import (
    DEFAULT_BUDGET,
    PUBLISHED_COLUMN,
    SEEDS_COLUMN,
    budget_label,
    catalogue_table,
    launch_seconds,
    launch_text,
    level_curves,
    levels_table,
    preset_groups,
    preset_label,
    preset_levels_table,
    presets_without_results,
    progress_text,
    reference_bundles,
)


def test_catalogue_and_preset_tables(store: Store) -> None:
    presets = experiments.catalogue()
    table = catalogue_table(presets, store)
    assert list(table["preset"]) == [p.name for p in presets] and set(table["latest"]) == {""}
    assert SEEDS_COLUMN == "seeds: quick / standard / full"
    assert dict(zip(table["preset"], table[SEEDS_COLUMN]))["pooling"] == "3 / 5 / 3"
    assert dict(zip(table["preset"], table[SEEDS_COLUMN]))["kernel-size"] == "3 / 10 / 3"
    assert dict(zip(table["preset"], table["claims"]))["pooling"] == 2
    pooling = experiments.get("pooling")
    assert preset_label(pooling).startswith(pooling.title + " — lines ")
    levels = preset_levels_table(pooling)
    assert len(levels) == len(pooling.levels)
    assert sum(label.endswith(" (baseline)") for label in levels["level"]) == 1


def test_launch_seconds_estimates_each_level_once_per_seed(store: Store) -> None:
    pooling = experiments.get("pooling")
    one = launch_seconds(pooling, "smoke", 1, store, False)
    assert one > 0
    assert launch_seconds(pooling, "smoke", 3, store, False) == pytest.approx(3 * one)
    assert launch_seconds(pooling, "standard", None, store, False) == pytest.approx(
        launch_seconds(pooling, "standard", 5, store, False))


def test_every_budget_is_offered_with_its_seeds_and_estimate(store: Store) -> None:
    assert DEFAULT_BUDGET == "standard" and DEFAULT_BUDGET in experiments.BUDGETS
    pooling = experiments.get("pooling")
    assert budget_label(pooling, "standard") == "standard: all training images, 6 epochs · 5 seeds (1000–1004)"
    assert budget_label(pooling, "quick") == "quick: all training images, 4 epochs · 3 seeds (0–2)"
    assert "cosine learning-rate schedule" in budget_label(experiments.get("channels"), "standard")
    text = launch_text(pooling, "standard", 2, store, False)
    each = [estimate.format_seconds(launch_seconds(pooling, b, None, store, False)) for b in experiments.BUDGETS]
    assert text.startswith(f"≈ {estimate.format_seconds(launch_seconds(pooling, 'standard', 2, store, False))} on "
                           f"this machine, one run after another (quick ≈ {each[0]} · standard ≈ {each[1]} · full ≈ "
                           f"{each[2]} at their default seeds;")


def test_a_launched_group_s_table_progress_and_curves(store: Store) -> None:
    group = experiments.launch(store, "pooling", "smoke", seeds=2, start_worker=False)
    assert preset_groups(store, "pooling") == {group: f"{store.group(group)['name']} · {group}"}
    assert preset_groups(store, "relu-vs-sigmoid") == {}
    table = levels_table(experiments.analyze(store, group))
    assert len(table) == 2 and set(table["runs"]) == {"2 queued"}
    assert progress_text(experiments.group_progress(store, group)) == "0/4 runs finished · 4 queued"
    view = level_curves(store, group)
    assert view is not None and len(view.runs) == 4
    assert list(view.groups.cat.categories) == store.group(group)["meta"]["levels"]
    assert level_curves(store, store.create_group("experiment", "empty", {})) is None


def test_the_zoo_s_table_shows_d2l_s_figures(store: Store) -> None:
    group = experiments.launch(store, "zoo", "standard", start_worker=False)
    table = levels_table(experiments.analyze(store, group))
    published = dict(zip(table["level"], table[PUBLISHED_COLUMN]))
    assert published["ResNet-18 (32 px)"] == "89.3 % / 99.7 %" and published["MLP (28 px)"] == "—"
    pooling = experiments.launch(store, "pooling", "smoke", seeds=2, start_worker=False)
    assert PUBLISHED_COLUMN not in levels_table(experiments.analyze(store, pooling))


def test_progress_text_names_the_active_statuses() -> None:
    assert progress_text({"finished": 3, "total": 8, "running": 1, "queued": 4, "failed": 1}) == \
        "3/8 runs finished · 4 queued · 1 running"


def test_reference_bundles_are_the_zips_in_the_catalogue_order(tmp_path: Path) -> None:
    assert reference_bundles(tmp_path) == []
    folder = tmp_path / "reference"
    folder.mkdir()
    for name in ("b.zip", "zoo.zip", "a.zip", "activation-lr.zip", "pooling.zip", "notes.txt"):
        (folder / name).write_text("")
    assert [p.name for p in reference_bundles(tmp_path)] == ["pooling.zip", "activation-lr.zip", "zoo.zip", "a.zip",
                                                              "b.zip"]


def test_presets_without_results_say_why_an_unfinished_look_first(tmp_path: Path) -> None:
    from cnnkit.experiments import looks

    (tmp_path / "reference").mkdir()
    (tmp_path / "reference" / "pooling.zip").write_text("")
    looks.record(tmp_path, {"preset": "zoo", "protocol": 2, "budget": "standard", "seeds": [1000, 1001],
                            "group": "g", "date": "2026-12-06", "plan_hash": "ab" * 32, "bundle": None})
    missing = dict(presets_without_results(tmp_path))
    titles = {p.name: p.title for p in experiments.catalogue()}
    assert titles["pooling"] not in missing and len(missing) == len(titles) - 1
    assert missing[titles["zoo"]] == ("its look of 2026-12-06 (2 seeds (1000–1001), plan abababababab…) is planned "
                                      "and queued but not finished yet")
    assert missing[titles["learning-rate"]] == "not run yet"
