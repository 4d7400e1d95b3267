"""cnnkit.models.vgg: VGG-11 and VGG-16, narrowed by width_ratio, with batch norm, a smaller classifier."""
from __future__ import annotations

from support.models import count, meta_build
from torch import nn


def test_vgg_knobs():
    narrow = meta_build("vgg11", width_ratio=4)
    assert [m.out_channels for m in narrow.modules() if isinstance(m, nn.Conv2d)] == [16, 32, 64, 64, 128, 128,
                                                                                        128, 128]
    assert count(meta_build("vgg16"), nn.Conv2d) == 13 and count(meta_build("vgg11"), nn.Conv2d) == 8
    assert count(meta_build("vgg11", batchnorm=True), nn.BatchNorm2d) == 8
    small_fc = meta_build("vgg11", width_ratio=4, fc_width=512)
    assert [m.out_features for m in small_fc.modules() if isinstance(m, nn.Linear)] == [512, 512, 10]
