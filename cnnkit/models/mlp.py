"""The fully connected baseline (d2l: 784-256-10), optionally sized to match a CNN's parameter count."""
from __future__ import annotations

import math

import torch
from torch import nn

from cnnkit.models.layers import ACTIVATIONS, make_activation
from cnnkit.models.registry import ModelSpec, build_model, get, knobs, register
from cnnkit.params import Param

MATCHABLE = ("lenet", "alexnet", "vgg11", "vgg16", "nin", "googlenet", "resnet18", "course-cnn")


def mlp(
    in_channels: int,
    num_classes: int,
    input_size: int,
    hidden: tuple[int, ...] = (256,),
    activation: str = "relu",
    dropout: float = 0.0,
    match_params_of: str = "none",
) -> nn.Sequential:
    inputs = in_channels * input_size * input_size
    if match_params_of != "none":
        hidden = (matched_width(match_params_of, inputs, num_classes, in_channels),)
    layers: list[nn.Module] = [nn.Flatten()]
    width = inputs
    for size in hidden:
        layers += [nn.Linear(width, size), make_activation(activation)]
        layers += [nn.Dropout(dropout)] if dropout else []
        width = size
    layers.append(nn.Linear(width, num_classes))
    return nn.Sequential(*layers)


def matched_width(model: str, inputs: int, num_classes: int, in_channels: int) -> int:
    """Width of one hidden layer giving about as many parameters as ``model`` (default knobs, native input).

    One hidden layer of width h holds inputs·h + h + h·classes + classes parameters; solve for h.
    """
    spec = get(model)
    with torch.device("meta"):
        cnn = build_model(model, spec.in_channels or in_channels, num_classes, spec.native_input)
    target = sum(p.numel() for p in cnn.parameters())
    return max(1, math.floor((target - num_classes) / (inputs + 1 + num_classes) + 0.5))


register(ModelSpec(
    name="mlp",
    builder=mlp,
    native_input=28,
    family="mlp",
    description="Multilayer perceptron (d2l: 784-256-10); match_params_of sizes it like a given CNN",
    paper="Rumelhart, Hinton, Williams 1986, Learning representations by back-propagating errors",
    knobs=knobs(
        Param("hidden", "ints", (256,), low=1, high=16384, max_len=8, help="hidden layer sizes"),
        Param("activation", "str", "relu", choices=tuple(ACTIVATIONS), help="activation after each hidden layer"),
        Param("dropout", "float", 0.0, low=0, high=0.95, help="dropout after each hidden layer"),
        Param("match_params_of", "str", "none", choices=("none", *MATCHABLE),
              help="one hidden layer sized to match this CNN's parameter count (overrides hidden)"),
    ),
    recipe={"lr": 0.1, "batch_size": 256, "init": "default", "epochs": 10},
))
