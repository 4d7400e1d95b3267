"""cnnkit.models.shapes: output shapes, where a feature map collapses, the smallest input that fits."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from cnnkit.config import RunConfig
from cnnkit.errors import ConfigError
from cnnkit.models import build_model, get
from cnnkit.models.shapes import CollapseError, check_fits, min_input_size, output_shape, smallest_input


def test_output_shape():
    assert output_shape(build_model("lenet"), (1, 28, 28)) == (10,)
    with torch.device("meta"):
        assert output_shape(build_model("resnet18", 3), (3, 64, 64)) == (10,)
    assert output_shape(nn.Sequential(nn.Conv2d(1, 4, 3)), (1, 10, 10)) == (4, 8, 8)


# ---- collapse -----------------------------------------------------------------------------------

def test_collapse_names_the_layer_on_a_real_device():
    net = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.Conv2d(2, 2, 5))
    with pytest.raises(CollapseError) as info:
        output_shape(net, (1, 4, 4))
    assert info.value.layer == "2" and info.value.layer_type == "Conv2d"
    assert info.value.input_shape == (1, 2, 4, 4)
    assert "layer 2 (Conv2d)" in str(info.value) and "4×4" in str(info.value)


def test_collapse_of_a_pooling_layer():
    net = nn.Sequential(nn.MaxPool2d(2), nn.MaxPool2d(2))
    with pytest.raises(CollapseError) as info:
        output_shape(net, (1, 3, 3))
    assert info.value.layer == "1" and info.value.layer_type == "MaxPool2d"


def test_a_shape_mismatch_is_reported_at_the_layer_it_hits():
    net = nn.Sequential(nn.Flatten(), nn.Linear(10, 2))
    with pytest.raises(CollapseError) as info:
        output_shape(net, (1, 4, 4))
    assert info.value.layer == "1"


# ---- the smallest input -------------------------------------------------------------------------

@pytest.mark.parametrize("name,options,expected", [
    ("alexnet", {}, 65),
    ("lenet", {}, 12),
    ("vgg11", {}, 32),
    ("nin", {}, 67),
    ("course-cnn", {}, 16),
    ("resnet18", {}, 1),
])
def test_smallest_input(name: str, options: dict, expected: int) -> None:
    channels = get(name).in_channels or 1
    assert smallest_input(name, channels, options) == expected
    with torch.device("meta"):
        output_shape(build_model(name, channels, 10, expected, **options), (channels, expected, expected))
        if expected > 1:
            with pytest.raises(CollapseError):
                side = expected - 1
                output_shape(build_model(name, channels, 10, side, **options), (channels, side, side))


def test_smallest_input_follows_the_options():
    wider = smallest_input("lenet", 1, {"kernel_size": 7})
    assert wider is not None and wider > smallest_input("lenet", 1)
    check_fits("lenet", {"kernel_size": 7}, (1, wider, wider))
    with pytest.raises(ConfigError):
        check_fits("lenet", {"kernel_size": 7}, (1, wider - 1, wider - 1))


def test_min_input_size_is_none_when_nothing_fits():
    def build(side: int) -> nn.Module:
        return nn.Sequential(nn.Conv2d(1, 1, 3), nn.Conv2d(1, 1, 2000))

    assert min_input_size(build, 1, largest=64) is None


# ---- the check before a run ----------------------------------------------------------------------

def test_check_fits_says_which_input_works():
    with pytest.raises(ConfigError) as info:
        RunConfig(model="alexnet", input_size=28).check_fits()
    assert info.value.field == "input_size"
    message = str(info.value)
    assert "65×65" in message and "28×28" in message and "layer 5 (MaxPool2d)" in message
    assert "\n" not in message
    RunConfig(model="alexnet", input_size=65).check_fits()


def test_check_fits_remembers_each_answer_and_gives_it_again(monkeypatch: pytest.MonkeyPatch):
    from cnnkit.models import shapes

    config = RunConfig(model="alexnet", input_size=30, model_options={"dropout": 0.3})
    with pytest.raises(ConfigError) as first:
        config.check_fits()
    class Built(Exception):
        pass

    def build_model(*args, **kwargs):
        raise Built

    monkeypatch.setattr(shapes, "build_model", build_model)
    with pytest.raises(ConfigError) as again:
        config.check_fits()
    assert (again.value.field, str(again.value)) == (first.value.field, str(first.value))
    with pytest.raises(Built):  # another option is another model: checked, not answered from memory
        config.replace(model_options={"dropout": 0.4}).check_fits()


def test_check_fits_with_a_knob_that_changes_the_threshold():
    RunConfig(model="lenet", input_size=12).check_fits()
    with pytest.raises(ConfigError) as info:
        RunConfig(model="lenet", input_size=12, model_options={"kernel_size": 7}).check_fits()
    assert info.value.field == "input_size"
    with pytest.raises(ConfigError) as info:
        RunConfig(model="lenet", input_size=8).check_fits()
    assert "12×12" in str(info.value)
