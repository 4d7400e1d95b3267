"""Compare: runs side by side — curves (grouped over seeds), the result table, scatter, exports.

The selection lives in the URL's query parameters (compare.Selection), so a link reproduces the view.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

import ui
from cnnkit import compare
from cnnkit.compare import report
from cnnkit.views import search as search_view
from cnnkit.views import verdict as verdict_view
from cnnkit.views.compare import CompareView, build_view
from ui import health
from ui.diff import diff_section
from ui.verdict import verdict_section

CURVE_ROWS = (("train_loss", "train_acc"), ("test_loss", "test_acc"), ("train_eval_acc",))
FILTERS = (("models", "model"), ("datasets", "dataset"), ("statuses", "status"), ("groups", "group"), ("tags", "tag"))
RESULT_FORMATS = {
    "final_test_acc": st.column_config.NumberColumn("final test acc", format="%.4f"),
    "best_test_acc": st.column_config.NumberColumn("best test acc", format="%.4f"),
    "final_train_loss": st.column_config.NumberColumn("final train loss", format="%.4f"),
    "final_train_acc": st.column_config.NumberColumn("final train acc (running, d2l's)", format="%.4f"),
    "final_train_eval_acc": st.column_config.NumberColumn("final train acc (evaluated like test)", format="%.4f"),
    "params": st.column_config.NumberColumn(format="localized"),
    "macs": st.column_config.NumberColumn("MACs", format="localized"),
    "train_seconds": st.column_config.NumberColumn("time (s)", format="%.1f"),
    "images_per_sec": st.column_config.NumberColumn("images/s", format="%.0f"),
}


def widget_value(name: str) -> object:
    """A widget's value; the default where its widget was not drawn (the verdict's without a grouping)."""
    return st.session_state.get(f"compare.{name}", getattr(compare.Selection(), name))


def load(sel: compare.Selection) -> None:
    """Put a selection into the widgets (before they are drawn)."""
    for name in compare.FIELDS:
        st.session_state[f"compare.{name}"] = getattr(sel, name)


def keep_known(name: str, options: list[str]) -> None:
    """Drop values a list widget cannot show (a deleted run, a group that is gone)."""
    key = f"compare.{name}"
    st.session_state[key] = [v for v in st.session_state.get(key, []) if v in options]


def restore_selection() -> None:
    """The URL is the source of truth when it changed behind our back (a pasted link, a page link);
    otherwise the widgets are, and the URL follows them."""
    query = {k: st.query_params.get_all(k) for k in st.query_params}
    last = st.session_state.get("compare.last_query")
    if "compare.selection" not in st.session_state or (query and query != last):
        load(compare.Selection.from_query(query))
    elif not query and last:
        load(st.session_state["compare.selection"])  # back from another page: the view as it was


def run_picker(frame: pd.DataFrame) -> pd.DataFrame:
    """The filters and the run list; returns the runs they pick."""
    options = compare.filter_options(frame)
    with st.expander("Select runs", expanded=True):
        for col, (name, label) in zip(st.columns(len(FILTERS)), FILTERS):
            keep_known(name, options[name])
            col.multiselect(label, options[name], key=f"compare.{name}", placeholder="any")
        filtered = compare.filter_runs(frame, compare.Selection(**{name: widget_value(name) for name, _ in FILTERS}))
        labels = compare.run_choices(filtered)
        keep_known("runs", list(labels))
        st.multiselect("runs", list(labels), format_func=labels.get, key="compare.runs",
                       placeholder=f"all {len(labels)} runs the filters keep")
    return compare.filter_runs(filtered, compare.Selection(runs=widget_value("runs")))


def view_controls(chosen: pd.DataFrame) -> None:
    c = st.columns([2, 2, 2, 1, 1])
    c[1].segmented_control("x axis", list(compare.X_AXES), key="compare.x", required=True,
                           format_func=lambda k: compare.X_AXES[k])
    c[2].slider("smoothing", 0.0, 0.99, step=0.01, key="compare.smoothing",
                help="exponential moving average as in TensorBoard (0 = raw)")
    c[3].toggle("log y", key="compare.log_y")
    c[4].toggle("d2l reference", key="compare.reference",
                help="stars at epoch 10: d2l's results for the same architectures (x axis: epoch)")
    groupable = compare.groupable_fields(chosen)
    if st.session_state.get("compare.group_by") not in ["", *groupable]:
        st.session_state["compare.group_by"] = ""
    c[0].selectbox("group by", ["", *groupable], key="compare.group_by",
                   format_func=lambda f: f.removeprefix("cfg.") if f else "— (one line per run)",
                   help="one mean line with a ± std band per value; member runs drawn faint")


def remember(sel: compare.Selection) -> None:
    """Keep the selection for the next visit and write it into the URL."""
    st.session_state["compare.selection"] = sel
    st.session_state["compare.last_query"] = sel.query_lists()
    st.query_params.from_dict(sel.to_query())


def curves(view: CompareView) -> None:
    for row in CURVE_ROWS:
        for col, key in zip(st.columns(2), row):
            col.plotly_chart(view.curves[key], key=f"compare.fig.{key}")


def group_table(summary: pd.DataFrame) -> None:
    st.subheader("Groups")
    st.dataframe(summary, hide_index=True, column_config={
        c: st.column_config.NumberColumn(format="%.4f") for c in summary.columns if "acc" in c})


def results(view: CompareView) -> None:
    st.subheader("Results")
    st.dataframe(view.table, hide_index=True, key="compare.table", column_config=RESULT_FORMATS)
    c1, c2 = st.columns([1, 3])
    c1.selectbox("scatter x", list(compare.SCATTER_X), key="compare.scatter_x", format_func=compare.SCATTER_X.get)
    c2.plotly_chart(view.scatter, key="compare.fig.scatter")


def search_section(group: str) -> None:
    """A search group: where it stands, its best trial, its trials as parallel coordinates and as a table."""
    from cnnkit.search.figures import parallel_coordinates
    from cnnkit.search.results import search_report

    found = search_report(store, group)
    st.subheader(f"Search · {found.name}")
    st.caption(search_view.status_line(found))
    st.markdown(search_view.best_line(found))
    if not found.completed.empty:
        st.plotly_chart(parallel_coordinates(found), key="compare.fig.search")
    st.dataframe(search_view.trials_table(found), hide_index=True, key="compare.search.trials")


def exports(view: CompareView, sel: compare.Selection) -> None:
    st.subheader("Export")
    table, summary, figures = view.table, view.summary, dict(view.curves, scatter=view.scatter)
    query = sel.query_string()
    e = st.columns(4)
    e[0].download_button("CSV", lambda: report.to_csv(table), "cnnkit-compare.csv", "text/csv", key="compare.csv",
                         on_click="ignore")
    verdict = lambda: verdict_view.of_selection(store, view.runs, sel)  # noqa: E731 - built when downloaded
    e[1].download_button("Markdown", lambda: report.to_markdown(table, "cnnkit comparison", verdict=verdict()),
                         "cnnkit-compare.md", "text/markdown", key="compare.md", on_click="ignore")
    e[2].download_button("JSON", lambda: report.to_json(table, sel.to_query()), "cnnkit-compare.json",
                         "application/json", key="compare.json", on_click="ignore")
    e[3].download_button("HTML report", lambda: report.to_html("cnnkit comparison", table,
                                                               figures | compare.system_figures(store, view.runs, sel,
                                                                                                view.groups),
                                                               sel.report_notes(), summary,
                                                               link=f"?{query}" if query else None,
                                                               verdict=verdict()),
                         "cnnkit-compare.html", "text/html", key="compare.html", on_click="ignore",
                         help="a standalone page with the interactive figures; opens offline")


def system_metrics(view: CompareView, sel: compare.Selection) -> None:
    """CPU, memory and GPU of each run's job over its training, drawn when asked for (one more query)."""
    if not st.toggle("System metrics: CPU, memory and GPU of each run's job", key="compare.system"):
        return
    figures = compare.system_figures(store, view.runs, sel, view.groups)
    if not figures:
        st.info("These runs recorded no system metrics (runs from before they were sampled, or imported without).")
    ui.figure_grid(figures, "compare.system")


def layer_health(view: CompareView) -> None:
    """Two of the runs' layer health side by side on one colour scale, drawn when asked for."""
    if st.toggle("Layer health: two runs side by side", key="compare.health"):
        health.pair(store, dict(zip(view.runs["id"], view.runs["name"])), "compare.health")


store = ui.page("Compare", ":material/monitoring:")
st.title("Compare")
with ui.guard():
    restore_selection()
    frame = store.runs_frame(store.list_runs(limit=compare.MAX_RUNS * 4))
    if frame.empty:
        st.info("No runs yet. Launch some on the Train page, or run the first comparison from the home page.")
        st.stop()
    view_controls(run_picker(frame))
    sel = compare.Selection(**{name: widget_value(name) for name in compare.FIELDS})
    remember(sel)
    view = build_view(store, sel, frame=frame)
    st.caption(f"{len(view.runs)} runs · {view.points:,} points · built in {view.seconds:.2f} s"
               + (f" · this view's link ends in `?{sel.query_string()}`" if sel.query_string() else ""))
    if view.runs.empty:
        st.warning("No run matches the selection.")
        st.stop()
    searched = search_view.selected_search(store, sel.groups)
    if searched:
        search_section(searched)
    curves(view)
    if not view.summary.empty:
        group_table(view.summary)
    verdict_section(store, view, sel)
    results(view)
    diff_section(store, view)
    system_metrics(view, sel)
    layer_health(view)
    exports(view, sel)
