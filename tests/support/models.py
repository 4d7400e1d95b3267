"""Counting a model's parameters and layers, and building one on the meta device (no memory, no time)."""
from __future__ import annotations

import torch
from torch import nn

from cnnkit.models import build_model


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def count(model: nn.Module, kind: type) -> int:
    return sum(isinstance(m, kind) for m in model.modules())


def meta_build(name: str, in_channels: int = 1, num_classes: int = 10, input_size: int | None = None, **options):
    with torch.device("meta"):
        return build_model(name, in_channels, num_classes, input_size, **options)
