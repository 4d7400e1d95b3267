"""An experiment's report, in four named steps: read the group and its runs, take the plan they were launched
with, judge the runs by it, and put the words to the numbers."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cnnkit.data.datasets import DATASETS
from cnnkit.errors import ConfigError
from cnnkit.events import Status
from cnnkit.experiments import judge, records, wording
from cnnkit.experiments.configs import get, jsonable, level_configs, seeds_text
from cnnkit.experiments.design import ALL_BUDGETS
from cnnkit.experiments.judge import ClaimResult, LevelResult
from cnnkit.experiments.looks import merge_spans
from cnnkit.experiments.metrics import RunRecord
from cnnkit.experiments.presets_training import BATCH_TARGET
from cnnkit.experiments.protocol import plan_hash, write_plan
from cnnkit.experiments.records import NAME_SEP
from cnnkit.store import Store

TARGETS = {"batch-size": BATCH_TARGET}  # presets whose report gives the time to a test accuracy


@dataclass
class ExperimentReport:
    preset: str
    title: str
    question: str
    budget: str
    group: str
    source: str  # "store <path>" or "bundle <file name>"
    plan: dict[str, Any]
    plan_hash: str
    plan_recorded: bool  # written into the group before its runs (else rebuilt from today's catalogue)
    plan_intact: bool  # its hash matches what the group recorded
    levels: list[LevelResult]
    claims: list[ClaimResult]
    best: str | None  # the most accurate level that beats the baseline decisively
    tiers: list[list[str]]  # a ranking preset's levels, grouped by what the intervals separate
    verdict: str
    counts: dict[str, int]
    created: str | None
    datasets: list[str]  # what the runs trained on (a stand-in says so)
    devices: list[str]
    current: bool  # the plan's configs are what the catalogue builds today
    first_start: float | None = None
    last_finish: float | None = None  # None while any run is active
    target: float | None = None  # the test accuracy whose time the levels give
    lines: list[int] = field(default_factory=list)
    health: list[dict[str, Any]] = field(default_factory=list)  # per level and epoch: mean layer health over seeds
    run_seconds: float = 0.0  # the runs' own wall times added up: what the look cost, whatever ran beside it
    busy_spans: list[tuple[float, float]] = field(default_factory=list)  # when at least one of its runs ran

    @property
    def finished(self) -> bool:
        return not any(self.counts.get(s) for s in Status.ACTIVE)

    @property
    def wall_seconds(self) -> float | None:
        return None if self.first_start is None or self.last_finish is None else self.last_finish - self.first_start

    @property
    def seeds_text(self) -> str:
        return seeds_text(self.plan.get("seeds", []))

    @property
    def baseline(self) -> str:
        return self.plan["baseline"]

    def level(self, label: str) -> LevelResult:
        for level in self.levels:
            if level.label == label:
                return level
        raise KeyError(label)

    def outcomes(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for claim in self.claims:
            out[claim.outcome] = out.get(claim.outcome, 0) + 1
        return out

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if k not in ("levels", "claims")}
        out |= {"wall_seconds": self.wall_seconds, "levels": [lv.to_dict() for lv in self.levels],
                "claims": [c.to_dict() for c in self.claims], "outcomes": self.outcomes()}
        return jsonable(out)

    def to_markdown(self, heading: bool = True) -> str:
        return wording.markdown(self, heading)



def analyze(store: Store, group_id: str) -> ExperimentReport:
    """The report of an experiment group in ``store`` (finished or not)."""
    group, runs = records.from_store(store, group_id)
    return _report(group, runs, f"store {store.home}")


def analyze_bundle(path: Path | str) -> ExperimentReport:
    """The report of the experiment in a bundle zip, read and validated without importing it."""
    group, runs = records.from_bundle(path)
    return _report(group, runs, f"bundle {Path(path).name}")


def _report(group: dict[str, Any], runs: list[RunRecord], source: str) -> ExperimentReport:
    meta = group.get("meta", {})
    plan, recorded, intact = _plan(meta, runs)
    by_level, unassigned = _assign(runs, meta, [lv["label"] for lv in plan["levels"]])
    chance = 1 / _num_classes(plan)
    target = TARGETS.get(plan["preset"])
    levels = judge.level_results(plan, by_level, chance, target)
    judge.compare_with_baseline(plan, levels)
    claims = judge.judge_claims(plan, levels)
    if plan["ranking"]:
        _attach_published(levels, plan)
    tiers = judge.ranking_tiers(levels, plan["alpha"]) if plan["ranking"] else []
    best = None if plan["ranking"] else judge.best_level(levels)
    counts = judge.status_counts(r.status for r in runs)
    active = sum(counts.get(str(s), 0) for s in Status.ACTIVE)
    report = ExperimentReport(
        preset=plan["preset"], title=plan["title"], question=plan["question"], budget=plan["budget"],
        group=group.get("id", ""), source=source, plan=plan, plan_hash=plan_hash(plan), plan_recorded=recorded,
        plan_intact=intact, levels=levels, claims=claims, best=best, tiers=tiers, verdict="", counts=counts,
        created=meta.get("created"), datasets=sorted({r.config["dataset"] for r in runs if r.config.get("dataset")}),
        devices=sorted({r.device for r in runs if r.device}), current=_current(plan),
        first_start=min((r.started_at for r in runs if r.started_at), default=None),
        last_finish=max((r.finished_at for r in runs if r.finished_at), default=None) if not active else None,
        target=target, lines=list(plan.get("lines", [])),
        run_seconds=sum(r.finished_at - r.started_at for r in runs if r.finished_at and r.started_at),
        busy_spans=merge_spans((r.started_at, r.finished_at) for r in runs if r.finished_at and r.started_at))
    if plan.get("health"):
        report.health = _health(by_level)
    report.verdict = wording.verdict(report, len(unassigned))
    return report


def _health(by_level: dict[str, list[RunRecord]]) -> list[dict[str, Any]]:
    """Per level and epoch, the mean over its runs of the layer-health figures (cnnkit.insight.health.table)."""
    import pandas as pd

    from cnnkit.insight import health

    out = []
    for label, runs in by_level.items():
        rows = [(r.id, *p) for r in runs for p in r.health]
        if not rows:
            continue
        frame = health.labelled(pd.DataFrame(rows, columns=["run_id", "step", "epoch", "name", "value"]))
        test_acc = {(r.id, int(e["epoch"])): e.get("test_acc") for r in runs for e in r.epochs}
        table = pd.DataFrame(health.table(frame, [r.id for r in runs], {}, test_acc))
        for epoch, part in table.groupby("epoch"):
            out.append({"level": label, "epoch": int(epoch), "runs": len(part),
                        "first_layer": part["first_layer"].iloc[0], "last_layer": part["last_layer"].iloc[0],
                        **{k: None if part[k].isna().all() else float(part[k].mean())
                           for k in ("test_acc", "first_grad_norm", "last_grad_norm", "grad_ratio", "saturated",
                                     "dead")}})
    return out


def _plan(meta: dict[str, Any], runs: list[RunRecord]) -> tuple[dict[str, Any], bool, bool]:
    """(the plan, whether the group recorded it before its runs, whether its hash matches). A group from
    before plans were recorded is judged by today's catalogue at the seeds its runs used."""
    plan = meta.get("plan")
    if plan:
        return plan, True, plan_hash(plan) == meta.get("plan_hash")
    try:
        preset = get(meta.get("preset", ""))
    except ConfigError:
        raise ConfigError("group", f"{meta.get('preset')!r} is no preset of today's catalogue and the group "
                                   "recorded no plan: it cannot be analysed") from None
    budget = meta.get("budget") if meta.get("budget") in ALL_BUDGETS else "quick"
    seeds = sorted({r.seed for r in runs if r.seed is not None})
    plan = write_plan(preset, budget, environment={})
    plan["seeds"] = seeds
    return plan, False, True


def _assign(runs: list[RunRecord], meta: dict[str, Any], labels: list[str]
            ) -> tuple[dict[str, list[RunRecord]], list[RunRecord]]:
    """Runs by level: from the group's meta by id (or by the id a run had before an import), else from its
    name "<preset> · <level> · seed <n>"."""
    mapping = meta.get("runs", {})
    by_level: dict[str, list[RunRecord]] = {label: [] for label in labels}
    unassigned = []
    for run in runs:
        label = next((mapping[k] for k in (run.id, run.origin) if k and k in mapping), None)
        if label is None:
            parts = run.name.split(NAME_SEP)
            label = parts[1] if len(parts) == 3 and parts[0] == meta.get("preset") else None
        (by_level[label] if label in by_level else unassigned).append(run)
    return by_level, unassigned


def _num_classes(plan: dict[str, Any]) -> int:
    spec = DATASETS.get(plan["levels"][0]["dataset"]) if plan["levels"] else None
    return spec.num_classes if spec else 10


def _attach_published(levels: list[LevelResult], plan: dict[str, Any]) -> None:
    """d2l's 10-epoch test and train accuracy of each level's model, where d2l has one."""
    from cnnkit.d2l import for_model

    configs = {lv["label"]: lv["config"] for lv in plan["levels"]}
    for level in levels:
        config = configs.get(level.label, {})
        ref = for_model(config.get("model", ""), config.get("model_options"))
        if ref is not None:
            level.published = {"test_acc": ref.test_acc, "train_acc": ref.train_acc, "input": ref.input_size}


def _current(plan: dict[str, Any]) -> bool:
    """Whether today's catalogue builds the plan's configs (seed aside; a stand-in dataset counting)."""
    try:
        today = level_configs(get(plan["preset"]), plan["budget"])
    except ConfigError:
        return False
    for level in plan["levels"]:
        config = today.get(level["label"])
        if config is None:
            return False
        ran = dict(level["config"])
        spec = DATASETS.get(ran.get("dataset", ""))
        if spec is not None and spec.stands_in_for == config.dataset:  # run on a stand-in: the same preset
            ran["dataset"] = config.dataset
        if {k: v for k, v in config.to_dict().items() if k != "seed"} != ran:
            return False
    return True
