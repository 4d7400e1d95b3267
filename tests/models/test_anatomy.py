"""cnnkit.models.anatomy: per-layer shapes, parameters and MACs, and their totals."""
from __future__ import annotations

import pytest
import torch
import torchvision

from cnnkit.models import anatomy, build_model
from cnnkit.models.anatomy import describe, summarize
from cnnkit.models.shapes import CollapseError


def conv_macs(out_c: int, side: int, in_c: int, k: int) -> int:
    return out_c * side * side * in_c * k * k


def test_lenet_layer_by_layer():
    a = describe("lenet")
    rows = [(layer.name, layer.type, layer.output_shape, layer.params, layer.macs) for layer in a.layers]
    assert rows == [
        ("0", "Conv2d", (6, 28, 28), 6 * 25 + 6, conv_macs(6, 28, 1, 5)),
        ("1", "Sigmoid", (6, 28, 28), 0, 0),
        ("2", "AvgPool2d", (6, 14, 14), 0, 0),
        ("3", "Conv2d", (16, 10, 10), 16 * 6 * 25 + 16, conv_macs(16, 10, 6, 5)),
        ("4", "Sigmoid", (16, 10, 10), 0, 0),
        ("5", "AvgPool2d", (16, 5, 5), 0, 0),
        ("6", "Flatten", (400,), 0, 0),
        ("7", "Linear", (120,), 400 * 120 + 120, 400 * 120),  # the notes' 16·5·5·120 ≈ 48 k
        ("8", "Sigmoid", (120,), 0, 0),
        ("9", "Linear", (84,), 120 * 84 + 84, 120 * 84),
        ("10", "Sigmoid", (84,), 0, 0),
        ("11", "Linear", (10,), 84 * 10 + 10, 84 * 10),
    ]
    assert a.total_params == a.trainable_params == 61_706
    assert a.macs == 416_520 == sum(layer.macs for layer in a.layers)
    assert a.input_shape == (1, 28, 28)
    assert sum(layer.param_share for layer in a.layers) == pytest.approx(1.0)


@pytest.mark.parametrize("name,size,expected", [
    ("alexnet", 224, 939e6),
    ("resnet18", 96, 319e6),
    ("vgg11", 224, 7.55e9),
    ("nin", 224, 764e6),
    ("googlenet", 96, 277e6),
])
def test_macs_match_the_reference_figures(name, size, expected):
    a = describe(name, 1, size)
    assert a.macs == pytest.approx(expected, rel=0.01)
    assert a.macs == sum(layer.macs for layer in a.layers)


def test_nested_modules_are_counted_once_per_leaf():
    a = describe("googlenet")
    assert sum(layer.params for layer in a.layers) == a.total_params == 5_977_530
    assert any(layer.name.startswith("2.0.p") for layer in a.layers)  # Inception paths are rows


@pytest.mark.parametrize("builder,params,macs", [
    (torchvision.models.alexnet, 61.1e6, 0.71e9),
    (torchvision.models.vgg11, 132.9e6, 7.6e9),
    (torchvision.models.resnet18, 11.7e6, 1.8e9),
])
def test_torchvision_imagenet_models_cross_check(builder, params, macs):
    with torch.device("meta"):
        model = builder()
    a = summarize(model, (3, 224, 224))
    assert a.total_params == pytest.approx(params, rel=0.01)
    assert a.macs == pytest.approx(macs, rel=0.02)


@pytest.mark.parametrize("name", ["lenet", "alexnet", "vgg11", "vgg16"])
def test_fully_connected_layers_hold_most_weights_and_convs_most_compute(name):
    split = describe(name).split
    threshold = 0.88 if name == "vgg16" else 0.90
    assert split["fc"]["params_share"] >= threshold
    assert split["conv"]["macs_share"] > 0.85
    assert split["conv"]["macs_share"] > split["fc"]["macs_share"]
    assert sum(split[k]["params"] for k in anatomy.KINDS) == describe(name).total_params


def test_first_fc_layers_match_the_notes_arithmetic():
    first_fc = {name: next(layer for layer in describe(name).layers if layer.kind == "fc").params
                for name in ("lenet", "alexnet", "vgg11")}
    assert first_fc["lenet"] == 16 * 5 * 5 * 120 + 120
    assert first_fc["alexnet"] == 256 * 5 * 5 * 4096 + 4096
    assert first_fc["vgg11"] == 512 * 7 * 7 * 4096 + 4096


def test_nin_and_resnet_are_almost_all_convolution():
    assert describe("nin").split["fc"]["params"] == 0
    assert describe("resnet18").split["conv"]["params_share"] > 0.99


def test_batchnorm_counts_as_other():
    a = describe("lenet", batchnorm=True)
    assert a.split["other"]["params"] == 2 * (6 + 16 + 120 + 84)
    assert a.total_params == 62_158


def test_frozen_parameters_are_not_trainable():
    model = build_model("lenet")
    model[0].requires_grad_(False)
    a = summarize(model, (1, 28, 28))
    assert a.trainable_params == 61_706 - 156 and a.total_params == 61_706


def test_summary_runs_on_real_weights_too_and_leaves_training_mode_alone():
    model = build_model("lenet", batchnorm=True).train()
    a = summarize(model, (1, 28, 28))
    assert a.macs == 416_520 and model.training


def test_to_dict_is_the_cli_contract():
    doc = describe("lenet").to_dict()
    assert set(doc) == {"input", "total_params", "trainable_params", "macs", "split", "layers"}
    assert doc["input"] == [1, 28, 28]
    assert set(doc["layers"][0]) >= {"name", "type", "kind", "output_shape", "params", "macs", "param_share"}
    assert doc["layers"][0]["output_shape"] == [6, 28, 28]


def test_alexnet_at_28_collapses_at_its_second_pool():
    with pytest.raises(CollapseError) as info:
        describe("alexnet", 1, 28)
    assert info.value.layer == "5" and info.value.layer_type == "MaxPool2d"
    assert "2×2" in str(info.value)
