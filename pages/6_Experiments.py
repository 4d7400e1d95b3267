"""Experiments: the what-if presets — pick one, launch it with a budget, read the verdict over seeds."""
from __future__ import annotations

import pandas as pd
import streamlit as st

import ui
from cnnkit import compare, estimate, experiments
from cnnkit.bundle import import_bundle
from cnnkit.store import ACTIVE

REFRESH_SECONDS = 2.0
AGREEMENT_STYLE = {"agrees": st.success, "partly agrees": st.info, "contradicts": st.warning}

store = ui.page("Experiments", ":material/experiment:")
st.title("Experiments")
st.caption("Every 'what if' of the study notes as a controlled experiment: one factor, its levels, several seeds, "
           "and a verdict that says whether the difference is real. " + experiments.CATALOGUE_NOTE.split(". ")[0] + ".")


@st.cache_data(show_spinner=False, max_entries=64)
def bundle_report(path: str, mtime: float) -> experiments.ExperimentReport:
    """A shipped bundle's report, read once per file version."""
    return experiments.analyze_bundle(path)


def levels_table(report: experiments.ExperimentReport) -> pd.DataFrame:
    return pd.DataFrame([{
        "level": lv.level + (" (baseline)" if lv.is_baseline else ""), "test acc": lv.mean, "± std": lv.std,
        "n": lv.n, "Δ vs baseline": lv.diff, "95 % CI low": lv.ci_low, "95 % CI high": lv.ci_high,
        "train acc": lv.mean_train_acc, "train − test": lv.mean_gap, "s / run": lv.mean_seconds,
        "params": lv.params, "runs": ", ".join(f"{n} {s}" for s, n in sorted(lv.statuses.items())),
    } for lv in report.levels])


LEVEL_COLUMNS = {c: st.column_config.NumberColumn(format="%.4f") for c in
                 ("test acc", "± std", "Δ vs baseline", "95 % CI low", "95 % CI high", "train acc", "train − test")}
LEVEL_COLUMNS["s / run"] = st.column_config.NumberColumn(format="%.1f")
LEVEL_COLUMNS["params"] = st.column_config.NumberColumn(format="localized")


def show_report(report: experiments.ExperimentReport) -> None:
    style = AGREEMENT_STYLE.get(report.agreement, st.info)
    style(f"**Verdict** ({report.agreement}). {report.verdict}")
    if report.expected:
        st.caption(f"Expected: {report.expected}")
    for claim in report.claims:
        st.markdown(f"- {claim['text']}: **{claim['outcome']}** ({claim['detail']})")
    st.dataframe(levels_table(report), hide_index=True, column_config=LEVEL_COLUMNS)


def show_group(group_id: str) -> None:
    """Progress, verdict, grouped curves and table of one experiment group (live while it runs)."""
    counts = experiments.group_progress(store, group_id)
    active = counts["total"] - counts["finished"]

    @st.fragment(run_every=REFRESH_SECONDS if active else None)
    def live() -> None:
        with ui.guard():
            now = experiments.group_progress(store, group_id)
            st.progress(now["finished"] / max(1, now["total"]),
                        text=f"{now['finished']}/{now['total']} runs finished"
                             + "".join(f" · {now[s]} {s}" for s in ACTIVE if now.get(s)))
            report = experiments.analyze(store, group_id)
            show_report(report)
            meta = (store.group(group_id) or {}).get("meta", {})
            runs = store.list_runs(group=group_id)
            labels = {r.id: meta.get("runs", {}).get(r.id) for r in runs}
            labels = {k: v for k, v in labels.items() if v}
            if labels:
                groups = compare.labelled_groups(labels, meta.get("levels"))
                view = compare.build_view(store, compare.Selection(groups=[group_id]), groups=groups)
                cols = st.columns(2)
                for i, key in enumerate(("train_loss", "test_acc", "train_acc", "test_loss")):
                    cols[i % 2].plotly_chart(view.curves[key], key=f"exp.fig.{group_id}.{key}")
                st.page_link("pages/4_Compare.py", label="Open in Compare", icon=":material/monitoring:",
                             query_params={"group": group_id})
            if active and now["finished"] == now["total"]:
                st.rerun()  # finished: a full rerun stops the polling

    live()


with ui.guard():
    presets = experiments.catalogue()
    tab_run, tab_ref = st.tabs(["Run an experiment", "Reference results"])

    with tab_run:
        overview = pd.DataFrame([{
            "preset": p.name, "question": p.question, "notes line": ", ".join(map(str, p.lines)),
            "levels": len(p.levels), "seeds": p.seeds,
            "needs": ", ".join(experiments.missing_datasets(p)) or "",
            "latest": experiments.latest_group(store, p.name) or ""} for p in presets])
        with st.expander(f"The catalogue: {len(presets)} presets", expanded=False):
            st.dataframe(overview, hide_index=True, column_config={
                "needs": st.column_config.TextColumn("missing data"),
                "question": st.column_config.TextColumn(width="large")})
        names = [p.name for p in presets]
        name = st.selectbox("experiment", names, key="exp.preset", persist_state="session",
                            format_func=lambda n: f"{experiments.get(n).title} — lines "
                                                  f"{', '.join(map(str, experiments.get(n).lines))}")
        preset = experiments.get(name)
        st.markdown(f"**{preset.question}**")
        st.caption(f"Factor: {preset.factor} · baseline: {preset.baseline}"
                   + (f" · {preset.note}" if preset.note else ""))
        st.dataframe(pd.DataFrame([{"level": lv.label + (" (baseline)" if lv.label == preset.baseline else ""),
                                    "changes": ", ".join(f"{k}={v}" for k, v in lv.changes.items()) or "—"}
                                   for lv in preset.levels]), hide_index=True)
        st.caption(f"Expected: {preset.expected}")

        missing = experiments.missing_datasets(preset)
        c1, c2, c3 = st.columns([2, 1, 1])
        budget = c1.radio("budget", list(experiments.BUDGETS), horizontal=True, key="exp.budget",
                          format_func=lambda b: f"{b}: {experiments.describe_budget(preset, b)}")
        seeds = int(c2.number_input("seeds", 1, experiments.MAX_SEEDS, preset.seeds, key=f"exp.seeds.{name}"))
        configs = experiments.build_configs(preset, budget, seeds)
        device = ui.device_summary()
        per_level = {label: cfg for label, cfg in configs if cfg.seed == 0}
        seconds = sum(estimate.estimate(cfg, store, bool(device["gpu"])).total_seconds for cfg in per_level.values())
        c3.metric("runs", len(configs), help="levels × seeds")
        st.caption(f"≈ {ui.fmt_seconds(seconds * seeds)} of training on this machine, one run after another "
                   "(estimated from finished runs where the store has any, else a rough guess).")
        if missing:
            st.error(f"This experiment needs {', '.join(missing)}, which is not installed here.")
        if st.button("Launch", type="primary", disabled=bool(missing), key="exp.launch"):
            group = experiments.launch(store, name, budget, seeds, start_worker=False)
            st.success(f"{len(configs)} runs queued in group {group}. {ui.start_supervisor(store)}")

        groups = [g for g in store.groups(kind=experiments.GROUP_KIND) if g["meta"].get("preset") == name]
        if groups:
            st.subheader("Results")
            labels = {g["id"]: f"{g['name']} · {g['id']}" for g in groups}
            chosen = st.selectbox("run of this experiment", list(labels), format_func=labels.get,
                                  key=f"exp.group.{name}")
            show_group(chosen)
        else:
            st.info("No run of this experiment in this store yet.")

    with tab_ref:
        ref_dir = experiments.RESULTS_DIR / "reference"
        bundles = sorted(ref_dir.glob("*.zip")) if ref_dir.exists() else []
        if not bundles:
            st.info(f"No reference results shipped in {ref_dir} yet "
                    f"(`{experiments.REFERENCE_COMMAND}` makes them).")
        for path in bundles:
            try:
                report = bundle_report(str(path), path.stat().st_mtime)
            except Exception as exc:  # one damaged bundle must not hide the others
                st.error(f"{path.name}: {exc}")
                continue
            with st.expander(f"{report.title} — {report.agreement}", expanded=False):
                st.caption(f"{report.question} · budget {report.budget} ({report.budget_text}), {report.seeds} seeds · "
                           f"{path.name}")
                show_report(report)
                if st.button("Import these runs into the store", key=f"exp.import.{path.stem}",
                             help="then compare them with your own runs"):
                    ids = import_bundle(store, path)
                    st.success(f"Imported {len(ids)} runs." if ids else "Already imported.")
