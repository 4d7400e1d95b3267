"""ResNet-18 as d2l builds it; the shortcut where the map shrinks is a knob (projection, zero-pad, none)."""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from cnnkit.models.registry import ModelSpec, knobs, register
from cnnkit.params import Param

SHORTCUTS = ("projection", "zero-pad", "none")


class Residual(nn.Module):
    """Two 3×3 convs with batch norm, plus the input added back.

    Where the block halves the map and widens the channels, the input must be reshaped to be added:
    ``projection`` uses a 1×1 stride-2 conv (He et al.'s option B, d2l's choice), ``zero-pad`` takes
    every second pixel and pads the new channels with zeros (option A, no parameters), and ``none``
    drops the shortcut altogether (a plain network, for comparison).
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, shortcut: str = "projection"):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, stride=stride)
        self.conv2 = nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut = shortcut
        self.stride = stride
        self.extra_channels = out_channels - in_channels
        reshapes = stride != 1 or in_channels != out_channels
        self.conv3 = (nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride)
                      if reshapes and shortcut == "projection" else None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        if self.shortcut == "none":
            return F.relu(y)
        if self.conv3 is not None:
            x = self.conv3(x)
        elif self.shortcut == "zero-pad" and (self.stride != 1 or self.extra_channels):
            x = F.pad(x[:, :, ::self.stride, ::self.stride], (0, 0, 0, 0, 0, self.extra_channels))
        return F.relu(y + x)


def resnet_stage(in_channels: int, out_channels: int, num_residuals: int, first: bool, shortcut: str) -> nn.Sequential:
    blocks = []
    for i in range(num_residuals):
        if i == 0 and not first:
            blocks.append(Residual(in_channels, out_channels, stride=2, shortcut=shortcut))
        else:
            blocks.append(Residual(out_channels, out_channels, shortcut=shortcut))
    return nn.Sequential(*blocks)


def resnet18(in_channels: int, num_classes: int, input_size: int, shortcut: str = "projection") -> nn.Sequential:
    stem = nn.Sequential(
        nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3), nn.BatchNorm2d(64), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
    )
    return nn.Sequential(
        stem,
        resnet_stage(64, 64, 2, first=True, shortcut=shortcut),
        resnet_stage(64, 128, 2, first=False, shortcut=shortcut),
        resnet_stage(128, 256, 2, first=False, shortcut=shortcut),
        resnet_stage(256, 512, 2, first=False, shortcut=shortcut),
        nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(512, num_classes),
    )


register(ModelSpec(
    name="resnet18",
    builder=resnet18,
    native_input=96,
    description="ResNet-18: residual blocks with batch norm; 1×1 stride-2 projection where the map shrinks",
    paper="He, Zhang, Ren, Sun 2016, Deep residual learning for image recognition",
    knobs=knobs(Param("shortcut", "str", "projection", choices=SHORTCUTS,
                      help="shortcut where the map shrinks: 1×1 stride-2 conv, zero-padding, or none (plain net)")),
    recipe={"lr": 0.05, "batch_size": 256, "init": "default", "epochs": 10},
))
