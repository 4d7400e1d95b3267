"""views.train: the form's config and recipe, the cost line, what a sweep varies and queues."""
from __future__ import annotations

import pytest

from cnnkit import sweep
from cnnkit.config import FIELD_PARAMS, RunConfig
from cnnkit.errors import ConfigError
from cnnkit.estimate import Estimate
from cnnkit.models import registry
from cnnkit.views.train import (
    estimate_text,
    form_config,
    recipe_fields,
    recipe_values,
    sweep_keys,
    sweep_preview,
    sweep_run_names,
)


def test_form_config_is_the_checked_config() -> None:
    config = form_config("lenet", {"activation": "relu"}, {"lr": 0.05, "epochs": 2})
    assert config == RunConfig(model="lenet", model_options={"activation": "relu"}, lr=0.05, epochs=2)
    with pytest.raises(ConfigError, match="lr"):
        form_config("lenet", {}, {"lr": 0.0})
    with pytest.raises(ConfigError, match="needs at least"):
        form_config("alexnet", {}, {"input_size": 32})


def test_estimate_text() -> None:
    est = Estimate(12.0, 1000.0, "guess", "a rough guess", 12_000, 2_000, epochs=3)
    assert estimate_text(est) == ("**≈ 12 s per epoch, 36 s for 3 epochs** (12,000 training images). "
                                  "a rough guess.")
    assert "for 1 epoch**" in estimate_text(Estimate(12.0, 1000.0, "guess", "x", 12_000, 2_000, epochs=1))


def test_sweep_names_and_preview() -> None:
    axes = [("lr", "0.1,0.5")]
    configs = sweep.expand(RunConfig(), axes, 2)
    names = sweep_run_names(configs, axes, 2)
    assert names == ["lenet lr=0.1 seed=0", "lenet lr=0.1 seed=1", "lenet lr=0.5 seed=0", "lenet lr=0.5 seed=1"]
    assert sweep_preview(names) == "4 runs: " + "; ".join(names)
    many = [f"run {i}" for i in range(10)]
    assert sweep_preview(many) == "10 runs: " + "; ".join(many[:8]) + " …"


def test_recipe_values_set_every_recipe_field() -> None:
    fields = recipe_fields()
    assert "lr" in fields and "epochs" in fields
    resnet = recipe_values("resnet18", "fashion-mnist")
    assert set(resnet) == set(fields) and resnet["lr"] == registry.get("resnet18").recipe["lr"]
    lenet = registry.get("lenet").recipe
    assert {k: v for k, v in recipe_values("lenet", "fashion-mnist").items() if k not in lenet} == {
        k: FIELD_PARAMS[k].default for k in fields if k not in lenet}


def test_a_colour_model_moves_the_form_to_a_colour_dataset() -> None:
    colour = next(n for n in registry.names() if registry.get(n).in_channels == 3)
    assert recipe_values(colour, "fashion-mnist")["dataset"] == "cifar10"
    assert recipe_values("lenet", "fashion-mnist").get("dataset", "fashion-mnist") == "fashion-mnist"


def test_sweep_keys_are_the_fields_then_the_knobs() -> None:
    keys = sweep_keys("lenet")
    assert "model" not in keys and keys[0] == next(k for k in FIELD_PARAMS if k != "model")
    assert keys[-len(registry.get("lenet").knobs):] == sorted(registry.get("lenet").knobs)
