"""Screenshots of the dashboard for the README (docs/screenshots/), launched as the README launches it.

Usage: .venv/bin/python scripts/screenshots.py [--out docs/screenshots]
Trains the home page's first comparison (4 small LeNet runs, about a minute on two CPU cores) in a
temporary store, serves the dashboard on a free port, and saves Compare (grouped by activation,
mean ± std over seeds) and Models (LeNet, AlexNet, VGG-11 side by side). Every process it starts
is stopped by process group at the end.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from cnnkit import browser
from cnnkit.dashboard_server import ROOT, env_for, serve


def train_first_comparison(home: Path) -> str:
    """Queue the home page's first comparison and train it with a foreground supervisor; returns the group."""
    from cnnkit import reference
    from cnnkit.config import RunConfig
    from cnnkit.store import Status, Store

    store = Store(home)
    runs = reference.first_comparison()
    group = store.create_group("sweep", reference.FIRST_COMPARISON_NAME, {})
    store.create_runs([RunConfig.from_dict(c) for _, c in runs], group, names=[n for n, _ in runs])
    subprocess.run([sys.executable, "-m", "cnnkit", "worker", "--store", str(home), "--idle-exit", "1"],
                   cwd=ROOT, env=env_for(home), check=True, timeout=900, stdout=subprocess.DEVNULL)
    statuses = {r.status for r in store.list_runs()}
    if statuses != {Status.COMPLETED}:
        raise RuntimeError(f"first comparison ended {statuses}")
    return group


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--pages", default="compare,models", help="which of compare,models to take")
    args = parser.parse_args()
    pages = set(args.pages.split(","))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "store"
        group = train_first_comparison(home) if "compare" in pages else None
        with serve(home, log=Path(tmp) / "streamlit.log") as server, browser.browser() as page:
            if group:
                browser.goto(page, server.url, "compare", f"group={group}&by=cfg.model.activation&smooth=0.3")
                page.screenshot(path=str(out / "compare.png"), full_page=True)
            if "models" in pages:
                browser.goto(page, server.url, "models", "model=lenet&model=alexnet&model=vgg11")
                page.locator(".js-plotly-plot").first.wait_for(state="attached")
                page.screenshot(path=str(out / "models.png"), full_page=True)
    print(f"saved {', '.join(sorted(pages))} in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
