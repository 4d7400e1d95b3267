"""cnnkit.experiments.configs: the catalogue's API, its claims and sources, and the configs presets build."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from support import ROOT

from cnnkit import experiments
from cnnkit.errors import ConfigError
from cnnkit.experiments.configs import UNTESTED, level_configs, preset_dict, seed_values, seeds_text
from cnnkit.experiments.protocol import write_plan
from cnnkit.models import anatomy

NOTES = ROOT.parent / "shared" / "seeds"
SOURCE_RE = re.compile(r"^notes (\d{3}):(\d+)$")


@pytest.mark.parametrize("budget", experiments.ALL_BUDGETS)
def test_every_preset_builds_valid_configs_under_every_budget(budget: str, no_missing_data: None) -> None:
    for preset in experiments.catalogue():
        configs = experiments.build_configs(preset, budget)
        assert len(configs) == len(preset.levels) * preset.seeds(budget)
        assert {label for label, _ in configs} == set(preset.labels)


def test_standard_looks_run_on_seeds_no_earlier_look_used() -> None:
    for preset in experiments.catalogue():
        seeds = seed_values(preset, "standard")
        assert seeds[0] == 1000 and len(seeds) == preset.seeds("standard") >= 5
    assert seed_values(experiments.get("pooling"), "quick") == [0, 1, 2]
    assert len(seed_values(experiments.get("kernel-size"), "standard")) == 10


def test_every_notes_claim_names_a_line_of_the_notes() -> None:
    sources = [s for p in experiments.catalogue() for c in p.claims if c.origin == "notes" for s in c.sources]
    sources += [s for u in UNTESTED for s in u.source.split(" ", 1)[1:] for s in [f"notes {x}" for x in s.split()]]
    assert sources and all(SOURCE_RE.match(s) for s in sources), [s for s in sources if not SOURCE_RE.match(s)]
    if not NOTES.is_dir():
        pytest.skip("the study notes (shared/seeds/) are not beside this checkout")
    files = {p.name[:3]: p.read_text().splitlines() for p in NOTES.glob("*.txt")}
    for source in sources:
        number, line = SOURCE_RE.match(source).groups()
        assert files[number][int(line) - 1].strip(), f"{source} is a blank line"


def test_every_preset_tests_a_claim_of_the_notes_but_the_zoo_which_tests_the_textbooks() -> None:
    textbook_only = {p.name for p in experiments.catalogue() if not any(c.origin == "notes" for c in p.claims)}
    assert textbook_only == {"zoo"}
    assert all(p.claims for p in experiments.catalogue())


def test_parameter_counts_in_level_names_are_the_models_own(no_missing_data: None) -> None:
    """A level named "(61.7 k parameters)" has that many, to the digits shown, as its runs build it."""
    for preset in experiments.catalogue():
        for level in write_plan(preset, "standard", environment={})["levels"]:
            match = re.search(r"([\d.]+) k parameters", level["label"])
            if match:
                digits = len(match.group(1).partition(".")[2])
                assert f"{level['params'] / 1000:.{digits}f}" == match.group(1), (preset.name, level)


@pytest.mark.parametrize("name", ["conv-layers", "fc-layers"])
def test_the_parameter_matched_levels_are_within_ten_percent_of_the_baseline(name: str) -> None:
    preset = experiments.get(name)
    configs = level_configs(preset, "standard")
    params = {label: anatomy.describe("lenet", 1, 28, 10, **c.model_options).total_params
              for label, c in configs.items()}
    base = params[preset.baseline]
    matched = [label for label in params if re.search(r"6\d\.\d k parameters", label) and label != preset.baseline]
    assert len(matched) == 2
    assert all(abs(params[label] / base - 1) <= 0.10 for label in matched), params


def test_preset_json_view_and_unknown_names() -> None:
    view = preset_dict(experiments.get("batch-size"))
    assert view["budgets"]["standard"]["seeds"] == [1000, 1001, 1002, 1003, 1004]
    assert {c["kind"] for c in view["claims"]} == {"better", "fails"}
    with pytest.raises(ConfigError, match="experiment: must be one of"):
        experiments.get("nope")


@pytest.mark.parametrize("seeds,text", [([1000, 1001, 1002], "3 seeds (1000–1002)"), ([3], "1 seed (3)"),
                                        ([0, 2, 7], "3 seeds (0, 2, 7)"), ([], "no seeds")])
def test_seeds_text(seeds: list[int], text: str) -> None:
    assert seeds_text(seeds) == text


def test_untested_claims_say_why() -> None:
    assert UNTESTED and all(u.why and u.text for u in UNTESTED)


def test_missing_data_is_named_with_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from cnnkit.data import loading

    monkeypatch.setattr(loading, "is_available", lambda name, root=None: name != "cifar10")
    preset = experiments.get("course-cnn-vs-vgg16")
    assert experiments.missing_datasets(preset) == ["cifar10"]
    assert "CIFAR-10" in experiments.data_line(preset) and "experiment run course-cnn-vs-vgg16" in \
        experiments.data_line(preset)
    assert Path(experiments.RESULTS_DIR).name == "results"
