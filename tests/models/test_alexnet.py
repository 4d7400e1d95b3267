"""cnnkit.models.alexnet: local response normalisation, the paper's stem at 227 px, dropout."""
from __future__ import annotations

import pytest
from support.models import count, meta_build, n_params
from torch import nn

from cnnkit.models.anatomy import describe


def test_alexnet_lrn():
    assert count(meta_build("alexnet"), nn.LocalResponseNorm) == 0
    model = meta_build("alexnet", lrn=True)
    lrns = [m for m in model.modules() if isinstance(m, nn.LocalResponseNorm)]
    assert len(lrns) == 2
    assert lrns[0].size == 5 and lrns[0].beta == 0.75 and lrns[0].k == 2.0
    assert lrns[0].alpha == pytest.approx(5e-4)  # PyTorch divides alpha by size; the paper's 1e-4 per map
    assert n_params(model) == 46_764_746  # LRN has no weights


def test_alexnet_original_stem_gives_55x55_at_227():
    paper = describe("alexnet", 1, 227, original_stem=True)
    assert paper.layers[0].output_shape == (96, 55, 55)
    assert meta_build("alexnet", original_stem=True)[0].padding == (0, 0)
    d2l = describe("alexnet", 1, 224)
    assert d2l.layers[0].output_shape == (96, 54, 54)
    assert describe("alexnet", 1, 227).layers[0].output_shape == (96, 55, 55)  # d2l's padding 1 at 227
    first_fc = next(layer for layer in paper.layers if layer.kind == "fc")
    assert first_fc.params == 256 * 6 * 6 * 4096 + 4096  # the paper's 9216-wide FC


def test_alexnet_dropout():
    drops = [m for m in meta_build("alexnet", dropout=0.2).modules() if isinstance(m, nn.Dropout)]
    assert [d.p for d in drops] == [0.2, 0.2]
