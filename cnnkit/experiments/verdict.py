"""The analysis of an experiment: per-level results, the verdict, and the claims judged against them."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cnnkit.bundle import BundleError, read_bundle
from cnnkit.config import RunConfig
from cnnkit.d2l import for_model as d2l_row
from cnnkit.data.datasets import DATASETS
from cnnkit.errors import ConfigError, StoreError
from cnnkit.events import Status
from cnnkit.experiments import stats
from cnnkit.experiments.presets import (
    ALL_BUDGETS,
    Claim,
    Preset,
    describe_budget,
    get,
    jsonable,
    level_config,
    seeds_text,
)
from cnnkit.experiments.queue import GROUP_KIND, NAME_SEP
from cnnkit.store import Store
from cnnkit.text import format_mean_std, format_pct

CHANCE_MARGIN = 0.05  # a final test accuracy below chance + this means the run did not learn
# How often the verdict's 95 % Welch interval excludes 0, by seeds per level: when the levels do not differ at all
# (FALSE_ALARM_RATE; a little under the nominal 5 %: Welch's degrees of freedom are below the pooled ones), and with
# 5 seeds when they differ by 1, 1.5 or 2 seed sds (DETECTION_RATE_5). Normal seed noise, simulated;
# tests/experiments/test_verdict.py re-measures them.
FALSE_ALARM_RATE = {3: 0.035, 5: 0.04}
DETECTION_RATE_5 = {1.0: 0.27, 1.5: 0.52, 2.0: 0.76}
# A standard budget that takes a second look where 5 seeds left the question open (at 10 seeds: seeds 0–4 again,
# then 5–9; or redesigned, on fresh seeds 5–9): how often either look excludes 0 when the levels do not differ.
# Simulated as above.
TWO_LOOK_FALSE_ALARM_RATE = 0.08
MANY_SEEDS = 100  # beyond this, "seeds that would resolve it" is no plan, only a sign that there is little to find


@dataclass
class _RunRecord:
    """One run as the analysis needs it, whether it comes from a store or from a bundle."""

    id: str
    origin: str | None
    name: str
    status: str
    config: dict[str, Any]
    summary: dict[str, Any]
    error: str | None
    started_at: float | None
    finished_at: float | None
    device: str | None
    final: dict[str, float]


@dataclass
class LevelResult:
    level: str
    is_baseline: bool
    n: int  # runs counted: completed + diverged (at chance)
    mean: float | None  # final test accuracy
    std: float | None
    values: list[float]
    seeds: list[int | None]  # the seed of each value
    n_runs: int
    n_completed: int
    n_diverged: int
    n_chance: int  # completed runs that stayed at chance level
    n_failed: int  # failed, cancelled, lost, oom
    n_active: int  # queued or running
    mean_test_loss: float | None
    mean_train_loss: float | None
    mean_train_acc: float | None
    mean_gap: float | None  # train acc − test acc
    gaps: list[float]
    gap_seeds: list[int | None]
    mean_seconds: float | None  # training seconds per run (the engine's epoch times)
    mean_wall_seconds: float | None  # claim → finish per run
    images_per_sec: float | None
    params: int | None
    macs: int | None
    diff: float | None = None  # mean − baseline mean (accuracy, not points)
    ci_low: float | None = None
    ci_high: float | None = None
    excludes_zero: bool = False
    equivalent: bool = False  # the interval lies within ±the preset's margin
    paired_sd: float | None = None  # sd of the seed-by-seed differences, when the preset pairs its seeds
    published: float | None = None  # d2l's 10-epoch test accuracy of this model (ranking presets)
    published_train: float | None = None  # and its train accuracy
    run_ids: list[str] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    changes: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return jsonable(asdict(self))


@dataclass
class ExperimentReport:
    preset: str
    title: str
    question: str
    factor: str
    lines: list[int]
    budget: str
    budget_text: str
    seeds: int
    group: str
    source: str  # "store <path>" or "bundle <file name>"
    levels: list[LevelResult]
    baseline: str
    best: str | None  # None for a ranking preset: it names no winner
    verdict: str
    agreement: str  # agrees, partly agrees, contradicts, equivalent, inconclusive, not enough seeds, no claim
    claims: list[dict[str, Any]]
    expected: str
    note: str
    counts: dict[str, int]
    finished: bool
    created: str | None
    host: dict[str, Any]
    devices: list[str]
    command: str | None = None
    current: bool = True  # the runs' configs are what the catalogue's preset builds today
    metric: str = "final test accuracy"
    datasets: list[str] = field(default_factory=list)  # what the runs trained on (a stand-in says so)
    margin: float | None = None  # the preset's equivalence margin (accuracy)
    paired: bool = False  # levels compared seed by seed (Preset.paired)
    ranking: list[str] = field(default_factory=list)  # a ranking preset's levels, best mean first
    first_start: float | None = None  # the first of its runs to start, and the last to finish (epoch seconds;
    last_finish: float | None = None  # None while any run is active)

    @property
    def wall_seconds(self) -> float | None:
        """From the first start to the last finish of its runs; None until every run has ended."""
        return None if self.first_start is None or self.last_finish is None else self.last_finish - self.first_start

    @property
    def seeds_text(self) -> str:
        """'5 seeds', or '5 seeds (5–9)' when the runs' seeds do not start at 0."""
        seeds = [s for lv in self.levels for s in lv.seeds if s is not None]
        return seeds_text(self.seeds, min(seeds, default=0))

    def level(self, label: str) -> LevelResult:
        for level in self.levels:
            if level.level == label:
                return level
        raise KeyError(label)

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if k != "levels"} | {"wall_seconds": self.wall_seconds}
        out["levels"] = [lv.to_dict() for lv in self.levels]
        return jsonable(out)

    def to_markdown(self, heading: bool = True) -> str:
        lines = []
        if heading:
            lines += [f"### {self.title} (`{self.preset}`)", "", f"*{self.question}*", ""]
            lines += [self.note, ""] if self.note else []
        published = any(lv.published is not None for lv in self.levels)
        lines += ["| level | test acc (mean ± std) | n | Δ vs baseline, points (95 % CI) | train acc | test loss "
                  "| s/run | runs |" + (" d2l, 10 epochs: test / train acc |" if published else ""),
                  "|---|---|---|---|---|---|---|---|" + ("---|" if published else "")]
        for lv in self.levels:
            cells = [
                lv.level + (" (baseline)" if lv.is_baseline else ""),
                format_mean_std(lv.mean, lv.std),
                str(lv.n),
                "—" if lv.is_baseline else _diff_text(lv),
                format_pct(lv.mean_train_acc, 1),
                "—" if lv.mean_test_loss is None else f"{lv.mean_test_loss:.3f}",
                "—" if lv.mean_seconds is None else f"{lv.mean_seconds:.1f}",
                _status_text(lv.statuses),
            ]
            if published:
                cells.append("—" if lv.published is None else
                             f"{format_pct(lv.published, 1)} / {format_pct(lv.published_train, 1)}")
            lines.append("| " + " | ".join(cells) + " |")
        lines += ["", f"**Verdict.** {self.verdict}", "",
                  f"**Expected.** {self.expected} → **{self.agreement}**."]
        for claim in self.claims:
            lines.append(f"- {claim['text']}: {claim['outcome']} ({claim['detail']})")
        lines += ["", *([f"Data: {data_text(self.datasets)}."] if self.datasets else []),
                  f"Budget: {self.budget} ({self.budget_text}); {self.seeds_text}; group `{self.group}`."]
        if not self.current:
            lines.append("Note: the preset has changed since these runs; rerun it for today's settings.")
        return "\n".join(lines)


def analyze(store: Store, group_id: str) -> ExperimentReport:
    """The report of an experiment group in ``store`` (finished or not)."""
    group = store.group(group_id)
    if group is None:
        raise StoreError(f"no experiment group {group_id} in {store.home}")
    if group["kind"] != GROUP_KIND:
        raise ConfigError("group", f"{group_id} is a {group['kind']} group, not an experiment")
    runs = []
    for run in store.list_runs(group=group_id):
        final = dict(run.summary.get("final") or {})
        if "test_acc" not in final and run.status == Status.COMPLETED:
            rows = store.epoch_rows(run.id)
            final = {k: rows[-1][k] for k in ("train_loss", "train_acc", "test_loss", "test_acc")} if rows else {}
        origin = (run.summary.get("origin") or {}).get("id")
        runs.append(_RunRecord(run.id, origin, run.name, run.status, run.config, run.summary, run.error,
                               run.started_at, run.finished_at, run.device, final))
    return _report(group, runs, f"store {store.home}")


def analyze_bundle(path: Path | str) -> ExperimentReport:
    """The report of the experiment in a bundle zip, read and validated without importing it."""
    bundle = read_bundle(path)
    groups = [g for g in bundle.groups if g["kind"] == GROUP_KIND]
    if not groups:
        raise BundleError(f"{Path(path).name} holds no experiment group")
    group = groups[0]
    runs = []
    for run in bundle.runs:
        if run["group"] != group["id"]:
            continue
        final = dict(run["summary"].get("final") or {})
        if "test_acc" not in final and run["status"] == Status.COMPLETED:
            final = _final_from_points(run["metrics"])
        runs.append(_RunRecord(run["id"], (run["summary"].get("origin") or {}).get("id"), run["name"],
                               run["status"], run["config"], run["summary"], run["error"], run["started_at"],
                               run["finished_at"], run["device"], final))
    return _report(group, runs, f"bundle {Path(path).name}")


def _final_from_points(points: list[list]) -> dict[str, float]:
    """The last whole-epoch value of each train/test loss/acc from [step, epoch, split, name, value, wall]."""
    last: dict[str, tuple[float, float]] = {}
    for _step, epoch, split, name, value, _wall in points:
        if float(epoch).is_integer() and name in ("loss", "acc"):
            key = f"{split}_{name}"
            if key not in last or epoch >= last[key][0]:
                last[key] = (epoch, value)
    return {k: v for k, (_, v) in last.items()}


def _report(group: dict[str, Any], runs: list[_RunRecord], source: str) -> ExperimentReport:
    meta = group.get("meta", {})
    name = meta.get("preset", "")
    try:
        preset: Preset | None = get(name)
    except ConfigError:
        preset = None  # a preset renamed or removed since: the meta still tells the levels
    labels = list(meta.get("levels") or (preset.labels if preset else []))
    baseline = meta.get("baseline") or (preset.baseline if preset else (labels[0] if labels else ""))
    by_level: dict[str, list[_RunRecord]] = {label: [] for label in labels}
    unassigned = []
    for run in runs:
        label = _level_of(run, meta)
        if label is None:
            unassigned.append(run)
            continue
        by_level.setdefault(label, []).append(run)
    chance = 1 / _num_classes(runs)
    levels = [_level_result(label, rs, chance, label == baseline,
                            dict(preset.level(label).changes) if preset and label in preset.labels else {})
              for label, rs in by_level.items()]
    base = next((lv for lv in levels if lv.is_baseline), None)
    margin = preset.margin if preset else None
    paired = bool(preset and preset.paired)
    for lv in levels:
        if base is not None and not lv.is_baseline and lv.values and base.values:
            d = difference(lv.values, lv.seeds, base.values, base.seeds, paired)
            lv.diff, lv.ci_low, lv.ci_high, lv.excludes_zero = d.diff, d.low, d.high, d.excludes_zero
            lv.equivalent = _within(d, margin)
            if paired:
                lv.paired_sd = stats.summarize(_pairs(lv.values, lv.seeds, base.values, base.seeds)[2]).std
    ranking = bool(preset and preset.ranking)
    if ranking:
        _attach_published(levels, by_level)
    ranked = sorted((lv for lv in levels if lv.mean is not None), key=lambda lv: lv.mean, reverse=True)
    best = ranked[0].level if ranked and not ranking else None
    claims = [_judge(c, {lv.level: lv for lv in levels}, chance, margin, paired)
              for c in (preset.claims if preset else ())]
    agreement = _agreement(levels, claims, has_claims=bool(preset and preset.claims))
    verdict = _verdict(levels, base, chance, unassigned, margin, ranking, paired)
    if agreement == "contradicts":
        bad = [f"{c['text']}, but {c['detail']}" for c in claims if c["outcome"] == "contradicts"]
        verdict += f" This contradicts the expected outcome (notes / literature: {'; '.join(bad)})."
    elif agreement in ("agrees", "partly agrees"):
        good = [f"{c['text']}: {c['detail']}" for c in claims if c["outcome"] == "agrees"]
        verdict += f" This {agreement.replace('agrees', 'agrees with')} the expected outcome ({'; '.join(good)})."
    elif agreement == "equivalent":
        verdict += (" The expected difference is not there at this budget (" + "; ".join(
            f"{c['text']}: {c['detail']}" for c in claims) + ").")
    elif agreement == "inconclusive":
        verdict += (" This neither confirms nor contradicts the expected outcome ("
                    + "; ".join(c["text"] for c in claims) + ") at this budget.")
    counts: dict[str, int] = {}
    for run in runs:
        counts[run.status] = counts.get(run.status, 0) + 1
    budget = meta.get("budget", "?")
    current = preset is not None and budget in ALL_BUDGETS and _runs_match(preset, budget, by_level)
    budget_text = describe_budget(preset, budget) if current else meta.get("budget_text", "")
    starts = [r.started_at for r in runs if r.started_at]
    ends = [r.finished_at for r in runs if r.finished_at]
    active = sum(counts.get(s, 0) for s in Status.ACTIVE)
    return ExperimentReport(
        preset=name, title=meta.get("title") or (preset.title if preset else name),
        question=meta.get("question") or (preset.question if preset else ""),
        factor=meta.get("factor") or (preset.factor if preset else ""),
        lines=list(meta.get("lines") or (preset.lines if preset else [])),
        budget=budget, budget_text=budget_text, seeds=int(meta.get("seeds", 0)), current=current,
        group=group.get("id", ""), source=source, levels=levels, baseline=baseline, best=best, verdict=verdict,
        agreement=agreement, claims=claims, expected=preset.expected if preset else "",
        note=preset.note if preset else "", counts=counts, finished=active == 0,
        created=meta.get("created"),
        first_start=min(starts) if starts else None, last_finish=max(ends) if ends and active == 0 else None,
        host=meta.get("host", {}), devices=sorted({r.device for r in runs if r.device}),
        command=meta.get("command"),
        datasets=sorted({r.config["dataset"] for r in runs if r.config.get("dataset")}),
        margin=margin, ranking=[lv.level for lv in ranked] if ranking else [], paired=paired,
    )


def difference(a: list[float], a_seeds: list[int | None], b: list[float], b_seeds: list[int | None],
               paired: bool) -> stats.Difference:
    """mean(a) − mean(b) with its 95 % interval: seed by seed (a t interval of the differences) when the
    preset pairs its seeds and at least 2 seeds are on both sides, else Welch's t interval of two independent
    samples."""
    if paired:
        xa, xb, _ = _pairs(a, a_seeds, b, b_seeds)
        if len(xa) >= 2:
            return stats.paired_diff(xa, xb)
    return stats.welch_diff(a, b)


def _pairs(a: list[float], a_seeds: list[int | None], b: list[float],
           b_seeds: list[int | None]) -> tuple[list[float], list[float], list[float]]:
    """The values of the seeds both sides have, in seed order, and their differences."""
    by_a, by_b = dict(zip(a_seeds, a)), dict(zip(b_seeds, b))
    common = sorted(s for s in set(by_a) & set(by_b) if s is not None)
    xa, xb = [by_a[s] for s in common], [by_b[s] for s in common]
    return xa, xb, [x - y for x, y in zip(xa, xb)]


def _within(d: stats.Difference, margin: float | None) -> bool:
    """Whether the interval of ``d`` lies inside ±``margin`` (never without a margin or an interval)."""
    return margin is not None and d.low is not None and d.high is not None and -margin <= d.low and d.high <= margin


def _attach_published(levels: list[LevelResult], by_level: dict[str, list[_RunRecord]]) -> None:
    """d2l's 10-epoch test and train accuracy of each level's model (cnnkit.reference), where d2l has one."""
    for lv in levels:
        config = by_level[lv.level][0].config if by_level.get(lv.level) else {}
        ref = d2l_row(config.get("model", ""), config.get("model_options"))
        if ref is not None:
            lv.published, lv.published_train = ref.test_acc, ref.train_acc


def _runs_match(preset: Preset, budget: str, by_level: dict[str, list[_RunRecord]]) -> bool:
    """Whether every run's config is what ``preset`` builds for its level today (seed aside, and a
    stand-in dataset counting as the one it stands in for: MNIST runs made on the MNIST sample)."""
    for label, runs in by_level.items():
        if label not in preset.labels:
            return False
        try:
            expected = level_config(preset, label, budget).to_dict()
        except ConfigError:
            return False
        for run in runs:
            try:  # through RunConfig, so that a field added since (with its default) is no change
                config = RunConfig.from_dict({**run.config, "seed": 0}).to_dict()
            except (ConfigError, TypeError):
                return False
            spec = DATASETS.get(config["dataset"])
            if spec is not None and spec.stands_in_for == expected["dataset"]:
                config["dataset"] = expected["dataset"]
            if config != expected:
                return False
    return True


def _level_of(run: _RunRecord, meta: dict[str, Any]) -> str | None:
    """The level of a run: from the group's meta by id (or by the id it had before an import), else
    from its name "<preset> · <level> · seed <n>"."""
    mapping = meta.get("runs", {})
    for key in (run.id, run.origin):
        if key and key in mapping:
            return mapping[key]
    parts = run.name.split(NAME_SEP)
    if len(parts) == 3 and parts[0] == meta.get("preset"):
        return parts[1]
    return None


def _num_classes(runs: list[_RunRecord]) -> int:
    for run in runs:
        spec = DATASETS.get(run.config.get("dataset", ""))
        if spec:
            return spec.num_classes
    return 10


def _level_result(label: str, runs: list[_RunRecord], chance: float, is_baseline: bool,
                  changes: dict[str, Any]) -> LevelResult:
    completed = [r for r in runs if r.status == Status.COMPLETED and "test_acc" in r.final]
    diverged = [r for r in runs if r.status == Status.DIVERGED]
    active = [r for r in runs if r.status in Status.ACTIVE]
    failed = [r for r in runs if r not in completed and r not in diverged and r not in active]
    values = [float(r.final["test_acc"]) for r in completed] + [chance] * len(diverged)
    seeds = [r.config.get("seed") for r in completed + diverged]
    summary = stats.summarize(values)
    # A run that never learned says nothing about overfitting: its gap is left out.
    learned = [r for r in completed if r.final["test_acc"] >= chance + CHANCE_MARGIN and "train_acc" in r.final]
    gaps = [float(r.final["train_acc"]) - float(r.final["test_acc"]) for r in learned]
    gap_seeds = [r.config.get("seed") for r in learned]
    statuses: dict[str, int] = {}
    for r in runs:
        statuses[r.status] = statuses.get(r.status, 0) + 1
    walls = [r.finished_at - r.started_at for r in completed if r.finished_at and r.started_at]
    errors = [f"{r.id} {r.status}: {(r.error or 'no error recorded').strip().splitlines()[0][:200]}"
              for r in failed + diverged]
    return LevelResult(
        level=label, is_baseline=is_baseline, n=summary.n, mean=summary.mean, std=summary.std, values=values,
        seeds=seeds,
        n_runs=len(runs), n_completed=len(completed), n_diverged=len(diverged),
        n_chance=sum(1 for r in completed if r.final["test_acc"] < chance + CHANCE_MARGIN),
        n_failed=len(failed), n_active=len(active),
        mean_test_loss=stats.mean_or_none([r.final.get("test_loss") for r in completed]),
        mean_train_loss=stats.mean_or_none([r.final.get("train_loss") for r in completed]),
        mean_train_acc=stats.mean_or_none([r.final.get("train_acc") for r in completed]),
        mean_gap=stats.mean_or_none(gaps), gaps=gaps, gap_seeds=gap_seeds,
        mean_seconds=stats.mean_or_none([r.summary.get("train_seconds") for r in completed]),
        mean_wall_seconds=stats.mean_or_none(walls),
        images_per_sec=stats.mean_or_none([r.summary.get("images_per_sec") for r in completed]),
        params=next((r.summary["params"] for r in runs if r.summary.get("params")), None),
        macs=next((r.summary["macs"] for r in runs if r.summary.get("macs")), None),
        run_ids=[r.id for r in runs], statuses=statuses, errors=errors, changes=jsonable(changes),
    )


# ---- verdicts ------------------------------------------------------------------------------------

def _verdict(levels: list[LevelResult], base: LevelResult | None, chance: float, unassigned: list[_RunRecord],
             margin: float | None = None, ranking: bool = False, paired: bool = False) -> str:
    parts = []
    active = sum(lv.n_active for lv in levels)
    short = [lv for lv in levels if lv.n < 2]
    if not levels:
        return "No runs found for this experiment."
    if short:
        parts.append("Not enough seeds: " + "; ".join(
            f"{lv.level} has {lv.n} counted run{'' if lv.n == 1 else 's'}" for lv in short)
            + " (at least 2 per level are needed for an interval).")
        ranked = [lv for lv in levels if lv.mean is not None]
        if ranked:
            parts.append("So far: " + ", ".join(f"{lv.level} {format_pct(lv.mean, 1)}" for lv in ranked) + ".")
    elif ranking:
        parts.append(_ranking_sentence(levels))
    elif base is None:
        parts.append("The baseline level has no runs; no comparison is possible.")
    else:
        parts.append(_comparison_sentence(levels, base, margin, paired))
    for lv in levels:
        if lv.n_diverged:
            parts.append(f"{lv.level} diverged (non-finite loss) in {lv.n_diverged} of {lv.n_runs} runs; "
                         f"they count at chance ({format_pct(chance, 0)}).")
        if lv.n_chance:
            parts.append(f"{lv.level} stayed at chance level in {lv.n_chance} of {lv.n_runs} runs: it did not learn "
                         "in this budget.")
    failed = [e for lv in levels for e in lv.errors if " diverged:" not in e]
    if failed:
        parts.append(f"{len(failed)} run{'s' if len(failed) > 1 else ''} did not finish and "
                     f"{'are' if len(failed) > 1 else 'is'} not counted (first: {failed[0]}).")
    if unassigned:
        parts.append(f"{len(unassigned)} run(s) of the group belong to no level and are ignored.")
    text = " ".join(parts)
    if active:
        text = f"Preliminary ({active} run{'s' if active > 1 else ''} not finished yet): " + text
    return text


def _comparison_sentence(levels: list[LevelResult], base: LevelResult, margin: float | None = None,
                         paired: bool = False) -> str:
    others = [lv for lv in levels if not lv.is_baseline]
    of = "the seed-by-seed difference" if paired else "the difference"
    if len(others) == 1:
        other = others[0]
        seeds = _seeds_text(other, base)
        if other.excludes_zero:
            win, lose = (other, base) if other.diff > 0 else (base, other)
            sign = 1 if win is other else -1  # the interval of win − lose
            low, high = sorted((100 * sign * other.ci_low, 100 * sign * other.ci_high))
            small = (f" It is real but inside the ±{100 * margin:g}-point margin this question counts as no "
                     "difference." if other.equivalent else "")
            return (f"{win.level} beat {lose.level} by {100 * abs(other.diff):.1f} points over {seeds} "
                    f"({format_pct(win.mean, 1)} vs {format_pct(lose.mean, 1)}); the 95 % interval of {of}, "
                    f"{low:.1f} to {high:.1f} points, excludes 0." + small)
        interval = (f"({format_pct(other.mean, 1)} vs {format_pct(base.mean, 1)}, {100 * other.diff:+.1f} points); the "
                    f"95 % interval of {of}, {100 * other.ci_low:+.1f} to {100 * other.ci_high:+.1f} points,")
        if other.equivalent:
            return (f"{other.level} and {base.level} are equivalent within ±{100 * margin:g} points over {seeds} "
                    f"{interval} lies inside that margin.")
        return (f"{other.level} and {base.level} did not differ clearly over {seeds} {interval} includes 0. "
                + _noise_reason([other], base, margin=margin))
    best = max((lv for lv in levels if lv.mean is not None), key=lambda lv: lv.mean)
    items = []
    for lv in others:
        if lv.diff is None:
            continue
        if lv.excludes_zero:
            word = "clearly better" if lv.diff > 0 else "clearly worse"
        elif lv.equivalent:
            word = f"equivalent within ±{100 * margin:g} points"
        else:
            word = "no clear difference"
        items.append(f"{lv.level} {100 * lv.diff:+.1f} points ({word})")
    seeds = _seeds_range(levels)
    head = (f"Best: the baseline, {base.level} ({format_pct(base.mean, 1)}). Against it: " if best is base else
            f"Best: {best.level} ({format_pct(best.mean, 1)}). "
            f"Against the baseline {base.level} ({format_pct(base.mean, 1)}): ")
    kind = "t intervals of the seed-by-seed differences" if paired else "Welch t intervals"
    text = head + "; ".join(items) + f" (95 % {kind} over {seeds})."
    open_ = [lv for lv in others if lv.diff is not None and not lv.excludes_zero and not lv.equivalent]
    return text + (" " + _noise_reason(open_, base, whole=len(open_) == len(others), margin=margin) if open_ else "")


def _noise_reason(open_: list[LevelResult], base: LevelResult, whole: bool = True, margin: float | None = None) -> str:
    """Why comparisons stayed open, from the runs themselves: the differences against the seed spread,
    and roughly how many seeds per level the same spread would need (an interval's width goes as 1/√n) to
    resolve the difference, or, for a preset with an equivalence ``margin``, to fit the interval inside it.
    ``whole``: these are all the preset's comparisons (else the sentence names them)."""
    paired = any(lv.paired_sd is not None for lv in open_)
    spread = sorted({round(100 * sd, 1) for sd in ([lv.paired_sd for lv in open_] if paired else
                                                    [lv.std for lv in [*open_, base]]) if sd is not None})
    sds = (f"{spread[0]:.1f}" if len(spread) == 1 else f"{spread[0]:.1f}–{spread[-1]:.1f}") + " points"
    sds += " seed by seed" if paired else " per level"
    largest = max(open_, key=lambda lv: abs(lv.diff))
    half = (largest.ci_high - largest.ci_low) / 2
    n, diff = min(largest.n, base.n), abs(largest.diff)
    to_resolve = math.ceil(n * (half / diff) ** 2) if diff >= 1e-3 else None
    # With a margin the question may be settled the other way: the interval inside ±margin. Say the nearer one.
    to_fit = math.ceil(n * (half / (margin - diff)) ** 2) if margin is not None and diff < margin else None
    if to_fit is not None and (to_resolve is None or to_fit < to_resolve):
        need = (f"{_about(to_fit)} seeds per level would narrow the interval around {100 * largest.diff:+.1f} points "
                f"to within ±{100 * margin:g}")
    elif to_resolve is None:
        need = "no number of seeds would resolve a difference that is not there"
    else:
        need = f"{_about(to_resolve)} seeds per level would resolve a difference of {100 * diff:.1f} points"
    which = "" if whole else " (" + " / ".join(lv.level for lv in open_) + " against the baseline)"
    return (f"Inconclusive at this budget{which}: the difference{'s are' if len(open_) > 1 else ' is'} smaller than "
            f"the seed noise (sd {sds}); at this noise {need}.")


def _about(seeds: int) -> str:
    return f"about {seeds}" if seeds <= MANY_SEEDS else f"more than {MANY_SEEDS}"


def _ranking_sentence(levels: list[LevelResult]) -> str:
    """A ranking preset's verdict: the order here beside d2l's, and where they differ, why (how far each
    net is from d2l's training state) instead of a winner."""
    ranked = sorted((lv for lv in levels if lv.mean is not None), key=lambda lv: lv.mean, reverse=True)
    text = (f"Ranking over {_seeds_range(levels)} (mean test accuracy; d2l's 10-epoch figure in brackets): "
            + ", ".join(f"{lv.level} {format_pct(lv.mean, 1)}"
                        + (f" ({format_pct(lv.published, 1)})" if lv.published is not None else " (no d2l figure)")
                        for lv in ranked) + ".")
    here = [lv for lv in ranked if lv.published is not None]
    d2l = sorted(here, key=lambda lv: lv.published, reverse=True)
    if [lv.level for lv in here] == [lv.level for lv in d2l]:
        return text + " The nets d2l measures rank here as they do in d2l."
    behind = sorted(here, key=lambda lv: (lv.published_train or 0) - (lv.mean_train_acc or 0), reverse=True)
    shortfall = ", ".join(f"{lv.level} {100 * ((lv.published_train or 0) - (lv.mean_train_acc or 0)):.0f}"
                          for lv in behind)
    return (text + f" d2l's order is {', '.join(lv.level for lv in d2l)}; this budget names no winner where the "
            "orders differ. The likely reason is the budget, not the architectures: every net here is less trained "
            "than d2l's after 10 epochs at 96–224 px inputs, and by different amounts (train accuracy below d2l's, "
            f"in points: {shortfall}).")


def _seeds_range(levels: list[LevelResult]) -> str:
    n = sorted({lv.n for lv in levels})
    return f"{n[0]} seeds" if len(n) == 1 else f"{n[0]}–{n[-1]} seeds"


def _seeds_text(a: LevelResult, b: LevelResult) -> str:
    return f"{a.n} seeds" if a.n == b.n else f"{b.n} and {a.n} seeds"


def _judge(claim: Claim, levels: dict[str, LevelResult], chance: float, margin: float | None = None,
           paired: bool = False) -> dict[str, Any]:
    """One claim against the results: outcome agrees / contradicts / equivalent (a "better" claim whose
    interval lies within ±``margin``) / inconclusive / untestable."""
    out = {**asdict(claim), "text": claim.describe()}
    a, b = levels.get(claim.a), levels.get(claim.b) if claim.b else None
    if a is None or (claim.kind != "fails" and b is None):
        return out | {"outcome": "untestable", "detail": "a level of the claim has no runs"}
    if claim.kind == "fails":
        failed = a.n_diverged + a.n_chance
        if a.n < 2:
            return out | {"outcome": "untestable", "detail": f"{a.n} counted runs"}
        if failed * 2 >= a.n:
            return out | {"outcome": "agrees", "detail": f"{failed} of {a.n} runs diverged or stayed at chance"}
        if failed == 0 and a.mean is not None and a.mean > chance + 0.2:
            return out | {"outcome": "contradicts", "detail": f"every run learned, mean {format_pct(a.mean, 1)}"}
        return out | {"outcome": "inconclusive", "detail": f"{failed} of {a.n} runs failed to train"}
    if claim.kind == "smaller_gap":
        (xa, sa), (xb, sb) = (a.gaps, a.gap_seeds), (b.gaps, b.gap_seeds)
        what = "train − test gap"
    else:
        (xa, sa), (xb, sb) = (a.values, a.seeds), (b.values, b.seeds)
        what = "test accuracy"
    if len(xa) < 2 or len(xb) < 2:
        return out | {"outcome": "untestable", "detail": f"{len(xa)} and {len(xb)} runs with a {what}"}
    d = difference(xa, sa, xb, sb, paired)
    detail = (f"{what} {100 * d.diff:+.1f} points, 95 % interval {100 * d.low:+.1f} to {100 * d.high:+.1f}")
    if claim.kind == "better":
        if d.excludes_zero:
            outcome = "agrees" if d.diff > 0 else "contradicts"
        elif _within(d, margin):
            outcome, detail = "equivalent", f"{detail}, inside ±{100 * margin:g}"
        else:
            outcome = "inconclusive"
    elif claim.kind == "smaller_gap":
        outcome = "inconclusive" if not d.excludes_zero else ("agrees" if d.diff < 0 else "contradicts")
    else:  # similar
        tol = claim.tolerance
        if -tol <= d.low and d.high <= tol:
            outcome = "agrees"
        elif d.low > tol or d.high < -tol:
            outcome = "contradicts"
        else:
            outcome = "inconclusive"
    return out | {"outcome": outcome, "detail": detail}


def _agreement(levels: list[LevelResult], claims: list[dict[str, Any]], has_claims: bool) -> str:
    if not has_claims:
        return "no claim"
    if any(lv.n < 2 for lv in levels):
        return "not enough seeds"
    outcomes = [c["outcome"] for c in claims]
    if "contradicts" in outcomes:
        return "contradicts"
    if outcomes and all(o == "agrees" for o in outcomes):
        return "agrees"
    if "agrees" in outcomes:
        return "partly agrees"
    if outcomes and all(o == "equivalent" for o in outcomes):
        return "equivalent"
    return "inconclusive"


# ---- text helpers --------------------------------------------------------------------------------

def data_text(datasets: list[str]) -> str:
    """The datasets' titles; a stand-in adds that it is not the dataset it stands in for."""
    parts = []
    for name in datasets:
        spec = DATASETS.get(name)
        if spec is None:
            parts.append(name)
        else:
            parts.append(spec.title + (f", not the full {DATASETS[spec.stands_in_for].title}"
                                       if spec.stands_in_for else ""))
    return "; ".join(parts)


def _diff_text(lv: LevelResult) -> str:
    if lv.diff is None:
        return "—"
    if lv.ci_low is None:
        return f"{100 * lv.diff:+.1f}"
    mark = " *" if lv.excludes_zero else ""
    return f"{100 * lv.diff:+.1f} ({100 * lv.ci_low:+.1f} … {100 * lv.ci_high:+.1f}){mark}"


def _status_text(statuses: dict[str, int]) -> str:
    return ", ".join(f"{n} {s}" for s, n in sorted(statuses.items())) or "none"

