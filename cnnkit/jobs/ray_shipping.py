"""What reaches a Ray node through Ray instead of an install or a shared disk: cnnkit's code and the datasets.

The code travels as the job's runtime env, given to ``ray.init``: a working dir that holds a copy of the
supervisor's cnnkit, its Python source only, uploaded once and unpacked on each node, where every task
imports it ahead of any cnnkit installed there: every task runs the supervisor's code. (A working dir, not
``py_modules``: without one, Ray puts the driver's current folder first on every worker's path, and a node
with an older checkout at that path would run it.) A node then finds datasets under its own ``CNNKIT_DATA``
only, since the default folder sits beside the code.

A dataset travels through Ray's object store: the supervisor puts each one once, and a node that lacks it
fetches that copy once; its tasks then share it (numpy arrays are read in place, never copied per task).
"""
from __future__ import annotations

import shutil
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from cnnkit.data import loading
from cnnkit.data.datasets import get_spec

CODE_ROOT = Path(__file__).resolve().parents[1]  # the cnnkit package
TENSORS = ("train_x", "train_y", "test_x", "test_y")


def runtime_env(folder: Path) -> dict[str, Any]:
    """Ray's runtime env that ships this cnnkit to the nodes, made in the empty ``folder``, which must last
    until ``ray.init`` has uploaded it."""
    shutil.copytree(CODE_ROOT, folder / CODE_ROOT.name, ignore=not_code)
    return {"working_dir": str(folder)}


def not_code(folder: str, names: list[str]) -> set[str]:
    """What ``copytree`` leaves out of the package: all but Python source (decoded datasets, caches, bytecode)."""
    def is_code(path: Path) -> bool:
        if path.is_dir():
            return path.name != "__pycache__" and any(path.rglob("*.py"))
        return path.suffix == ".py"

    return {name for name in names if not is_code(Path(folder) / name)}


class DatasetShelf:
    """The datasets of the runs the supervisor hands out, each put into Ray's object store once."""

    def __init__(self, ray: Any):
        self.ray = ray
        self.refs: dict[str, Any] = {}

    def ref(self, name: str) -> Any | None:
        """The object of dataset ``name``; None when the supervisor lacks it too (the task then loads it on its
        node, or says what is missing, as a local job would)."""
        if name not in self.refs:
            try:
                data = loading.load(name)
            except Exception:
                self.refs[name] = None
            else:
                self.refs[name] = self.ray.put(pack(data))
        return self.refs[name]


def pack(data: loading.Data) -> dict[str, np.ndarray]:
    return {name: getattr(data, name).numpy() for name in TENSORS}


def unpack(name: str, arrays: dict[str, np.ndarray]) -> loading.Data:
    """The dataset as the engine takes it, on the arrays Ray mapped from its object store (read-only)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")  # the engine only reads
        tensors = [torch.from_numpy(arrays[t]) for t in TENSORS]
    return loading.Data(get_spec(name), *tensors)


def dataset_on_node(name: str, ref: Any | None) -> tuple[loading.Data | None, str]:
    """The dataset for a task on this node (None: the engine loads it here) and where it comes from."""
    if ref is None or loading.is_available(name):
        return None, "this node's data folder"
    import ray

    return unpack(name, ray.get(ref)), "the supervisor, through Ray's object store"
