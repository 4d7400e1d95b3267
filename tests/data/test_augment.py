"""cnnkit.data.augment: batched random crop, horizontal flip and AlexNet's PCA colour augmentation."""
from __future__ import annotations

import math

import pytest
import torch

from cnnkit.data import augment
from cnnkit.data.augment import Augmenter, make_augmenter, pca_basis, pca_colour, random_crop, random_flip


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def dots(n: int, size: int = 16, at: tuple[int, int] = (8, 8)) -> torch.Tensor:
    """``n`` one-channel images, black but for one white pixel at ``at``."""
    x = torch.zeros(n, 1, size, size)
    x[:, :, at[0], at[1]] = 1.0
    return x


# ---- crop --------------------------------------------------------------------------------------

def test_crop_keeps_the_shape_and_moves_content_by_at_most_the_padding():
    padding = 3
    out = random_crop(dots(500), padding, gen())
    assert out.shape == (500, 1, 16, 16)
    assert torch.equal(out.sum((1, 2, 3)), torch.ones(500))  # the dot stays inside a 16-px image at 8, 8
    where = out.flatten(1).argmax(1)
    dy, dx = where // 16 - 8, where % 16 - 8
    assert dy.abs().max() <= padding and dx.abs().max() <= padding
    # every offset in [-p, p] occurs, in both directions
    assert set(dy.tolist()) == set(range(-padding, padding + 1))
    assert set(dx.tolist()) == set(range(-padding, padding + 1))


def test_crop_is_a_window_of_the_zero_padded_image():
    torch.manual_seed(0)
    x = torch.rand(20, 3, 8, 8)
    out = random_crop(x, 2, gen(1))
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2))
    for i in range(20):
        windows = [padded[i, :, dy:dy + 8, dx:dx + 8] for dy in range(5) for dx in range(5)]
        assert any(torch.equal(out[i], w) for w in windows)


def test_crop_pads_with_zeros_at_the_edge():
    x = torch.ones(300, 1, 6, 6)
    out = random_crop(x, 2, gen())
    assert (out == 0).any() and (out == 1).any()
    assert ((out == 0) | (out == 1)).all()


def test_crop_with_zero_padding_is_the_identity():
    x = torch.rand(4, 1, 5, 5)
    assert random_crop(x, 0, gen()) is x


# ---- flip --------------------------------------------------------------------------------------

def test_flip_mirrors_about_half_and_leaves_the_rest():
    torch.manual_seed(0)
    x = torch.rand(1000, 2, 4, 5)
    out = random_flip(x, gen())
    flipped = torch.tensor([torch.equal(o, i.flip(-1)) for o, i in zip(out, x)])
    kept = torch.tensor([torch.equal(o, i) for o, i in zip(out, x)])
    assert (flipped ^ kept).all()  # each image is one or the other
    assert 0.44 < flipped.float().mean() < 0.56


# ---- PCA colour ----------------------------------------------------------------------------------

def colourful(n: int = 64, seed: int = 0) -> torch.Tensor:
    """uint8 RGB images whose colours vary mostly along (1, 1, 0)/√2, a little along blue."""
    g = gen(seed)
    t = torch.randint(-60, 61, (n, 1, 8, 8), generator=g).float()
    b = torch.randint(-5, 6, (n, 1, 8, 8), generator=g).float()
    x = torch.cat([128 + t, 128 + t, 128 + b], 1)
    return x.round().clamp(0, 255).to(torch.uint8)


def test_pca_basis_of_synthetic_colours():
    images = colourful()
    eigvals, eigvecs = pca_basis(images)
    assert eigvals.shape == (3,) and eigvecs.shape == (3, 3)
    assert (eigvals >= 0).all() and torch.equal(eigvals, eigvals.sort().values)  # ascending
    top = eigvecs[:, -1]
    assert abs(float(top @ torch.tensor([1.0, 1.0, 0.0]) / math.sqrt(2))) > 0.999
    second = eigvecs[:, -2]
    assert abs(float(second[2])) > 0.99  # then blue
    pixels = images.float().div(255).transpose(0, 1).reshape(3, -1)
    assert float(eigvals[-1]) == pytest.approx(2 * float(pixels[0].var()), rel=0.02)
    assert torch.allclose(eigvecs.T @ eigvecs, torch.eye(3), atol=1e-5)


def test_pca_basis_samples_large_sets(monkeypatch):
    monkeypatch.setattr(augment, "PCA_SAMPLE_PIXELS", 1000)
    eigvals, eigvecs = pca_basis(colourful(64), seed=3)
    assert abs(float(eigvecs[:, -1] @ torch.tensor([1.0, 1.0, 0.0]) / math.sqrt(2))) > 0.99
    again = pca_basis(colourful(64), seed=3)
    assert torch.equal(eigvals, again[0])


def test_pca_colour_shifts_every_pixel_of_an_image_by_one_colour():
    images = colourful()
    eigvals, eigvecs = pca_basis(images)
    x = images[:10].float() / 255
    out = pca_colour(x, eigvals, eigvecs, gen())
    shift = out - x
    per_image = shift[:, :, :1, :1]
    assert torch.allclose(shift, per_image.expand_as(shift), atol=1e-6)  # constant over the image
    colours = per_image.flatten(1)
    assert (colours.norm(dim=1) > 0).all()
    assert not torch.allclose(colours[0], colours[1])  # a different shift per image
    # the shift lies along the principal components, mostly the strongest one
    along_top = (colours @ eigvecs[:, -1]).abs()
    assert (along_top / colours.norm(dim=1)).mean() > 0.8


def test_pca_colour_scale_is_sigma_times_root_eigenvalue():
    eigvals = torch.tensor([0.0, 0.0, 0.04])
    eigvecs = torch.eye(3)
    x = torch.zeros(20_000, 3, 1, 1)
    shift = pca_colour(x, eigvals, eigvecs, gen(), sigma=0.1).flatten(1)
    assert torch.equal(shift[:, :2], torch.zeros(20_000, 2))
    assert float(shift[:, 2].std()) == pytest.approx(0.1 * 0.2, rel=0.03)


def test_grey_images_have_a_one_component_basis():
    images = torch.randint(0, 256, (10, 1, 6, 6), dtype=torch.uint8)
    eigvals, eigvecs = pca_basis(images)
    assert eigvals.shape == (1,) and eigvecs.shape == (1, 1)
    assert float(eigvals[0]) == pytest.approx(float((images.double() / 255).var()), rel=1e-4)


# ---- the augmenter ------------------------------------------------------------------------------

def test_no_augmentation_is_none():
    assert make_augmenter((), 4, torch.zeros(2, 1, 8, 8, dtype=torch.uint8), seed=0) is None


def test_augmenter_applies_what_it_is_given():
    images = colourful(16)
    aug = make_augmenter(("crop", "flip", "pca"), 2, images, seed=0)
    assert isinstance(aug, Augmenter) and aug.eigvals is not None
    x = images.float() / 255
    out = aug(x)
    assert out.shape == x.shape and not torch.equal(out, x)
    only_flip = make_augmenter(("flip",), 2, images, seed=0)
    assert only_flip.eigvals is None
    out = only_flip(x)
    assert all(torch.equal(o, i) or torch.equal(o, i.flip(-1)) for o, i in zip(out, x))


def test_same_seed_same_augmentation_different_seed_different():
    images = colourful(32)
    x = images.float() / 255
    first = make_augmenter(("crop", "flip", "pca"), 4, images, seed=7)(x)
    second = make_augmenter(("crop", "flip", "pca"), 4, images, seed=7)(x)
    other = make_augmenter(("crop", "flip", "pca"), 4, images, seed=8)(x)
    assert torch.equal(first, second)
    assert not torch.equal(first, other)


def test_the_generator_advances_between_batches():
    images = colourful(32)
    aug = make_augmenter(("crop",), 4, images, seed=0)
    x = images.float() / 255
    assert not torch.equal(aug(x), aug(x))
