"""MNIST and CIFAR-10 files written in their real formats (neither can be downloaded here)."""
from __future__ import annotations

import pickle
import struct
from pathlib import Path

import numpy as np

N_TRAIN, N_TEST = 40, 20


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
