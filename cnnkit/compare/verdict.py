"""Is the difference real? Any runs grouped by a field, every level against a baseline level on one metric, judged
by the experiments' own statistics: ``cnnkit.experiments.judge.versus_baseline`` (the paired t test where the
pairing rule holds, Welch's otherwise, Holm over the levels). A level's runs count as an experiment's do: completed
runs with their value, diverged runs at chance for an accuracy, nothing else.

An open comparison says why (the seed noise against the difference) and about how many seeds per level would
resolve it: an interval's half width shrinks as 1/√n, so n·(h/|d|)² seeds would exclude 0 and, when |d| is below
the smallest effect of interest e, n·(h/(e − |d|))² would fit it inside ±e; the nearer of the two is given.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from cnnkit.data.datasets import DATASETS
from cnnkit.errors import ConfigError
from cnnkit.events import Status
from cnnkit.experiments import judge, metrics, stats
from cnnkit.experiments.metrics import Metric, RunRecord

VERDICT_METRICS = ("test_acc", "best_test_acc", "test_loss", "train_eval_acc", "images_per_sec", "wall_seconds")
POINT = 0.01  # the smallest effect of interest for an accuracy (one point) and for a loss
TENTH = math.log(1.1)  # for a throughput or a time, compared as log ratios: 10 %
MIN_SEEDS = 3  # what a level without an interval is brought up to


@dataclass(frozen=True)
class Level:
    """One level of the grouping: its runs and whether the pairing rule pairs them with the baseline's."""

    label: str
    records: list[RunRecord]
    paired: bool = False
    pairing: str = ""


@dataclass
class LevelVerdict:
    label: str
    is_baseline: bool
    runs: int
    counted: int  # runs with a value (completed, or diverged and counted at chance)
    active: int  # queued or running
    seeds: list[Any]
    mean: float | None  # on the compared scale (log for ratios)
    shown_mean: str
    pairing: str
    vs: dict[str, Any] | None  # versus_baseline's entry: diff, low, high, level, p, n, paired, decisive
    outcome: str  # baseline, better, worse, equivalent, open, no test
    reason: str
    seeds_needed: int | None  # per level, to resolve an open comparison

    @property
    def decisive(self) -> bool:
        return bool(self.vs and self.vs["decisive"])


@dataclass
class Verdict:
    field: str
    metric: str
    metric_title: str
    baseline: str
    effect: float
    band: str  # the smallest effect as text: "±1 point"
    alpha: float
    levels: list[LevelVerdict] = field(default_factory=list)

    @property
    def active(self) -> int:
        return sum(lv.active for lv in self.levels)

    @property
    def seeds_needed(self) -> int | None:
        """Seeds per level that would resolve every open comparison (the most any one needs)."""
        needed = [lv.seeds_needed for lv in self.levels if lv.seeds_needed]
        return max(needed) if needed else None

    def summary(self) -> str:
        """One paragraph: what is decided, what is open and what would settle it, how it was tested."""
        others = [lv for lv in self.levels if not lv.is_baseline]
        parts = []
        for outcome, words in (("better", "better"), ("worse", "worse"), ("equivalent", "no different (within "
                                                                          f"{self.band})"), ("open", "open")):
            chosen = [lv.label for lv in others if lv.outcome == outcome]
            if chosen:
                parts.append(f"{', '.join(chosen)} {words}")
        untested = [lv.label for lv in others if lv.outcome == "no test"]
        text = (f"Against {self.baseline} on {self.metric_title}: " + "; ".join(parts) + "."
                if parts else f"Against {self.baseline} on {self.metric_title}: nothing to compare yet.")
        if untested:
            text += f" Not tested (no finished run with a value): {', '.join(untested)}."
        needing = sorted((lv for lv in others if lv.seeds_needed), key=lambda lv: lv.seeds_needed)
        if needing:
            text += (" Seeds per level that would resolve it: "
                     + ", ".join(f"{lv.label} about {lv.seeds_needed}" for lv in needing) + ".")
        text += (f" Paired t test where the pairing rule holds, Welch's otherwise; Holm over {len(others)} "
                 f"comparison{'s' * (len(others) != 1)} at α = {self.alpha:g}; smallest effect of interest "
                 f"{self.band}.")
        if self.active:
            text = f"Preliminary ({self.active} run{'s' * (self.active != 1)} not finished): " + text
        return text

    def rows(self) -> list[dict[str, Any]]:
        """The verdict as table rows (the page, the CLI and the exports show these)."""
        out = []
        for lv in self.levels:
            vs = lv.vs or {}
            out.append({"level": lv.label + (" (baseline)" if lv.is_baseline else ""),
                        "runs": str(lv.runs) + (f" ({lv.counted} counted)" if lv.counted != lv.runs else ""),
                        "mean": lv.shown_mean,
                        "Δ vs baseline": "" if lv.is_baseline or not vs else _interval_text(self.metric, vs),
                        "verdict": lv.outcome, "seeds to resolve": lv.seeds_needed,
                        "test": "" if lv.is_baseline or not vs else _test_text(vs), "why": lv.reason})
        return out

    def markdown(self) -> str:
        head = list(self.rows()[0]) if self.levels else []
        lines = [f"**Verdict** (grouped by {self.field}). {self.summary()}", "",
                 "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for row in self.rows():
            lines.append("| " + " | ".join("" if v is None else str(v).replace("|", "\\|") for v in row.values())
                         + " |")
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"summary": self.summary(), "seeds_needed": self.seeds_needed}


def check_metric(key: str) -> Metric:
    if key not in VERDICT_METRICS:
        raise ConfigError("metric", f"must be one of {', '.join(VERDICT_METRICS)}, got {key!r}")
    return metrics.get(key)


def smallest_effect(metric: Metric) -> float:
    """One point of accuracy (0.01 of a loss), 10 % of a throughput or a time."""
    return TENTH if metric.ratio else POINT


def judge_levels(levels: list[Level], baseline: str, metric_key: str = "test_acc",
                 field_name: str = "", alpha: float = stats.ALPHA) -> Verdict:
    """Every level against ``baseline`` on ``metric_key``; ``levels`` in the order Holm's ties follow (an
    experiment's plan order gives exactly its report's intervals)."""
    metric = check_metric(metric_key)
    labels = [lv.label for lv in levels]
    if baseline not in labels:
        raise ConfigError("baseline", f"{baseline!r} is not a level; levels: {', '.join(labels)}")
    effect = smallest_effect(metric)
    values = {lv.label: per_seed(lv.records, metric) for lv in levels}
    tested = judge.versus_baseline(values, baseline, {lv.label: lv.paired for lv in levels}, alpha)
    verdict = Verdict(field_name, metric_key, metric.title, baseline, effect, metric.show_band(effect), alpha)
    for lv in levels:
        shown = [v for v in values[lv.label].values() if v is not None]
        mean = stats.mean_or_none(shown)
        verdict.levels.append(LevelVerdict(
            label=lv.label, is_baseline=lv.label == baseline, runs=len(lv.records), counted=len(shown),
            active=sum(r.status in Status.ACTIVE for r in lv.records),
            seeds=sorted({r.seed for r in lv.records if r.seed is not None}),
            mean=mean, shown_mean="—" if mean is None else metric.show(mean),
            pairing="" if lv.label == baseline else lv.pairing, vs=tested.get(lv.label),
            outcome="baseline", reason="", seeds_needed=None))
    for result in verdict.levels:
        if not result.is_baseline:
            _decide(result, metric, effect, verdict)
    return verdict


def per_seed(records: list[RunRecord], metric: Metric) -> dict[Any, float | None]:
    """{seed: value} of a level's counted runs, as an experiment counts them; a seed that appears twice keeps
    both values (the second keyed by its run), so Welch sees every run and pairing only the first."""
    out: dict[Any, float | None] = {}
    for run in sorted(records, key=lambda r: (r.seed is None, r.seed or 0)):  # seed order, as a report reads them
        if run.status == Status.COMPLETED and "test_acc" in run.final:
            value = metric.value(run)
        elif run.status == Status.DIVERGED:
            value = chance(run) if metric.at_chance_when_diverged else None
        else:
            continue
        key = run.seed if run.seed not in out else (run.seed, run.id)
        out[key] = value
    return out


def chance(run: RunRecord) -> float:
    spec = DATASETS.get(run.config.get("dataset", ""))
    return 1 / (spec.num_classes if spec else 10)


def seeds_to_resolve(n: int, half_width: float, diff: float, effect: float) -> int:
    """About how many seeds per level would make an open interval exclude 0 or fit inside ±``effect``,
    whichever is nearer (the half width shrinks as 1/√n)."""
    d = abs(diff)
    needed = []
    if d > 0:
        needed.append(n * (half_width / d) ** 2)
    if d < effect:
        needed.append(n * (half_width / (effect - d)) ** 2)
    return max(n + 1, math.ceil(min(needed))) if needed else n + 1


def _decide(result: LevelVerdict, metric: Metric, effect: float, verdict: Verdict) -> None:
    vs = result.vs
    if vs is None:
        result.outcome, result.reason = "no test", "no finished run with a value on one side"
        return
    if vs["low"] is None:
        result.outcome = "open"
        result.reason = f"fewer than 2 finished runs a side ({vs['n']}): no interval"
        result.seeds_needed = MIN_SEEDS
        return
    sign = 1 if metric.higher_is_better else -1
    inside = -effect < vs["low"] and vs["high"] < effect
    if vs["decisive"]:
        result.outcome = "better" if sign * vs["diff"] > 0 else "worse"
        result.reason = "the interval excludes 0" + (f", but lies inside {verdict.band}" if inside else "")
    elif inside:
        result.outcome = "equivalent"
        result.reason = f"the interval lies inside {verdict.band}: no difference worth the name"
    else:
        half = (vs["high"] - vs["low"]) / 2  # not decisive: the interval holds 0, so half ≥ |diff|
        result.outcome = "open"
        result.reason = (f"the seed noise ({_spread(metric, half)}, the interval's half width) exceeds the "
                         f"difference ({metric.show_diff(vs['diff'])})")
        result.seeds_needed = seeds_to_resolve(vs["n"], half, vs["diff"], effect)


def _spread(metric: Metric, half: float) -> str:
    if metric.ratio:
        return f"a factor of {math.exp(half):.2f} either way"
    return f"±{100 * half:.1f} points" if metric.fraction else f"±{half:.3g}"


def _interval_text(key: str, vs: dict[str, Any]) -> str:
    """"+2.1 (+0.4 to +3.8) points", "×1.12 (×1.02 to ×1.23)"; the difference alone without an interval."""
    metric = metrics.get(key)
    if vs["low"] is None:
        return metric.show_diff(vs["diff"])
    if metric.fraction:
        return f"{100 * vs['diff']:+.1f} ({100 * vs['low']:+.1f} to {100 * vs['high']:+.1f}) points"
    return f"{metric.show_diff(vs['diff'])} ({metric.show_diff(vs['low'])} to {metric.show_diff(vs['high'])})"


def _test_text(vs: dict[str, Any]) -> str:
    how = f"paired, {vs['n']} pairs" if vs["paired"] else f"Welch, {vs['n']} a side"
    return how + (f", {100 * vs['level']:.1f} % interval" if vs["low"] is not None else "")
