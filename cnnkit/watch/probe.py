"""The images a run is looked at through while it trains, fixed without a random draw (training's random
streams stay untouched, and every run on a dataset is looked at through the same images):

- the *pair*: the first test image of each of two classes (Pullover and Coat on Fashion-MNIST, the pair the
  study notes ask about), the images the Activations page opens with and every epoch's snapshot shows;
- the *probe batch*: the first ``PER_CLASS`` test images of every class, on which each activation's dead and
  saturated shares, mean and std are measured once an epoch.
"""
from __future__ import annotations

import numpy as np
import torch

from cnnkit.data import loading
from cnnkit.data.transform import BatchTransform
from cnnkit.errors import CnnkitError
from cnnkit.watch.names import PROBE_PER_CLASS

DEFAULT_PAIRS = {"fashion-mnist": (2, 4)}  # Pullover vs Coat
PER_CLASS = PROBE_PER_CLASS  # 160 images on a 10-class dataset: a stable share, a few milliseconds of LeNet


def default_pair(dataset: str) -> tuple[int, int]:
    """The two classes whose images the Activations page and the snapshots show."""
    return DEFAULT_PAIRS.get(dataset, (0, 1))


def nth_of_class(labels: torch.Tensor, cls: int, n: int = 0) -> int:
    """Index of the ``n``-th example of class ``cls`` (wrapping around)."""
    members = np.flatnonzero(labels.cpu().numpy() == cls)  # numpy: torch's threaded nonzero can stall a busy job
    if not members.size:
        raise CnnkitError(f"no image of class {cls} in this split")
    return int(members[n % members.size])


def pair_index(dataset: str, labels: torch.Tensor) -> list[int]:
    """Test-set indices of the pair: the first image of each of the dataset's two default classes."""
    return [nth_of_class(labels, cls) for cls in default_pair(dataset)]


def probe_index(labels: torch.Tensor, per_class: int = PER_CLASS) -> torch.Tensor:
    """The first ``per_class`` indices of every class (fewer where a class has fewer), in index order."""
    y = labels.cpu().numpy()
    picked = [np.flatnonzero(y == cls)[:per_class] for cls in np.unique(y)]
    return torch.from_numpy(np.sort(np.concatenate(picked))) if picked else torch.zeros(0, dtype=torch.long)


def model_inputs(images: torch.Tensor, transform: BatchTransform, permutation: torch.Tensor | None) -> torch.Tensor:
    """uint8 images (N, C, H, W) of the dataset → the float batch a run's model takes (its pixel permutation,
    then its transform)."""
    if images.dim() == 3:
        images = images.unsqueeze(0)
    if permutation is not None:
        images = loading.permute_pixels(images, permutation)
    return transform(images)
