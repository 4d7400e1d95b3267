"""The dashboard section of ``cnnkit bench``: what an open tab costs, on real Chromium, with the
dashboard launched as the README launches it.

- per page: seconds to interactive (navigation until the page's script is idle) with 200 runs × 50
  epochs in the store, first visit and again, and the server's CPU while the tab stays open with
  nothing running;
- the live refresh: the server's CPU while runs train and a page that follows them is open;
- interference: the epoch time of the same run with Runs open, and with Compare open, divided by
  the epoch time with no page open, the conditions alternating so that a noisy machine slows all alike;
- the home page's first comparison: seconds from the click until its four runs have finished, and
  their final test accuracy.
"""
from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cnnkit.bench import browser
from cnnkit.bench.server import cpu_seconds, cpu_share, serve
from cnnkit.config import RunConfig
from cnnkit.events import Status
from cnnkit.jobs.supervisor import ensure_supervisor
from cnnkit.store import Store

PAGES = ("home", "models", "train", "runs", "compare", "activations", "experiments")
CONDITIONS = ("none", "runs", "compare")
# The home page's ReLU LeNet on half of Fashion-MNIST: epochs of about a second on two cores. The first
# epoch (warm-up, and the page loading) is left out: what is compared is training while a tab watches.
INTERFERENCE_RUN = RunConfig(model="lenet", model_options={"activation": "relu", "pool": "max"}, lr=0.1,
                             epochs=5, subset=0.5, test_subset=0.2, init="xavier")
RUN_TIMEOUT = 600.0


def page_costs(page: Any, home: Path, idle_seconds: float, log: Callable[[str], None]) -> list[dict[str, Any]]:
    """Seconds to interactive (first visit, again) and idle server CPU per page, on the store at ``home``."""
    rows = []
    with serve(home) as server:
        for name in PAGES:
            first = browser.goto(page, server.url, name, quiet=1.0)
            again = browser.goto(page, server.url, name, quiet=1.0)
            idle = cpu_share(server.pid, idle_seconds)
            log(f"  {name}: {first:.2f} s first, {again:.2f} s again, idle server {100 * idle:.1f} % of a core")
            rows.append({"page": name, "first_s": first, "again_s": again, "idle_cpu": idle})
    return rows


def _train_one(store: Store, page: Any, url: str, condition: str, server_pid: int) -> dict[str, Any]:
    """Queue one run, open ``condition``'s page while it trains, wait for it; its epoch times."""
    run_id = store.create_run(INTERFERENCE_RUN, name=f"interference {condition}")
    ensure_supervisor(store)
    deadline = time.time() + RUN_TIMEOUT
    while store.get(run_id).status == Status.QUEUED and time.time() < deadline:
        time.sleep(0.05)
    if condition == "none":
        page.goto("about:blank")
    else:
        browser.goto(page, url, condition, quiet=0.5)
    cpu0, t0 = cpu_seconds(server_pid), time.perf_counter()  # the live refresh alone, after the page loaded
    while store.get(run_id).active and time.time() < deadline:
        time.sleep(0.2)
    server_cpu = (cpu_seconds(server_pid) - cpu0) / (time.perf_counter() - t0)
    run = store.get(run_id)
    if run.status != Status.COMPLETED:
        raise RuntimeError(f"bench run {run_id} ended {run.status}: {run.error}")
    epochs = [row["epoch_seconds"] for row in store.epoch_rows(run_id) if "epoch_seconds" in row][1:]
    return {"condition": condition, "epoch_seconds": epochs, "server_cpu": server_cpu}


def interference(page: Any, home: Path, rounds: int, log: Callable[[str], None]) -> dict[str, Any]:
    """Epoch time per condition (alternating ``rounds`` times) and the server's CPU while runs train."""
    store = Store(home)
    samples: dict[str, list[float]] = {c: [] for c in CONDITIONS}
    server_cpu: dict[str, list[float]] = {c: [] for c in CONDITIONS}
    with serve(home) as server:
        for r in range(rounds):
            for condition in CONDITIONS:
                one = _train_one(store, page, server.url, condition, server.pid)
                samples[condition] += one["epoch_seconds"]
                server_cpu[condition].append(one["server_cpu"])
                epochs = ", ".join(f"{s:.2f}" for s in one["epoch_seconds"])
                log(f"  round {r + 1}, {condition} open: epochs {epochs} s, server {100 * one['server_cpu']:.1f} % "
                    "of a core")
    epoch = {c: statistics.median(v) for c, v in samples.items()}
    return {"run": INTERFERENCE_RUN.to_dict(), "rounds": rounds, "epoch_seconds": epoch,
            "ratio": {c: epoch[c] / epoch["none"] for c in CONDITIONS if c != "none"},
            "live_server_cpu": {c: statistics.median(v) for c, v in server_cpu.items()}}


def first_comparison(page: Any, home: Path, log: Callable[[str], None]) -> dict[str, Any]:
    """Click "Run the first comparison" on an empty store; seconds until all its runs have ended."""
    store = Store(home)
    with serve(home) as server:
        browser.goto(page, server.url, "home", quiet=0.5)
        start = time.perf_counter()
        page.get_by_role("button", name="Run the first comparison").click()
        deadline = time.time() + RUN_TIMEOUT
        while not store.list_runs() or any(r.active for r in store.list_runs()):
            if time.time() > deadline:
                raise RuntimeError("the first comparison did not finish")
            time.sleep(0.2)
        seconds = time.perf_counter() - start
    runs = store.list_runs()
    finals = store.latest_metrics([r.id for r in runs])
    accuracy = {r.name: finals.get(r.id, {}).get("test_acc") for r in runs}
    log(f"  first comparison: {seconds:.1f} s from the click; " + ", ".join(f"{n}: {a:.3f}" for n, a in accuracy.items()
                                                                         if a is not None))
    return {"seconds": seconds, "statuses": sorted({str(r.status) for r in runs}), "test_acc": accuracy}


def run(short: bool, log: Callable[[str], None], fill: Callable[[Store, int, int], None]) -> dict[str, Any]:
    """The whole section as one JSON-ready dict (``{"skipped": why}`` without Chromium or Playwright)."""
    missing = browser.available()
    if missing:
        return {"skipped": missing}
    runs, epochs = (40, 10) if short else (200, 50)
    with tempfile.TemporaryDirectory() as tmp, browser.browser() as page:
        full = Path(tmp) / "full"
        fill(Store(full), runs, epochs)
        log(f"dashboard: pages with {runs} runs × {epochs} epochs in the store (Chromium, README launch)")
        pages = page_costs(page, full, idle_seconds=3.0 if short else 8.0, log=log)
        log("dashboard: the same run with no page, Runs, and Compare open, alternately")
        mixed = interference(page, Path(tmp) / "live", rounds=1 if short else 2, log=log)
        first = {"skipped": "short mode"} if short else first_comparison(page, Path(tmp) / "first", log)
    return {"store_runs": runs, "store_epochs": epochs, "pages": pages, **mixed, "first_comparison": first}


def format_section(section: dict[str, Any]) -> list[str]:
    from cnnkit.text import format_table

    if "skipped" in section:
        return [f"dashboard: skipped ({section['skipped']})"]
    rows = [(p["page"], p["first_s"], p["again_s"], f"{100 * p['idle_cpu']:.1f}") for p in section["pages"]]
    lines = [f"dashboard (README launch, Chromium; {section['store_runs']} runs × {section['store_epochs']} epochs "
             "in the store):",
             format_table(rows, ["page", "interactive s", "again s", "idle server % core"], "lrrr")]
    live, epoch, ratio = section["live_server_cpu"], section["epoch_seconds"], section["ratio"]
    lines.append(f"live refresh (a run training): server {100 * live['runs']:.1f} % of a core with Runs open, "
                 f"{100 * live['compare']:.1f} % with Compare open, {100 * live['none']:.1f} % with no page")
    lines.append(f"interference: epoch {epoch['none']:.2f} s with no page, {epoch['runs']:.2f} s with Runs open "
                 f"({ratio['runs']:.2f}×), {epoch['compare']:.2f} s with Compare open ({ratio['compare']:.2f}×)")
    first = section.get("first_comparison", {})
    if "seconds" in first:
        levels: dict[str, list[str]] = {}
        for name, acc in sorted(first["test_acc"].items()):
            levels.setdefault(name.split(" seed=")[0], []).append("–" if acc is None else f"{acc:.3f}")
        lines.append(f"home page's first comparison: {first['seconds']:.1f} s from the click until its runs ended "
                     f"({', '.join(first['statuses'])}); final test acc "
                     + "; ".join(f"{level} {', '.join(accs)}" for level, accs in levels.items()))
    return lines
