"""cnnkit.store.run: the run record's checks on ids, names and tags."""
from __future__ import annotations

import pytest

from cnnkit.errors import StoreError
from cnnkit.store import check_name, check_run_id, check_tags, is_run_id


def test_run_ids_names_and_tags_are_checked() -> None:
    assert is_run_id("0123abcd") and check_run_id("0123abcd") == "0123abcd"
    for bad in ("0123ABCD", "0123abc", "0123abcd\n", "../etc/x", None):
        assert not is_run_id(bad)
        with pytest.raises(StoreError, match="8 hex digits"):
            check_run_id(bad)
    assert check_name("  a run ") == "a run"
    with pytest.raises(StoreError, match="1–200 characters"):
        check_name("x" * 201)
    assert check_tags([" b", "a", "", "b"]) == ["a", "b"]
