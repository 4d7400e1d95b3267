"""The Experiments page: the catalogue, a preset's levels and launch cost, a report's table, an
experiment's curves by level, the reference bundles shipped with the project."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from cnnkit import compare, estimate, experiments
from cnnkit.events import Status
from cnnkit.store import Store
from cnnkit.views.compare import CompareView, build_view

SEEDS_COLUMN = "seeds: " + " / ".join(experiments.BUDGETS)
PUBLISHED_COLUMN = "d2l test acc (10 epochs)"
DEFAULT_BUDGET = "standard"  # the launcher's: the budget sized to answer each question on a 2-core CPU


def catalogue_table(presets: list[experiments.Preset], store: Store) -> pd.DataFrame:
    """One row per preset: its question, the notes' lines, levels, seeds per budget, missing data, its
    newest group here."""
    return pd.DataFrame([{
        "preset": p.name, "question": p.question, "notes line": ", ".join(map(str, p.lines)),
        "levels": len(p.levels), SEEDS_COLUMN: " / ".join(str(p.seeds(b)) for b in experiments.BUDGETS),
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
    """"standard: all training images, 6 epochs · 5 seeds": a budget as the launcher offers it."""
    seeds = experiments.seeds_text(preset.seeds(budget), preset.budget(budget).first_seed)
    return f"{budget}: {experiments.describe_budget(preset, budget)} · {seeds}"


def launch_text(preset: experiments.Preset, budget: str, seeds: int, store: Store, gpu_available: bool) -> str:
    """The launch's estimated time, and every budget's at its default seeds, before anything runs."""
    seconds = launch_seconds(preset, budget, seeds, store, gpu_available)
    each = " · ".join(f"{b} ≈ {estimate.format_seconds(launch_seconds(preset, b, None, store, gpu_available))}"
                      for b in experiments.BUDGETS)
    return (f"≈ {estimate.format_seconds(seconds)} on this machine, one run after another ({each} at their "
            "default seeds; estimated from finished runs where the store has any, else from the reference "
            "machine's speed).")


def levels_table(report: experiments.ExperimentReport) -> pd.DataFrame:
    """One row per level of a report: test accuracy over seeds, the difference with the baseline and
    its interval, the train–test gap, cost, the statuses of its runs, and d2l's 10-epoch test
    accuracy where the report has published figures (the zoo)."""
    published = any(lv.published is not None for lv in report.levels)
    return pd.DataFrame([{
        "level": lv.level + (" (baseline)" if lv.is_baseline else ""), "test acc": lv.mean, "± std": lv.std,
        "n": lv.n, "Δ vs baseline": lv.diff, "95 % CI low": lv.ci_low, "95 % CI high": lv.ci_high,
        "train acc": lv.mean_train_acc, "train − test": lv.mean_gap, "s / run": lv.mean_seconds,
        "params": lv.params, "runs": ", ".join(f"{n} {s}" for s, n in sorted(lv.statuses.items())),
        **({PUBLISHED_COLUMN: lv.published} if published else {}),
    } for lv in report.levels])


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
