"""Sweeps: the cross product of a base config with levels of any field or model option, × seeds."""
from __future__ import annotations

import itertools
from typing import Any

from cnnkit.config import RunConfig, param_for
from cnnkit.errors import ConfigError
from cnnkit.store import MAX_NAME
from cnnkit.text import value_text

MAX_SEEDS = 20
MAX_RUNS = 500


def parse_levels(model: str, key: str, text: str) -> list[Any]:
    """``"0.1,0.9"`` → [0.1, 0.9]. Levels are split on "|" when there is one (needed for list
    values: ``fc=120,84|256``), else on ","."""
    param = param_for(model, key)
    parts = text.split("|") if "|" in text else text.split(",")
    levels = [param.parse(p.strip(), key) for p in parts]
    if not levels:
        raise ConfigError(key, "a sweep needs at least one value")
    return levels


def expand(base: RunConfig, axes: list[tuple[str, str]], seeds: int = 1) -> list[RunConfig]:
    """Every combination of the axes' levels, each repeated with seeds base.seed … base.seed+seeds-1."""
    if not 1 <= seeds <= MAX_SEEDS:
        raise ConfigError("seeds", f"must be an integer in [1, {MAX_SEEDS}], got {seeds}")
    keys = [k for k, _ in axes]
    if len(set(keys)) != len(keys):
        raise ConfigError("sweep", f"each key may be swept once, got {keys}")
    levels = [parse_levels(base.model, key, text) for key, text in axes]
    total = seeds * (len(list(itertools.product(*levels))) if levels else 1)
    if total > MAX_RUNS:
        raise ConfigError("sweep", f"makes {total} runs; at most {MAX_RUNS} at once")
    configs = []
    for combo in itertools.product(*levels):
        config = base
        for key, value in zip(keys, combo):
            config = config.with_value(key, value)
        config.check_fits()
        configs += [config.replace(seed=base.seed + s) for s in range(seeds)]
    return configs


def run_name(config: RunConfig, keys: list[str], seeds: int = 1) -> str:
    """"lenet lr=0.1 seed=1": the base label plus the value of every swept key."""
    values = {**config.to_dict(), **config.to_dict()["model_options"]}
    parts = [f"{k}={value_text(values.get(k))}" for k in keys]
    if seeds > 1:
        parts.append(f"seed={config.seed}")
    return " ".join([config.label() if "model" in keys or not keys else config.model, *parts])[:MAX_NAME]

