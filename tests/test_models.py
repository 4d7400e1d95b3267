"""cnnkit.models: every architecture builds, has d2l's parameter count, and its knobs do what they say."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from cnnkit.config import RunConfig
from cnnkit.errors import ConfigError
from cnnkit.models import MODELS, build_model, get, names
from cnnkit.models.anatomy import describe
from cnnkit.models.layers import initialize
from cnnkit.models.mlp import MATCHABLE
from cnnkit.models.resnet import Residual

BIG = {"alexnet", "vgg11", "vgg16"}  # 224 px and 47–134 M parameters: a real forward takes seconds


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def count(model: nn.Module, kind: type) -> int:
    return sum(isinstance(m, kind) for m in model.modules())


def meta_build(name: str, in_channels: int = 1, num_classes: int = 10, input_size: int | None = None, **options):
    with torch.device("meta"):
        return build_model(name, in_channels, num_classes, input_size, **options)


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


def test_course_cnn_matches_the_notes():
    model = build_model("course-cnn", 3, 10)
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(800, 120), (120, 84), (84, 10)]
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert [(m.in_channels, m.out_channels, m.kernel_size) for m in convs] == [(3, 16, (5, 5)), (16, 32, (5, 5))]
    assert get("course-cnn").in_channels == 3


# ---- LeNet knobs -------------------------------------------------------------------------------

def test_lenet_default_is_d2ls_sigmoid_avg_pool_net():
    model = build_model("lenet")
    assert count(model, nn.Sigmoid) == 4 and count(model, nn.AvgPool2d) == 2
    assert count(model, nn.MaxPool2d) == 0 and count(model, nn.ReLU) == 0
    assert count(model, nn.Dropout) == 0 and count(model, nn.BatchNorm2d) == 0
    conv1 = model[0]
    assert conv1.kernel_size == (5, 5) and conv1.padding == (2, 2) and conv1.out_channels == 6
    assert [m.out_features for m in model.modules() if isinstance(m, nn.Linear)] == [120, 84, 10]


def test_lenet_pool_max():
    model = build_model("lenet", pool="max")
    assert count(model, nn.MaxPool2d) == 2 and count(model, nn.AvgPool2d) == 0
    assert n_params(model) == 61_706


@pytest.mark.parametrize("activation,cls", [("relu", nn.ReLU), ("tanh", nn.Tanh), ("gelu", nn.GELU),
                                            ("leaky_relu", nn.LeakyReLU), ("elu", nn.ELU)])
def test_lenet_activation(activation, cls):
    model = build_model("lenet", activation=activation)
    assert count(model, cls) == 4 and count(model, nn.Sigmoid) == 0


@pytest.mark.parametrize("k", [3, 7])
def test_lenet_kernel_size(k):
    model = build_model("lenet", kernel_size=k)
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert all(c.kernel_size == (k, k) for c in convs)
    side = ((28 // 2) - k + 1) // 2  # first conv keeps 28, pool, second conv unpadded, pool
    assert model[-5].in_features == 16 * side * side  # first FC
    assert model(torch.rand(2, 1, 28, 28)).shape == (2, 10)


def test_lenet_channels_and_conv_layers():
    wide = build_model("lenet", channels=(32, 64))
    assert [m.out_channels for m in wide.modules() if isinstance(m, nn.Conv2d)] == [32, 64]
    assert n_params(wide) > 61_706
    deep = build_model("lenet", conv_layers=3)  # extends by doubling the last width
    assert [m.out_channels for m in deep.modules() if isinstance(m, nn.Conv2d)] == [6, 16, 32]
    assert deep(torch.rand(2, 1, 28, 28)).shape == (2, 10)
    shallow = build_model("lenet", conv_layers=1, channels=(8, 16))
    assert [m.out_channels for m in shallow.modules() if isinstance(m, nn.Conv2d)] == [8]
    assert shallow(torch.rand(2, 1, 28, 28)).shape == (2, 10)


def test_lenet_fc():
    assert [m.out_features for m in build_model("lenet", fc=(256,)).modules()
            if isinstance(m, nn.Linear)] == [256, 10]
    no_hidden = build_model("lenet", fc=())
    assert [(m.in_features, m.out_features) for m in no_hidden.modules() if isinstance(m, nn.Linear)] == [(400, 10)]


def test_lenet_dropout_and_batchnorm():
    model = build_model("lenet", dropout=0.3)
    drops = [m for m in model.modules() if isinstance(m, nn.Dropout)]
    assert len(drops) == 2 and all(d.p == 0.3 for d in drops)
    bn = build_model("lenet", batchnorm=True)
    assert count(bn, nn.BatchNorm2d) == 2 and count(bn, nn.BatchNorm1d) == 2


# ---- AlexNet, VGG, NiN knobs ----------------------------------------------------------------------

def test_alexnet_lrn():
    assert count(meta_build("alexnet"), nn.LocalResponseNorm) == 0
    model = meta_build("alexnet", lrn=True)
    lrns = [m for m in model.modules() if isinstance(m, nn.LocalResponseNorm)]
    assert len(lrns) == 2
    assert lrns[0].size == 5 and lrns[0].beta == 0.75 and lrns[0].k == 2.0
    assert lrns[0].alpha == pytest.approx(5e-4)  # PyTorch divides alpha by size; the paper's 1e-4 per map
    assert n_params(model) == 46_764_746  # LRN has no weights


def test_alexnet_original_stem_gives_55x55_at_227():
    paper = describe("alexnet", 1, 227, original_stem=True)
    assert paper.layers[0].output_shape == (96, 55, 55)
    assert meta_build("alexnet", original_stem=True)[0].padding == (0, 0)
    d2l = describe("alexnet", 1, 224)
    assert d2l.layers[0].output_shape == (96, 54, 54)
    assert describe("alexnet", 1, 227).layers[0].output_shape == (96, 55, 55)  # d2l's padding 1 at 227
    first_fc = next(layer for layer in paper.layers if layer.kind == "fc")
    assert first_fc.params == 256 * 6 * 6 * 4096 + 4096  # the paper's 9216-wide FC


def test_alexnet_dropout():
    drops = [m for m in meta_build("alexnet", dropout=0.2).modules() if isinstance(m, nn.Dropout)]
    assert [d.p for d in drops] == [0.2, 0.2]


def test_vgg_knobs():
    narrow = meta_build("vgg11", width_ratio=4)
    assert [m.out_channels for m in narrow.modules() if isinstance(m, nn.Conv2d)] == [16, 32, 64, 64, 128, 128,
                                                                                        128, 128]
    assert count(meta_build("vgg16"), nn.Conv2d) == 13 and count(meta_build("vgg11"), nn.Conv2d) == 8
    assert count(meta_build("vgg11", batchnorm=True), nn.BatchNorm2d) == 8
    small_fc = meta_build("vgg11", width_ratio=4, fc_width=512)
    assert [m.out_features for m in small_fc.modules() if isinstance(m, nn.Linear)] == [512, 512, 10]


def test_nin_has_no_fully_connected_layer():
    model = build_model("nin", dropout=0.1)
    assert count(model, nn.Linear) == 0 and count(model, nn.AdaptiveAvgPool2d) == 1
    assert [m.p for m in model.modules() if isinstance(m, nn.Dropout)] == [0.1]
    assert sum(isinstance(m, nn.Conv2d) and m.kernel_size == (1, 1) for m in model.modules()) == 8


# ---- ResNet-18 shortcut -----------------------------------------------------------------------

def shrinking_blocks(model: nn.Module) -> list[Residual]:
    return [m for m in model.modules() if isinstance(m, Residual) and m.stride == 2]


def test_resnet_projection_shortcut_is_a_1x1_stride_2_conv_where_the_map_shrinks():
    model = build_model("resnet18")
    blocks = [m for m in model.modules() if isinstance(m, Residual)]
    assert len(blocks) == 8
    shrinking = shrinking_blocks(model)
    assert len(shrinking) == 3
    for block in shrinking:
        assert block.conv3.kernel_size == (1, 1) and block.conv3.stride == (2, 2)
    assert all(b.conv3 is None for b in blocks if b.stride == 1)


@pytest.mark.parametrize("shortcut", ["zero-pad", "none"])
def test_resnet_shortcuts_without_a_projection(shortcut):
    model = build_model("resnet18", shortcut=shortcut)
    assert all(b.conv3 is None for b in shrinking_blocks(model))
    projections = sum(b.conv3.weight.numel() + b.conv3.bias.numel()
                      for b in shrinking_blocks(build_model("resnet18")))
    assert n_params(model) == 11_178_378 - projections
    assert model.eval()(torch.rand(2, 1, 96, 96)).shape == (2, 10)


def test_zero_pad_shortcut_adds_the_input_and_none_does_not():
    torch.manual_seed(0)
    block_pad = Residual(4, 8, stride=2, shortcut="zero-pad").eval()
    block_none = Residual(4, 8, stride=2, shortcut="none").eval()
    block_none.load_state_dict(block_pad.state_dict())
    x = torch.rand(1, 4, 6, 6)
    residual = block_none.bn2(block_none.conv2(torch.relu(block_none.bn1(block_none.conv1(x)))))
    shortcut = torch.zeros(1, 8, 3, 3)
    shortcut[:, :4] = x[:, :, ::2, ::2]
    assert torch.allclose(block_pad(x), torch.relu(residual + shortcut), atol=1e-6)
    assert torch.allclose(block_none(x), torch.relu(residual), atol=1e-6)


# ---- the MLP baseline ----------------------------------------------------------------------------

@pytest.mark.parametrize("target", MATCHABLE)
def test_mlp_match_params_of_is_within_two_percent(target):
    mlp = meta_build("mlp", match_params_of=target)
    spec = get(target)
    cnn = meta_build(target, spec.in_channels or 1)
    assert abs(n_params(mlp) - n_params(cnn)) / n_params(cnn) < 0.02
    assert count(mlp, nn.Linear) == 2


def test_mlp_matched_to_lenet_on_cifar_counts_its_3_channel_inputs():
    mlp = meta_build("mlp", 3, 10, 32, match_params_of="lenet")
    lenet = meta_build("lenet", 3)
    assert mlp[1].in_features == 3 * 32 * 32
    assert abs(n_params(mlp) - n_params(lenet)) / n_params(lenet) < 0.02


def test_mlp_knobs():
    model = build_model("mlp", hidden=(128, 64), activation="tanh", dropout=0.2)
    assert [m.out_features for m in model.modules() if isinstance(m, nn.Linear)] == [128, 64, 10]
    assert count(model, nn.Tanh) == 2 and count(model, nn.Dropout) == 2


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


# ---- initialisation ------------------------------------------------------------------------------

def test_initialize_schemes():
    torch.manual_seed(0)
    model = build_model("lenet")
    before = [p.clone() for p in model.parameters()]
    initialize(model, "default")
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
    initialize(model, "xavier")
    fc = model[-1]
    bound = (6 / (fc.in_features + fc.out_features)) ** 0.5
    assert fc.weight.abs().max() <= bound and not torch.equal(fc.weight, before[-2])
    assert torch.equal(fc.bias, before[-1])  # d2l's xavier leaves biases alone
    initialize(model, "kaiming")
    assert all((m.bias == 0).all() for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d)))
