"""LeNet-5 as d2l builds it (28×28 input padded by 2 = the paper's 32×32), with the exercises' knobs."""
from __future__ import annotations

from torch import nn

from cnnkit.models.layers import ACTIVATIONS, flat_features, make_activation
from cnnkit.models.registry import ModelSpec, knobs, register
from cnnkit.params import Param


def lenet(
    in_channels: int,
    num_classes: int,
    input_size: int,
    activation: str = "sigmoid",
    pool: str = "avg",
    kernel_size: int = 5,
    channels: tuple[int, ...] = (6, 16),
    conv_layers: int = 2,
    fc: tuple[int, ...] = (120, 84),
    dropout: float = 0.0,
    batchnorm: bool = False,
) -> nn.Sequential:
    widths = _conv_widths(channels, conv_layers)

    def features() -> nn.Sequential:
        return _features(in_channels, widths, kernel_size, activation, pool, batchnorm)

    layers = [*features(), nn.Flatten()]
    width = flat_features(features, in_channels, input_size)
    for hidden in fc:
        layers += [nn.Linear(width, hidden)]
        layers += [nn.BatchNorm1d(hidden)] if batchnorm else []
        layers += [make_activation(activation)]
        layers += [nn.Dropout(dropout)] if dropout else []
        width = hidden
    layers.append(nn.Linear(width, num_classes))
    return nn.Sequential(*layers)


def _conv_widths(channels: tuple[int, ...], conv_layers: int) -> list[int]:
    """``conv_layers`` widths: ``channels`` truncated, or extended by doubling the last."""
    widths = list(channels[:conv_layers])
    while len(widths) < conv_layers:
        widths.append(widths[-1] * 2)
    return widths


def _features(in_channels, widths, kernel_size, act, pool, batchnorm) -> nn.Sequential:
    # The first conv pads to keep the size (d2l's padding=2), the second does not (the paper's C3);
    # convs beyond the second pad and skip pooling so that deeper variants do not collapse at 28 px.
    layers: list[nn.Module] = []
    pooling = nn.AvgPool2d if pool == "avg" else nn.MaxPool2d
    for i, width in enumerate(widths):
        padding = 0 if i == 1 else kernel_size // 2
        layers.append(nn.Conv2d(in_channels, width, kernel_size, padding=padding))
        layers += [nn.BatchNorm2d(width)] if batchnorm else []
        layers.append(make_activation(act))
        if i < 2:
            layers.append(pooling(kernel_size=2, stride=2))
        in_channels = width
    return nn.Sequential(*layers)


register(ModelSpec(
    name="lenet",
    builder=lenet,
    native_input=28,
    description="LeNet-5: two conv + pool stages and three FC layers (d2l: sigmoid, avg-pool)",
    paper="LeCun et al. 1998, Gradient-based learning applied to document recognition",
    knobs=knobs(
        Param("activation", "str", "sigmoid", choices=tuple(ACTIVATIONS), help="activation after each layer"),
        Param("pool", "str", "avg", choices=("avg", "max"), help="pooling after the first two convs"),
        Param("kernel_size", "int", 5, choices=(1, 3, 5, 7, 9, 11), help="conv kernel side"),
        Param("channels", "ints", (6, 16), low=1, high=1024, min_len=1, max_len=8,
              help="output channels per conv layer"),
        Param("conv_layers", "int", 2, low=1, high=8, help="number of conv layers"),
        Param("fc", "ints", (120, 84), low=1, high=16384, max_len=8, help="hidden FC sizes"),
        Param("dropout", "float", 0.0, low=0, high=0.95, help="dropout after each hidden FC"),
        Param("batchnorm", "bool", False, help="batch norm after each conv and hidden FC (d2l BN-LeNet)"),
    ),
    recipe={"lr": 0.9, "batch_size": 256, "init": "xavier", "epochs": 10},
))
