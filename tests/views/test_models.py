"""views.models: a variant's label, its layer table, variants side by side."""
from __future__ import annotations

import json

import pytest

from cnnkit.errors import ConfigError
from cnnkit.models import anatomy, registry
from cnnkit.views.models import (
    changed_options,
    input_size_param,
    layer_table,
    options_key,
    rf_text,
    side_by_side,
    time_table,
    variant_label,
)


def test_changed_options_keep_what_differs_from_the_defaults() -> None:
    knobs = registry.get("lenet").knobs
    defaults = {k: p.default for k, p in knobs.items()}
    assert changed_options(knobs, defaults) == {}
    assert changed_options(knobs, {**defaults, "activation": "relu"}) == {"activation": "relu"}


def test_variant_label_names_the_changed_options_and_the_input() -> None:
    assert variant_label("lenet", {}) == "lenet"
    assert variant_label("lenet", {"activation": "relu", "fc": (120, 84)}, 64) == "lenet(activation=relu fc=120,84)@64"
    assert variant_label("alexnet", {"dropout": 0.3, "lrn": False}) == "alexnet(dropout=0.3 lrn=false)"


def test_options_key_is_canonical_json() -> None:
    key = options_key({"fc": (120, 84), "activation": "relu"})
    assert key == '{"activation": "relu", "fc": [120, 84]}' and json.loads(key)["fc"] == [120, 84]


def test_input_size_param_is_empty_or_a_bounded_side() -> None:
    param = input_size_param(227)
    assert param.check(None) is None and param.check(64) == 64 and "227" in param.help
    with pytest.raises(ConfigError, match="input_size"):
        param.check(4)


def test_layer_table_of_lenet() -> None:
    table = layer_table(anatomy.describe("lenet", 1, None, 10).to_dict())
    assert table["params"].sum() == 61_706 and list(table["layer"])[:1] == ["0"]
    assert table["% of params"].sum() == pytest.approx(100) and table["% of MACs"].sum() == pytest.approx(100)
    assert table["output shape"].iloc[0] == "6×28×28"


def test_side_by_side_shows_where_the_parameters_sit() -> None:
    anatomies = {name: anatomy.describe(name, 1, None, 10).to_dict() for name in ("lenet", "alexnet")}
    table = side_by_side(anatomies)
    assert list(table["model"]) == ["lenet", "alexnet"] and table["input"].tolist() == ["1×28×28", "1×224×224"]
    assert table.set_index("model").loc["alexnet", "FC % of params"] > 90


def test_layer_table_has_receptive_fields_and_activation_memory_for_a_batch() -> None:
    table = layer_table(anatomy.describe("lenet", 1, None, 10).to_dict(), batch=256)
    assert list(table["receptive field"])[:6] == ["5×5", "5×5", "6×6", "14×14", "14×14", "16×16"]
    assert table["receptive field"].iloc[-1] == "whole input" and table["jump"].iloc[5] == 4
    assert table["field starts at"].iloc[0] == -2 and table["jump"].isna().iloc[-1]
    assert table["fp32 MiB @ 256"].iloc[0] == 6 * 28 * 28 * 256 * 4 / 2**20
    assert (table["bf16 MiB @ 256"] * 2 == table["fp32 MiB @ 256"]).all()
    assert "fp32 MiB @ 256" not in layer_table(anatomy.describe("lenet", 1, None, 10).to_dict()).columns
    assert (rf_text(None), rf_text(7)) == ("whole input", "7×7")


def test_time_table_puts_macs_and_time_shares_side_by_side() -> None:
    rows = [{"name": "0", "type": "Conv2d", "macs_share": 0.6, "time_share": 0.25, "forward_ms": 1.0,
             "backward_ms": 2.0},
            {"name": "loss", "type": "ops outside layers", "macs_share": 0.0, "time_share": 0.1, "forward_ms": 0.5,
             "backward_ms": 0.7}]
    table = time_table(rows)
    assert list(table.columns) == ["layer", "type", "% of MACs", "% of time", "forward ms", "backward ms"]
    assert table["% of MACs"].tolist() == [60.0, 0.0] and table["% of time"].tolist() == [25.0, 10.0]
