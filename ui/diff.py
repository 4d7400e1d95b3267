"""Compare's "what changed": two levels or two runs, per class, the confusion matrix, and the test images that
flipped."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from cnnkit import plots
from cnnkit.compare.diff import Diff
from cnnkit.store import Store
from cnnkit.views import diff as view
from cnnkit.views.compare import CompareView


@st.cache_resource(show_spinner="Loading the dataset…", max_entries=3)
def test_images(name: str) -> np.ndarray:
    from cnnkit.data import loading  # torch: only once images are shown

    return loading.load(name).test_x.numpy()


def diff_section(store: Store, compared: CompareView) -> None:
    """The two pickers, then what changed from A to B."""
    with st.container(key="compare-diff"):
        diff_parts(store, compared)


def diff_parts(store: Store, compared: CompareView) -> None:
    st.subheader("What changed")
    choices = view.options(compared.runs, compared.groups)
    for key in ("compare.diff_a", "compare.diff_b"):
        if st.session_state.get(key) not in ["", *choices]:
            st.session_state[key] = ""
    c = st.columns(2)
    c[0].selectbox("A, the reference", ["", *choices], key="compare.diff_a", format_func=lambda k: choices.get(k, "—"))
    c[1].selectbox("B", ["", *choices], key="compare.diff_b", format_func=lambda k: choices.get(k, "—"))
    a, b = st.session_state["compare.diff_a"], st.session_state["compare.diff_b"]
    if not (a and b):
        st.caption("Pick two levels of the grouping or two finished runs: each class's test accuracy and its change, "
                   "the change of the confusion matrix, and the test images that flipped.")
        return
    with st.spinner("Reading the runs' test predictions…"):
        (a_name, a_runs), (b_name, b_runs) = view.resolve(store, a, compared.groups), view.resolve(store, b,
                                                                                                   compared.groups)
        result = view.build(store, a_runs, b_runs, a_name, b_name)
    changes(result)
    flips(result, a_runs[0].dataset)


def changes(result: Diff) -> None:
    m = st.columns(3)
    m[0].metric(f"A: {result.a}", f"{100 * result.acc_a:.2f} %", help=f"{len(result.runs_a)} run(s)")
    m[1].metric(f"B: {result.b}", f"{100 * result.acc_b:.2f} %", f"{100 * result.change:+.2f} points",
                help=f"{len(result.runs_b)} run(s)")
    if result.to_wrong is not None:
        m[2].metric("flipped test images", f"{len(result.to_wrong)} ↓ · {len(result.to_right)} ↑",
                    help=f"right → wrong · wrong → right, among {result.tested_both:,} images both sides tested")
    names = result.classes
    c = st.columns(2)
    grouped = len(result.runs_a) > 1 or len(result.runs_b) > 1
    c[0].plotly_chart(plots.class_changes(names, [x.change for x in result.per_class],
                                          [x.low for x in result.per_class], [x.high for x in result.per_class],
                                          "Test accuracy per class, B − A" + (" (95 % intervals)" if grouped else "")),
                      key="compare.diff.classes")
    c[1].plotly_chart(plots.confusion_change(result.confusion_change, names,
                                             "Confusion matrix, B − A (images per run; blue: better in B)"),
                      key="compare.diff.confusion")
    table = pd.DataFrame([{"class": x.name, "images": x.size, "A %": _pct(x.acc_a), "B %": _pct(x.acc_b),
                           "change, points": _pct(x.change),
                           "interval, points": "" if x.low is None else f"{100 * x.low:+.1f} to {100 * x.high:+.1f}"}
                          for x in result.per_class])
    with st.expander("Per class, as a table"):
        st.dataframe(table, hide_index=True, key="compare.diff.table")
        if grouped:
            st.caption(f"A group's accuracy is the mean of its runs'; each class's 95 % interval on its own "
                       f"({result.pairing or 'Welch'}).")


def flips(result: Diff, dataset_name: str) -> None:
    if result.to_wrong is None:
        st.info(f"No flipped images: {result.note}.")
        return
    limit = st.slider("flipped images shown per grid", 8, 96, 16, step=8, key="compare.diff.shown")
    test_x = test_images(dataset_name)
    for title, chosen, key, legend in (
            (f"Right in A, wrong in B: {len(result.to_wrong)}", result.to_wrong, "down", "the true class→B's answer"),
            (f"Wrong in A, right in B: {len(result.to_right)}", result.to_right, "up", "A's answer→the true class")):
        if not chosen:
            st.caption(f"{title}.")
            continue
        images, titles = view.flip_grid(test_x, chosen, result.classes, limit)
        shown = f" (the first {limit})" if len(chosen) > limit else ""
        st.plotly_chart(plots.image_grid(images, titles, cols=8, cell=110, title=f"{title}{shown} · {legend}"),
                        key=f"compare.diff.{key}")
    if len(result.runs_a) > 1 or len(result.runs_b) > 1:
        st.caption("Within a group an image counts as right (or wrong) when most of the group's runs that tested it "
                   "got it right (or wrong); its answer is the group's most frequent one.")


def _pct(x: float | None) -> float | None:
    return None if x is None else round(100 * x, 1)
