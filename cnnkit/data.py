"""Datasets as uint8 tensors: discovery, download, decoding, a disk cache, and the run's variants.

Decoding the raw files takes seconds; the decoded tensors are cached in ``<data root>/cache`` so a
job starts in well under a second. Everything per image (float conversion, augmentation, resizing,
normalisation) happens later, per batch, on the training device (see ``BatchTransform``).
"""
from __future__ import annotations

import contextlib
import gzip
import io
import os
import pickle
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from cnnkit.errors import ConfigError, DataError

SYSTEM_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
PERMUTATION_SEED = 20240531  # one fixed pixel order, the same for every run and model
CACHE_VERSION = 1


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    title: str
    channels: int
    size: int
    classes: tuple[str, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    folder: str  # where torchvision keeps it under the data root
    how_to_get: str

    @property
    def num_classes(self) -> int:
        return len(self.classes)


_MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                "t10k-labels-idx1-ubyte")
_CIFAR_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))

DATASETS: dict[str, DatasetSpec] = {
    "fashion-mnist": DatasetSpec(
        "fashion-mnist", "Fashion-MNIST", 1, 28,
        ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
        (0.2860,), (0.3530,), "FashionMNIST/raw",
        "install the Debian package dataset-fashion-mnist (apt-get install dataset-fashion-mnist), or go online "
        "so torchvision can download it",
    ),
    "mnist": DatasetSpec(
        "mnist", "MNIST", 1, 28, tuple(str(d) for d in range(10)), (0.1307,), (0.3081,), "MNIST/raw",
        "go online so torchvision can download it, or copy the four idx files (gunzipped) into that folder",
    ),
    "cifar10": DatasetSpec(
        "cifar10", "CIFAR-10", 3, 32,
        ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"),
        (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616), "cifar-10-batches-py",
        "go online so torchvision can download it, or unpack cifar-10-python.tar.gz from "
        "https://www.cs.toronto.edu/~kriz/cifar.html there",
    ),
}


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
    return Path(env) if env else Path(__file__).resolve().parent.parent / "data"


def get_spec(name: str) -> DatasetSpec:
    if name not in DATASETS:
        raise ConfigError("dataset", f"must be one of {', '.join(DATASETS)}, got {name!r}")
    return DATASETS[name]


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


def is_available(name: str, root: Path | str | None = None) -> bool:
    """Whether ``name`` can be loaded without a download."""
    spec = get_spec(name)
    root = Path(root) if root else data_root()
    if (root / "cache" / f"{name}-v{CACHE_VERSION}.pt").exists() or _raw_present(spec, root):
        return True
    return name == "fashion-mnist" and all((SYSTEM_FASHION_MNIST / f"{f}.gz").exists() for f in _MNIST_FILES)


# ---- decoding ----------------------------------------------------------------------------------

def _decode(spec: DatasetSpec, root: Path) -> Data:
    if not _raw_present(spec, root):
        _fetch(spec, root)
    folder = root / spec.folder
    if spec.name == "cifar10":
        train_x, train_y = _read_cifar([folder / f for f in _CIFAR_TRAIN])
        test_x, test_y = _read_cifar([folder / "test_batch"])
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
    names = (*_CIFAR_TRAIN, "test_batch") if spec.name == "cifar10" else _MNIST_FILES
    return all((root / spec.folder / n).exists() for n in names)


def _fetch(spec: DatasetSpec, root: Path) -> None:
    """Put the raw files in place: from the Debian package for Fashion-MNIST, else by download."""
    folder = root / spec.folder
    if spec.name == "fashion-mnist" and all((SYSTEM_FASHION_MNIST / f"{f}.gz").exists() for f in _MNIST_FILES):
        folder.mkdir(parents=True, exist_ok=True)
        for f in _MNIST_FILES:
            with gzip.open(SYSTEM_FASHION_MNIST / f"{f}.gz") as src, open(folder / f, "wb") as dst:
                shutil.copyfileobj(src, dst)
        return
    if os.environ.get("CNNKIT_OFFLINE"):
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


class _CifarUnpickler(pickle.Unpickler):
    """CIFAR-10's python batches are pickles; only the numpy pieces of an array may be built."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"), ("numpy", "dtype"),
        ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    }

    def find_class(self, module: str, name: str):  # noqa: ANN201 - pickle API
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

    def __call__(self, images: torch.Tensor, augment=None) -> torch.Tensor:  # noqa: ANN001
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
