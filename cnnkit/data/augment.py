"""Batched augmentations as tensor ops on the training device (float images in [0, 1], N×C×H×W)."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.nn import functional as F

PCA_SIGMA = 0.1  # AlexNet: α ~ N(0, 0.1) per principal component
PCA_SAMPLE_PIXELS = 1_000_000


def random_crop(x: torch.Tensor, padding: int, generator: torch.Generator) -> torch.Tensor:
    """Zero-pad by ``padding`` and cut a random H×W window per image, in one gather."""
    if padding == 0:
        return x
    n, c, h, w = x.shape
    padded = F.pad(x, (padding, padding, padding, padding))
    dy = torch.randint(0, 2 * padding + 1, (n, 1), device=x.device, generator=generator)
    dx = torch.randint(0, 2 * padding + 1, (n, 1), device=x.device, generator=generator)
    rows = (dy + torch.arange(h, device=x.device))[:, None, :, None]
    cols = (dx + torch.arange(w, device=x.device))[:, None, None, :]
    batch = torch.arange(n, device=x.device)[:, None, None, None]
    channel = torch.arange(c, device=x.device)[None, :, None, None]
    return padded[batch, channel, rows, cols]


def random_flip(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Mirror a random half of the images left–right."""
    flip = torch.rand(x.shape[0], device=x.device, generator=generator) < 0.5
    return torch.where(flip[:, None, None, None], x.flip(-1), x)


def pca_basis(images: torch.Tensor, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Eigenvalues and eigenvectors (columns) of the training set's per-pixel colour covariance.

    ``images`` is uint8 N×C×H×W; a fixed random sample of pixels stands in for all of them.
    """
    c = images.shape[1]
    pixels = images.transpose(0, 1).reshape(c, -1)
    if pixels.shape[1] > PCA_SAMPLE_PIXELS:
        gen = torch.Generator(device=pixels.device).manual_seed(seed)
        pick = torch.randint(0, pixels.shape[1], (PCA_SAMPLE_PIXELS,), device=pixels.device, generator=gen)
        pixels = pixels[:, pick]
    cov = torch.cov(pixels.double() / 255).reshape(c, c)  # one channel: cov is a scalar, eigh needs 1×1
    eigvals, eigvecs = torch.linalg.eigh(cov)
    return eigvals.clamp_min(0).float(), eigvecs.float()


def pca_colour(x: torch.Tensor, eigvals: torch.Tensor, eigvecs: torch.Tensor, generator: torch.Generator,
               sigma: float = PCA_SIGMA) -> torch.Tensor:
    """AlexNet's colour augmentation: add Σ αᵢ·√λᵢ·pᵢ to every pixel of an image, αᵢ ~ N(0, σ).

    The paper scales by λᵢ on 0–255 pixels, which would shift colours by hundreds of levels; like
    fb.resnet.torch we scale by √λᵢ (the spread along each component) on [0, 1] pixels.
    """
    alpha = torch.randn(x.shape[0], eigvals.numel(), device=x.device, generator=generator) * sigma
    shift = (alpha * eigvals.sqrt()) @ eigvecs.T  # N×C
    return x + shift[:, :, None, None]


@dataclass
class Augmenter:
    """The run's augmentations, applied in a fixed order: crop, flip, PCA colour."""

    names: tuple[str, ...]
    padding: int
    generator: torch.Generator
    eigvals: torch.Tensor | None = None
    eigvecs: torch.Tensor | None = None

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if "crop" in self.names:
            x = random_crop(x, self.padding, self.generator)
        if "flip" in self.names:
            x = random_flip(x, self.generator)
        if "pca" in self.names:
            x = pca_colour(x, self.eigvals, self.eigvecs, self.generator)
        return x


def make_augmenter(names: tuple[str, ...], padding: int, train_images: torch.Tensor, seed: int) -> Augmenter | None:
    """None when there is nothing to do; the PCA basis is computed once, from the training images."""
    if not names:
        return None
    device = train_images.device
    generator = torch.Generator(device=device).manual_seed(seed)
    eigvals = eigvecs = None
    if "pca" in names:
        eigvals, eigvecs = pca_basis(train_images, seed)
    return Augmenter(tuple(names), padding, generator, eigvals, eigvecs)
