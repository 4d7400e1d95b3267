"""cnnkit.d2l: d2l's table as data agrees with the mission page and with our own models."""
from __future__ import annotations

import pytest

from cnnkit import d2l
from cnnkit.config import RunConfig
from cnnkit.models import anatomy


def test_table_has_the_seven_d2l_rows() -> None:
    rows = d2l.table()
    assert [r["model"] for r in rows][:2] == ["LeNet (sigmoid, avg-pool)", "AlexNet"]
    assert len(rows) == 7
    lenet = rows[0]
    assert (lenet["lr"], lenet["batch"], lenet["input"], lenet["test acc"]) == (0.9, 256, 28, "0.779")
    assert rows[5]["test acc"] == "0.708–0.807"


@pytest.mark.parametrize("ref", [r for r in d2l.D2L if r.params], ids=lambda r: r.label)
def test_reference_parameter_counts_match_our_models(ref: d2l.Reference) -> None:
    anat = anatomy.describe(ref.model, 1, ref.input_size, 10, **dict(ref.model_options))
    assert anat.total_params == ref.params


@pytest.mark.parametrize("ref", d2l.D2L, ids=lambda r: r.label)
def test_every_row_is_a_valid_config_that_matches_itself(ref: d2l.Reference) -> None:
    config = RunConfig.from_dict(ref.config())
    assert d2l.match(config.to_dict()) == ref


def test_match_needs_the_same_recipe_and_for_model_does_not() -> None:
    config = RunConfig(model="lenet", lr=0.1).to_dict()
    assert d2l.match(config) is None
    assert d2l.for_model("lenet").label.startswith("LeNet")
    assert d2l.for_model("lenet", {"activation": "sigmoid", "pool": "avg"}).label.startswith("LeNet")
    assert d2l.for_model("lenet", {"batchnorm": "true"}).label == "BN-LeNet"
    assert d2l.for_model("lenet", {"activation": "relu"}) is None
    assert d2l.for_model("vgg11", {"width_ratio": 4.0}).label.startswith("VGG-11")


def test_overlay_points_one_per_metric_and_row() -> None:
    points = d2l.overlay_points([("lenet", {}), ("lenet", {}), ("mlp", {})])
    assert {p["metric"] for p in points} == {"train_loss", "train_acc", "test_acc"}
    assert len(points) == 3 and all(p["epoch"] == 10 for p in points)
