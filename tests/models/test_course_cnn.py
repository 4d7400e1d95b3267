"""cnnkit.models.course_cnn: the course notes' CNN for CIFAR-10, layer by layer."""
from __future__ import annotations

from torch import nn

from cnnkit.models import build_model, get


def test_course_cnn_matches_the_notes():
    model = build_model("course-cnn", 3, 10)
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(800, 120), (120, 84), (84, 10)]
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert [(m.in_channels, m.out_channels, m.kernel_size) for m in convs] == [(3, 16, (5, 5)), (16, 32, (5, 5))]
    assert get("course-cnn").in_channels == 3
