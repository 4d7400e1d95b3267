"""The catalogue's API: every preset in MISSION.md's order, the claims of the notes no preset tests, and the
validated run configs a preset builds under a budget (see the package docstring for how a config is composed).
"""
from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import asdict
from typing import Any

from cnnkit.config import FIELD_NAMES, RunConfig
from cnnkit.data.datasets import DATASETS, stand_ins
from cnnkit.errors import ConfigError
from cnnkit.experiments.design import ALL_BUDGETS, BUDGETS, MAX_SEEDS, Preset, Untested
from cnnkit.experiments.presets_architectures import ARCHITECTURE_PRESETS
from cnnkit.experiments.presets_lenet import LENET_PRESETS
from cnnkit.experiments.presets_training import TRAINING_PRESETS
from cnnkit.text import format_pct

# cnnkit.data.loading (which finds the dataset files) is imported inside the functions that use it: it imports
# torch (about a second), and listing the presets must not wait for that.

PRESETS: tuple[Preset, ...] = LENET_PRESETS + TRAINING_PRESETS + ARCHITECTURE_PRESETS

CATALOGUE_NOTE = (
    "The presets answer the experiment lines of MISSION.md. Two lines are views, not experiments: "
    "line 3 (the activations of LeNet's first and second layers for a pullover and a coat) is the "
    "dashboard's activations page, and line 15 (the parameter arithmetic: LeNet's first FC layer "
    "16·5·5·120 ≈ 48 k weights, AlexNet's 26 M, VGG's 102 M) is `python -m cnnkit summary MODEL` and "
    "the anatomy page; every report gives each level's parameters and MACs. Line 6's preview grid of CIFAR-10 "
    "images is a dashboard view as well. Quick budgets are sized for a 2-core CPU (subsets, few epochs, small "
    "inputs); standard budgets are sized to answer each question on that CPU (5 seeds, 10 where the seed noise "
    "is large); full budgets use the notes' or d2l's setting."
)

UNTESTED: tuple[Untested, ...] = (
    Untested("notes 000:29", "Several stacked 3×3 convolutions work better than one 5×5 (but need a deeper net).",
             "no preset stacks 3×3 layers against a 5×5 one; kernel-size changes the window alone"),
    Untested("notes 000:75", "Random rotations improve generalisation on MNIST.",
             "cnnkit augments with crops, flips and PCA colour, not rotations (crops, i.e. shifts, are tested)"),
    Untested("notes 001:25 001:29", "The course CNN reaches a loss of 0.775 and 62 % test accuracy on CIFAR-10 "
             "after 10 epochs; a deeper net would do better.",
             "CIFAR-10 cannot be downloaded here; course-cnn-vs-vgg16 runs it where the data is"),
    Untested("notes 002:49", "An MLP is fine for small data; on a large dataset it overfits and a CNN is needed.",
             "no preset varies the data size for both nets"),
    Untested("notes 002:83", "Two large fully connected layers (AlexNet's two 4096s) work better.",
             "no preset varies AlexNet's FC layers"),
    Untested("notes 002:137", "A single very wide hidden layer is hard to train because it overfits.",
             "no preset trains a very wide single-layer net"),
    Untested("notes 002:141", "Global average pooling instead of FC layers: fewer parameters, better "
             "generalisation, slower convergence, a little more accuracy.", "no preset swaps NiN's pooling head"),
    Untested("notes 002:172", "A too large batch can run out of memory.",
             "a memory estimate, not an experiment: the Models page says at which batch a model fits"),
    Untested("notes 004:67", "Overfitting usually comes from too many parameters.",
             "no preset varies the parameters alone at a fixed data size and measures the gap"),
)


def catalogue() -> list[Preset]:
    """Every preset, in the order of MISSION.md's experiment lines."""
    return sorted(PRESETS, key=lambda p: (min(p.lines), PRESETS.index(p)))


def names() -> list[str]:
    return [p.name for p in catalogue()]


def get(name: str) -> Preset:
    for preset in PRESETS:
        if preset.name == name:
            return preset
    raise ConfigError("experiment", f"must be one of {', '.join(names())}, got {name!r}")


def missing_datasets(preset: Preset | str) -> list[str]:
    """The datasets ``preset`` needs that cannot be loaded here without a download (nor any stand-in)."""
    from cnnkit.data import loading

    preset = get(preset) if isinstance(preset, str) else preset
    return [d for d in preset.datasets if not loading.is_available(loading.resolve_dataset(d))]


def runs_on(preset: Preset | str) -> list[str]:
    """The datasets ``preset``'s runs use here: each one it names, or its installed stand-in (MNIST → the
    MNIST sample when full MNIST is not installed)."""
    from cnnkit.data import loading

    preset = get(preset) if isinstance(preset, str) else preset
    return [loading.resolve_dataset(d) for d in preset.datasets]


def data_line(preset: Preset | str) -> str:
    """One line on the data ``preset`` runs on here, or on what it lacks and how to get it."""
    from cnnkit.data.loading import data_root

    preset = get(preset) if isinstance(preset, str) else preset
    missing = missing_datasets(preset)
    if missing:
        hints = []
        for name in missing:
            spec = DATASETS[name]
            hints.append(f"{spec.title} in {data_root() / spec.folder}: {spec.how_to_get}" + "".join(
                f"; or, for its {DATASETS[other].title}, {DATASETS[other].how_to_get}" for other in stand_ins(name)))
        return (f"Needs data that is not installed here ({'; '.join(hints)}). Run it where the data is: "
                f"python -m cnnkit experiment run {preset.name} --wait.")
    parts = []
    for wanted, used in zip(preset.datasets, runs_on(preset)):
        parts.append(DATASETS[used].title if used == wanted else
                     f"{DATASETS[used].title}, because full {DATASETS[wanted].title} is not installed here "
                     f"(in {data_root() / DATASETS[wanted].folder})")
    return "Data: " + "; ".join(parts) + "."


def check_budget(budget: str, hidden: bool = True, field: str = "budget") -> str:
    """``budget`` if it is one (the tests' hidden "smoke" too, unless ``hidden`` is off); else a ConfigError
    naming ``field`` (the CLI's "--budget") and the budgets users can pick."""
    allowed = ALL_BUDGETS if hidden else BUDGETS
    if budget not in allowed:
        raise ConfigError(field, f"must be one of {', '.join(BUDGETS)}, got {budget!r}")
    return budget


def check_seeds(seeds: int | None, preset: Preset, budget: str) -> int:
    """``seeds``, or the preset's default under ``budget`` when None."""
    if seeds is None:
        return preset.seeds(budget)
    if isinstance(seeds, bool) or not isinstance(seeds, int) or not 1 <= seeds <= MAX_SEEDS:
        raise ConfigError("seeds", f"must be an integer in [1, {MAX_SEEDS}], got {seeds!r}")
    return seeds


def seed_values(preset: Preset, budget: str, seeds: int | None = None) -> list[int]:
    """The seeds a launch runs: the budget's first seed and the n after it."""
    first = preset.first_seed(check_budget(budget))
    return list(range(first, first + check_seeds(seeds, preset, budget)))


def level_config(preset: Preset, label: str, budget: str = "quick") -> RunConfig:
    """The validated config of one level (seed 0) under ``budget``."""
    check_budget(budget)
    plan = preset.budget(budget)
    data = RunConfig().to_dict()
    for changes in (preset.base, plan.changes, preset.level(label).changes, plan.override,
                    plan.per_level.get(label, {})):
        data = _merge(data, changes)
    try:
        config = RunConfig.from_dict(data)
        config.check_fits()
    except ConfigError as exc:
        detail = str(exc).removeprefix(f"{exc.field}: ")
        raise ConfigError(exc.field, f"{detail} (experiment {preset.name}, level {label!r}, {budget} budget)") from None
    return config


def level_configs(preset: Preset, budget: str) -> dict[str, RunConfig]:
    """Each level's config (seed 0) as it runs here: a dataset that is not installed gives way to its
    installed stand-in (see ``runs_on``)."""
    datasets = dict(zip(preset.datasets, runs_on(preset)))
    out = {}
    for label in preset.labels:
        config = level_config(preset, label, budget)
        out[label] = config.replace(dataset=datasets.get(config.dataset, config.dataset))
    return out


def build_configs(preset: Preset | str, budget: str = "quick", seeds: int | None = None) -> list[tuple[str, RunConfig]]:
    """(level label, validated config) for every level × each seed, seed-major: all levels of the first seed
    first, so that a half-finished experiment is balanced and slow periods hit every level alike."""
    preset = get(preset) if isinstance(preset, str) else preset
    per_level = level_configs(preset, check_budget(budget))
    return [(label, per_level[label].replace(seed=s)) for s in seed_values(preset, budget, seeds)
            for label in preset.labels]


def seeds_text(seeds: list[int]) -> str:
    """'5 seeds (1000–1004)', '1 seed (3)', '3 seeds (0–2)'; not consecutive: '3 seeds (0, 2, 7)'."""
    if not seeds:
        return "no seeds"
    n = len(seeds)
    ordered = sorted(seeds)
    if n == 1:
        which = str(ordered[0])
    elif ordered == list(range(ordered[0], ordered[0] + n)):
        which = f"{ordered[0]}–{ordered[-1]}"
    else:
        which = ", ".join(map(str, ordered))
    return f"{n} seed{'s' * (n != 1)} ({which})"


def describe_budget(preset: Preset, budget: str) -> str:
    """'25 % of the training set, 5 epochs, 10 % of the test set'; what differs by level is given level by level
    ('2 %/10 %/50 % of the training set')."""
    configs = [level_config(preset, label, budget) for label in preset.labels]
    config = configs[preset.labels.index(preset.baseline)]
    plan = preset.budget(budget)

    def each(values: list, fmt: Callable[[Any], str]) -> str:
        return "/".join(fmt(v) for v in dict.fromkeys(values)) if len(set(values)) == 1 else \
            "/".join(fmt(v) for v in values)

    subsets = [c.subset for c in configs]
    parts = ["all training images" if min(subsets) >= 1 else
             each(subsets, lambda v: format_pct(v, 0 if v >= 0.01 else 1)) + " of the training set",
             each([c.epochs for c in configs], str) + (" epoch" if {c.epochs for c in configs} == {1} else " epochs")]
    if config.test_subset < 1:
        parts.append(f"{format_pct(config.test_subset)} of the test set")
    sizes = sorted({c.input_size for c in configs} - {None})
    if sizes:
        parts.append("input " + "/".join(f"{s}×{s}" for s in sizes))
    set_by_budget = {**plan.changes, **plan.override}
    if "batch_size" in set_by_budget and not plan.override.get("optimizer"):
        parts.append(f"batch {set_by_budget['batch_size']}")
    if "schedule" in set_by_budget:
        parts.append(f"{set_by_budget['schedule']} learning-rate schedule")
    if plan.override.get("optimizer"):
        lrs = [c.lr for c in configs]
        common = max(set(lrs), key=lrs.count)
        odd = [f"{label} {c.lr:g}" for label, c in zip(preset.labels, configs) if c.lr != common]
        parts.append(f"{plan.override['optimizer']} lr {common:g}" + (f" ({', '.join(odd)})" if odd else "")
                     + " for every level")
    return ", ".join(parts)


def preset_dict(preset: Preset) -> dict[str, Any]:
    """The JSON view of a preset (``experiment list --json`` and the dashboard)."""
    return jsonable({
        "name": preset.name, "title": preset.title, "question": preset.question, "lines": preset.lines,
        "factor": preset.factor, "levels": [{"label": lv.label, "changes": lv.changes} for lv in preset.levels],
        "baseline": preset.baseline, "ranking": preset.ranking, "datasets": preset.datasets,
        "missing_datasets": missing_datasets(preset), "runs_on": runs_on(preset), "data": data_line(preset),
        "base": preset.base, "claims": [asdict(claim) for claim in preset.claims], "confounds": preset.confounds,
        "note": preset.note,
        "budgets": {name: {"changes": b.changes, "per_level": b.per_level, "override": b.override,
                           "text": describe_budget(preset, name), "note": b.note,
                           "seeds": seed_values(preset, name)} for name, b in
                    ((name, preset.budget(name)) for name in BUDGETS)},
    })


def jsonable(obj: Any) -> Any:
    """``obj`` as plain JSON values: tuples and sets become lists, anything else unknown its str()."""
    return json.loads(json.dumps(obj, default=lambda o: list(o) if isinstance(o, (tuple, set)) else str(o)))


def _merge(data: dict[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """``changes`` (config fields or model options) applied to a config dict; a new model starts with no
    options, as in RunConfig.replace."""
    data = {**data, "model_options": dict(data.get("model_options", {}))}
    if "model" in changes and changes["model"] != data.get("model"):
        data["model_options"] = {}
    for key, value in changes.items():
        if key == "model_options":
            data["model_options"].update(value)
        elif key in FIELD_NAMES:
            data[key] = list(value) if isinstance(value, tuple) else value
        else:
            data["model_options"][key] = list(value) if isinstance(value, tuple) else value
    return data
