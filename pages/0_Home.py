"""Home: what runs and where, the way in on an empty store, and the recent runs."""
from __future__ import annotations

import streamlit as st

import ui
from cnnkit import d2l
from cnnkit.events import Status
from cnnkit.jobs.process import supervisor_running
from cnnkit.store import Store
from cnnkit.views import home
from cnnkit.views.runs import live_table
from ui.navigation import PAGES


def status_row(store: Store, counts: dict[str, int]) -> None:
    device = ui.device_summary()
    c = st.columns(4)
    c[0].metric(Status.RUNNING, counts[Status.RUNNING])
    c[1].metric(Status.QUEUED, counts[Status.QUEUED])
    c[2].metric("finished", sum(counts[s] for s in Status.FINISHED),
                help=", ".join(f"{counts[s]} {s}" for s in Status.FINISHED if counts[s]) or None)
    c[3].metric("device", "GPU" if device["gpu"] else "CPU", help=str(device["text"]))
    st.caption(f"**Device:** {device['text']} · **Store:** `{store.home}` · {ui.supervisor_line(store)}")
    if counts[Status.QUEUED] and not supervisor_running(store.home):
        if st.button("Start the supervisor", key="home.start"):
            st.success(ui.start_supervisor(store))


def first_comparison(store: Store) -> None:
    st.subheader("Start here")
    st.write("The store is empty. One click queues a first controlled comparison: d2l's LeNet recipe "
             "(sigmoid, average pooling, lr 0.9) against the modern LeNet (ReLU, max pooling, lr 0.1), on "
             "the whole of Fashion-MNIST, 3 epochs, 2 seeds each. On a 2-core CPU all four runs take about "
             "half a minute; the sigmoid net sits at chance for its first epoch before it climbs, the ReLU net "
             "is past 80 % by then. Then open **Compare**.")
    if st.button("Run the first comparison", type="primary", key="home.first"):
        group, ids = home.queue_first_comparison(store)
        st.success(f"{ui.start_supervisor(store)} {len(ids)} runs in group {group}.")
        st.page_link("pages/4_Compare.py", label="Compare them", icon=":material/monitoring:",
                     query_params={"group": group})


def reference_table() -> None:
    st.subheader("Reference results")
    st.caption(d2l.SOURCE + "; single runs, expect ±0.01–0.03.")
    st.dataframe(d2l.table(), hide_index=True,
                 column_config={"params": st.column_config.NumberColumn(format="localized")})


def recent_runs(store: Store) -> None:
    st.subheader("Recent runs")
    runs = store.list_runs(limit=10)
    table = live_table(runs, store.latest_metrics([r.id for r in runs]))
    st.dataframe(table[["id", "name", "status", "progress", "epoch", "test_acc", "model", "dataset", "group"]],
                 hide_index=True, column_config={
                     "progress": st.column_config.ProgressColumn(min_value=0, max_value=1, format="percent"),
                     "test_acc": st.column_config.NumberColumn("test acc", format="%.4f")})


def page_index() -> None:
    st.subheader("Pages")
    cols = st.columns(3)
    for i, entry in enumerate(PAGES):
        with cols[i % 3]:
            st.page_link(entry.path, label=entry.title, icon=entry.icon)
            st.caption(entry.blurb)


store = ui.page("Home", ":material/science:")
st.title("cnnkit — a lab for the classic CNNs")
with ui.guard():
    counts = store.counts()
    status_row(store, counts)
    if sum(counts.values()) == 0:
        first_comparison(store)
        reference_table()
    else:
        recent_runs(store)
    page_index()
ui.warm_imports()
