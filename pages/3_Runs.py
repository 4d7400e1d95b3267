"""Runs: the live table (refreshing only while something runs), and what can be done to runs."""
from __future__ import annotations

from collections.abc import Callable

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

import ui
from cnnkit import compare
from cnnkit.errors import CnnkitError
from cnnkit.events import Status
from cnnkit.store import Run
from cnnkit.views import runs as view
from ui import health

REFRESH_SECONDS = 3.0
LIMIT = 1000
COLUMNS = {
    "progress": st.column_config.ProgressColumn("progress", min_value=0, max_value=1, format="percent"),
    "train_loss": st.column_config.NumberColumn("train loss", format="%.4f"),
    "train_acc": st.column_config.NumberColumn("train acc", format="%.4f"),
    "test_acc": st.column_config.NumberColumn("test acc", format="%.4f"),
    "eta": st.column_config.TextColumn("ETA"),
    "queued": st.column_config.DatetimeColumn("queued", format="YYYY-MM-DD HH:mm:ss"),
}
COLUMN_ORDER = ["id", "name", "status", "progress", "epoch", "train_loss", "train_acc", "test_acc", "eta", "device",
                "model", "dataset", "group", "tags", "queued"]


def active_count(counts: dict[str, int]) -> int:
    return counts[Status.RUNNING] + counts[Status.QUEUED]


def filters() -> tuple[list[str], str]:
    """The status filter and the search text."""
    f1, f2 = st.columns([2, 2])
    statuses = f1.multiselect("status", [s.value for s in Status], key="runs.status", persist_state="session")
    search = f2.text_input("search", key="runs.search", placeholder="id, name, model, group or tag",
                           persist_state="session")
    return statuses, search


def live_runs(statuses: list[str], search: str) -> None:
    """The table, polling the store every few seconds while runs are queued or running."""
    active = active_count(store.counts())

    @st.fragment(run_every=REFRESH_SECONDS if active else None)
    def live() -> None:
        with ui.guard():
            counts = store.counts()
            runs = view.search_runs(store.list_runs(status=statuses or None, limit=LIMIT), search)
            frame = view.with_eta_text(view.live_table(runs, store.latest_metrics([r.id for r in runs])))
            st.caption(f"{counts[Status.RUNNING]} running · {counts[Status.QUEUED]} queued · {len(frame)} shown"
                       + (f" · refreshing every {REFRESH_SECONDS:g} s" if active else ""))
            if frame.empty:
                st.info("No runs yet. Launch one on the Train page.")
            else:
                st.dataframe(frame, hide_index=True, column_config=COLUMNS, key="runs.table",
                             column_order=COLUMN_ORDER)
            if active and not active_count(counts):
                st.rerun()  # everything ended: one full rerun turns the polling off

    live()


def run_picker(runs: list[Run]) -> list[Run]:
    labels = {r.id: f"{r.id} · {r.name} · {r.status}" for r in runs}
    if "runs.chosen" in st.session_state:  # drop runs that were deleted or filtered away
        st.session_state["runs.chosen"] = [i for i in st.session_state["runs.chosen"] if i in labels]
    chosen = st.multiselect("runs", list(labels), format_func=labels.get, key="runs.chosen",
                            placeholder="pick one or more runs")
    return [r for r in runs if r.id in chosen]


def cancel(run: Run) -> str:
    return store.request_cancel(run.id)


def resume(run: Run) -> str:
    store.resume(run.id)
    return "queued to resume"


def delete(run: Run) -> str:
    store.delete(run.id)
    return "deleted"


def apply(action: Callable[[Run], str], runs: list[Run]) -> list[str]:
    """``action`` on each run; what happened, one line per run (a refusal is shown as an error)."""
    done = []
    for r in runs:
        try:
            done.append(f"{r.id}: {action(r)}")
        except CnnkitError as exc:  # it changed meanwhile (started again, was deleted)
            st.error(str(exc))
    return done


def action_buttons(picked: list[Run]) -> None:
    c = st.columns(5)
    done: list[str] = []
    if c[0].button("Cancel", disabled=not any(r.active for r in picked), key="runs.cancel",
                   help="queued runs are cancelled at once; running ones checkpoint and stop"):
        done += apply(cancel, [r for r in picked if r.active])
    if c[1].button("Resume", disabled=not any(not r.active for r in picked), key="runs.resume",
                   help="queue a finished run again; it continues from its last checkpoint"):
        done += apply(resume, [r for r in picked if not r.active])
        if done:
            done.append(ui.start_supervisor(store))
    sure = c[3].checkbox("really delete", key="runs.sure", help="deleting removes metrics and checkpoints")
    if c[2].button("Delete", disabled=not picked or not sure, key="runs.delete"):
        done += apply(delete, picked)
    if picked:
        c[4].page_link("pages/4_Compare.py", label="Compare these", icon=":material/monitoring:",
                       query_params={"run": [r.id for r in picked]})
    if done:
        st.session_state["runs.flash"] = " · ".join(done)
        st.rerun()  # the table and the refresh cadence follow the new statuses


def show_log(run: Run) -> None:
    st.code(store.log_tail(run.id) or "(empty log)", language=None)


def show_error_and_log(run: Run) -> None:
    if run.error:
        st.code(run.error, language=None)
    show_log(run)


def text_form(form: DeltaGenerator, label: str, value: str, key: str, button: str, save: Callable[[str], None]
              ) -> None:
    """One text field with a submit button that saves it (a refusal is shown as an error)."""
    with form:
        text = st.text_input(label, value=value, key=key)
        if st.form_submit_button(button):
            try:
                save(text)
                st.rerun()
            except CnnkitError as exc:
                st.error(str(exc))


def system_charts(run: Run) -> None:
    """The job's CPU, memory and GPU over its training, when it recorded them."""
    figures = compare.system_figures(store, store.runs_frame([run]), compare.Selection())
    if figures:
        with st.expander("System metrics: CPU, memory, GPU"):
            ui.figure_grid(figures, "runs.system")


def layer_health(run: Run) -> None:
    """The run's layer health over its training, a layer × time heatmap per quantity."""
    with st.expander("Layer health: gradients, weights and activations, layer by layer"):
        health.heatmaps(store, [run.id], [run.name], f"runs.health.{run.id}")


def run_details(run: Run) -> None:
    """Rename, retag, its config, and its error and log."""
    c1, c2 = st.columns(2)
    text_form(c1.form("runs.rename"), "name", run.name, f"runs.name.{run.id}", "Rename",
              lambda name: store.rename(run.id, name))
    text_form(c2.form("runs.tag"), "tags (comma separated)", ", ".join(run.tags), f"runs.tags.{run.id}", "Set tags",
              lambda tags: store.set_tags(run.id, tags.split(",")))
    with st.expander("Config", expanded=False):
        st.json(run.config)
    system_charts(run)
    layer_health(run)
    if run.error or view.is_problem(run):
        st.error(f"{run.status}: {ui.headline(run.error)}")
        with st.expander("Error and log tail", expanded=True):
            show_error_and_log(run)
    elif not run.active:
        with st.expander("Log tail"):
            show_log(run)


def problems(runs: list[Run]) -> None:
    wrong = view.problem_runs(runs)
    if wrong:
        st.subheader("Problems")
        for r in wrong:
            with st.expander(f"{r.id} · {r.name} · {r.status}: {ui.headline(r.error)[:120]}"):
                show_error_and_log(r)


store = ui.page("Runs", ":material/list_alt:")
st.title("Runs")
with ui.guard():
    flash = st.session_state.pop("runs.flash", None)
    if flash:
        st.success(flash)
    statuses, search = filters()
    live_runs(statuses, search)
    runs = store.list_runs(status=statuses or None, limit=LIMIT)
    if not runs:
        st.stop()
    st.subheader("Act on runs")
    picked = run_picker(runs)
    action_buttons(picked)
    if len(picked) == 1:
        run_details(picked[0])
    problems(runs)
