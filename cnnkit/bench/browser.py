"""Drive the dashboard in headless Chromium (Playwright, a development dependency) for the browser
tests, the screenshots and the dashboard benchmark."""
from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PAGES = {"home": "", "models": "Models", "train": "Train", "runs": "Runs", "compare": "Compare",
         "activations": "Activations", "experiments": "Experiments"}


def available() -> str | None:
    """None when Chromium and Playwright are there, else what is missing (one line)."""
    if not Path(CHROMIUM).exists():
        return f"Chromium is not installed ({CHROMIUM}; apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (bash scripts/setup.sh --dev)"
    return None


@contextlib.contextmanager
def browser(width: int = 1400, height: int = 2000) -> Iterator[Page]:
    """One page of a fresh headless Chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = b.new_page(viewport={"width": width, "height": height})
            page.set_default_timeout(60_000)
            yield page
        finally:
            b.close()


def script_idle(page: Page) -> bool:
    """The app's script is not running and no skeleton waits for content."""
    state = page.get_attribute('[data-testid="stApp"]', "data-test-script-state")
    return state == "notRunning" and page.locator('[data-testid="stSkeleton"]').count() == 0


def settle(page: Page, quiet: float = 1.5, timeout: float = 120, start: float | None = None) -> float:
    """Wait until the app's script has stayed idle for ``quiet`` seconds (a fragment's periodic reruns
    count as running too); returns the seconds from ``start`` (perf_counter; now by default) until it
    first went idle."""
    start = time.perf_counter() if start is None else start
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout * 1000)
    idle_since, first_idle, deadline = None, None, time.time() + timeout
    while time.time() < deadline:
        if not script_idle(page):
            idle_since = None
        elif idle_since is None:
            idle_since = time.time()
            first_idle = first_idle or time.perf_counter() - start
        elif time.time() - idle_since >= quiet:
            return first_idle
        time.sleep(0.05)
    raise TimeoutError(f"the app kept running for {timeout} s")


def goto(page: Page, base: str, name: str, query: str = "", quiet: float = 1.5) -> float:
    """Open page ``name`` (a key of PAGES) and wait until it settles; returns the seconds to interactive."""
    start = time.perf_counter()
    page.goto(f"{base}/{PAGES[name]}" + (f"?{query}" if query else ""))
    return settle(page, quiet, start=start)
