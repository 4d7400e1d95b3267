"""The verdict of runs grouped by a field, for the Compare page and ``cnnkit compare``: the levels, the baseline,
each level's pairing with it (an experiment's recorded plan where it applies, else the written pairing rule), the
judgement (``cnnkit.compare.verdict``) and the runs that would resolve what is open (``cnnkit.compare.seeds``)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pandas as pd

from cnnkit.compare.grouping import group_order, group_values, groupable_fields
from cnnkit.compare.seeds import SeedPlan, plan_seeds, seed_target
from cnnkit.compare.urlstate import Selection
from cnnkit.compare.verdict import Level, Verdict, check_metric, judge_levels
from cnnkit.config import RunConfig
from cnnkit.errors import ConfigError
from cnnkit.experiments import records
from cnnkit.experiments.protocol import pairing_of
from cnnkit.experiments.records import GROUP_KIND
from cnnkit.store import Run, Store


@dataclass
class VerdictView:
    verdict: Verdict
    seeds: SeedPlan
    levels: dict[str, list[str]]  # level → run ids


def field_of(frame: pd.DataFrame, name: str) -> str:
    """The runs_frame column of a field as users name it ("lr", "cfg.lr", "model.activation", "activation")."""
    for column in (name, f"cfg.{name}", f"cfg.model.{name}"):
        if name and column in frame.columns:
            return column
    differing = [f.removeprefix("cfg.") for f in groupable_fields(frame)]
    raise ConfigError("by", f"unknown field {name!r}; fields that differ among these runs: "
                            f"{', '.join(differing) or 'none'}")


def build(store: Store, frame: pd.DataFrame, field_name: str, baseline: str = "", metric: str = "test_acc"
          ) -> VerdictView:
    """The verdict of the runs of ``frame`` (runs_frame rows) grouped by ``field_name`` against ``baseline`` (a
    level's label "lr=0.1" or value "0.1"; by default an experiment's own baseline, else the first level)."""
    check_metric(metric)
    column = field_of(frame, field_name)
    labels = group_values(frame, column)
    order = group_order(labels)
    if len(order) < 2:
        raise ConfigError("by", f"{column.removeprefix('cfg.')} takes one value among these runs "
                                f"({', '.join(order) or 'none'}); a verdict needs two levels or more")
    runs = {r.id: r for r in store.list_runs(ids=list(frame["id"]))}
    members = {label: [runs[i] for i, lab in labels.items() if lab == label and i in runs] for label in order}
    group = _one_group(store, list(runs.values()))
    plan = group["meta"].get("plan") if group and group["kind"] == GROUP_KIND else None
    plan_labels = _plan_labels(plan, group, members) if plan else {}
    if plan:  # Holm's ties are broken in the plan's order, as in the experiment's report
        rank = {lv["label"]: i for i, lv in enumerate(plan["levels"])}
        order = sorted(order, key=lambda label: rank.get(plan_labels.get(label), len(rank)))
    base = _baseline(order, baseline, column, plan, plan_labels)
    by_id = {r.id: r for r in records.from_runs(store, list(runs.values()))}
    levels = []
    for label in order:
        paired, why = ((False, "") if label == base else
                       _plan_pairing(plan, plan_labels, label, base) or pairing_between(members[label], members[base],
                                                                                        column))
        levels.append(Level(label, [by_id[r.id] for r in members[label]], paired, why))
    verdict = judge_levels(levels, base, metric, column.removeprefix("cfg."))
    needed = [lv.seeds_needed for lv in verdict.levels if lv.seeds_needed]
    seeds = plan_seeds(members, seed_target(needed), group) if needed else SeedPlan(0, None)
    return VerdictView(verdict, seeds, {label: [r.id for r in members[label]] for label in order})


def of_selection(store: Store, frame: pd.DataFrame, sel: Selection) -> Verdict | None:
    """The verdict a Compare selection shows (its exports carry it); None when it groups by nothing or by a field
    with one level."""
    if not sel.group_by or group_values(frame, sel.group_by).nunique() < 2:
        return None
    return build(store, frame, sel.group_by, sel.baseline, sel.metric).verdict


def pairing_between(a: list[Run], b: list[Run], column: str = "") -> tuple[bool, str]:
    """The pairing rule for two sets of runs: paired when each holds one config (seed aside) and those two draw
    the same weights, images and order for a seed."""
    configs_a, configs_b = _configs(a), _configs(b)
    if len(configs_a) != 1 or len(configs_b) != 1:
        what = f" in more than {column.removeprefix('cfg.')}" if column else ""
        return False, f"independent: the runs of a level differ{what} (several configs besides the seed)"
    return pairing_of(RunConfig.from_dict(configs_a[0]), RunConfig.from_dict(configs_b[0]))


def add_seeds(store: Store, plan: SeedPlan) -> list[str]:
    """Queue the plan's runs into its group (the store's one queueing path); returns their ids."""
    if plan.refusal:
        raise ConfigError("seeds", plan.refusal)
    if not plan.configs:
        raise ConfigError("seeds", "every level already has the seeds that would resolve its comparison")
    return store.create_runs(plan.configs, group=plan.group, names=plan.names, tags=plan.tags)


def _configs(runs: list[Run]) -> list[dict[str, Any]]:
    unique = {json.dumps({k: v for k, v in r.config.items() if k != "seed"}, sort_keys=True): r.config for r in runs}
    return list(unique.values())


def _one_group(store: Store, runs: list[Run]) -> dict[str, Any] | None:
    groups = {r.group for r in runs}
    return store.group(groups.pop()) if len(groups) == 1 and None not in groups else None


def _plan_labels(plan: dict[str, Any], group: dict[str, Any], members: dict[str, list[Run]]) -> dict[str, str]:
    """level → the plan's level label, where all of the level's runs belong to one level of the plan."""
    mapping = group["meta"].get("runs", {})
    out = {}
    for label, runs in members.items():
        found = {mapping.get(r.id) or mapping.get((r.summary.get("origin") or {}).get("id")) for r in runs}
        if len(found) == 1 and None not in found:
            out[label] = found.pop()
    return out


def _plan_pairing(plan: dict[str, Any] | None, plan_labels: dict[str, str], label: str, base: str
                  ) -> tuple[bool, str] | None:
    """The pairing the plan recorded for this level against the plan's baseline, when that is the baseline here."""
    if not plan or plan_labels.get(base) != plan["baseline"] or label not in plan_labels:
        return None
    entry = next(lv for lv in plan["levels"] if lv["label"] == plan_labels[label])
    return bool(entry.get("paired")), entry.get("pairing", "")


def _baseline(order: list[str], wanted: str, column: str, plan: dict[str, Any] | None,
              plan_labels: dict[str, str]) -> str:
    if not wanted:
        own = [label for label in order if plan and plan_labels.get(label) == plan["baseline"]]
        return own[0] if own else order[0]
    short = column.removeprefix("cfg.")
    for label in order:
        if wanted in (label, label.removeprefix(f"{short}=")):
            return label
    raise ConfigError("baseline", f"{wanted!r} is not a level of {short}; levels: "
                                  f"{', '.join(label.removeprefix(f'{short}=') for label in order)}")
