"""cnnkit.models.nin: Network in Network, 1×1 convolutions and global pooling instead of a classifier."""
from __future__ import annotations

from support.models import count
from torch import nn

from cnnkit.models import build_model


def test_nin_has_no_fully_connected_layer():
    model = build_model("nin", dropout=0.1)
    assert count(model, nn.Linear) == 0 and count(model, nn.AdaptiveAvgPool2d) == 1
    assert [m.p for m in model.modules() if isinstance(m, nn.Dropout)] == [0.1]
    assert sum(isinstance(m, nn.Conv2d) and m.kernel_size == (1, 1) for m in model.modules()) == 8
