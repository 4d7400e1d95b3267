"""Network in Network: conv + two 1×1 convs per block, global average pooling, no FC layer."""
from __future__ import annotations

from torch import nn

from cnnkit.models.registry import ModelSpec, knobs, register
from cnnkit.params import Param


def nin_block(in_channels: int, out_channels: int, kernel_size: int, stride: int, padding: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding), nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU(),
    )


def nin(in_channels: int, num_classes: int, input_size: int, dropout: float = 0.5) -> nn.Sequential:
    return nn.Sequential(
        nin_block(in_channels, 96, kernel_size=11, stride=4, padding=0),
        nn.MaxPool2d(3, stride=2),
        nin_block(96, 256, kernel_size=5, stride=1, padding=2),
        nn.MaxPool2d(3, stride=2),
        nin_block(256, 384, kernel_size=3, stride=1, padding=1),
        nn.MaxPool2d(3, stride=2),
        nn.Dropout(dropout),
        nin_block(384, num_classes, kernel_size=3, stride=1, padding=1),
        nn.AdaptiveAvgPool2d((1, 1)),
        nn.Flatten(),
    )


register(ModelSpec(
    name="nin",
    builder=nin,
    native_input=224,
    description="NiN: blocks of a conv and two 1×1 convs, global average pooling instead of FC layers",
    paper="Lin, Chen, Yan 2013, Network in network",
    knobs=knobs(Param("dropout", "float", 0.5, low=0, high=0.95, help="dropout before the last block")),
    recipe={"lr": 0.1, "batch_size": 128, "init": "xavier", "epochs": 10},
))
