"""watch.probe: the images every epoch is looked at through, fixed without a random draw."""
from __future__ import annotations

import pytest
import torch

from cnnkit.errors import CnnkitError
from cnnkit.watch.probe import default_pair, nth_of_class, pair_index, probe_index


def test_the_probe_batch_is_the_first_images_of_every_class_and_draws_nothing() -> None:
    labels = torch.tensor([3, 0, 0, 1, 3, 0, 1, 1, 0])
    rng = torch.get_rng_state()
    assert probe_index(labels, per_class=2).tolist() == [0, 1, 2, 3, 4, 6]
    assert probe_index(labels, per_class=3).tolist() == [0, 1, 2, 3, 4, 5, 6, 7]  # class 3 has only two
    assert torch.equal(torch.get_rng_state(), rng)


def test_the_pair_is_the_first_pullover_and_the_first_coat() -> None:
    labels = torch.tensor([0, 4, 2, 4, 2])
    assert default_pair("fashion-mnist") == (2, 4) and default_pair("cifar10") == (0, 1)
    assert pair_index("fashion-mnist", labels) == [2, 1]
    assert nth_of_class(labels, 4, 1) == 3 and nth_of_class(labels, 4, 2) == 1  # wraps around
    with pytest.raises(CnnkitError, match="^no image of class 7 in this split$"):
        nth_of_class(labels, 7)
