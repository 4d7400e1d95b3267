"""What tests import by name: markers and polling here; real processes (support.procs), read-only stores
(support.permissions), MNIST/CIFAR-10 files (support.datasets), bundles (support.bundles).

Conftest modules are pytest's; importing them breaks in sub-folders.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
os.environ.setdefault("CNNKIT_OFFLINE", "1")  # no test may wait on a download

from cnnkit.data import loading  # noqa: E402 - after CNNKIT_OFFLINE is set

FMNIST = loading.is_available("fashion-mnist")
requires_fmnist = pytest.mark.skipif(not FMNIST, reason="Fashion-MNIST is not installed (apt-get install "
                                                        "dataset-fashion-mnist)")


def wait_for(check: Callable[[], Any], timeout: float, what: str, every: float = 0.1) -> Any:
    """Poll ``check`` until it returns something truthy (returned), or fail after ``timeout`` seconds."""
    deadline = time.time() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.time() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(every)
