"""cnnkit.models.registry: every registered architecture builds and runs, has d2l's parameter count, and refuses
knobs it does not have in one line."""
from __future__ import annotations

import pytest
import torch
from support.models import meta_build, n_params

from cnnkit.config import RunConfig
from cnnkit.errors import ConfigError
from cnnkit.models import MODELS, build_model, get, names

BIG = {"alexnet", "vgg11", "vgg16"}  # 224 px and 47–134 M parameters: a real forward takes seconds


# ---- the registry -------------------------------------------------------------------------------

def test_registry_lists_the_classic_models_in_historical_order():
    assert names()[:7] == ["lenet", "alexnet", "vgg11", "vgg16", "nin", "googlenet", "resnet18"]
    assert {"mlp", "course-cnn"} <= set(names())
    for name in names():
        spec = get(name)
        assert spec.name == name and spec.description and spec.paper and spec.native_input >= 8
        assert set(spec.recipe) <= set(RunConfig.__dataclass_fields__)
        RunConfig(model=name, **spec.recipe)  # every recipe is a valid config


def test_unknown_model_is_a_config_error_listing_the_models():
    with pytest.raises(ConfigError) as info:
        get("lenet6")
    assert info.value.field == "model" and "resnet18" in str(info.value)
    with pytest.raises(ConfigError):
        build_model("lenet6")


# ---- every model builds and runs ------------------------------------------------------------------

@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("name", sorted(set(MODELS) - BIG))
def test_forward_at_native_input(name, channels):
    size = get(name).native_input
    model = build_model(name, channels, 10).eval()
    with torch.no_grad():
        out = model(torch.rand(2, channels, size, size))
    assert out.shape == (2, 10)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("name", sorted(BIG))
def test_big_models_shape_at_native_input_on_meta(name, channels):
    size = get(name).native_input
    model = meta_build(name, channels).eval()
    assert model(torch.empty(2, channels, size, size, device="meta")).shape == (2, 10)


@pytest.mark.slow
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("name", sorted(BIG))
def test_big_models_forward_at_native_input(name, channels):
    size = get(name).native_input
    model = build_model(name, channels, 10).eval()
    with torch.no_grad():
        out = model(torch.rand(2, channels, size, size))
    assert out.shape == (2, 10) and torch.isfinite(out).all()


@pytest.mark.parametrize("name", ["lenet", "resnet18", "googlenet", "mlp"])
def test_num_classes_sets_the_output_width(name):
    assert meta_build(name, 1, 100)(torch.empty(2, 1, get(name).native_input, get(name).native_input,
                                                  device="meta")).shape == (2, 100)


def test_a_training_step_reaches_every_parameter():
    model = build_model("googlenet", 1, 10)
    model(torch.rand(2, 1, 96, 96)).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())


# ---- parameter counts (d2l, 1 input channel, 10 classes) -------------------------------------------

@pytest.mark.parametrize("name,options,expected", [
    ("lenet", {}, 61_706),
    ("alexnet", {}, 46_764_746),
    ("vgg11", {}, 128_806_154),
    ("vgg11", {"width_ratio": 4}, 43_093_322),
    ("nin", {}, 1_992_166),
    ("googlenet", {}, 5_977_530),
    ("resnet18", {}, 11_178_378),
    ("lenet", {"batchnorm": True}, 62_158),
    ("mlp", {}, 784 * 256 + 256 + 256 * 10 + 10),  # d2l's 784-256-10
])
def test_parameter_counts_equal_d2l(name, options, expected):
    assert n_params(meta_build(name, **options)) == expected


def test_real_build_has_the_same_count_as_the_meta_build():
    assert n_params(build_model("lenet")) == 61_706
    assert n_params(build_model("resnet18")) == 11_178_378


# ---- invalid knobs ------------------------------------------------------------------------------

@pytest.mark.parametrize("name,options,field", [
    ("lenet", {"pool": "median"}, "model_options.pool"),
    ("lenet", {"activation": "swish"}, "model_options.activation"),
    ("lenet", {"kernel_size": 4}, "model_options.kernel_size"),
    ("lenet", {"channels": (6, 0)}, "model_options.channels"),
    ("lenet", {"conv_layers": 9}, "model_options.conv_layers"),
    ("lenet", {"fc": 120}, "model_options.fc"),
    ("lenet", {"dropout": 1.0}, "model_options.dropout"),
    ("lenet", {"width_ratio": 4}, "model_options.width_ratio"),
    ("alexnet", {"lrn": 1}, "model_options.lrn"),
    ("vgg11", {"width_ratio": 3}, "model_options.width_ratio"),
    ("resnet18", {"shortcut": "identity"}, "model_options.shortcut"),
    ("mlp", {"match_params_of": "mlp"}, "model_options.match_params_of"),
])
def test_invalid_knobs_raise_config_error_naming_the_option(name, options, field):
    with pytest.raises(ConfigError) as info:
        build_model(name, **options)
    assert info.value.field == field
    assert str(info.value).startswith(field + ": ") and "\n" not in str(info.value)
    with pytest.raises(ConfigError) as info:
        RunConfig(model=name, model_options=options)
    assert info.value.field == field
