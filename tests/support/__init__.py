"""Every helper the tests share (fixtures stay in the conftest files). Markers and polling here; and:

- runs made through the store's lifecycle, the one way tests make them (support.runs: finished_run, running_run,
  trained_run, queued_runs, complete_queued), and the runs chosen for one family of tests: bundles
  (support.bundles), tracker exports (support.tracker_runs), Compare (support.compare_data), searches
  (support.searches), experiments (support.experiments), the store's own configs and points (support.store_data);
- real processes and process groups (support.procs), fault injection (support.faults), read-only stores
  (support.permissions), the command line (support.cli), bad input and its one-line refusals
  (support.invalid_inputs, support.refusals), the dashboard under AppTest (support.apptest);
- MNIST/CIFAR-10 files (support.datasets), counting a model's parameters and layers (support.models), the import
  graph (support.import_graph).

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
