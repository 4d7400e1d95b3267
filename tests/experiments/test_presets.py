"""cnnkit.experiments.presets_*: the presets, their levels and budgets, and the configs they build."""
from __future__ import annotations

import math
import re

import pytest

from cnnkit import experiments as E
from cnnkit.config import RunConfig
from cnnkit.data import loading
from cnnkit.errors import ConfigError

REQUIRED = {"pooling", "activation-lr", "kernel-size", "channels", "conv-layers", "fc-layers", "init",
            "cnn-vs-mlp", "cnn-vs-mlp-permuted", "cnn-vs-mlp-mnist", "cnn-vs-mlp-permuted-mnist",
            "course-cnn-vs-vgg16", "softmax-before-loss", "batch-size", "lr-schedule", "shuffle", "normalization",
            "dropout", "batchnorm", "augmentation", "lrn", "resnet-shortcut", "zoo", "overfitting",
            "improved-lenet-mnist"}


def test_catalogue_covers_the_required_presets_and_every_mission_line():
    presets = E.catalogue()
    names = [p.name for p in presets]
    assert REQUIRED <= set(names)
    assert len(names) == len(set(names))
    covered = {line for p in presets for line in p.lines}
    assert set(range(1, 17)) - covered == {3}  # line 3 is a view; the note says so
    assert "line 3" in E.CATALOGUE_NOTE and "activations" in E.CATALOGUE_NOTE


@pytest.mark.parametrize("preset", E.catalogue(), ids=lambda p: p.name)
def test_preset_is_well_formed(preset: E.Preset):
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", preset.name)
    assert preset.title and preset.question.endswith("?") and preset.factor
    labels = preset.labels
    assert len(labels) >= 2 and len(set(labels)) == len(labels)
    assert all(0 < len(label) <= 80 and E.NAME_SEP not in label for label in labels)
    assert preset.baseline in labels
    assert (preset.seeds("quick"), preset.seeds("full")) == (3, 3)
    assert preset.seeds("standard") == (10 if preset.name in TEN_SEEDS else 5)
    for budget in E.BUDGETS:
        assert set(preset.budget(budget).per_level) <= set(labels)
    assert preset.claims, "every preset states checkable claims"
    for claim in preset.claims:
        assert claim.kind in E.CLAIM_KINDS and claim.a in labels and claim.text and claim.sources
        assert claim.b in labels if claim.is_comparison else not claim.b
        assert all(re.search(r"notes \d{3}:\d+|d2l|\d{4}", source) for source in claim.sources), claim.sources
        assert claim.effect in (0.01, pytest.approx(math.log(1.1))), "the smallest effects fixed for the protocol"


@pytest.mark.parametrize("budget", ["quick", "standard", "full", "smoke"])
@pytest.mark.parametrize("preset", E.catalogue(), ids=lambda p: p.name)
def test_every_preset_builds_valid_configs(preset: E.Preset, budget: str):
    configs = E.build_configs(preset, budget, seeds=2)
    assert len(configs) == 2 * len(preset.levels)
    assert [label for label, _ in configs] == preset.labels * 2  # seed-major
    first = preset.first_seed(budget)
    assert [c.seed for _, c in configs] == [first] * len(preset.levels) + [first + 1] * len(preset.levels)
    for _, config in configs:
        assert isinstance(config, RunConfig)
        config.check_fits()
        assert RunConfig.from_json(config.to_json()) == config
    first_seed = [c for _, c in configs[:len(preset.levels)]]
    assert len({c.to_json() for c in first_seed}) == len(first_seed), "every level changes the config"
    assert E.describe_budget(preset, budget)
    assert len(E.build_configs(preset, budget)) == preset.seeds(budget) * len(preset.levels), "the budget's seeds"


def test_budgets_grow_from_quick_to_standard_to_full():
    from cnnkit.models import registry

    work = lambda c: c.subset * c.epochs * (c.input_size or registry.get(c.model).native_input) ** 2  # noqa: E731
    # improved-lenet-mnist's standard budget is sized for the 8,000-digit MNIST sample it runs on here: its 20
    # epochs are 160 k images, against full MNIST's 600 k in d2l's 10.
    on_the_sample = {"improved-lenet-mnist"}
    for preset in E.catalogue():
        for label in preset.labels:
            quick, standard, full = (E.level_config(preset, label, b) for b in E.BUDGETS)
            assert work(quick) <= work(standard), (preset.name, label)
            assert preset.name in on_the_sample or work(standard) < work(full), (preset.name, label)
            assert quick.test_subset <= standard.test_subset, (preset.name, label)


# Presets whose seed noise the first protocol measured at 1–2.5 points: 10 seeds a level.
TEN_SEEDS = {"kernel-size", "shuffle"}


@pytest.mark.parametrize("preset", E.catalogue(), ids=lambda p: p.name)
def test_every_budget_says_why_it_is_sized_so(preset: E.Preset):
    assert preset.standard.note, "the standard budget's note says how it was sized"
    assert preset.first_seed("standard") == 1000 and preset.first_seed("quick") == 0


def test_zoo_standard_trains_every_model_with_its_own_d2l_recipe():
    from cnnkit import d2l
    from cnnkit.models import registry

    zoo = E.get("zoo")
    assert zoo.ranking and zoo.seeds("standard") == 5
    for label, config in E.build_configs(zoo, "standard", seeds=1):
        recipe = registry.get(config.model).recipe
        assert (config.subset, config.test_subset, config.epochs, config.optimizer) == (1.0, 1.0, 3, "sgd"), label
        assert (config.lr, config.batch_size, config.init) == (recipe["lr"], recipe["batch_size"], recipe["init"])
        published = d2l.for_model(config.model, config.model_options)
        assert f"({config.input_size or 28} px)" in label, "a net not at d2l's input says so"
        if label == "MLP (28 px)":
            assert published is None
        else:
            assert (config.lr, config.batch_size) == (published.lr, published.batch_size), label
            assert config.input_size == (None if config.model == "lenet" else {"alexnet": 67, "nin": 67}.get(
                config.model, 32)), label


def test_levels_change_what_the_notes_ask():
    configs = dict(E.build_configs("activation-lr", "quick", seeds=1))
    assert configs["sigmoid, lr 0.9 (d2l)"].model_options.get("activation", "sigmoid") == "sigmoid"
    assert configs["sigmoid, lr 0.9 (d2l)"].lr == 0.9
    assert configs["ReLU, lr 0.1"].model_options["activation"] == "relu" and configs["ReLU, lr 0.1"].lr == 0.1
    assert configs["ReLU, lr 0.9"].lr == 0.9
    mlp = dict(E.build_configs("cnn-vs-mlp-permuted", "full", seeds=1))["MLP, one hidden layer (62.0 k parameters)"]
    assert mlp.model == "mlp" and mlp.model_options == {"match_params_of": "lenet"} and mlp.permute_pixels
    assert mlp.dataset == "fashion-mnist" and mlp.normalize
    zoo = dict(E.build_configs("zoo", "quick", seeds=1))
    alex = "AlexNet (67 px)"
    assert zoo[alex].input_size == 67 and zoo[alex].lr == 1e-4  # per-level beats the override
    assert zoo["ResNet-18 (32 px)"].optimizer == "adam" and zoo["ResNet-18 (32 px)"].lr == 1e-3
    assert zoo["LeNet (28 px)"].model_options == {} and zoo["VGG-11 ÷4 (32 px)"].model_options == {"width_ratio": 4}
    full = dict(E.build_configs("zoo", "full", seeds=1))
    assert full[alex].input_size is None and full[alex].lr == 0.01 and full[alex].epochs == 10
    shortcut = dict(E.build_configs("resnet-shortcut", "quick", seeds=1))
    assert [c.model_options["shortcut"] for c in shortcut.values()] == ["projection", "zero-pad", "none"]
    assert E.get("cnn-vs-mlp-mnist").datasets == ["mnist"] and E.get("course-cnn-vs-vgg16").datasets == ["cifar10"]


@pytest.mark.parametrize("installed,runs_on,missing", [
    ({"mnist", "mnist-10k"}, "mnist", []),  # full MNIST whenever it is there
    ({"mnist-10k"}, "mnist-10k", []),  # else the MNIST sample
    (set(), "mnist", ["mnist"]),  # neither: missing, and launching says how to get either
])
def test_mnist_presets_fall_back_on_the_sample(monkeypatch, installed, runs_on, missing):

    monkeypatch.setattr(loading, "is_available", lambda name, root=None: name in installed | {"fashion-mnist"})
    for name in ("improved-lenet-mnist", "cnn-vs-mlp-mnist", "cnn-vs-mlp-permuted-mnist"):
        preset = E.get(name)
        assert preset.datasets == ["mnist"] and "MNIST sample" in preset.note
        assert E.runs_on(preset) == [runs_on] and E.missing_datasets(preset) == missing
        configs = E.build_configs(preset, "quick", seeds=2)
        assert {c.dataset for _, c in configs} == {runs_on}
        assert all(c.replace(dataset="mnist") == E.level_config(preset, label).replace(seed=c.seed)
                   for label, c in configs)  # only the dataset differs from what the preset declares
    line = E.data_line("cnn-vs-mlp-mnist")
    if runs_on == "mnist-10k":
        assert line.startswith("Data: MNIST sample (10,000 real digits") and "full MNIST is not installed" in line
    elif missing:
        assert "bash scripts/setup.sh" in line and "experiment run cnn-vs-mlp-mnist" in line
    else:
        assert line == "Data: MNIST."
    assert E.preset_dict(E.get("cnn-vs-mlp-mnist"))["runs_on"] == [runs_on]


def test_cifar10_presets_say_where_and_how_to_run_them(monkeypatch):

    monkeypatch.setattr(loading, "is_available", lambda name, root=None: name != "cifar10")
    for name in ("course-cnn-vs-vgg16", "augmentation-cifar10"):
        assert E.missing_datasets(name) == ["cifar10"]
        line = E.data_line(name)
        assert "CIFAR-10" in line and "cifar-10-python.tar.gz" in line and f"experiment run {name} --wait" in line
        assert "\n" not in line


def test_unknown_names_budgets_and_seeds_are_config_errors():
    with pytest.raises(ConfigError) as exc:
        E.get("no-such")
    assert exc.value.field == "experiment" and "pooling" in str(exc.value)
    with pytest.raises(ConfigError) as exc:
        E.build_configs("pooling", "huge")
    assert exc.value.field == "budget" and "smoke" not in str(exc.value)
    assert str(exc.value) == "budget: must be one of quick, standard, full, got 'huge'"
    with pytest.raises(ConfigError) as exc:
        E.check_budget("smoke", hidden=False, field="--budget")
    assert str(exc.value) == "--budget: must be one of quick, standard, full, got 'smoke'"
    for bad in (0, 21, True, 2.5):
        with pytest.raises(ConfigError) as exc:
            E.build_configs("pooling", "quick", seeds=bad)
        assert exc.value.field == "seeds"
