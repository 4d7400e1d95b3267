"""What more than one page says."""
from __future__ import annotations

from cnnkit.data import datasets, loading


def missing_dataset(name: str) -> str | None:
    """None when dataset ``name`` is installed here, else a line saying how to get it."""
    if loading.is_available(name):
        return None
    spec = datasets.get_spec(name)
    return f"{spec.title} is not installed here: {spec.how_to_get}."
