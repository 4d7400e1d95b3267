"""Screenshots of the dashboard for the README (docs/screenshots/), and the helpers the browser test uses.

Usage: .venv/bin/python scripts/screenshots.py [--out docs/screenshots]
Trains the home page's first comparison (4 small LeNet runs, about a minute on two CPU cores) in a
temporary store, serves the dashboard on a free port, and saves Compare (grouped by activation,
mean ± std over seeds) and Models (LeNet, AlexNet, VGG-11 side by side). Every process it starts
is stopped by process group at the end.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PAGES = {"home": "", "models": "Models", "train": "Train", "runs": "Runs", "compare": "Compare",
         "activations": "Activations", "experiments": "Experiments"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env_for(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"CNNKIT_HOME": str(home), "CNNKIT_OFFLINE": "1", "PYTHONUNBUFFERED": "1"})
    env.pop("CNNKIT_NO_SUPERVISOR", None)
    return env


def stop_group(pid: int, grace: float = 5.0) -> None:
    """SIGTERM the process group led by ``pid``, then SIGKILL what is left after ``grace`` seconds."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 0)):
        try:
            os.killpg(pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        deadline = time.time() + wait
        while time.time() < deadline:
            try:
                os.killpg(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)


def stop_store_processes(home: Path) -> None:
    """The supervisor of ``home`` and any job it left behind (each leads its own process group)."""
    from cnnkit.jobs.process import supervisor_pid
    from cnnkit.store import Store

    pid = supervisor_pid(home)
    if pid and pid > 0:
        stop_group(pid)
    if (home / "cnnkit.db").exists():
        for run in Store(home).list_runs(status="running"):
            if run.pid and run.pid != os.getpid():
                stop_group(run.pid, grace=2.0)


@contextlib.contextmanager
def serve(home: Path, port: int | None = None, log: Path | None = None) -> Iterator[str]:
    """`streamlit run dashboard.py` on a free port with CNNKIT_HOME=home; yields its base URL."""
    port = port or free_port()
    out = open(log, "wb") if log else subprocess.DEVNULL
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard.py"), "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env_for(home), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.read().strip() == b"ok":
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"streamlit did not start (exit {proc.poll()}); see {log}")
            time.sleep(0.3)
        yield url
    finally:
        stop_group(proc.pid)
        stop_store_processes(home)
        if log:
            out.close()


@contextlib.contextmanager
def browser(width: int = 1400, height: int = 2000) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = b.new_page(viewport={"width": width, "height": height})
            page.set_default_timeout(60_000)
            yield page
        finally:
            b.close()


def settle(page, quiet: float = 1.5, timeout: float = 120) -> None:  # noqa: ANN001
    """Wait until the app's script is not running (the stApp element says so) and has stayed idle for
    ``quiet`` seconds; a fragment's periodic reruns count as running too."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout * 1000)
    idle_since, deadline = None, time.time() + timeout
    while time.time() < deadline:
        state = page.get_attribute('[data-testid="stApp"]', "data-test-script-state")
        busy = state != "notRunning" or page.locator('[data-testid="stSkeleton"]').count() > 0
        if busy:
            idle_since = None
        elif idle_since is None:
            idle_since = time.time()
        elif time.time() - idle_since >= quiet:
            return
        time.sleep(0.1)
    raise TimeoutError(f"the app kept running for {timeout} s")


def goto(page, base: str, name: str, query: str = "") -> None:  # noqa: ANN001
    page.goto(f"{base}/{PAGES[name]}" + (f"?{query}" if query else ""))
    settle(page)


def train_first_comparison(home: Path) -> str:
    """Queue the home page's first comparison and train it with a foreground supervisor; returns the group."""
    from cnnkit import reference
    from cnnkit.config import RunConfig
    from cnnkit.store import Store

    store = Store(home)
    runs = reference.first_comparison()
    group = store.create_group("sweep", reference.FIRST_COMPARISON_NAME, {})
    store.create_runs([RunConfig.from_dict(c) for _, c in runs], group, names=[n for n, _ in runs])
    subprocess.run([sys.executable, "-m", "cnnkit", "worker", "--store", str(home), "--idle-exit", "1"],
                   cwd=ROOT, env=env_for(home), check=True, timeout=900, stdout=subprocess.DEVNULL)
    statuses = {r.status for r in store.list_runs()}
    if statuses != {"completed"}:
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
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "store"
        group = train_first_comparison(home) if "compare" in pages else None
        with serve(home, log=Path(tmp) / "streamlit.log") as url, browser() as page:
            if group:
                goto(page, url, "compare", f"group={group}&by=cfg.model.activation&smooth=0.3")
                page.screenshot(path=str(out / "compare.png"), full_page=True)
            if "models" in pages:
                goto(page, url, "models", "model=lenet&model=alexnet&model=vgg11")
                page.locator(".js-plotly-plot").first.wait_for(state="attached")
                page.screenshot(path=str(out / "models.png"), full_page=True)
    print(f"saved {', '.join(sorted(pages))} in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
