"""cnnkit.sweep: levels parsed by the type of their key, the cross product × seeds, run names."""
from __future__ import annotations

import pytest

from cnnkit.config import RunConfig
from cnnkit.errors import ConfigError
from cnnkit.sweep import MAX_RUNS, MAX_SEEDS, expand, parse_levels, run_name


@pytest.mark.parametrize("key,text,levels", [
    ("lr", "0.1,0.9", [0.1, 0.9]),
    ("lr", "0.5", [0.5]),
    ("batch_size", "64, 256 ,1024", [64, 256, 1024]),
    ("activation", "sigmoid,relu", ["sigmoid", "relu"]),
    ("fc", "120,84|256|", [(120, 84), (256,), ()]),
    ("augment", "crop|crop,flip", [("crop",), ("crop", "flip")]),
    ("normalize", "false,true", [False, True]),
    ("input_size", "none,32", [None, 32]),
    ("model", "lenet,mlp", ["lenet", "mlp"]),
])
def test_parse_levels(key, text, levels):
    assert parse_levels("lenet", key, text) == levels


@pytest.mark.parametrize("key,text", [("lr", "0.1,fast"), ("lr", "0,0.1"), ("activation", "relu,swish"),
                                      ("epochs", ""), ("width_ratio", "1,4")])
def test_bad_levels_name_the_key(key, text):
    with pytest.raises(ConfigError) as info:
        parse_levels("lenet", key, text)
    assert info.value.field == key and "\n" not in str(info.value)


def test_expand_is_the_cross_product_times_seeds():
    base = RunConfig(seed=10, epochs=2)
    configs = expand(base, [("lr", "0.1,0.9"), ("activation", "sigmoid,relu")], seeds=3)
    assert len(configs) == 12
    combos = {(c.lr, c.model_options["activation"], c.seed) for c in configs}
    assert combos == {(lr, act, seed) for lr in (0.1, 0.9) for act in ("sigmoid", "relu") for seed in (10, 11, 12)}
    assert all(c.epochs == 2 for c in configs)
    assert configs[0].seed == 10 and configs[1].seed == 11  # seeds of one combination are adjacent


def test_an_unknown_model_level_is_refused():
    with pytest.raises(ConfigError) as info:
        expand(RunConfig(), [("model", "lenet,lenet6")])
    assert info.value.field == "model" and "'lenet6'" in str(info.value)


def test_expand_without_axes_repeats_the_base():
    base = RunConfig()
    assert expand(base, []) == [base]
    assert [c.seed for c in expand(base, [], seeds=4)] == [0, 1, 2, 3]


def test_expand_over_models_drops_the_other_models_options():
    base = RunConfig(model_options={"activation": "relu"})
    configs = expand(base, [("model", "lenet,mlp")])
    assert [(c.model, c.model_options) for c in configs] == [("lenet", {"activation": "relu"}), ("mlp", {})]


@pytest.mark.parametrize("seeds", [0, MAX_SEEDS + 1])
def test_seeds_are_bounded(seeds):
    with pytest.raises(ConfigError) as info:
        expand(RunConfig(), [], seeds=seeds)
    assert info.value.field == "seeds" and f"[1, {MAX_SEEDS}]" in str(info.value)


def test_a_key_may_be_swept_once():
    with pytest.raises(ConfigError) as info:
        expand(RunConfig(), [("lr", "0.1"), ("lr", "0.2")])
    assert info.value.field == "sweep"


def test_too_many_runs_are_refused():
    levels = ",".join(str(n) for n in range(1, 27))
    with pytest.raises(ConfigError) as info:
        expand(RunConfig(), [("epochs", levels), ("batch_size", levels)])
    assert info.value.field == "sweep" and str(26 * 26) in str(info.value) and str(MAX_RUNS) in str(info.value)


def test_every_config_of_a_sweep_must_fit_its_input():
    with pytest.raises(ConfigError) as info:
        expand(RunConfig(model="alexnet"), [("input_size", "224,28")])
    assert info.value.field == "input_size" and "65×65" in str(info.value)


def test_invalid_combinations_are_caught():
    with pytest.raises(ConfigError) as info:
        expand(RunConfig(epochs=2), [("warmup_epochs", "0,1,2")])
    assert info.value.field == "warmup_epochs"


def test_run_name():
    config = RunConfig(lr=0.9, seed=3, model_options={"activation": "relu", "fc": (120, 84)})
    assert run_name(config, ["lr"]) == "lenet lr=0.9"
    assert run_name(config, ["lr"], seeds=2) == "lenet lr=0.9 seed=3"
    assert run_name(config, ["activation", "fc"]) == "lenet activation=relu fc=120,84"
    assert run_name(config, ["model"]) == "lenet(activation=relu fc=120,84) model=lenet"
    assert run_name(RunConfig(augment=()), ["augment"]) == "lenet augment=none"
    assert run_name(config, []) == config.label()
