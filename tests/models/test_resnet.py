"""cnnkit.models.resnet: ResNet-18's projection shortcut where the map shrinks, and the shortcuts without one."""
from __future__ import annotations

import pytest
import torch
from support.models import n_params
from torch import nn

from cnnkit.models import build_model
from cnnkit.models.resnet import Residual


def shrinking_blocks(model: nn.Module) -> list[Residual]:
    return [m for m in model.modules() if isinstance(m, Residual) and m.stride == 2]


def test_resnet_projection_shortcut_is_a_1x1_stride_2_conv_where_the_map_shrinks():
    model = build_model("resnet18")
    blocks = [m for m in model.modules() if isinstance(m, Residual)]
    assert len(blocks) == 8
    shrinking = shrinking_blocks(model)
    assert len(shrinking) == 3
    for block in shrinking:
        assert block.conv3.kernel_size == (1, 1) and block.conv3.stride == (2, 2)
    assert all(b.conv3 is None for b in blocks if b.stride == 1)


@pytest.mark.parametrize("shortcut", ["zero-pad", "none"])
def test_resnet_shortcuts_without_a_projection(shortcut):
    model = build_model("resnet18", shortcut=shortcut)
    assert all(b.conv3 is None for b in shrinking_blocks(model))
    projections = sum(b.conv3.weight.numel() + b.conv3.bias.numel()
                      for b in shrinking_blocks(build_model("resnet18")))
    assert n_params(model) == 11_178_378 - projections
    assert model.eval()(torch.rand(2, 1, 96, 96)).shape == (2, 10)


def test_zero_pad_shortcut_adds_the_input_and_none_does_not():
    torch.manual_seed(0)
    block_pad = Residual(4, 8, stride=2, shortcut="zero-pad").eval()
    block_none = Residual(4, 8, stride=2, shortcut="none").eval()
    block_none.load_state_dict(block_pad.state_dict())
    x = torch.rand(1, 4, 6, 6)
    residual = block_none.bn2(block_none.conv2(torch.relu(block_none.bn1(block_none.conv1(x)))))
    shortcut = torch.zeros(1, 8, 3, 3)
    shortcut[:, :4] = x[:, :, ::2, ::2]
    assert torch.allclose(block_pad(x), torch.relu(residual + shortcut), atol=1e-6)
    assert torch.allclose(block_none(x), torch.relu(residual), atol=1e-6)
