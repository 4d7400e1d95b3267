"""What reaches a Ray node through Ray: a copy of cnnkit's Python source, and datasets put once (no Ray needed)."""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from cnnkit.data import loading
from cnnkit.data.datasets import get_spec
from cnnkit.errors import DataError
from cnnkit.jobs import ray_shipping
from cnnkit.jobs.ray_shipping import CODE_ROOT, DatasetShelf, dataset_on_node, pack, runtime_env, unpack


def tiny_data() -> loading.Data:
    return loading.Data(get_spec("mnist"), torch.arange(2 * 784, dtype=torch.uint8).view(2, 1, 28, 28),
                        torch.tensor([3, 7]), torch.zeros(1, 1, 28, 28, dtype=torch.uint8), torch.tensor([1]))


def test_the_code_goes_as_a_working_dir_with_the_python_source_only(tmp_path: Path) -> None:
    (tmp_path / "code").mkdir()
    env = runtime_env(tmp_path / "code")
    assert env == {"working_dir": str(tmp_path / "code")}
    copied = tmp_path / "code" / "cnnkit"
    sources = sorted(p.relative_to(CODE_ROOT) for p in CODE_ROOT.rglob("*.py") if "__pycache__" not in p.parts)
    assert sorted(p.relative_to(copied) for p in copied.rglob("*") if p.is_file()) == sources


def test_not_code_leaves_out_data_caches_and_bytecode(tmp_path: Path) -> None:
    for name in ("data/loading.py", "data/cache/fashion-mnist-v1.pt", "data/FashionMNIST/raw/train-images",
                 "__pycache__/engine.cpython-311.pyc", "engine.py", "notes.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    assert ray_shipping.not_code(str(tmp_path), sorted(p.name for p in tmp_path.iterdir())) == {
        "__pycache__", "notes.txt"}
    data = tmp_path / "data"
    assert ray_shipping.not_code(str(data), sorted(p.name for p in data.iterdir())) == {"cache", "FashionMNIST"}


def test_a_dataset_unpacks_on_the_arrays_it_was_packed_into_without_a_warning() -> None:
    data = tiny_data()
    arrays = pack(data)
    for a in arrays.values():
        a.flags.writeable = False  # as Ray maps them from its object store
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        back = unpack("mnist", arrays)
    assert back.spec.name == "mnist" and back.test_index is None
    for name in ray_shipping.TENSORS:
        assert torch.equal(getattr(back, name), getattr(data, name))
    assert np.shares_memory(back.train_x.numpy(), arrays["train_x"])  # read in place, not copied


class FakeRay:
    def __init__(self) -> None:
        self.puts: list[Any] = []

    def put(self, value: Any) -> str:
        self.puts.append(value)
        return f"ref{len(self.puts)}"


def test_the_shelf_puts_each_dataset_once_and_none_it_lacks(monkeypatch: pytest.MonkeyPatch) -> None:
    def load(name: str) -> loading.Data:
        if name == "cifar10":
            raise DataError("cifar10 is not installed")
        return tiny_data()

    monkeypatch.setattr(loading, "load", load)
    ray = FakeRay()
    shelf = DatasetShelf(ray)
    assert shelf.ref("mnist") == shelf.ref("mnist") == "ref1" and len(ray.puts) == 1
    assert set(ray.puts[0]) == set(ray_shipping.TENSORS)
    assert shelf.ref("cifar10") is None


def test_a_node_that_has_the_dataset_loads_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loading, "is_available", lambda name, root=None: True)
    assert dataset_on_node("mnist", "ref1") == (None, "this node's data folder")
    monkeypatch.setattr(loading, "is_available", lambda name, root=None: False)
    assert dataset_on_node("mnist", None) == (None, "this node's data folder")  # the supervisor lacks it too
