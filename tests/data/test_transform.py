"""cnnkit.data.transform: the per-batch transform (uint8 → the model's input: scaling, resizing, channels and
normalisation)."""
from __future__ import annotations

import pytest
import torch
from support import requires_fmnist

from cnnkit.data import datasets, transform


def test_transform_scales_to_unit_range():
    x = torch.tensor([0, 51, 255], dtype=torch.uint8).view(1, 1, 1, 3).expand(2, 1, 3, 3).contiguous()
    out = transform.BatchTransform(3, 1)(x)
    assert out.dtype == torch.float32 and out.shape == (2, 1, 3, 3)
    assert out[0, 0, 0].tolist() == pytest.approx([0.0, 0.2, 1.0])


def test_transform_resizes_and_changes_channels():
    x = torch.full((4, 1, 28, 28), 128, dtype=torch.uint8)
    out = transform.BatchTransform(96, 3)(x)
    assert out.shape == (4, 3, 96, 96)
    assert torch.allclose(out, torch.full_like(out, 128 / 255), atol=1e-6)  # a flat image stays flat
    down = transform.BatchTransform(14, 1)(x)
    assert down.shape == (4, 1, 14, 14)


def test_transform_applies_the_augmentation_before_resizing():
    seen = []

    def augment(x):
        seen.append(tuple(x.shape))
        return x

    transform.BatchTransform(64, 1)(torch.zeros(2, 1, 28, 28, dtype=torch.uint8), augment)
    assert seen == [(2, 1, 28, 28)]


@requires_fmnist
def test_normalised_fashion_mnist_has_zero_mean_unit_std(fmnist):
    to_input = transform.make_transform(fmnist.spec, 28, 1, normalize=True)
    x = to_input(fmnist.train_x[:20_000])
    assert x.mean().item() == pytest.approx(0, abs=0.02)
    assert x.std().item() == pytest.approx(1, abs=0.02)
    rgb = transform.make_transform(fmnist.spec, 32, 3, normalize=True)(fmnist.train_x[:20_000])
    assert rgb.shape == (20_000, 3, 32, 32)
    assert rgb.mean().item() == pytest.approx(0, abs=0.03)
    plain = transform.make_transform(fmnist.spec, 28, 1, normalize=False)(fmnist.train_x[:10])
    assert plain.min() >= 0 and plain.max() <= 1


def test_normalise_rgb_to_grey_uses_matching_constants():
    spec = datasets.get_spec("cifar10")
    to_input = transform.make_transform(spec, 32, 1, normalize=True)
    grey_mean = sum(w * m for w, m in zip((0.299, 0.587, 0.114), spec.mean))
    x = torch.full((1, 3, 32, 32), 0, dtype=torch.uint8)
    x[:, 0], x[:, 1], x[:, 2] = round(spec.mean[0] * 255), round(spec.mean[1] * 255), round(spec.mean[2] * 255)
    out = to_input(x)
    assert out.shape == (1, 1, 32, 32)
    assert to_input.mean.flatten().item() == pytest.approx(grey_mean)
    assert out.abs().max() < 0.02  # the mean colour maps to about zero


def test_to_channels():
    grey = torch.rand(2, 1, 5, 5)
    rgb = transform.to_channels(grey, 3)
    assert rgb.shape == (2, 3, 5, 5) and all(torch.equal(rgb[:, c], grey[:, 0]) for c in range(3))
    colour = torch.zeros(1, 3, 1, 1)
    colour[0, :, 0, 0] = torch.tensor([1.0, 0.5, 0.0])
    assert transform.to_channels(colour, 1).item() == pytest.approx(0.299 + 0.5 * 0.587)
    with pytest.raises(ValueError):
        transform.to_channels(torch.zeros(1, 2, 3, 3), 3)
