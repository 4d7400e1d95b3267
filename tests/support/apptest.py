"""The dashboard under AppTest: its store from the environment, a page opened (in a multipage app), and the check
that a page is clean."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from support import ROOT

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # the `ui` package and the pages live at the project root

if TYPE_CHECKING:
    from streamlit.testing.v1 import AppTest

PAGES = ["dashboard.py", "pages/1_Models.py", "pages/2_Train.py", "pages/3_Runs.py", "pages/4_Compare.py",
         "pages/5_Activations.py", "pages/6_Experiments.py"]
TIMEOUT = 120  # the first script run imports torch; CPUs here are shared


def dashboard_env(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the app at the store ``home`` (CNNKIT_HOME); CNNKIT_NO_SUPERVISOR keeps it from starting a real
    supervisor, and CNNKIT_DEBUG makes unexpected errors raise (so AppTest records them as exceptions)."""
    monkeypatch.setenv("CNNKIT_HOME", str(home))
    monkeypatch.setenv("CNNKIT_NO_SUPERVISOR", "1")
    monkeypatch.setenv("CNNKIT_DEBUG", "1")
    return home


def app(page: str = "dashboard.py", query: dict | None = None) -> AppTest:
    """An AppTest on ``page`` (a multipage app starts from dashboard.py), run once with ``query`` in the URL."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT)
    at.run()
    if page != "dashboard.py":
        at.switch_page(page)
    if query:
        at.query_params = dict(query)
    if page != "dashboard.py" or query:
        at.run()
    return at


def assert_clean(at: AppTest) -> None:
    """No exception element and no 'unexpected' error message on the page."""
    assert not at.exception, [e.value for e in at.exception]
    unexpected = [e.value for e in at.error if "unexpected" in str(e.value)]
    assert not unexpected, unexpected
