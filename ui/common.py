"""The store handle, the page frame (config + sidebar), inline errors, the supervisor, formatting."""
from __future__ import annotations

import math
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from cnnkit.errors import CnnkitError
from cnnkit.estimate import format_seconds
from cnnkit.events import Status
from cnnkit.jobs.process import supervisor_pid, supervisor_running
from cnnkit.store import Store, default_home
from cnnkit.text import format_count

NO_SUPERVISOR_ENV = "CNNKIT_NO_SUPERVISOR"
DEBUG_ENV = "CNNKIT_DEBUG"


@st.cache_resource(show_spinner=False)
def _store_at(home: str) -> Store:
    return Store(home)


def open_store() -> Store:
    """The run store of ``CNNKIT_HOME`` (or results/); one handle per location for the server's life."""
    return _store_at(str(default_home().expanduser().resolve()))


def page(title: str, icon: str = ":material/science:") -> Store:
    """Start a page: its config, the store (or a one-line error and stop), the sidebar."""
    _through_the_navigation()
    st.set_page_config(page_title=f"{title} · cnnkit", page_icon=icon, layout="wide")
    try:
        store = open_store()
    except CnnkitError as exc:
        st.error(str(exc))
        st.stop()
    with st.sidebar:
        try:
            _sidebar(store)
        except CnnkitError as exc:
            st.error(str(exc))
    return store


def _through_the_navigation() -> None:
    """Run this page through dashboard.py's st.navigation, also on a fresh server's first request.

    Until some session has run st.navigation, Streamlit treats an app with a pages/ folder as an old
    directory app: a link to /Compare opened first after a restart runs the page file alone, and the
    sidebar lists "dashboard" and the file names. Leaving that mode and rerunning runs dashboard.py,
    which picks the page from the URL as usual. Only a session's first run is redone, so that no click
    is lost to the rerun (AppTest starts every run in that mode).
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory and not st.session_state:
        PagesManager.uses_pages_directory = False
        st.rerun()


def _sidebar(store: Store) -> None:
    counts = store.counts()
    st.caption("Run store")
    st.code(str(store.home), language=None, wrap_lines=True)
    st.caption(supervisor_line(store))
    active = counts[Status.RUNNING] + counts[Status.QUEUED]
    st.caption(f"{counts[Status.RUNNING]} running · {counts[Status.QUEUED]} queued · "
               f"{sum(counts.values()) - active} finished")
    if counts[Status.QUEUED] and not supervisor_running(store.home):
        st.warning("Runs are queued but no supervisor serves this store.")
        if st.button("Start the supervisor", key="sidebar.start"):
            st.toast(start_supervisor(store))
            st.rerun()


@contextmanager
def guard() -> Iterator[None]:
    """Show errors inside the block as one-line messages instead of tracebacks.

    cnnkit's own errors already are one line; anything else is a bug and says so (its traceback
    with CNNKIT_DEBUG=1). Streamlit's rerun/stop signals are BaseExceptions and pass through.
    """
    from streamlit.errors import FragmentHandledException

    try:
        yield
    except CnnkitError as exc:
        st.error(str(exc))
    except FragmentHandledException:
        raise
    except Exception as exc:
        if os.environ.get(DEBUG_ENV):
            raise
        first = (str(exc).strip().splitlines() or [""])[0][:300]
        st.error(f"unexpected {type(exc).__name__}: {first} (set {DEBUG_ENV}=1 for the traceback)")


# ---- the supervisor -------------------------------------------------------------------------------

def supervisor_line(store: Store) -> str:
    pid = supervisor_pid(store.home)
    if pid:
        return f"Supervisor running (pid {pid})"
    if os.environ.get(NO_SUPERVISOR_ENV):
        return f"No supervisor ({NO_SUPERVISOR_ENV} is set: start one with `python -m cnnkit worker`)"
    return "No supervisor running (one starts with the first launch)"


def start_supervisor(store: Store) -> str:
    """Start a detached supervisor unless one runs or ``CNNKIT_NO_SUPERVISOR`` is set; says what happened."""
    if os.environ.get(NO_SUPERVISOR_ENV):
        return f"Queued. No supervisor was started ({NO_SUPERVISOR_ENV} is set)."
    from cnnkit.jobs.supervisor import ensure_supervisor

    pid = ensure_supervisor(store)
    return f"Queued; started the supervisor (pid {pid})." if pid else "Queued; the supervisor picks it up."


@st.cache_resource(show_spinner=False)
def warm_imports() -> threading.Thread:
    """Import what the other pages need (torch and the models, plotly, the experiments) in the background,
    once per server, so that the first visit of a page does not wait seconds for it. The home page calls
    it after it has drawn itself."""
    def work() -> None:
        import cnnkit.compare  # noqa: F401 - pandas and plotly
        import cnnkit.experiments  # noqa: F401
        import cnnkit.insight.activations  # noqa: F401 - torch and the models come with it
        import cnnkit.insight.memory  # noqa: F401 - torch's memory tracker: a second of its own
        from cnnkit.models import anatomy

        anatomy.describe("lenet", 1, 28, 10)  # the first one pays for torch's first dispatches and the flop counter

    thread = threading.Thread(target=work, daemon=True, name="cnnkit-warm-imports")
    thread.start()
    return thread


# ---- the machine ----------------------------------------------------------------------------------

@st.cache_resource(show_spinner=False)
def device_summary() -> dict[str, object]:
    """GPUs (name, memory) from nvidia-smi, without initialising CUDA in this process; else the CPU."""
    gpus = []
    smi = shutil.which("nvidia-smi")
    if smi:
        try:
            out = subprocess.run([smi, "--query-gpu=name,memory.total", "--format=csv,noheader,nounits"],
                                 capture_output=True, text=True, timeout=5, check=True).stdout
            for line in out.strip().splitlines():
                name, mem = (p.strip() for p in line.rsplit(",", 1))
                gpus.append(f"{name} · {float(mem) / 1024:.0f} GiB")
        except (OSError, subprocess.SubprocessError, ValueError):
            gpus = []
    cores = os.cpu_count() or 1
    text = " + ".join(gpus) if gpus else f"CPU only · {cores} core{'s' * (cores > 1)}"
    return {"gpus": gpus, "cores": cores, "text": text, "gpu": bool(gpus)}


# ---- formatting -----------------------------------------------------------------------------------

def headline(error: str | None) -> str:
    """One line of a run's error: the exception line of a traceback, else the first line."""
    lines = [line.strip() for line in (error or "").strip().splitlines() if line.strip()]
    if not lines:
        return "no error recorded"
    if lines[0].startswith("Traceback"):
        return lines[-1][:300]
    return lines[0][:300]


def fmt_count(n: float | None) -> str:
    """61706 → '61.7 k', 46764746 → '46.8 M'; '–' for missing."""
    if n is None or (isinstance(n, float) and math.isnan(n)):
        return "–"
    return format_count(n)


def fmt_seconds(s: float | None) -> str:
    return format_seconds(s)


# ---- figures --------------------------------------------------------------------------------------

def figure_grid(figures: dict[str, object], key: str, cols: int = 2) -> None:
    """Plotly figures ``cols`` to a row, in order; ``key`` prefixes their widget keys."""
    items = list(figures.items())
    for start in range(0, len(items), cols):
        for col, (name, fig) in zip(st.columns(cols), items[start:start + cols]):
            col.plotly_chart(fig, key=f"{key}.{name}")
