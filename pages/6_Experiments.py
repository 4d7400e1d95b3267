"""Experiments: the what-if presets — pick one, launch it with a budget, read the verdict over seeds."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

import ui
from cnnkit import experiments
from cnnkit.bundle import import_bundle
from cnnkit.experiments.wording import data_text
from cnnkit.views import experiments as view

REFRESH_SECONDS = 3.0
CLAIM_COLUMNS = {"claim": st.column_config.TextColumn(width="large"),
                 "estimate (interval) or reason": st.column_config.TextColumn(width="large")}
CURVES = ("train_loss", "test_acc", "train_acc", "train_eval_acc")


@st.cache_data(show_spinner=False, max_entries=64)
def bundle_report(path: str, mtime: float) -> experiments.ExperimentReport:
    """A shipped bundle's report, read once per file version."""
    return experiments.analyze_bundle(path)


def show_report(report: experiments.ExperimentReport) -> None:
    """The claims of the notes and the textbook with their outcomes, the verdict, the confounds, the data and
    the levels' table, as the shipped report reads."""
    st.dataframe(view.claims_table(report), hide_index=True, column_config=CLAIM_COLUMNS)
    st.info(f"**Verdict.** {report.verdict}")
    if report.plan.get("confounds"):
        st.caption(f"Confounds: {report.plan['confounds']}")
    if report.datasets:
        st.caption(f"Data: {data_text(report.datasets)}.")
    st.dataframe(view.levels_table(report), hide_index=True)
    if report.health:
        st.markdown("**Layer health by epoch** (mean over seeds): how much gradient reaches the first layer against "
                    "the last, and how many activations saturate (sigmoid, tanh) or die (ReLU) on a probe batch")
        st.dataframe(view.health_table(report), hide_index=True)


def show_group(group_id: str) -> None:
    """Progress, verdict, grouped curves and table of one experiment group (live while it runs)."""
    counts = experiments.group_progress(store, group_id)
    active = counts["total"] - counts["finished"]

    @st.fragment(run_every=REFRESH_SECONDS if active else None)
    def live() -> None:
        with ui.guard():
            now = experiments.group_progress(store, group_id)
            st.progress(now["finished"] / max(1, now["total"]), text=view.progress_text(now))
            show_report(experiments.analyze(store, group_id))
            curves = view.level_curves(store, group_id)
            if curves is not None:
                cols = st.columns(2)
                for i, key in enumerate(CURVES):
                    cols[i % 2].plotly_chart(curves.curves[key], key=f"exp.fig.{group_id}.{key}")
                st.page_link("pages/4_Compare.py", label="Open in Compare", icon=":material/monitoring:",
                             query_params={"group": group_id})
            if active and now["finished"] == now["total"]:
                st.rerun()  # finished: a full rerun stops the polling

    live()


def catalogue(presets: list[experiments.Preset]) -> None:
    with st.expander(f"The catalogue: {len(presets)} presets", expanded=False):
        st.dataframe(view.catalogue_table(presets, store), hide_index=True, column_config={
            "needs": st.column_config.TextColumn("missing data"),
            "question": st.column_config.TextColumn(width="large")})


def preset_picker(presets: list[experiments.Preset]) -> experiments.Preset:
    """The preset, its question, factor, levels and what is expected."""
    name = st.selectbox("experiment", [p.name for p in presets], key="exp.preset", persist_state="session",
                        format_func=lambda n: view.preset_label(experiments.get(n)))
    preset = experiments.get(name)
    st.markdown(f"**{preset.question}**")
    st.caption(f"Factor: {preset.factor} · baseline: {preset.baseline}" + (f" · {preset.note}" if preset.note else ""))
    st.dataframe(view.preset_levels_table(preset), hide_index=True)
    st.markdown("**The claims it tests**")
    st.dataframe(view.preset_claims_table(preset), hide_index=True,
                 column_config={"claim": st.column_config.TextColumn(width="large")})
    if preset.confounds:
        st.caption(f"Confounds: {preset.confounds}")
    return preset


def launcher(preset: experiments.Preset) -> None:
    """Budget and seeds, what the launch costs, and the Launch button."""
    missing = experiments.missing_datasets(preset)
    gpu = bool(ui.device_summary()["gpu"])
    c1, c2, c3 = st.columns([2, 1, 1])
    # One radio per preset: its labels differ by preset, and a radio whose labels change under one key
    # keeps its value but is drawn with nothing selected.
    budget = c1.radio("budget", list(experiments.BUDGETS), horizontal=True, key=f"exp.budget.{preset.name}",
                      format_func=lambda b: view.budget_label(preset, b),
                      index=experiments.BUDGETS.index(view.DEFAULT_BUDGET))
    seeds = int(c2.number_input("seeds", 1, experiments.MAX_SEEDS, preset.seeds(budget),
                                key=f"exp.seeds.{preset.name}.{budget}"))
    configs = experiments.build_configs(preset, budget, seeds)
    c3.metric("runs", len(configs), help="levels × seeds")
    st.caption(view.launch_text(preset, budget, seeds, store, gpu))
    if note := preset.budget(budget).note:
        st.caption(f"Why this budget: {note}.")
    (st.error if missing else st.caption)(experiments.data_line(preset))
    if st.button("Launch", type="primary", disabled=bool(missing), key="exp.launch"):
        group = experiments.launch(store, preset.name, budget, seeds, start_worker=False)
        st.success(f"{len(configs)} runs queued in group {group}. {ui.start_supervisor(store)}")


def results(preset: experiments.Preset) -> None:
    """The verdict and curves of a chosen run of this experiment."""
    labels = view.preset_groups(store, preset.name)
    if not labels:
        st.info("No run of this experiment in this store yet.")
        return
    st.subheader("Results")
    chosen = st.selectbox("run of this experiment", list(labels), format_func=labels.get,
                          key=f"exp.group.{preset.name}")
    show_group(chosen)


def reference_bundle(path: Path) -> None:
    """One shipped bundle's report, and a button that imports its runs."""
    try:
        report = bundle_report(str(path), path.stat().st_mtime)
    except Exception as exc:  # one damaged bundle must not hide the others
        st.error(f"{path.name}: {exc}")
        return
    with st.expander(f"{report.title} — {view.outcome_text(report)}", expanded=False):
        st.caption(f"{report.question} · budget {report.budget} ({report.plan.get('budget_text', '')}), "
                   f"{report.seeds_text} · {path.name}")
        show_report(report)
        if st.button("Import these runs into the store", key=f"exp.import.{path.stem}",
                     help="then compare them with your own runs"):
            ids = import_bundle(store, path)
            st.success(f"Imported {len(ids)} runs." if ids else "Already imported.")


def reference_results() -> None:
    bundles = view.reference_bundles(experiments.RESULTS_DIR)
    if not bundles:
        st.info(f"No reference results shipped in {experiments.RESULTS_DIR / 'reference'} yet "
                f"(`{experiments.REFERENCE_COMMAND}` makes them).")
    for path in bundles:
        reference_bundle(path)
    for title, why in view.presets_without_results(experiments.RESULTS_DIR):
        st.caption(f"{title}: no numbers — {why}.")


store = ui.page("Experiments", ":material/experiment:")
st.title("Experiments")
st.caption("Every 'what if' of the study notes as a controlled experiment: one factor, its levels, several seeds, "
           "and a verdict on the notes' own claims: whether each difference is real. "
           + experiments.CATALOGUE_NOTE.split(". ")[0] + ".")
with ui.guard():
    presets = experiments.catalogue()
    tab_run, tab_ref = st.tabs(["Run an experiment", "Reference results"])
    with tab_run:
        catalogue(presets)
        preset = preset_picker(presets)
        launcher(preset)
        results(preset)
    with tab_ref:
        reference_results()
