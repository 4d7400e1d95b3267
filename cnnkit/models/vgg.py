"""VGG-11 and VGG-16 from VGG blocks, as d2l builds them; ``width_ratio`` narrows the convs."""
from __future__ import annotations

from functools import partial

from torch import nn

from cnnkit.models.layers import flat_features
from cnnkit.models.registry import ModelSpec, knobs, register
from cnnkit.params import Param

# (number of 3×3 convs, output channels) per block.
VGG11 = ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512))
VGG16 = ((2, 64), (2, 128), (3, 256), (3, 512), (3, 512))


def vgg_block(num_convs: int, in_channels: int, out_channels: int, batchnorm: bool) -> nn.Sequential:
    layers: list[nn.Module] = []
    for _ in range(num_convs):
        layers.append(nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1))
        layers += [nn.BatchNorm2d(out_channels)] if batchnorm else []
        layers.append(nn.ReLU())
        in_channels = out_channels
    layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*layers)


def vgg(
    arch: tuple[tuple[int, int], ...],
    in_channels: int,
    num_classes: int,
    input_size: int,
    width_ratio: int = 1,
    batchnorm: bool = False,
    dropout: float = 0.5,
    fc_width: int = 4096,
) -> nn.Sequential:
    def features() -> nn.Sequential:
        blocks, channels = [], in_channels
        for num_convs, width in arch:
            blocks.append(vgg_block(num_convs, channels, width // width_ratio, batchnorm))
            channels = width // width_ratio
        return nn.Sequential(*blocks)

    width = flat_features(features, in_channels, input_size)
    return nn.Sequential(
        features(), nn.Flatten(),
        nn.Linear(width, fc_width), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(fc_width, fc_width), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(fc_width, num_classes),
    )


VGG_KNOBS = knobs(
    Param("width_ratio", "int", 1, choices=(1, 2, 4, 8, 16), help="divide every conv width by this (d2l uses 4)"),
    Param("batchnorm", "bool", False, help="batch norm after every conv"),
    Param("dropout", "float", 0.5, low=0, high=0.95, help="dropout after each hidden FC"),
    Param("fc_width", "int", 4096, low=16, high=8192, help="width of the two hidden FC layers"),
)
PAPER = "Simonyan & Zisserman 2014, Very deep convolutional networks for large-scale image recognition"
register(ModelSpec(
    name="vgg11", builder=partial(vgg, VGG11), native_input=224, paper=PAPER, knobs=VGG_KNOBS,
    description="VGG-11: 8 convs 3×3 in 5 blocks + FC 4096-4096 (d2l trains it with width ÷4)",
    recipe={"lr": 0.05, "batch_size": 128, "init": "xavier", "epochs": 10},
))
register(ModelSpec(
    name="vgg16", builder=partial(vgg, VGG16), native_input=224, paper=PAPER, knobs=VGG_KNOBS,
    description="VGG-16: 13 convs 3×3 in 5 blocks + FC 4096-4096",
    recipe={"lr": 0.05, "batch_size": 128, "init": "xavier", "epochs": 10},
))
