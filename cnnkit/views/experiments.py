"""The Experiments page: the catalogue, a preset's levels, claims and launch cost, a report's claims and levels
as tables, an experiment's curves by level, the reference bundles shipped with the project."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from cnnkit import compare, estimate, experiments
from cnnkit.events import Status
from cnnkit.experiments import looks
from cnnkit.store import Store
from cnnkit.text import format_count, format_mean_std, format_pct
from cnnkit.views.compare import CompareView, build_view

SEEDS_COLUMN = "seeds: " + " / ".join(experiments.BUDGETS)
PUBLISHED_COLUMN = "d2l, 10 epochs: test / train acc"
DASH = "—"
DEFAULT_BUDGET = "standard"  # the launcher's: the budget sized to answer each question on a 2-core CPU


def catalogue_table(presets: list[experiments.Preset], store: Store) -> pd.DataFrame:
    """One row per preset: its question, the notes' lines, levels, seeds per budget, missing data, its
    newest group here."""
    return pd.DataFrame([{
        "preset": p.name, "question": p.question, "mission line": ", ".join(map(str, p.lines)),
        "levels": len(p.levels), "claims": len(p.claims),
        SEEDS_COLUMN: " / ".join(str(p.seeds(b)) for b in experiments.BUDGETS),
        "needs": ", ".join(experiments.missing_datasets(p)) or "",
        "latest": experiments.latest_group(store, p.name) or ""} for p in presets])


def preset_label(preset: experiments.Preset) -> str:
    """"ReLU vs sigmoid — lines 3, 4"."""
    return f"{preset.title} — lines {', '.join(map(str, preset.lines))}"


def preset_levels_table(preset: experiments.Preset) -> pd.DataFrame:
    """One row per level: its label (the baseline marked) and the config changes it makes."""
    return pd.DataFrame([{"level": lv.label + (" (baseline)" if lv.label == preset.baseline else ""),
                          "changes": ", ".join(f"{k}={v}" for k, v in lv.changes.items()) or "—"}
                         for lv in preset.levels])


def launch_seconds(preset: experiments.Preset, budget: str, seeds: int | None, store: Store,
                   gpu_available: bool) -> float:
    """Estimated wall seconds of launching ``preset`` under ``budget``: its runs one after another."""
    configs = experiments.build_configs(preset, budget, seeds)
    return estimate.runs_seconds((c for _, c in configs), store, gpu_available)


def budget_label(preset: experiments.Preset, budget: str) -> str:
    """"standard: all training images, 6 epochs · 5 seeds (1000–1004)": a budget as the launcher offers it."""
    seeds = experiments.seeds_text(experiments.seed_values(preset, budget))
    return f"{budget}: {experiments.describe_budget(preset, budget)} · {seeds}"


def preset_claims_table(preset: experiments.Preset) -> pd.DataFrame:
    """The claims a preset tests, before any run: where each comes from, what it says, how it is measured."""
    from cnnkit.experiments import metrics

    return pd.DataFrame([{
        "source": ", ".join(c.sources), "claim": c.text, "kind": c.kind,
        "levels": c.a + (f" vs {c.b}" if c.b else ""),
        "measured on": c.tested_as or metrics.get(c.metric).title,
        "smallest effect": metrics.get(c.metric).show_band(c.effect) if c.is_comparison else DASH,
    } for c in preset.claims])


def launch_text(preset: experiments.Preset, budget: str, seeds: int, store: Store, gpu_available: bool) -> str:
    """The launch's estimated time, and every budget's at its default seeds, before anything runs."""
    seconds = launch_seconds(preset, budget, seeds, store, gpu_available)
    each = " · ".join(f"{b} ≈ {estimate.format_seconds(launch_seconds(preset, b, None, store, gpu_available))}"
                      for b in experiments.BUDGETS)
    return (f"≈ {estimate.format_seconds(seconds)} on this machine, one run after another ({each} at their "
            "default seeds; estimated from finished runs where the store has any, else from the reference "
            "machine's speed).")


def claims_table(report: experiments.ExperimentReport) -> pd.DataFrame:
    """One row per claim of a report: where it comes from, the claim, what it was measured on, its outcome, and
    the estimate with its interval (or why there is none)."""
    return pd.DataFrame([{
        "from": claim.origin, "source": ", ".join(claim.sources), "claim": claim.text,
        "measured on": claim.tested_as or f"{claim.metric_title}: {claim.a}" + (f" vs {claim.b}" if claim.b else ""),
        "outcome": claim.outcome, "estimate (interval) or reason": claim.detail,
    } for claim in report.claims])


def levels_table(report: experiments.ExperimentReport) -> pd.DataFrame:
    """One row per level of a report, as the shipped report writes it: accuracies in %, differences in points
    with their interval, the costs and sizes, "—" where a cell has nothing (the baseline's difference)."""
    published = any(lv.published for lv in report.levels)
    rows = []
    for lv in report.levels:
        vs = lv.vs_baseline
        rows.append({
            "level": lv.label + (" (baseline)" if lv.is_baseline else ""),
            "test acc": format_mean_std(lv.means["test_acc"], lv.stds["test_acc"]),
            "runs counted": lv.n_counted,
            "Δ test acc vs baseline (points)": DASH if not vs else (
                f"{100 * vs['diff']:+.1f}" + ("" if vs.get("low") is None else
                                             f" ({100 * vs['low']:+.1f} … {100 * vs['high']:+.1f})")
                + (" decisive" if vs.get("decisive") else "")),
            "train acc, evaluated": format_pct(lv.means["train_eval_acc"], 1),
            "train acc, running (d2l)": format_pct(lv.means["train_acc"], 1),
            "train − test gap": DASH if lv.means["gap"] is None else f"{100 * lv.means['gap']:+.1f} points",
            "images/s": DASH if lv.means["images_per_sec"] is None else f"{lv.means['images_per_sec']:,.0f}",
            "s / run": DASH if lv.means["train_seconds"] is None else f"{lv.means['train_seconds']:.1f}",
            "params": DASH if lv.params is None else f"{lv.params:,}",
            "MACs": DASH if lv.macs is None else format_count(lv.macs),
            "input": "×".join(map(str, lv.input[1:])) if lv.input else DASH,
            "runs": ", ".join(f"{n} {s}" for s, n in sorted(lv.statuses.items())),
            **({PUBLISHED_COLUMN: DASH if not lv.published else
                f"{format_pct(lv.published['test_acc'], 1)} / {format_pct(lv.published['train_acc'], 1)}"}
               if published else {}),
        })
    return pd.DataFrame(rows)


def health_table(report: experiments.ExperimentReport) -> pd.DataFrame:
    """The levels' layer health by epoch (presets that report it), as the shipped report writes it."""
    return pd.DataFrame([{
        "level": row["level"], "epoch": row["epoch"], "test acc": format_pct(row["test_acc"], 1),
        "gradient norm, first layer": _norm(row["first_grad_norm"], row["first_layer"]),
        "gradient norm, last layer": _norm(row["last_grad_norm"], row["last_layer"]),
        "first / last": DASH if row["grad_ratio"] is None else f"{row['grad_ratio']:.3g}",
        "saturated": format_pct(row["saturated"], 1), "dead": format_pct(row["dead"], 1),
    } for row in report.health])


def _norm(value: float | None, layer: str) -> str:
    return DASH if value is None else f"{value:.3g} ({layer})"


def outcome_text(report: experiments.ExperimentReport) -> str:
    """"3 confirmed, 1 refuted, 1 open": the claims' outcomes in the order a reader wants them."""
    from cnnkit.experiments.wording import outcome_sentence

    return outcome_sentence(report)


def progress_text(counts: dict[str, int]) -> str:
    """"3/8 runs finished · 1 running · 4 queued" from ``experiments.group_progress``."""
    return (f"{counts['finished']}/{counts['total']} runs finished"
            + "".join(f" · {counts[s]} {s}" for s in Status.ACTIVE if counts.get(s)))


def preset_groups(store: Store, preset: str) -> dict[str, str]:
    """group id → "name · id" of the experiment groups of ``preset``, newest first."""
    return {g["id"]: f"{g['name']} · {g['id']}" for g in store.groups(kind=experiments.GROUP_KIND)
            if g["meta"].get("preset") == preset}


def level_curves(store: Store, group_id: str) -> CompareView | None:
    """The group's runs compared with one line (mean ± std over seeds) per level; None before any
    run is assigned a level."""
    meta = (store.group(group_id) or {}).get("meta", {})
    assigned = meta.get("runs", {})
    labels = {r.id: assigned.get(r.id) for r in store.list_runs(group=group_id)}
    labels = {k: v for k, v in labels.items() if v}
    if not labels:
        return None
    groups = compare.labelled_groups(labels, meta.get("levels"))
    return build_view(store, compare.Selection(groups=[group_id]), groups=groups)


def reference_bundles(results_dir: Path) -> list[Path]:
    """The reference bundles shipped in ``results_dir``/reference, in the catalogue's order (the order of
    results/README.md), then any other zip by name."""
    folder = results_dir / "reference"
    order = {preset.name: i for i, preset in enumerate(experiments.catalogue())}
    zips = folder.glob("*.zip") if folder.exists() else []
    return sorted(zips, key=lambda path: (order.get(path.stem, len(order)), path.name))


def presets_without_results(results_dir: Path) -> list[tuple[str, str]]:
    """(preset title, why it has no shipped numbers) for every preset without a bundle in ``results_dir``."""
    shipped = {path.stem for path in reference_bundles(results_dir)}
    ledger = looks.load(results_dir)
    return [(preset.title, experiments.missing_reason(preset.name, ledger))
            for preset in experiments.catalogue() if preset.name not in shipped]
