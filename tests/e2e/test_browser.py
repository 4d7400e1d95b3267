"""The real dashboard in Chromium: launch a 1-epoch LeNet from the Train page, watch it complete on the
Runs page, see its curve on Compare; a screenshot of every page goes to artifacts/screenshots/."""
from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import pytest
from support import FMNIST, ROOT

sys.path.insert(0, str(ROOT / "scripts"))

import screenshots as shots  # noqa: E402

from cnnkit.store import Store  # noqa: E402

pytestmark = [
    pytest.mark.e2e, pytest.mark.slow,
    pytest.mark.skipif(not Path(shots.CHROMIUM).exists(), reason="Chromium is not installed (/usr/bin/chromium)"),
    pytest.mark.skipif(not FMNIST, reason="Fashion-MNIST is not installed"),
]
ARTIFACTS = ROOT / "artifacts" / "screenshots"
EXCEPTION = '[data-testid="stException"]'


def fill_number(page, label: str, value: str) -> None:  # noqa: ANN001
    box = page.get_by_label(label, exact=True)
    box.fill(value)
    box.press("Enter")
    shots.settle(page, quiet=0.8)


def test_launch_watch_compare_in_the_browser(tmp_path: Path) -> None:
    home = tmp_path / "store"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = tmp_path / "streamlit.log"
    with shots.serve(home, log=log) as url, shots.browser() as page:
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
    if log.exists():
        shutil.copy(log, ARTIFACTS.parent / "streamlit-e2e.log")
