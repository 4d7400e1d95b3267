"""The words of a report: its verdict sentence and its Markdown (the shipped results' details, the CLI's
report). Numbers come from the report; nothing here decides anything."""
from __future__ import annotations

from typing import TYPE_CHECKING

from cnnkit.data.datasets import DATASETS
from cnnkit.experiments.configs import seeds_text
from cnnkit.text import format_count, format_mean_std, format_pct

if TYPE_CHECKING:
    from cnnkit.experiments.judge import ClaimResult, LevelResult
    from cnnkit.experiments.report import ExperimentReport

OUTCOME_ORDER = ("confirmed", "refuted", "open", "did not learn", "not tested here")


def verdict(report: ExperimentReport, unassigned: int = 0) -> str:
    """A few sentences: what the claims came to, which level is best (only one that beats the baseline
    decisively), or what a ranking separates; which levels did not learn; what was not counted."""
    if not any(lv.run_ids for lv in report.levels):
        return "No runs found for this experiment."
    parts = [outcome_sentence(report)]
    parts.append(ranking_sentence(report) if report.tiers else best_sentence(report))
    for lv in report.levels:
        if lv.n_diverged:
            parts.append(f"{lv.label} diverged (non-finite loss) in {lv.n_diverged} of {lv.n_counted} runs; they "
                         "count at chance accuracy.")
        if lv.learned is False:
            parts.append(f"{lv.label} did not learn: {lv.n_chance} of {lv.n_counted} runs ended within 5 points of "
                         "chance.")
    failed = [e for lv in report.levels for e in lv.errors if " diverged:" not in e]
    if failed:
        parts.append(f"{len(failed)} run{'s' * (len(failed) > 1)} did not finish and "
                     f"{'are' if len(failed) > 1 else 'is'} not counted (first: {failed[0]}).")
    if unassigned:
        parts.append(f"{unassigned} run(s) of the group belong to no level and are ignored.")
    if not report.plan_recorded:
        parts.append("This group recorded no plan before its runs: it is judged by today's catalogue.")
    elif not report.plan_intact:
        parts.append("Warning: the plan in this group does not match its recorded hash; it was changed after "
                     "the launch.")
    text = " ".join(p for p in parts if p)
    active = sum(lv.n_active for lv in report.levels)
    return f"Preliminary ({active} run{'s' * (active > 1)} not finished yet): {text}" if active else text


def outcome_sentence(report: ExperimentReport) -> str:
    counts = report.outcomes()
    if not counts:
        return "The preset states no claim."
    listed = ", ".join(f"{counts[o]} {o}" for o in OUTCOME_ORDER if counts.get(o))
    n = sum(counts.values())
    return f"{n} claim{'s' * (n > 1)}: {listed}."


def best_sentence(report: ExperimentReport) -> str:
    base = report.level(report.baseline)
    if base.means.get("test_acc") is None:
        return ""
    if report.best is None:
        return (f"No level beats the baseline, {base.label} ({format_pct(base.means['test_acc'], 1)}), decisively "
                "in test accuracy.")
    best = report.level(report.best)
    vs = best.vs_baseline or {}
    return (f"Best: {best.label}, {format_pct(best.means['test_acc'], 1)} test accuracy, "
            f"{100 * vs['diff']:+.1f} points over the baseline {base.label} ({_interval(vs)}).")


def ranking_sentence(report: ExperimentReport) -> str:
    accuracy = {lv.label: lv.means.get("test_acc") for lv in report.levels}
    groups = " > ".join(" ≈ ".join(f"{label} {format_pct(accuracy[label], 1)}" for label in tier)
                        for tier in report.tiers)
    nets = sum(len(tier) for tier in report.tiers)
    correction = f"Welch intervals, Holm-corrected over all {nets * (nets - 1) // 2} pairs"
    if len(report.tiers) == 1:
        return (f"Ranking by mean test accuracy: {correction}, do not split the {nets} nets into groups, so none is "
                f"ranked above another: {groups}. A claim above compares two nets within a smaller family, so it "
                "can be decisive where the ranking is not.")
    return (f"Ranking by mean test accuracy; '>' only where {correction}, separate every net of one group from "
            f"every net of the next, '≈' within a group: {groups}.")


def claim_line(claim: ClaimResult) -> str:
    """"- notes 000:37 — Max pooling … **confirmed**: +2.8 points, …"."""
    source = ", ".join(claim.sources)
    tested = f" Tested as: {claim.tested_as}." if claim.tested_as else ""
    return f"- {source} — {claim.text}{tested} **{claim.outcome}**: {claim.detail}"


def markdown(report: ExperimentReport, heading: bool = True) -> str:
    plan = report.plan
    lines = []
    if heading:
        lines += [f"### {report.title} (`{report.preset}`)", "", f"*{report.question}*", ""]
    if plan.get("note"):
        lines += [plan["note"], ""]
    if plan.get("confounds"):
        lines += [f"**Confounds.** {plan['confounds']}", ""]
    notes = [c for c in report.claims if c.origin == "notes"]
    books = [c for c in report.claims if c.origin == "textbook"]
    if notes:
        lines += ["**The notes' claims**", "", *(claim_line(c) for c in notes), ""]
    if books:
        lines += ["**The textbook's expectations**", "", *(claim_line(c) for c in books), ""]
    lines += [f"**Verdict.** {report.verdict}", "", *levels_table(report), ""]
    if report.health:
        lines += ["**Layer health by epoch** (mean over the level's seeds; gradient norms are the mean of the "
                  "epoch's reports; saturated: sigmoid or tanh outputs near their bounds on the probe batch; dead: "
                  "ReLU units silent on every probe image)", "", *health_table(report), ""]
    lines += [f"Plan: {_plan_text(report)}", ""]
    if not report.current:
        lines.append("Note: the catalogue has changed since these runs; rerun the preset for today's settings.")
    return "\n".join(lines).rstrip() + "\n"


def levels_table(report: ExperimentReport) -> list[str]:
    published = any(lv.published for lv in report.levels)
    head = ["level", "test acc (mean ± std)", "test acc per seed", "Δ test acc vs baseline, points (interval)",
            "train acc evaluated like test", "train acc, running in training mode (d2l)", "train − test gap",
            "test loss", "images/s", "s/run", "params", "MACs", "input", "runs"]
    if report.target is not None:
        head.append(f"s to {format_pct(report.target)} test acc")
    if published:
        head.append("d2l 10 epochs: test / train acc (input)")
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for lv in report.levels:
        cells = [
            lv.label + (" (baseline)" if lv.is_baseline else ""),
            format_mean_std(lv.means["test_acc"], lv.stds["test_acc"]),
            ", ".join("—" if v is None else f"{100 * v:.1f}" for v in lv.values.get("test_acc", [])) or "—",
            "—" if lv.is_baseline or not lv.vs_baseline else _vs_text(lv),
            format_pct(lv.means["train_eval_acc"], 1), format_pct(lv.means["train_acc"], 1),
            "—" if lv.means["gap"] is None else f"{100 * lv.means['gap']:+.1f} points",
            "—" if lv.means["test_loss"] is None else f"{lv.means['test_loss']:.3f}",
            "—" if lv.means["images_per_sec"] is None else f"{lv.means['images_per_sec']:,.0f}",
            "—" if lv.means["train_seconds"] is None else f"{lv.means['train_seconds']:.1f}",
            "—" if lv.params is None else f"{lv.params:,}", "—" if lv.macs is None else format_count(lv.macs),
            "×".join(map(str, lv.input[1:])) if lv.input else "—",
            ", ".join(f"{n} {s}" for s, n in sorted(lv.statuses.items())) or "none",
        ]
        if report.target is not None:
            cells.append(_time_text(lv.time_to_target))
        if published:
            pub = lv.published
            cells.append("—" if not pub else f"{format_pct(pub['test_acc'], 1)} / {format_pct(pub['train_acc'], 1)}"
                                             f" ({pub['input']} px)")
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return rows


def health_table(report: ExperimentReport) -> list[str]:
    rows = ["| level | epoch | test acc | gradient norm, first layer | last layer | first / last | saturated | dead |",
            "|---|---|---|---|---|---|---|---|"]
    for row in report.health:
        cells = [row["level"], str(row["epoch"]), format_pct(row["test_acc"], 1),
                 _number(row["first_grad_norm"]) + f" ({row['first_layer']})",
                 _number(row["last_grad_norm"]) + f" ({row['last_layer']})", _number(row["grad_ratio"]),
                 format_pct(row["saturated"], 1), format_pct(row["dead"], 1)]
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def _number(x: float | None) -> str:
    return "—" if x is None else f"{x:.3g}"


def data_text(datasets: list[str]) -> str:
    """The datasets' titles; a stand-in adds that it is not the dataset it stands in for."""
    parts = []
    for name in datasets:
        spec = DATASETS.get(name)
        parts.append(name if spec is None else spec.title + (
            f", not the full {DATASETS[spec.stands_in_for].title}" if spec.stands_in_for else ""))
    return "; ".join(parts)


def _plan_text(report: ExperimentReport) -> str:
    plan = report.plan
    env = plan.get("environment") or {}
    host = env.get("host") or {}
    parts = [f"{report.budget} budget ({plan.get('budget_text', '')}), {seeds_text(plan.get('seeds', []))}",
             f"α = {plan['alpha']:g} with Holm over {plan['holm_family']} comparison"
             f"{'s' * (plan['holm_family'] != 1)}",
             f"chance margin {format_pct(plan['chance_margin'])}"]
    if report.plan_recorded:
        parts.append(f"plan sha256 {report.plan_hash[:12]}… written before the runs"
                     + ("" if report.plan_intact else " (does not match the recorded hash)"))
    if env.get("commit"):
        parts.append(f"cnnkit {env['commit'][:10]}" + (" with uncommitted changes" if env.get("uncommitted") else ""))
    if host:
        parts.append(f"torch {host.get('torch', '?')} on {host.get('cpu', '?')} ({host.get('cores', '?')} cores)")
    if report.devices:
        parts.append("devices " + "; ".join(report.devices))
    for name, digest in (env.get("datasets") or {}).items():
        parts.append(f"{name} sha256 {digest[:12]}…")
    if env.get("command"):
        parts.append(f"command `{env['command']}`")
    parts.append(f"group `{report.group}`")
    return "; ".join(parts) + "."


def _interval(vs: dict) -> str:
    how = "paired" if vs.get("paired") else "Welch"
    return (f"{100 * vs['level']:.1f} % {how} interval {100 * vs['low']:+.1f} to {100 * vs['high']:+.1f}"
            if vs.get("low") is not None else "no interval")


def _vs_text(lv: LevelResult) -> str:
    vs = lv.vs_baseline
    if vs.get("low") is None:
        return f"{100 * vs['diff']:+.1f}"
    mark = " decisive" if vs["decisive"] else ""
    return f"{100 * vs['diff']:+.1f} ({100 * vs['low']:+.1f} … {100 * vs['high']:+.1f}){mark}"


def _time_text(times: list[float | None]) -> str:
    reached = [t for t in times if t is not None]
    if not times:
        return "—"
    text = f"{sorted(reached)[len(reached) // 2]:.0f} (median)" if reached else "never"
    missed = len(times) - len(reached)
    return text + (f", not reached in {missed} of {len(times)}" if missed and reached else "")

