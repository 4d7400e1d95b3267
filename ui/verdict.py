"""Compare's verdict: is the difference between the levels of the grouping real? Redrawn every few seconds while
runs of the comparison train, with a button that queues the seeds that would resolve what is open."""
from __future__ import annotations

import pandas as pd
import streamlit as st

import ui
from cnnkit import compare
from cnnkit.compare.seeds import SeedPlan
from cnnkit.compare.verdict import VERDICT_METRICS, Verdict
from cnnkit.errors import CnnkitError
from cnnkit.events import Status
from cnnkit.experiments import metrics
from cnnkit.store import Store
from cnnkit.sweep import MAX_SEEDS
from cnnkit.views import verdict as view
from cnnkit.views.compare import CompareView

REFRESH_SECONDS = 3.0
FLASH = "compare.verdict.flash"
COLUMNS = {"runs": st.column_config.TextColumn(help="counted: finished runs with a value (a diverged run counts at "
                                                   "chance accuracy)"),
           "seeds to resolve": st.column_config.TextColumn(help="about how many seeds per level would make the "
                                                                "interval exclude 0 or fit inside the smallest "
                                                                "effect of interest, whichever is nearer"),
           "why": st.column_config.TextColumn(width="large")}


def verdict_section(store: Store, compared: CompareView, sel: compare.Selection) -> None:
    """The baseline and metric pickers, then the live verdict."""
    with st.container(key="compare-verdict"):
        verdict_parts(store, compared, sel)


def verdict_parts(store: Store, compared: CompareView, sel: compare.Selection) -> None:
    st.subheader("Is the difference real?")
    if not sel.group_by:
        st.caption("Group the runs by a field (above) to judge its levels against a baseline level.")
        return
    flash = st.session_state.pop(FLASH, None)
    if flash:
        (st.error if flash[0] == "error" else st.success)(flash[1])
    levels = compare.group_order(compared.groups)
    if st.session_state.get("compare.baseline") not in ["", *levels]:
        st.session_state["compare.baseline"] = ""
    c = st.columns([2, 2, 3])
    c[0].selectbox("baseline", ["", *levels], key="compare.baseline", format_func=lambda v: v or "automatic",
                   help="the level every other one is compared with; automatic: the first level (an experiment's "
                        "own baseline for an experiment's runs)")
    c[1].selectbox("metric", VERDICT_METRICS, key="compare.metric", format_func=lambda k: metrics.get(k).title)
    live_verdict(store, sel, bool(compared.runs["status"].isin(Status.ACTIVE).any()))


def live_verdict(store: Store, sel: compare.Selection, active: bool) -> None:
    @st.fragment(run_every=REFRESH_SECONDS if active else None)
    def live() -> None:
        with ui.guard():
            built = view.build(store, compare.select(store, sel), sel.group_by, sel.baseline, sel.metric)
            draw(built.verdict)
            more_seeds(store, built.verdict, built.seeds)
            if st.session_state.get(FLASH) or (active and not built.verdict.active):
                st.rerun()  # seeds were queued, or the last run ended: the whole page follows

    live()


def draw(verdict: Verdict) -> None:
    st.markdown(verdict.summary())
    rows = verdict.rows()
    table = pd.DataFrame(rows).assign(**{"seeds to resolve": [str(r["seeds to resolve"] or "") for r in rows]})
    st.dataframe(table, hide_index=True, key="compare.verdict.table", column_config=COLUMNS)
    pairings = "; ".join(f"{lv.label}: {lv.pairing}" for lv in verdict.levels if lv.pairing)
    unit = "10 % (a throughput or a time, compared as a ratio)" if metrics.get(verdict.metric).ratio else (
        "one point of accuracy" if metrics.get(verdict.metric).fraction else "0.01")
    st.caption(f"Smallest effect of interest: {verdict.band}, {unit}, as the experiments use. An open level needs "
               "about n·(h/|d|)² seeds to exclude 0, or n·(h/(e − |d|))² to fit inside ±e (n seeds, interval half "
               f"width h, difference d, effect e); the nearer one is shown. Pairing: {pairings or '—'}.")


def more_seeds(store: Store, verdict: Verdict, plan: SeedPlan) -> None:
    """The button that queues the missing seeds, or why there is none."""
    if not verdict.seeds_needed:
        return
    if plan.refusal:
        st.info(f"More seeds: {plan.refusal}.")
        return
    if not plan.configs:
        st.caption(f"The seeds that would resolve it ({plan.target} a level) are queued or training; the verdict "
                   "updates as they finish.")
        return
    far = [f"{lv.label} (about {lv.seeds_needed})" for lv in verdict.levels if (lv.seeds_needed or 0) > plan.target]
    beyond = (f"; out of reach of the {MAX_SEEDS} seeds a level one click allows: {', '.join(far)}" if far else "")
    st.button(f"Add seeds: {plan.runs} runs", key="compare.add_seeds", on_click=add_seeds, args=(store, plan),
              type="primary", help=f"queues them into group {plan.group}; every level then has {plan.target} seeds")
    st.caption(f"{plan.runs} runs bring every level to {plan.target} seeds{beyond}. The verdict updates as they "
               "finish.")


def add_seeds(store: Store, plan: SeedPlan) -> None:
    """The button's callback: queue the runs, keep them in an explicit run selection, start a supervisor."""
    try:
        ids = view.add_seeds(store, plan)
    except CnnkitError as exc:
        st.session_state[FLASH] = ("error", str(exc))
        return
    if st.session_state.get("compare.runs"):
        st.session_state["compare.runs"] = [*st.session_state["compare.runs"], *ids]
    st.session_state[FLASH] = ("success", f"{len(ids)} runs added to group {plan.group}. {ui.start_supervisor(store)}")
