"""Stores with finished runs for the compare tests (made by support.compare_data)."""
from __future__ import annotations

import functools
from collections.abc import Callable

import pytest
from support.compare_data import compare_run, sweep

from cnnkit.store import Store

AddFinished = Callable[..., str]


@pytest.fixture
def add_finished(store: Store) -> AddFinished:
    """``add_finished(config, name, group=None, acc=0.8, tags=())``: a completed run with 3 epochs of points."""
    return functools.partial(compare_run, store)


@pytest.fixture
def sweep_store(store: Store) -> tuple[Store, str]:
    """A 2 lr × 2 seed sweep group and a lone MLP."""
    return store, sweep(store)
