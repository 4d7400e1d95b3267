"""Pieces the families share: activations by name and the size of a flattened feature map."""
from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from cnnkit.models.shapes import output_shape

ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
}


def make_activation(name: str) -> nn.Module:
    return ACTIVATIONS[name]()


def flat_features(make_features: Callable[[], nn.Module], in_channels: int, input_size: int) -> int:
    """Number of features ``make_features()`` yields for one image, computed on the meta device.

    Raises shapes.CollapseError (naming the layer) when the map shrinks to nothing.
    """
    with torch.device("meta"):
        shape = output_shape(make_features(), (in_channels, input_size, input_size))
    return math.prod(shape)


def initialize(model: nn.Module, scheme: str) -> None:
    """Re-initialise conv and linear weights: ``default`` keeps PyTorch's, ``xavier`` is d2l's
    (uniform, biases untouched), ``kaiming`` suits ReLU nets (normal, fan-in, zero biases)."""
    if scheme == "default":
        return
    for module in model.modules():
        if isinstance(module, (nn.Linear, nn.modules.conv._ConvNd)):
            if scheme == "xavier":
                nn.init.xavier_uniform_(module.weight)
            else:
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
