"""Screenshots of the dashboard for the README (docs/screenshots/), launched as the README launches it.

Usage: .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--pages compare,models,...]
Trains the home page's first comparison (4 LeNet runs, about half a minute on two CPU cores) and a
small hyperparameter search in a temporary store, serves the dashboard on a free port, and saves
Compare (grouped by activation, mean ± std over seeds), Models (LeNet, AlexNet, VGG-11 side by side,
receptive fields, memory, the profiled step), Activations (Grad-CAM of a pullover and a coat), Runs
(a run's CPU and memory), Search (its trials as parallel coordinates) and Experiments. Every process
it starts is stopped by process group at the end.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Page

from cnnkit.bench import browser
from cnnkit.bench.server import ROOT, env_for, serve
from cnnkit.store import Store

SHOTS = ("compare", "models", "activations", "runs", "search", "experiments")


def take(name: str, page: Page, url: str, home: Path, group: str | None, search: str | None) -> None:
    """Bring the page of screenshot ``name`` into the state it shows."""
    if name == "compare":
        browser.goto(page, url, "compare", f"group={group}&by=cfg.model.activation&smooth=0.3")
    elif name == "models":
        browser.goto(page, url, "models", "model=lenet&model=alexnet&model=vgg11")
        page.locator(".js-plotly-plot").first.wait_for(state="attached")
        page.get_by_text("Profile one training step").first.click()
        browser.settle(page)
    elif name == "activations":
        browser.goto(page, url, "activations")
        page.get_by_role("tab", name="Attribution maps").click()
        browser.settle(page)
    elif name == "runs":
        browser.goto(page, url, "runs")
        run = next(r for r in Store(home).list_runs(group=group) if "relu" in r.name)
        pick_run(page, "runs.chosen", run.id)
        page.get_by_text("System metrics: CPU, memory, GPU").click()
        browser.settle(page)
    elif name == "search":
        browser.goto(page, url, "compare", f"group={search}")
    elif name == "experiments":
        browser.goto(page, url, "experiments")


def train_first_comparison(home: Path) -> str:
    """Queue the home page's first comparison and train it with a foreground supervisor; returns the group."""
    from cnnkit.events import Status
    from cnnkit.views import home

    store = Store(home)
    group, _ = home.queue_first_comparison(store)
    subprocess.run([sys.executable, "-m", "cnnkit", "worker", "--store", str(home), "--idle-exit", "1"],
                   cwd=ROOT, env=env_for(home), check=True, timeout=900, stdout=subprocess.DEVNULL)
    statuses = {r.status for r in store.list_runs()}
    if statuses != {Status.COMPLETED}:
        raise RuntimeError(f"first comparison ended {statuses}")
    return group


def train_search(home: Path) -> str:
    """A 4-trial search over LeNet's lr and batch size (2 epochs on a fifth of the data); returns its group."""
    out = subprocess.run([sys.executable, "-m", "cnnkit", "search", "--store", str(home), "--model", "lenet",
                          "--set", "activation=relu", "--epochs", "2", "--subset", "0.2", "--space", "lr=log:0.01:1",
                          "--space", "batch_size=64,128,256", "--trials", "4", "--wait", "--json"],
                         cwd=ROOT, env=env_for(home), check=True, timeout=900, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["group"]


def pick_run(page: Page, key: str, run_id: str) -> None:
    """Choose ``run_id`` in the multiselect with widget key ``key``."""
    box = page.locator(f".st-key-{key.replace('.', '-')} input")  # Streamlit's class for the key
    box.click()
    box.fill(run_id)
    box.press("Enter")
    box.press("Escape")
    browser.settle(page)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--pages", default=",".join(SHOTS), help=f"which of {','.join(SHOTS)} to take")
    args = parser.parse_args()
    pages = [p for p in args.pages.split(",") if p]
    unknown = sorted(set(pages) - set(SHOTS))
    if unknown:
        parser.error(f"--pages: unknown {', '.join(unknown)}; allowed: {', '.join(SHOTS)}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "store"
        group = train_first_comparison(home) if {"compare", "activations", "runs"} & set(pages) else None
        search = train_search(home) if "search" in pages else None
        with serve(home, log=Path(tmp) / "streamlit.log") as server, browser.browser() as page:
            for name in pages:
                take(name, page, server.url, home, group, search)
                page.screenshot(path=str(out / f"{name}.png"), full_page=True)
    print(f"saved {', '.join(pages)} in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
