"""The batch transform: a uint8 batch on the training device → the float tensor the model takes."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch.nn import functional as F

from cnnkit.data.datasets import DatasetSpec


@dataclass
class BatchTransform:
    """uint8 batch on the device → the float tensor the model takes.

    Order matters: augmentations work at the dataset's own resolution (a 4-pixel crop means the
    same at 28 px whatever the model's input), then the resize, then grey→RGB, then normalisation.
    """

    size: int
    channels: int
    mean: torch.Tensor | None = None  # (1, C, 1, 1) on the device, or None: no normalisation
    std: torch.Tensor | None = None

    def to(self, device: torch.device | str) -> BatchTransform:
        """The same transform for batches on ``device``."""
        moved = (None if t is None else t.to(device) for t in (self.mean, self.std))
        return BatchTransform(self.size, self.channels, *moved)

    def __call__(self, images: torch.Tensor,
                 augment: Callable[[torch.Tensor], torch.Tensor] | None = None) -> torch.Tensor:
        x = images.float().div_(255)
        if augment is not None:
            x = augment(x)
        if x.shape[-1] != self.size or x.shape[-2] != self.size:
            x = F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False,
                              antialias=x.shape[-1] > self.size)
        if x.shape[1] != self.channels:
            x = to_channels(x, self.channels)
        if self.mean is not None:
            x = (x - self.mean) / self.std
        return x


def to_channels(x: torch.Tensor, channels: int) -> torch.Tensor:
    """Grey → RGB by repetition; RGB → grey by luminance (ITU-R 601)."""
    if channels == 3 and x.shape[1] == 1:
        return x.expand(-1, 3, -1, -1)
    if channels == 1 and x.shape[1] == 3:
        weights = torch.tensor([0.299, 0.587, 0.114], device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
        return (x * weights).sum(1, keepdim=True)
    raise ValueError(f"cannot turn {x.shape[1]} channels into {channels}")


def make_transform(spec: DatasetSpec, size: int, channels: int, normalize: bool,
                   device: torch.device | str = "cpu") -> BatchTransform:
    if not normalize:
        return BatchTransform(size, channels)
    mean = torch.tensor(spec.mean, device=device).view(1, -1, 1, 1)
    std = torch.tensor(spec.std, device=device).view(1, -1, 1, 1)
    if channels != spec.channels:  # normalise after the channel change with the matching constants
        mean, std = to_channels(mean, channels), to_channels(std, channels)
    return BatchTransform(size, channels, mean, std)
