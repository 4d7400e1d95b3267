"""The Train page: a model's recipe, the config the form describes, what a launch costs, what a sweep queues."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cnnkit import sweep
from cnnkit.config import FIELD_PARAMS, RunConfig
from cnnkit.estimate import Estimate, format_seconds
from cnnkit.models import registry

PREVIEW_NAMES = 8  # run names a sweep's preview lists before "…"
RGB_DATASET = "cifar10"  # where a model that takes colour images goes when the form holds a grey one


def recipe_fields() -> list[str]:
    """Every field some model's recipe sets."""
    return sorted({k for n in registry.names() for k in registry.get(n).recipe})


def recipe_values(model: str, dataset: str | None) -> dict[str, Any]:
    """The form values ``model``'s reference recipe sets: its recipe, the defaults of the fields other
    recipes set, and a colour dataset for a colour model when ``dataset`` is another."""
    spec = registry.get(model)
    values = {key: spec.recipe.get(key, FIELD_PARAMS[key].default) for key in recipe_fields()}
    if spec.in_channels == 3 and dataset != RGB_DATASET:
        values["dataset"] = RGB_DATASET
    return values


def sweep_keys(model: str) -> list[str]:
    """What a sweep can vary for ``model``: every config field but the model, then its knobs."""
    return [k for k in FIELD_PARAMS if k != "model"] + sorted(registry.get(model).knobs)


def form_config(model: str, options: Mapping[str, Any], values: Mapping[str, Any]) -> RunConfig:
    """The checked RunConfig of the form's model, knobs and fields; ConfigError naming the field if not."""
    config = RunConfig.from_dict({"model": model, "model_options": dict(options), **values})
    config.check_fits()
    return config


def estimate_text(est: Estimate) -> str:
    """"**≈ 12 s per epoch, 36 s for 3 epochs** (12,000 training images). <where the number comes from>."."""
    epochs = f"{est.epochs} epoch{'s' * (est.epochs > 1)}"
    return (f"**≈ {format_seconds(est.epoch_seconds)} per epoch, {format_seconds(est.total_seconds)} for {epochs}** "
            f"({est.train_images:,} training images). {est.note}.")


def sweep_run_names(configs: list[RunConfig], axes: list[tuple[str, str]], seeds: int) -> list[str]:
    """Each sweep run's name: the base label and the value of every swept key (and the seed)."""
    keys = [k for k, _ in axes]
    return [sweep.run_name(c, keys, seeds) for c in configs]


def sweep_preview(names: list[str]) -> str:
    """"12 runs: a; b; … …": how many runs a sweep queues and the first few names."""
    shown = "; ".join(names[:PREVIEW_NAMES]) + (" …" if len(names) > PREVIEW_NAMES else "")
    return f"{len(names)} runs: {shown}"

