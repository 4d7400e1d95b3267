"""Judging a look by its plan: each level's runs summarised, each claim decided, the levels compared with the
baseline, and (for a ranking) what the intervals separate.

A claim's outcome is one of:
- confirmed / refuted — the interval (at the claim's Holm level) decides it (design.CLAIM_KINDS says how);
- open — the interval is too wide to decide;
- did not learn — a level of an accuracy comparison stayed within the chance margin in most of its runs, so
  the comparison says nothing about the claim (neither agreement nor a decisive answer);
- not tested here — the plan names a level without counted runs (its data is missing, or it has not run).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from itertools import combinations
from typing import Any

from cnnkit.events import Status
from cnnkit.experiments import metrics, stats
from cnnkit.experiments.design import COMPARISONS
from cnnkit.experiments.metrics import RunRecord

OUTCOMES = ("confirmed", "refuted", "open", "did not learn", "not tested here")
SUMMARISED = ("test_acc", "train_eval_acc", "train_acc", "gap", "test_loss", "images_per_sec", "train_seconds")


@dataclass
class LevelResult:
    label: str
    is_baseline: bool
    params: int | None
    macs: int | None
    input: list[int]
    run_ids: list[str]
    seeds: list[int]  # of the counted runs (completed, or diverged: those count at chance)
    n_counted: int
    n_diverged: int
    n_chance: int  # counted runs that ended within the chance margin
    n_failed: int  # failed, cancelled, lost, out of memory: not counted
    n_active: int
    learned: bool | None  # None without counted runs
    means: dict[str, float | None] = field(default_factory=dict)  # metric → mean over counted runs
    stds: dict[str, float | None] = field(default_factory=dict)
    values: dict[str, list[float | None]] = field(default_factory=dict)  # metric → per counted run (seed order)
    statuses: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    vs_baseline: dict[str, Any] | None = None  # test accuracy against the baseline (descriptive, Holm over levels)
    published: dict[str, float] | None = None  # d2l's 10-epoch figures of this model (ranking presets)
    time_to_target: list[float | None] = field(default_factory=list)  # training seconds to the target, per run

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ClaimResult:
    id: str
    origin: str
    sources: list[str]
    text: str
    kind: str
    a: str
    b: str
    metric: str
    metric_title: str
    effect: float
    tested_as: str
    paired: bool | None
    pairing: str
    outcome: str
    detail: str
    n: int = 0
    diff: float | None = None
    low: float | None = None
    high: float | None = None
    level: float | None = None  # confidence level of [low, high]
    p: float | None = None
    holm_alpha: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def level_results(plan: dict[str, Any], by_level: dict[str, list[RunRecord]], chance: float,
                  target: float | None = None) -> list[LevelResult]:
    """Every level of the plan with its runs summarised."""
    margin = plan["chance_margin"]
    out = []
    for level in plan["levels"]:
        runs = sorted(by_level.get(level["label"], []), key=lambda r: (r.seed is None, r.seed))
        completed = [r for r in runs if r.status == Status.COMPLETED and "test_acc" in r.final]
        diverged = [r for r in runs if r.status == Status.DIVERGED]
        counted = sorted(completed + diverged, key=lambda r: (r.seed is None, r.seed))
        active = [r for r in runs if r.status in Status.ACTIVE]
        failed = [r for r in runs if r not in counted and r not in active]
        at_chance = sum(1 for r in counted if r in diverged or r.final["test_acc"] < chance + margin)
        result = LevelResult(
            label=level["label"], is_baseline=level["label"] == plan["baseline"], params=level.get("params"),
            macs=level.get("macs"), input=level.get("input") or [], run_ids=[r.id for r in runs],
            seeds=[r.seed for r in counted], n_counted=len(counted), n_diverged=len(diverged), n_chance=at_chance,
            n_failed=len(failed), n_active=len(active),
            learned=None if not counted else 2 * at_chance < len(counted),
            statuses=status_counts(r.status for r in runs),
            errors=[f"{r.id} {r.status}: {(r.error or 'no error recorded').strip().splitlines()[0][:200]}"
                    for r in failed + diverged])
        for key in SUMMARISED:
            values = [_value(metrics.get(key), r, r in diverged, chance) for r in counted]
            shown = [v for v in values if v is not None]
            summary = stats.summarize([math.exp(v) for v in shown] if metrics.get(key).ratio else shown)
            result.values[key], result.means[key], result.stds[key] = values, summary.mean, summary.std
        if target is not None:
            result.time_to_target = [metrics.time_to(r, target) for r in counted]
        out.append(result)
    return out


def judge_claims(plan: dict[str, Any], levels: list[LevelResult]) -> list[ClaimResult]:
    """Every claim of the plan decided; the comparisons as one Holm family (the plan's, whatever was testable)."""
    by_label = {lv.label: lv for lv in levels}
    prepared = [_prepare(claim, by_label) for claim in plan["claims"]]
    family = [(result, test) for result, test in prepared if result.kind in COMPARISONS]
    steps = stats.holm_levels(_family([test for _, test in family]), plan["alpha"])
    for (result, test), (alpha, _rejected) in zip(family, steps):
        if test is not None:
            final = _compare(result.metric, by_label[result.a], by_label[result.b], result.paired, 1 - alpha)
            _decide(result, final, alpha)
    return [result for result, _ in prepared]


def compare_with_baseline(plan: dict[str, Any], levels: list[LevelResult]) -> None:
    """Each level's test accuracy against the baseline's (``vs_baseline``), Holm over the levels: descriptive,
    for the table and for naming a best level, apart from the claims."""
    base = next((lv for lv in levels if lv.is_baseline), None)
    if base is None:
        return
    values = {lv.label: dict(zip(lv.seeds, lv.values.get("test_acc", []))) for lv in levels}
    paired = {level["label"]: bool(level.get("paired")) for level in plan["levels"]}
    for label, result in versus_baseline(values, base.label, paired, plan["alpha"]).items():
        next(lv for lv in levels if lv.label == label).vs_baseline = result


def versus_baseline(values: dict[str, dict[Any, float | None]], baseline: str, paired: dict[str, bool],
                    alpha: float = stats.ALPHA) -> dict[str, dict[str, Any]]:
    """Every level against ``baseline`` on per-seed values ({level: {seed: value}}): paired where ``paired`` says
    so (and at least 2 seeds match), Welch otherwise; Holm over the levels. {level: diff, low, high, level
    (confidence), p, n, paired, decisive}; a level without values on both sides is left out."""
    others = [label for label in values if label != baseline]
    tests = [_test(values[label], values[baseline], paired.get(label, False), 1 - alpha) for label in others]
    steps = stats.holm_levels(_family(tests), alpha)
    out = {}
    for label, test, (level_alpha, rejected) in zip(others, tests, steps):
        if test is None:
            continue
        final = _test(values[label], values[baseline], paired.get(label, False), 1 - level_alpha)
        out[label] = {"diff": final.diff, "low": final.low, "high": final.high, "level": final.level,
                      "p": final.p, "n": final.n, "paired": final.paired, "decisive": rejected}
    return out


def best_level(levels: list[LevelResult]) -> str | None:
    """The most accurate level among those that beat the baseline decisively; None when none does."""
    winners = [lv for lv in levels if lv.vs_baseline and lv.vs_baseline["decisive"] and lv.vs_baseline["diff"] > 0]
    return max(winners, key=lambda lv: lv.means["test_acc"]).label if winners else None


def ranking_tiers(levels: list[LevelResult], alpha: float) -> list[list[str]]:
    """The levels by mean test accuracy, grouped so that a level starts a new group only when Welch's interval
    (Holm over every pair) separates it from every level of the group above."""
    ranked = sorted((lv for lv in levels if lv.means.get("test_acc") is not None),
                    key=lambda lv: lv.means["test_acc"], reverse=True)
    pairs = list(combinations(ranked, 2))
    tests = [_compare("test_acc", a, b, False, 1 - alpha) for a, b in pairs]
    steps = stats.holm_levels(_family(tests), alpha)
    separated = {(a.label, b.label) for (a, b), (_, rejected) in zip(pairs, steps) if rejected}
    tiers: list[list[str]] = []
    for lv in ranked:
        if tiers and not all((above, lv.label) in separated for above in tiers[-1]):
            tiers[-1].append(lv.label)
        else:
            tiers.append([lv.label])
    return tiers


# ---- one claim ------------------------------------------------------------------------------------------

def _prepare(claim: dict[str, Any], by_label: dict[str, LevelResult]) -> tuple[ClaimResult, stats.Comparison | None]:
    """The claim's result shell and, for a comparison that can be tested, its test at the nominal level."""
    result = ClaimResult(
        id=claim["id"], origin=claim["origin"], sources=list(claim["sources"]), text=claim["text"],
        kind=claim["kind"], a=claim["a"], b=claim.get("b", ""), metric=claim["metric"],
        metric_title=claim.get("metric_title", metrics.get(claim["metric"]).title), effect=claim["effect"],
        tested_as=claim.get("tested_as", ""), paired=claim.get("paired"), pairing=claim.get("pairing", ""),
        outcome="open", detail="")
    a, b = by_label.get(result.a), by_label.get(result.b) if result.b else None
    sides = [lv for lv in (a, b) if lv is not None]
    if len(sides) < (2 if result.b else 1) or not all(lv.n_counted for lv in sides):
        waiting = any(lv.n_active for lv in sides)
        result.outcome = "open" if waiting else "not tested here"
        result.detail = "waiting for its runs to finish" if waiting else "a level of the claim has no finished runs"
        return result, None
    if result.kind in ("fails", "learns"):
        _decide_learning(result, a)
        return result, None
    metric = metrics.get(result.metric)
    stuck = [lv.label for lv in (a, b) if lv.learned is False]
    if stuck and not metric.ratio:
        result.outcome = "did not learn"
        result.detail = (f"{' and '.join(stuck)} stayed within {_points(0.05)} of chance in most runs, so the "
                         f"comparison says nothing about the claim")
        return result, None
    test = _compare(result.metric, a, b, bool(result.paired), 1 - stats.ALPHA)
    if test is None or test.p is None:
        result.detail = "fewer than 2 runs a side with a value"
        return result, None
    return result, test


def _compare(key: str, a: LevelResult, b: LevelResult, paired: bool, level: float) -> stats.Comparison | None:
    """a − b on ``key`` (log ratio for ratio metrics)."""
    return _test(dict(zip(a.seeds, a.values.get(key, []))), dict(zip(b.seeds, b.values.get(key, []))), paired, level)


def _test(a: dict[Any, float | None], b: dict[Any, float | None], paired: bool, level: float
          ) -> stats.Comparison | None:
    """a − b from per-seed values: seed by seed when paired and at least 2 seeds match, else Welch."""
    va = {s: v for s, v in a.items() if v is not None}
    vb = {s: v for s, v in b.items() if v is not None}
    if paired:
        common = sorted((s for s in set(va) & set(vb) if s is not None), key=lambda s: (str(type(s)), s))
        if len(common) >= 2:
            return stats.paired([va[s] for s in common], [vb[s] for s in common], level)
    if not va or not vb:
        return None
    return stats.welch(list(va.values()), list(vb.values()), level)


def _decide(result: ClaimResult, test: stats.Comparison, alpha: float) -> None:
    metric = metrics.get(result.metric)
    result.n, result.diff, result.low, result.high = test.n, test.diff, test.low, test.high
    result.level, result.p, result.holm_alpha, result.paired = test.level, test.p, alpha, test.paired
    sign = 1 if metric.higher_is_better else -1  # "better" in the metric's own direction
    effect = result.effect
    negligible = test.within(effect)
    # The whole interval on the claimed side of 0 (for a lower-is-better metric: below it), or on the other.
    bounds = None if test.low is None or test.high is None else sorted((sign * test.low, sign * test.high))
    claimed = bounds is not None and bounds[0] > 0
    opposite = bounds is not None and bounds[1] < 0
    if result.kind == "similar":
        beyond = test.low is not None and (test.low >= effect or test.high <= -effect)
        result.outcome = "confirmed" if negligible else "refuted" if beyond else "open"
    elif negligible:
        result.outcome = "refuted"
    elif result.kind == "differs":
        result.outcome = "confirmed" if test.excludes_zero else "open"
    else:
        result.outcome = "confirmed" if claimed else "refuted" if opposite else "open"
    result.detail = _interval_text(metric, test, effect, result.outcome, negligible)


def _decide_learning(result: ClaimResult, level: LevelResult) -> None:
    """fails / learns: decided by how many counted runs left the chance margin."""
    stuck, n = level.n_chance, level.n_counted
    result.n = n
    if n < 2:
        result.outcome, result.detail = "open", f"{n} counted run"
        return
    share = f"{stuck} of {n} runs stayed within 5 points of chance or diverged"
    if result.kind == "fails":
        result.outcome = "confirmed" if 2 * stuck > n else "refuted" if stuck == 0 else "open"
    else:
        result.outcome = "confirmed" if stuck == 0 else "refuted" if 2 * stuck > n else "open"
    mean = level.means.get("test_acc")
    result.detail = share + (f"; mean test accuracy {100 * mean:.1f} %" if mean is not None else "")


def _interval_text(metric: metrics.Metric, test: stats.Comparison, effect: float, outcome: str,
                   negligible: bool) -> str:
    how = "paired, seed by seed" if test.paired else "Welch"
    text = (f"{metric.show_diff(test.diff)}, {100 * test.level:.1f} % interval {metric.show_diff(test.low)} to "
            f"{metric.show_diff(test.high)} ({how}, {test.n} {'pairs' if test.paired else 'seeds a side'})")
    band = metric.show_band(effect)
    if negligible:
        return f"{text}: inside {band}, no difference worth the name"
    if outcome == "open":
        return f"{text}: too wide to decide against the smallest effect of interest ({band})"
    return text


def _family(tests: list[stats.Comparison | None]) -> list[float]:
    """The family's p-values; a comparison that could not be tested stays in it as p = 1, so that the family
    is the one the plan fixed, not one the results shrank."""
    return [1.0 if t is None or t.p is None else t.p for t in tests]


def _value(metric: metrics.Metric, run: RunRecord, diverged: bool, chance: float) -> float | None:
    if diverged:
        return chance if metric.at_chance_when_diverged else None
    return metric.value(run)


def status_counts(statuses: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for status in statuses:
        out[str(status)] = out.get(str(status), 0) + 1
    return out


def _points(x: float) -> str:
    return f"{100 * x:g} points"
