"""The wording of a report's ranking: what its groups mean and how many pairs its correction covers."""
from __future__ import annotations

from types import SimpleNamespace

from cnnkit.experiments.wording import ranking_sentence


def _report(accuracy: dict[str, float], tiers: list[list[str]]) -> SimpleNamespace:
    levels = [SimpleNamespace(label=label, means={"test_acc": value}) for label, value in accuracy.items()]
    return SimpleNamespace(levels=levels, tiers=tiers)


def test_a_ranking_in_groups_names_its_pairs_and_orders_the_groups() -> None:
    report = _report({"ResNet": 0.88, "MLP": 0.83, "LeNet": 0.70}, [["ResNet"], ["MLP", "LeNet"]])
    text = ranking_sentence(report)
    assert "Holm-corrected over all 3 pairs" in text
    assert text.endswith(": ResNet 88.0 % > MLP 83.0 % ≈ LeNet 70.0 %.")
    assert "none is ranked" not in text


def test_a_ranking_of_one_group_says_that_no_net_is_ranked_above_another() -> None:
    accuracy = {"ResNet": 0.849, "MLP": 0.812, "LeNet": 0.678, "NiN": 0.452}
    text = ranking_sentence(_report(accuracy, [list(accuracy)]))
    assert "over all 6 pairs" in text
    assert "do not split the 4 nets into groups, so none is ranked above another" in text
    assert "ResNet 84.9 % ≈ MLP 81.2 % ≈ LeNet 67.8 % ≈ NiN 45.2 %" in text
    assert "smaller family" in text
