"""cnnkit.models.layers: the initialisation schemes (default, d2l's xavier, kaiming)."""
from __future__ import annotations

import torch
from torch import nn

from cnnkit.models import build_model
from cnnkit.models.layers import initialize


def test_initialize_schemes():
    torch.manual_seed(0)
    model = build_model("lenet")
    before = [p.clone() for p in model.parameters()]
    initialize(model, "default")
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
    initialize(model, "xavier")
    fc = model[-1]
    bound = (6 / (fc.in_features + fc.out_features)) ** 0.5
    assert fc.weight.abs().max() <= bound and not torch.equal(fc.weight, before[-2])
    assert torch.equal(fc.bias, before[-1])  # d2l's xavier leaves biases alone
    initialize(model, "kaiming")
    assert all((m.bias == 0).all() for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d)))
