"""The real dashboard in Chromium: launch a 1-epoch LeNet from the Train page, watch it complete on the
Runs page, see its curve on Compare; a screenshot of every page goes to artifacts/screenshots/."""
from __future__ import annotations

import re
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from support import FMNIST, ROOT

from cnnkit.bench import browser as shots
from cnnkit.bench.server import cpu_share, serve
from cnnkit.store import Store

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [
    pytest.mark.e2e, pytest.mark.slow,
    pytest.mark.skipif(bool(shots.available()), reason=str(shots.available())),
    pytest.mark.skipif(not FMNIST, reason="Fashion-MNIST is not installed"),
]
ARTIFACTS = ROOT / "artifacts" / "screenshots"
EXCEPTION = '[data-testid="stException"]'


def fill_number(page: Page, label: str, value: str) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(value)
    box.press("Enter")
    shots.settle(page, quiet=0.8)


def test_launch_watch_compare_in_the_browser(tmp_path: Path) -> None:
    home = tmp_path / "store"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = tmp_path / "streamlit.log"
    with serve(home, log=log) as server, shots.browser() as page:
        url = server.url
        shots.goto(page, url, "home")
        assert page.locator(EXCEPTION).count() == 0
        assert page.get_by_text("Run the first comparison").count() == 1, "the empty store's way in"
        page.screenshot(path=str(ARTIFACTS / "home-empty.png"), full_page=True)

        # Train: a 1-epoch LeNet on 5 % of Fashion-MNIST
        shots.goto(page, url, "train")
        fill_number(page, "epochs", "1")
        fill_number(page, "subset", "0.05")
        fill_number(page, "test_subset", "0.1")
        fill_number(page, "lr", "0.1")
        assert page.locator('[data-testid="stAlertContentError"]').count() == 0
        page.screenshot(path=str(ARTIFACTS / "train.png"), full_page=True)
        page.get_by_role("button", name="Launch").click()
        page.get_by_text("queued", exact=False).first.wait_for()
        shots.settle(page)
        runs = Store(home).list_runs()
        assert len(runs) == 1 and runs[0].config["epochs"] == 1 and runs[0].config["subset"] == 0.05

        # Runs: the supervisor the page started trains it; the live table follows
        shots.goto(page, url, "runs")
        deadline = time.time() + 240
        while Store(home).get(runs[0].id).status in ("queued", "running"):
            assert time.time() < deadline, f"the run did not finish: {Store(home).get(runs[0].id)}"
            time.sleep(1)
        run = Store(home).get(runs[0].id)
        assert run.status == "completed", run.error
        page.get_by_text("0 running · 0 queued").first.wait_for(timeout=30_000)  # the fragment refreshed
        assert page.locator(EXCEPTION).count() == 0
        page.screenshot(path=str(ARTIFACTS / "runs.png"), full_page=True)

        # Compare: its curves are drawn
        shots.goto(page, url, "compare")
        page.locator(".js-plotly-plot").first.wait_for()
        assert page.locator(".js-plotly-plot").count() >= 5
        assert page.locator(".js-plotly-plot .scatterlayer .trace").count() >= 4, "one curve per metric"
        assert f"run={run.id}" not in page.url  # all runs: nothing to put in the URL but defaults
        page.screenshot(path=str(ARTIFACTS / "compare.png"), full_page=True)

        assert page.locator(EXCEPTION).count() == 0
        for name in ("home", "models", "activations", "experiments"):
            shots.goto(page, url, name)
            if name in ("models", "activations"):
                page.locator(".js-plotly-plot").first.wait_for(state="attached")
            assert page.locator(EXCEPTION).count() == 0, name
            page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

        # Experiments: another preset (typed into the picker, as its long list scrolls) keeps a budget
        # selected; a radio whose labels changed under one key was once drawn with none
        page.get_by_test_id("stSelectbox").first.click()
        page.keyboard.type("residual")
        page.keyboard.press("Enter")
        shots.settle(page)
        assert page.get_by_role("radio", name=re.compile(r"^standard: .* · 5 seeds \(1000–1004\)$")).is_checked()
    if log.exists():
        shutil.copy(log, ARTIFACTS.parent / "streamlit-e2e.log")


def test_an_open_page_costs_the_server_next_to_nothing(tmp_path: Path) -> None:
    """Launched as the README does, a tab open on a page with nothing running leaves the server idle
    (it used a whole core when it watched the files under .venv/). The bound is generous on purpose:
    `python -m cnnkit bench` reports the figure."""
    with serve(tmp_path / "store") as server, shots.browser() as page:
        for name in ("home", "runs", "compare"):
            shots.goto(page, server.url, name)
            cpu_share(server.pid, 2.0)  # on a loaded machine the page's first run may still be finishing
            share = cpu_share(server.pid, 4.0)
            assert share < 0.25, f"the server used {share:.0%} of a core with {name} open and nothing running"


def test_the_first_comparison_learns_on_both_levels(tmp_path: Path) -> None:
    """The empty store's one click: four LeNet runs that the page's supervisor trains; d2l's sigmoid net
    and the ReLU net both end above chance (a chart of a flat sigmoid curve would teach the wrong thing)."""
    home = tmp_path / "store"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with serve(home) as server, shots.browser() as page:
        shots.goto(page, server.url, "home")
        clicked = time.time()
        page.get_by_role("button", name="Run the first comparison").click()
        page.get_by_text("Compare them").wait_for()
        store = Store(home)
        deadline = clicked + 300
        while any(r.active for r in store.list_runs()):
            assert time.time() < deadline, [(r.name, r.status) for r in store.list_runs()]
            time.sleep(1)
        runs = store.list_runs()
        assert len(runs) == 4 and {r.status for r in runs} == {"completed"}, [(r.name, r.error) for r in runs]
        finals = store.latest_metrics([r.id for r in runs])
        for run in runs:
            assert finals[run.id]["test_acc"] > 0.5, (run.name, finals[run.id])
        shots.goto(page, server.url, "compare", f"group={runs[0].group}&by=cfg.model.activation")
        page.locator(".js-plotly-plot").first.wait_for()
        assert page.locator(EXCEPTION).count() == 0
        page.screenshot(path=str(ARTIFACTS / "first-comparison.png"), full_page=True)


def test_a_link_opened_first_after_a_restart_gets_the_lab_navigation(tmp_path: Path) -> None:
    """A fresh server's first request is a deep link (a shared Compare view, a tab reloaded after a
    restart): the page still runs through dashboard.py's navigation, Home and icons included."""
    with serve(tmp_path / "store") as server, shots.browser() as page:
        shots.goto(page, server.url, "compare", "smooth=0.3")
        nav = page.locator('[data-testid="stSidebarNavLink"]').all_inner_texts()
        assert [line.split()[-1] for line in nav] == ["Home", "Models", "Train", "Runs", "Compare", "Activations",
                                                      "Experiments"], nav
        assert page.get_by_role("heading", name="Compare").count() == 1
        assert "smooth=0.3" in page.url and page.locator(EXCEPTION).count() == 0
