"""What tests import by name (conftest modules are pytest's; importing them breaks in sub-folders)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("CNNKIT_OFFLINE", "1")  # no test may wait on a download

from cnnkit import data  # noqa: E402

FMNIST = data.is_available("fashion-mnist")
requires_fmnist = pytest.mark.skipif(not FMNIST, reason="Fashion-MNIST is not installed (apt-get install "
                                                        "dataset-fashion-mnist)")
