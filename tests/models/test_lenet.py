"""cnnkit.models.lenet: d2l's LeNet by default, and what each of its knobs changes."""
from __future__ import annotations

import pytest
import torch
from support.models import count, n_params
from torch import nn

from cnnkit.models import build_model


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
