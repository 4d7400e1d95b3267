"""Runs: the live table (refreshing only while something runs), and what can be done to runs."""
from __future__ import annotations

import streamlit as st

import ui
from cnnkit.compare import live_table
from cnnkit.errors import CnnkitError
from cnnkit.jobs.local import read_tail
from cnnkit.store import ACTIVE, STATUSES

REFRESH_SECONDS = 2.0
PROBLEMS = ("failed", "diverged", "oom", "lost")
LIMIT = 1000

store = ui.page("Runs", ":material/list_alt:")
st.title("Runs")

COLUMNS = {
    "progress": st.column_config.ProgressColumn("progress", min_value=0, max_value=1, format="percent"),
    "train_loss": st.column_config.NumberColumn("train loss", format="%.4f"),
    "train_acc": st.column_config.NumberColumn("train acc", format="%.4f"),
    "test_acc": st.column_config.NumberColumn("test acc", format="%.4f"),
    "eta": st.column_config.TextColumn("ETA"),
    "queued": st.column_config.DatetimeColumn("queued", format="YYYY-MM-DD HH:mm:ss"),
}


def table_frame(statuses: list[str], search: str):  # noqa: ANN201
    runs = store.list_runs(status=statuses or None, limit=LIMIT)
    if search:
        needle = search.lower()
        runs = [r for r in runs if needle in f"{r.id} {r.name} {r.model} {r.group or ''} {' '.join(r.tags)}".lower()]
    frame = live_table(runs, store.latest_metrics([r.id for r in runs]))
    frame.insert(8, "eta", frame.pop("eta_s").map(lambda s: ui.fmt_seconds(s) if s == s and s is not None else ""))
    return frame


with ui.guard():
    flash = st.session_state.pop("runs.flash", None)
    if flash:
        st.success(flash)
    counts = store.counts()
    active = counts["running"] + counts["queued"]
    f1, f2 = st.columns([2, 2])
    statuses = f1.multiselect("status", STATUSES, key="runs.status", persist_state="session")
    search = f2.text_input("search", key="runs.search", placeholder="id, name, model, group or tag",
                           persist_state="session")

    @st.fragment(run_every=REFRESH_SECONDS if active else None)
    def live() -> None:
        with ui.guard():
            now_counts = store.counts()
            still_active = now_counts["running"] + now_counts["queued"]
            frame = table_frame(statuses, search)
            st.caption(f"{now_counts['running']} running · {now_counts['queued']} queued · {len(frame)} shown"
                       + (f" · refreshing every {REFRESH_SECONDS:g} s" if active else ""))
            if frame.empty:
                st.info("No runs yet. Launch one on the Train page.")
            else:
                st.dataframe(frame, hide_index=True, column_config=COLUMNS, key="runs.table",
                             column_order=["id", "name", "status", "progress", "epoch", "train_loss", "train_acc",
                                           "test_acc", "eta", "device", "model", "dataset", "group", "tags", "queued"])
            if active and not still_active:
                st.rerun()  # everything ended: one full rerun turns the polling off

    live()

    runs = store.list_runs(status=statuses or None, limit=LIMIT)
    if not runs:
        st.stop()
    labels = {r.id: f"{r.id} · {r.name} · {r.status}" for r in runs}
    st.subheader("Act on runs")
    if "runs.chosen" in st.session_state:  # drop runs that were deleted or filtered away
        st.session_state["runs.chosen"] = [i for i in st.session_state["runs.chosen"] if i in labels]
    chosen = st.multiselect("runs", list(labels), format_func=labels.get, key="runs.chosen",
                            placeholder="pick one or more runs")
    picked = [r for r in runs if r.id in chosen]
    c = st.columns(5)
    done: list[str] = []
    if c[0].button("Cancel", disabled=not any(r.active for r in picked), key="runs.cancel",
                   help="queued runs are cancelled at once; running ones checkpoint and stop"):
        for r in picked:
            if r.active:
                try:
                    done.append(f"{r.id}: {store.request_cancel(r.id)}")
                except CnnkitError as exc:
                    st.error(str(exc))
    if c[1].button("Resume", disabled=not any(not r.active for r in picked), key="runs.resume",
                   help="queue a finished run again; it continues from its last checkpoint"):
        for r in picked:
            if not r.active:
                try:
                    store.resume(r.id)
                    done.append(f"{r.id}: queued to resume")
                except CnnkitError as exc:  # it started again meanwhile, or was deleted
                    st.error(str(exc))
        if done:
            done.append(ui.start_supervisor(store))
    sure = c[3].checkbox("really delete", key="runs.sure", help="deleting removes metrics and checkpoints")
    if c[2].button("Delete", disabled=not picked or not sure, key="runs.delete"):
        for r in picked:
            try:
                store.delete(r.id)
                done.append(f"{r.id}: deleted")
            except CnnkitError as exc:
                st.error(str(exc))
    if picked:
        c[4].page_link("pages/4_Compare.py", label="Compare these", icon=":material/monitoring:",
                       query_params={"run": [r.id for r in picked]})
    if done:
        st.session_state["runs.flash"] = " · ".join(done)
        st.rerun()  # the table and the refresh cadence follow the new statuses

    if len(picked) == 1:
        run = picked[0]
        c1, c2 = st.columns(2)
        with c1.form("runs.rename"):
            new_name = st.text_input("name", value=run.name, key=f"runs.name.{run.id}")
            if st.form_submit_button("Rename"):
                try:
                    store.rename(run.id, new_name)
                    st.rerun()
                except CnnkitError as exc:
                    st.error(str(exc))
        with c2.form("runs.tag"):
            new_tags = st.text_input("tags (comma separated)", value=", ".join(run.tags), key=f"runs.tags.{run.id}")
            if st.form_submit_button("Set tags"):
                try:
                    store.set_tags(run.id, new_tags.split(","))
                    st.rerun()
                except CnnkitError as exc:
                    st.error(str(exc))
        with st.expander("Config", expanded=False):
            st.json(run.config)
        if run.error or run.status in PROBLEMS:
            st.error(f"{run.status}: {ui.headline(run.error)}")
            with st.expander("Error and log tail", expanded=True):
                if run.error:
                    st.code(run.error, language=None)
                st.code(read_tail(store, run.id) or "(empty log)", language=None)
        elif run.status not in ACTIVE:
            with st.expander("Log tail"):
                st.code(read_tail(store, run.id) or "(empty log)", language=None)

    problems = [r for r in runs if r.status in PROBLEMS][:10]
    if problems:
        st.subheader("Problems")
        for r in problems:
            with st.expander(f"{r.id} · {r.name} · {r.status}: {ui.headline(r.error)[:120]}"):
                if r.error:
                    st.code(r.error, language=None)
                st.code(read_tail(store, r.id) or "(empty log)", language=None)
