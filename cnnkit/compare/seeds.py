"""More seeds for an open verdict: the runs that bring every level of a comparison up to the seeds that would
resolve it, for the comparison's own group. Never for an experiment's group (its plan fixed its seeds before its
runs; another look is launched from the Experiments page) nor for a search's (its study proposes the trials)."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from cnnkit.config import RunConfig
from cnnkit.events import Status
from cnnkit.store import MAX_NAME, Run
from cnnkit.sweep import MAX_SEEDS

COMING = (Status.COMPLETED, Status.DIVERGED, Status.QUEUED, Status.RUNNING)  # a seed these runs hold is there
SEED_IN_NAME = re.compile(r"seed[= ]\d+")
REFUSALS = {
    "experiment": "an experiment's seeds are fixed by the plan it recorded before its runs: launch a new look "
                  "with more seeds from the Experiments page",
    "search": "a search's trials come from its study: run the search again with more trials",
}


@dataclass
class SeedPlan:
    target: int  # seeds per level once the new runs have finished
    group: str | None
    configs: list[RunConfig] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    refusal: str = ""  # why no seeds can be added here

    @property
    def runs(self) -> int:
        return len(self.configs)


def seed_target(needed: list[int]) -> int:
    """The seeds per level to bring every level to: enough for every open level that MAX_SEEDS can resolve (so that
    one hopeless level does not cost the others 20 seeds each), MAX_SEEDS when none can."""
    within = [n for n in needed if n <= MAX_SEEDS]
    return max(within) if within else MAX_SEEDS


def plan_seeds(levels: dict[str, list[Run]], target: int, group: dict[str, Any] | None) -> SeedPlan:
    """The runs that give every config of every level ``target`` seeds (at most MAX_SEEDS), the seeds another
    config already has first (so that levels pair seed by seed), then new ones. ``group``: the store group all
    the runs belong to (None when they come from several groups or none)."""
    runs = [r for members in levels.values() for r in members]
    target = min(target, MAX_SEEDS)
    if group is None:
        found = len({r.group for r in runs})
        return SeedPlan(target, None, refusal=f"the runs come from {found} groups or none: select one group's runs "
                                              "(Select runs → group) to add seeds to it")
    if group["kind"] in REFUSALS:
        return SeedPlan(target, group["id"], refusal=REFUSALS[group["kind"]])
    plan = SeedPlan(target, group["id"], tags=sorted(set.intersection(*(set(r.tags) for r in runs))))
    everywhere = {r.config["seed"] for r in runs if r.status in COMING}
    for members in levels.values():
        for siblings in _by_config(members).values():
            have = {r.config["seed"] for r in siblings if r.status in COMING}
            fresh = iter(range(max(everywhere, default=-1) + 1, 1 << 31))
            wanted = sorted(everywhere - have) + [next(fresh) for _ in range(target)]
            for seed in wanted[:max(0, target - len(have))]:
                plan.configs.append(RunConfig.from_dict(siblings[0].config | {"seed": seed}))
                plan.names.append(_name(siblings[0], seed))
    return plan


def _by_config(runs: list[Run]) -> dict[str, list[Run]]:
    """Runs by their config with the seed left out."""
    out: dict[str, list[Run]] = {}
    for run in runs:
        key = json.dumps({k: v for k, v in run.config.items() if k != "seed"}, sort_keys=True)
        out.setdefault(key, []).append(run)
    return out


def _name(sibling: Run, seed: int) -> str:
    """A sibling's name with its seed changed ("lenet lr=0.1 seed=3"), or with the seed added."""
    if SEED_IN_NAME.search(sibling.name):
        return SEED_IN_NAME.sub(lambda m: f"seed{m.group(0)[4]}{seed}", sibling.name)[:MAX_NAME]
    return f"{sibling.name} seed={seed}"[:MAX_NAME]
