"""cnnkit.models.mlp: the MLP baseline, matched to a CNN's parameter count, and its knobs."""
from __future__ import annotations

import pytest
from support.models import count, meta_build, n_params
from torch import nn

from cnnkit.models import build_model, get
from cnnkit.models.mlp import MATCHABLE


@pytest.mark.parametrize("target", MATCHABLE)
def test_mlp_match_params_of_is_within_two_percent(target):
    mlp = meta_build("mlp", match_params_of=target)
    spec = get(target)
    cnn = meta_build(target, spec.in_channels or 1)
    assert abs(n_params(mlp) - n_params(cnn)) / n_params(cnn) < 0.02
    assert count(mlp, nn.Linear) == 2


def test_mlp_matched_to_lenet_on_cifar_counts_its_3_channel_inputs():
    mlp = meta_build("mlp", 3, 10, 32, match_params_of="lenet")
    lenet = meta_build("lenet", 3)
    assert mlp[1].in_features == 3 * 32 * 32
    assert abs(n_params(mlp) - n_params(lenet)) / n_params(lenet) < 0.02


def test_mlp_knobs():
    model = build_model("mlp", hidden=(128, 64), activation="tanh", dropout=0.2)
    assert [m.out_features for m in model.modules() if isinstance(m, nn.Linear)] == [128, 64, 10]
    assert count(model, nn.Tanh) == 2 and count(model, nn.Dropout) == 2
