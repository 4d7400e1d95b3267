"""cnnkit — the lab's home: what runs, where, and the way in. `streamlit run dashboard.py`"""
from __future__ import annotations

import streamlit as st

import ui
from cnnkit import reference
from cnnkit.store import FINISHED

PAGES = (
    ("pages/1_Models.py", "Models", ":material/layers:", "per-layer shapes, parameters and MACs of every architecture"),
    ("pages/2_Train.py", "Train", ":material/rocket_launch:", "launch a run or a sweep; it trains in the background"),
    ("pages/3_Runs.py", "Runs", ":material/list_alt:", "live progress; cancel, resume, rename, tag, delete"),
    ("pages/4_Compare.py", "Compare", ":material/monitoring:",
     "curves side by side, grouped over seeds; tables and exports"),
    ("pages/5_Activations.py", "Activations", ":material/biotech:", "feature maps, filters, confusion, mistakes"),
    ("pages/6_Experiments.py", "Experiments", ":material/experiment:",
     "the what-if presets: one click, several seeds, a verdict"),
)

store = ui.page("Home", ":material/science:")
st.title("cnnkit — a lab for the classic CNNs")

with ui.guard():
    counts = store.counts()
    finished = sum(counts[s] for s in FINISHED)
    device = ui.device_summary()
    c = st.columns(4)
    c[0].metric("running", counts["running"])
    c[1].metric("queued", counts["queued"])
    c[2].metric("finished", finished, help=", ".join(f"{counts[s]} {s}" for s in FINISHED if counts[s]) or None)
    c[3].metric("device", "GPU" if device["gpu"] else "CPU", help=str(device["text"]))
    st.caption(f"**Device:** {device['text']} · **Store:** `{store.home}` · {ui.supervisor_line(store)}")
    if counts["queued"] and "No supervisor" in ui.supervisor_line(store):
        if st.button("Start the supervisor", key="home.start"):
            st.success(ui.start_supervisor(store))

    if sum(counts.values()) == 0:
        st.subheader("Start here")
        st.write("The store is empty. One click queues a first controlled comparison: d2l's LeNet "
                 "(sigmoid, average pooling) against the modern LeNet (ReLU, max pooling), on a fifth of "
                 "Fashion-MNIST, 3 epochs, 2 seeds each — about half a minute on a CPU. Then open **Compare**.")
        if st.button("Run the first comparison", type="primary", key="home.first"):
            from cnnkit.config import RunConfig

            runs = reference.first_comparison()
            configs = [RunConfig.from_dict(cfg) for _, cfg in runs]
            group = store.create_group("sweep", reference.FIRST_COMPARISON_NAME,
                                       {"axes": {"model_options": "sigmoid/avg vs relu/max", "seed": "2 seeds"}})
            ids = store.create_runs(configs, group, names=[name for name, _ in runs], tags=["first-comparison"])
            st.success(f"{ui.start_supervisor(store)} {len(ids)} runs in group {group}.")
            st.page_link("pages/4_Compare.py", label="Compare them", icon=":material/monitoring:",
                         query_params={"group": group})
        st.subheader("Reference results")
        st.caption(reference.SOURCE + "; single runs, expect ±0.01–0.03.")
        st.dataframe(reference.table(), hide_index=True,
                     column_config={"params": st.column_config.NumberColumn(format="localized")})
    else:
        st.subheader("Recent runs")
        runs = store.list_runs(limit=10)
        latest = store.latest_metrics([r.id for r in runs])
        from cnnkit.compare import live_table

        table = live_table(runs, latest)
        st.dataframe(table[["id", "name", "status", "progress", "epoch", "test_acc", "model", "dataset", "group"]],
                     hide_index=True, column_config={
                         "progress": st.column_config.ProgressColumn(min_value=0, max_value=1, format="percent"),
                         "test_acc": st.column_config.NumberColumn("test acc", format="%.4f")})

    st.subheader("Pages")
    cols = st.columns(3)
    for i, (path, label, icon, text) in enumerate(PAGES):
        with cols[i % 3]:
            st.page_link(path, label=label, icon=icon)
            st.caption(text)
