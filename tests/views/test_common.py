"""views.common: what several pages say."""
from __future__ import annotations

import pytest

from cnnkit.data import datasets, loading
from cnnkit.views.common import missing_dataset


def test_missing_dataset_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loading, "is_available", lambda name: False)
    spec = datasets.get_spec("cifar10")
    assert missing_dataset("cifar10") == f"{spec.title} is not installed here: {spec.how_to_get}."
    monkeypatch.setattr(loading, "is_available", lambda name: True)
    assert missing_dataset("cifar10") is None
