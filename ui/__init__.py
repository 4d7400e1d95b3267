"""Streamlit-only helpers shared by the pages (the library, cnnkit/, never imports Streamlit).

Environment variables the dashboard honours:
- ``CNNKIT_HOME``: the run store folder (default ``results/``).
- ``CNNKIT_NO_SUPERVISOR=1``: never start a supervisor from the dashboard (the UI tests set it; runs
  stay queued until ``python -m cnnkit worker`` serves the store).
- ``CNNKIT_DEBUG=1``: let unexpected errors raise with their traceback instead of a one-line message.
"""
from ui.common import (
    NO_SUPERVISOR_ENV,
    device_summary,
    figure_grid,
    fmt_count,
    fmt_seconds,
    guard,
    headline,
    open_store,
    page,
    start_supervisor,
    supervisor_line,
    warm_imports,
)

__all__ = ["NO_SUPERVISOR_ENV", "device_summary", "figure_grid", "fmt_count", "fmt_seconds", "guard", "headline",
           "open_store", "page", "start_supervisor", "supervisor_line", "warm_imports"]
