"""Layer health heatmaps on a page: one run's (Runs) or two runs' side by side on one colour scale (Compare)."""
from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from cnnkit.store import Store
from cnnkit.views import health as view
from cnnkit.watch.names import TITLES


def heatmaps(store: Store, run_ids: Sequence[str], titles: Sequence[str], key: str) -> None:
    """A quantity picker and the runs' heatmaps of it, side by side."""
    shown = view.load(store, run_ids, titles)
    if not shown.quantities:
        st.info(view.NO_HEALTH)
        return
    quantity = st.segmented_control("layer health", shown.quantities, default=shown.quantities[0], required=True,
                                    format_func=TITLES.get, key=f"{key}.quantity")
    st.plotly_chart(shown.figure(quantity), key=f"{key}.figure")
    st.caption(view.caption(quantity))


def pair(store: Store, runs: dict[str, str], key: str) -> None:
    """Two of ``runs`` (id → name), the first two by default, side by side on one colour scale."""
    ids = list(runs)
    if len(ids) < 2:
        st.info("Select two runs or more to see their layer health side by side.")
        return
    label = {i: view.run_title(i, runs[i]) for i in ids}
    left, right = st.columns(2)
    a = left.selectbox("left", ids, index=0, format_func=label.get, key=f"{key}.a")
    b = right.selectbox("right", ids, index=1, format_func=label.get, key=f"{key}.b")
    heatmaps(store, [a, b], [label[a], label[b]], key)
