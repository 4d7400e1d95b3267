"""AlexNet as d2l builds it for 224×224 (FC 6400-4096-4096), with LRN and the paper's 227 stem."""
from __future__ import annotations

from torch import nn

from cnnkit.models.layers import flat_features
from cnnkit.models.registry import ModelSpec, knobs, register
from cnnkit.params import Param

# The paper: b = a / (k + α·Σa²)^β with α = 1e-4 over n = 5 maps. PyTorch divides α by n,
# so α·n gives the paper's normalisation.
LRN_SIZE, LRN_ALPHA, LRN_BETA, LRN_K = 5, 1e-4, 0.75, 2.0


def alexnet(
    in_channels: int,
    num_classes: int,
    input_size: int,
    lrn: bool = False,
    dropout: float = 0.5,
    original_stem: bool = False,
) -> nn.Sequential:
    def features() -> nn.Sequential:
        # d2l pads conv1 by 1 so 224 → 54; the paper's 227 with no padding gives 55×55.
        stem = nn.Conv2d(in_channels, 96, kernel_size=11, stride=4, padding=0 if original_stem else 1)
        return nn.Sequential(
            stem, nn.ReLU(), *_lrn(lrn), nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(96, 256, kernel_size=5, padding=2), nn.ReLU(), *_lrn(lrn),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(256, 384, kernel_size=3, padding=1), nn.ReLU(),
            nn.Conv2d(384, 384, kernel_size=3, padding=1), nn.ReLU(),
            nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )

    width = flat_features(features, in_channels, input_size)
    return nn.Sequential(
        *features(), nn.Flatten(),
        nn.Linear(width, 4096), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(4096, num_classes),
    )


def _lrn(enabled: bool) -> list[nn.Module]:
    if not enabled:
        return []
    return [nn.LocalResponseNorm(LRN_SIZE, alpha=LRN_ALPHA * LRN_SIZE, beta=LRN_BETA, k=LRN_K)]


register(ModelSpec(
    name="alexnet",
    builder=alexnet,
    native_input=224,
    description="AlexNet: 5 convs (11×11 stride-4 stem), 3 max-pools, FC 4096-4096 with dropout",
    paper="Krizhevsky, Sutskever, Hinton 2012, ImageNet classification with deep CNNs",
    knobs=knobs(
        Param("lrn", "bool", False,
              help="local response normalisation after conv1 and conv2 (k=2, n=5, α=1e-4, β=0.75)"),
        Param("dropout", "float", 0.5, low=0, high=0.95, help="dropout after each hidden FC"),
        Param("original_stem", "bool", False, help="the paper's stem: no padding, 227 input → 55×55"),
    ),
    recipe={"lr": 0.01, "batch_size": 128, "init": "xavier", "epochs": 10},
))
