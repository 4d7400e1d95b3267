"""Screenshots of the dashboard for the README (docs/screenshots/), launched as the README launches it.

Usage: .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--pages compare,models,...]
Trains the home page's first comparison (4 LeNet runs, about half a minute on two CPU cores) and a
small hyperparameter search in a temporary store, serves the dashboard on a free port, and saves
Compare (grouped by activation, mean ± std over seeds), Models (LeNet, AlexNet, VGG-11 side by side,
receptive fields, memory, the profiled step), Activations (Grad-CAM of a pullover and a coat), Runs
(a run's CPU and memory), Search (its trials as parallel coordinates), Experiments, and layer health: the
sigmoid run's heatmap (Runs), sigmoid and ReLU side by side (Compare) and both at epoch 1 under the epoch
slider (Activations). For Compare's verdict it trains the README's lr sweep (3 × 3 ReLU LeNets, 1 epoch on a
tenth of the data), presses "Add seeds" and waits for them (about 5 minutes); Compare's diff is the first
comparison's sigmoid nets against its ReLU nets. Every process it starts is stopped by process group at the end.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Locator, Page

from cnnkit.bench import browser
from cnnkit.bench.server import ROOT, env_for, serve
from cnnkit.store import Run, Store

SHOTS = ("compare", "models", "activations", "runs", "search", "experiments", "runs-health", "compare-health",
         "activations-epochs", "compare-verdict", "compare-diff")
SWEEP = ["--model", "lenet", "--set", "activation=relu", "--set", "pool=max", "--init", "xavier", "--batch-size", "64",
         "--sweep", "lr=0.03,0.1,0.3", "--seeds", "3", "--epochs", "1", "--set", "subset=0.1"]


def take(name: str, page: Page, url: str, home: Path, group: str | None, search: str | None, sweep: str | None
         ) -> Locator | None:
    """Bring the page of screenshot ``name`` into the state it shows; returns the part to take (None: the page)."""
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
    elif name == "runs-health":
        browser.goto(page, url, "runs")
        pick_run(page, "runs.chosen", first_seed(home, group, "sigmoid").id)
        page.get_by_text("Layer health: gradients, weights and activations").click()
        browser.settle(page)
        return page.locator('[data-testid="stExpander"]').filter(has_text="Layer health")
    elif name == "compare-health":
        sigmoid, relu = first_seed(home, group, "sigmoid"), first_seed(home, group, "relu")
        browser.goto(page, url, "compare", f"run={sigmoid.id}&run={relu.id}")
        page.get_by_text("Layer health: two runs side by side").click()
        browser.settle(page)
        choose(page, "compare.health.a", sigmoid.name)
        choose(page, "compare.health.b", relu.name)
        return page.locator(".st-key-compare-health, .st-key-compare-health-figure, "
                            "[data-testid='stCaptionContainer']:has-text('Gradient norm:')")
    elif name == "activations-epochs":
        sigmoid = first_seed(home, group, "sigmoid")
        browser.goto(page, url, "activations")
        choose(page, "act.run", sigmoid.name)
        page.get_by_role("tab", name="Epoch by epoch").click()
        browser.settle(page)
        choose(page, "act.epoch.other", first_seed(home, group, "relu").name)
        page.locator(f".st-key-act-epoch-{sigmoid.id} input").press("Home")  # epoch 1: the sigmoid's plateau
        browser.settle(page)
        return page.get_by_role("tabpanel")
    elif name == "compare-verdict":
        browser.goto(page, url, "compare", f"group={sweep}&by=cfg.lr")
        page.get_by_role("button", name="Add seeds").click()
        browser.settle(page)
        wait_for_runs(home, sweep)
        browser.settle(page, quiet=5)  # the verdict's last refresh, then the page's
        return page.locator(".st-key-compare-verdict")
    elif name == "compare-diff":
        browser.goto(page, url, "compare", f"group={group}&by=cfg.model.activation"
                     "&da=level:model.activation%3Dsigmoid&db=level:model.activation%3Drelu")
        page.locator(".st-key-compare-diff .js-plotly-plot").first.wait_for(state="attached")
        return page.locator(".st-key-compare-diff")
    return None


def first_seed(home: Path, group: str | None, activation: str) -> Run:
    """The first comparison's seed-0 run of ``activation``."""
    return next(r for r in Store(home).list_runs(group=group) if activation in r.name and r.name.endswith("seed=0"))


def choose(page: Page, key: str, text: str) -> None:
    """Pick the option containing ``text`` in the selectbox with widget key ``key``."""
    box = page.locator(f".st-key-{key.replace('.', '-')} input")
    box.click()
    box.fill(text)
    box.press("Enter")
    box.evaluate("e => e.blur()")  # no focus ring in the picture
    browser.settle(page)


def train_first_comparison(home: Path) -> str:
    """Queue the home page's first comparison and train it with a foreground supervisor; returns the group."""
    from cnnkit.events import Status
    from cnnkit.views import home as home_view

    store = Store(home)
    group, _ = home_view.queue_first_comparison(store)
    subprocess.run([sys.executable, "-m", "cnnkit", "worker", "--store", str(home), "--idle-exit", "1"],
                   cwd=ROOT, env=env_for(home), check=True, timeout=900, stdout=subprocess.DEVNULL)
    statuses = {r.status for r in store.list_runs()}
    if statuses != {Status.COMPLETED}:
        raise RuntimeError(f"first comparison ended {statuses}")
    return group


def train_sweep(home: Path) -> str:
    """The README's lr sweep of ReLU LeNets, trained by a foreground supervisor; returns its group."""
    out = subprocess.run([sys.executable, "-m", "cnnkit", "submit", "--store", str(home), *SWEEP, "--json"], cwd=ROOT,
                         env=env_for(home), check=True, capture_output=True, text=True)
    subprocess.run([sys.executable, "-m", "cnnkit", "worker", "--store", str(home), "--idle-exit", "1"],
                   cwd=ROOT, env=env_for(home), check=True, timeout=900, stdout=subprocess.DEVNULL)
    return json.loads(out.stdout.strip().splitlines()[-1])["group"]


def wait_for_runs(home: Path, group: str | None, timeout: float = 1200) -> None:
    """Until every run of ``group`` has ended (the dashboard's supervisor trains them)."""
    from cnnkit.events import Status

    deadline = time.time() + timeout
    while any(r.status in Status.ACTIVE for r in Store(home).list_runs(group=group)):
        if time.time() > deadline:
            raise TimeoutError(f"the runs of {group} did not end in {timeout:g} s")
        time.sleep(2)


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


def save(page: Page, part: Locator | None, path: Path, margin: int = 12) -> None:
    """The whole page, or the region that holds every element of ``part`` with a margin around it."""
    if part is None:
        page.screenshot(path=str(path), full_page=True)
        return
    part.first.evaluate("e => e.scrollIntoView({block: 'start'})")  # the app scrolls inside its main section
    page.mouse.move(0, 0)  # no chart's toolbar in the picture
    page.wait_for_timeout(500)
    boxes = [part.nth(i).bounding_box() for i in range(part.count())]
    left, top = max(0, min(b["x"] for b in boxes) - margin), max(0, min(b["y"] for b in boxes) - margin)
    right = max(b["x"] + b["width"] for b in boxes) + margin
    bottom = max(b["y"] + b["height"] for b in boxes) + margin
    page.screenshot(path=str(path), clip={"x": left, "y": top, "width": right - left, "height": bottom - top})


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
        group = train_first_comparison(home) if set(pages) - {"models", "search", "experiments"} else None
        search = train_search(home) if "search" in pages else None
        sweep = train_sweep(home) if "compare-verdict" in pages else None
        with serve(home, log=Path(tmp) / "streamlit.log") as server, browser.browser() as page:
            for name in pages:
                save(page, take(name, page, server.url, home, group, search, sweep), out / f"{name}.png")
    print(f"saved {', '.join(pages)} in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
