"""cnnkit.config: RunConfig validates every field on construction and round-trips through JSON."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnkit.config import DATASET_NAMES, FIELD_PARAMS, RunConfig, param_for
from cnnkit.errors import ConfigError

NUMERIC = [name for name, p in FIELD_PARAMS.items() if p.kind in ("int", "float")]
WITH_CHOICES = [name for name, p in FIELD_PARAMS.items() if p.kind == "str" and p.choices]
BOOLS = [name for name, p in FIELD_PARAMS.items() if p.kind == "bool"]


def config_error(**fields) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        RunConfig(**fields)
    message = str(info.value)
    assert "\n" not in message, message
    assert message.startswith(f"{info.value.field}: ")
    return info.value


def test_defaults_are_valid_and_match_the_field_specs():
    config = RunConfig()
    for name, param in FIELD_PARAMS.items():
        assert getattr(config, name) == param.default, name
        assert param.name == name and param.help
    assert config.model == "lenet" and config.dataset == "fashion-mnist" and config.model_options == {}


def test_the_field_set_covers_what_a_run_needs():
    expected = {"model", "dataset", "epochs", "batch_size", "lr", "optimizer", "schedule", "init", "seed",
                "augment", "normalize", "permute_pixels", "softmax_before_loss", "subset", "input_size", "device"}
    assert expected <= set(FIELD_PARAMS)
    assert set(DATASET_NAMES) == {"fashion-mnist", "mnist", "mnist-10k", "cifar10"}


# ---- bounds and allow-lists, field by field ------------------------------------------------------

@pytest.mark.parametrize("name", NUMERIC)
def test_numeric_fields_reject_values_outside_their_bounds(name):
    param = FIELD_PARAMS[name]
    assert param.low is not None and param.high is not None, f"{name} must be bounded"
    below = param.low if param.open_low else param.low - 1
    for bad in (below, param.high + 1, "3", True):
        exc = config_error(**{name: bad})
        assert exc.field == name
        assert param.allowed() in str(exc)


@pytest.mark.parametrize("name", NUMERIC)
def test_numeric_fields_accept_their_bounds(name):
    param = FIELD_PARAMS[name]
    extra = {"epochs": 1000} if name == "warmup_epochs" else {}
    high = RunConfig(**{name: param.high}, **extra)
    assert getattr(high, name) == param.high
    if not param.open_low:
        extra = {"warmup_epochs": 0.0} if name == "epochs" else {}
        assert getattr(RunConfig(**{name: param.low}, **extra), name) == param.low


@pytest.mark.parametrize("name", WITH_CHOICES)
def test_choice_fields_accept_each_choice_and_nothing_else(name):
    param = FIELD_PARAMS[name]
    for choice in param.choices:
        assert getattr(RunConfig(**{name: choice}), name) == choice
    exc = config_error(**{name: "no-such-" + name})
    assert exc.field == name and "one of " + ", ".join(param.choices) in str(exc)


@pytest.mark.parametrize("name", BOOLS)
def test_bool_fields_take_only_bools(name):
    assert getattr(RunConfig(**{name: True}), name) is True
    assert config_error(**{name: "yes"}).field == name
    assert config_error(**{name: 1}).field == name


def test_every_field_is_checked_by_one_of_the_rules_above():
    covered = set(NUMERIC) | set(WITH_CHOICES) | set(BOOLS)
    rest = set(FIELD_PARAMS) - covered
    assert rest == {"model", "device", "step_milestones", "augment"}


def test_model_must_be_registered():
    exc = config_error(model="lenet6")
    assert exc.field == "model" and "alexnet" in str(exc) and "'lenet6'" in str(exc)


@pytest.mark.parametrize("device", ["auto", "cpu", "cuda", "cuda:0", "cuda:15"])
def test_device_accepts_auto_cpu_and_cuda(device):
    assert RunConfig(device=device).device == device


@pytest.mark.parametrize("device", ["gpu", "cuda:", "cuda:123", "mps", "", "cpu;rm -rf /"])
def test_device_rejects_anything_else(device):
    assert config_error(device=device).field == "device"


def test_list_fields():
    assert RunConfig(step_milestones=[0.3, 0.9]).step_milestones == (0.3, 0.9)
    assert config_error(step_milestones=[]).field == "step_milestones"
    assert config_error(step_milestones=[0.5, 1.5]).field == "step_milestones"
    assert config_error(step_milestones=[0.0]).field == "step_milestones"
    assert RunConfig(augment=["flip", "crop", "pca"]).augment == ("flip", "crop", "pca")
    assert "must not repeat" in str(config_error(augment=["crop", "crop"]))
    assert config_error(augment=["cutout"]).field == "augment"
    assert config_error(augment="crop").field == "augment"


def test_warmup_must_end_before_training_does():
    assert RunConfig(epochs=3, warmup_epochs=2.5).warmup_epochs == 2.5
    exc = config_error(epochs=3, warmup_epochs=3)
    assert exc.field == "warmup_epochs" and "below epochs (3)" in str(exc)


def test_seed_message_states_the_exact_range():
    assert "[0, 2147483647]" in str(config_error(seed=2**31))


# ---- model options ------------------------------------------------------------------------------

def test_model_options_are_checked_against_the_models_knobs():
    config = RunConfig(model_options={"activation": "relu", "fc": [256]})
    assert config.model_options == {"activation": "relu", "fc": (256,)}
    exc = config_error(model_options={"pool": "median"})
    assert exc.field == "model_options.pool" and "one of avg, max" in str(exc)
    exc = config_error(model_options={"width_ratio": 4})  # a VGG knob, not LeNet's
    assert exc.field == "model_options.width_ratio" and "not an option of lenet" in str(exc)
    assert "activation" in str(exc)  # lists what is allowed
    assert config_error(model="alexnet", model_options={"lrn": "yes"}).field == "model_options.lrn"
    assert config_error(model_options=["relu"]).field == "model_options"


def test_a_model_without_knobs_takes_no_options():
    exc = config_error(model="googlenet", model_options={"dropout": 0.1})
    assert exc.field == "model_options.dropout" and "allowed: none" in str(exc)


# ---- JSON ---------------------------------------------------------------------------------------

def test_json_round_trip_is_equal():
    config = RunConfig(model="vgg11", model_options={"width_ratio": 4, "batchnorm": True}, dataset="cifar10",
                       epochs=3, lr=0.05, schedule="step", step_milestones=(0.3, 0.6), augment=("crop", "flip"),
                       input_size=64, seed=7, device="cpu", normalize=True)
    text = config.to_json()
    doc = json.loads(text)
    assert doc["augment"] == ["crop", "flip"] and doc["model_options"] == {"width_ratio": 4, "batchnorm": True}
    back = RunConfig.from_json(text)
    assert back == config
    assert back.to_json() == text
    assert RunConfig.from_dict(config.to_dict()) == config


def test_from_dict_fills_defaults_for_missing_fields():
    assert RunConfig.from_dict({"lr": 0.5}) == RunConfig(lr=0.5)


def test_unknown_field_is_rejected_naming_it():
    with pytest.raises(ConfigError) as info:
        RunConfig.from_dict({"lr": 0.1, "learning_rate": 0.1})
    assert info.value.field == "learning_rate"
    assert "is not a config field" in str(info.value) and "lr" in str(info.value)


@pytest.mark.parametrize("text", ["{", "[1, 2]", "null", '"lenet"'])
def test_from_json_rejects_non_objects(text):
    with pytest.raises(ConfigError) as info:
        RunConfig.from_json(text)
    assert info.value.field == "config" and "\n" not in str(info.value)


def test_from_json_validates_values():
    with pytest.raises(ConfigError) as info:
        RunConfig.from_json('{"epochs": 0}')
    assert info.value.field == "epochs"


configs = st.builds(
    RunConfig,
    model=st.sampled_from(["lenet", "mlp", "resnet18"]),
    epochs=st.integers(1, 1000),
    lr=st.floats(1e-6, 1000, allow_nan=False),
    batch_size=st.integers(1, 8192),
    optimizer=st.sampled_from(["sgd", "adam"]),
    schedule=st.sampled_from(["constant", "step", "cosine"]),
    step_milestones=st.lists(st.floats(0.01, 1), min_size=1, max_size=8).map(tuple),
    augment=st.lists(st.sampled_from(["crop", "flip", "pca"]), unique=True, max_size=3).map(tuple),
    input_size=st.one_of(st.none(), st.integers(8, 512)),
    seed=st.integers(0, 2**31 - 1),
    normalize=st.booleans(),
)


@settings(max_examples=40, deadline=None)
@given(configs)
def test_any_valid_config_round_trips(config):
    assert RunConfig.from_json(config.to_json()) == config


# ---- edits --------------------------------------------------------------------------------------

def test_replace_validates_and_drops_options_of_another_model():
    config = RunConfig(model_options={"activation": "relu"})
    assert config.replace(lr=0.5).model_options == {"activation": "relu"}
    assert config.replace(model="alexnet").model_options == {}
    with pytest.raises(ConfigError):
        config.replace(lr=0)
    assert config.lr == 0.1  # the original is untouched


def test_with_value_sets_fields_and_model_options():
    base = RunConfig()
    assert base.with_value("lr", 0.9).lr == 0.9
    assert base.with_value("activation", "relu").model_options == {"activation": "relu"}
    assert base.with_value("model", "resnet18").model == "resnet18"
    with pytest.raises(ConfigError) as info:
        base.with_value("activation", "swish")
    assert info.value.field == "model_options.activation"
    with pytest.raises(ConfigError) as info:
        base.with_value("width_ratio", 4)
    assert info.value.field == "model_options.width_ratio"


@pytest.mark.parametrize("key,text,check", [
    ("lr", "0.9", lambda c: c.lr == 0.9),
    ("epochs", "3", lambda c: c.epochs == 3),
    ("normalize", "true", lambda c: c.normalize is True),
    ("input_size", "none", lambda c: c.input_size is None),
    ("input_size", "32", lambda c: c.input_size == 32),
    ("augment", "crop,flip", lambda c: c.augment == ("crop", "flip")),
    ("fc", "256,128", lambda c: c.model_options == {"fc": (256, 128)}),
    ("pool", "max", lambda c: c.model_options == {"pool": "max"}),
    ("batchnorm", "on", lambda c: c.model_options == {"batchnorm": True}),
    ("model", "alexnet", lambda c: c.model == "alexnet"),
])
def test_with_text_parses_by_the_type_of_the_key(key, text, check):
    assert check(RunConfig().with_text(key, text))


@pytest.mark.parametrize("key,text,field", [
    ("lr", "fast", "lr"),
    ("epochs", "0", "epochs"),
    ("fc", "120,zero", "fc"),
    ("learning_rate", "0.1", "learning_rate"),
    ("width_ratio", "4", "width_ratio"),
    ("model", "lenet6", "model"),
])
def test_with_text_rejects_naming_the_key(key, text, field):
    with pytest.raises(ConfigError) as info:
        RunConfig().with_text(key, text)
    assert info.value.field == field and "\n" not in str(info.value)


def test_param_for_lists_what_is_allowed():
    assert param_for("lenet", "lr") is FIELD_PARAMS["lr"]
    assert param_for("alexnet", "lrn").kind == "bool"
    with pytest.raises(ConfigError) as info:
        param_for("alexnet", "activation")
    assert "neither a config field nor an option of alexnet" in str(info.value) and "lrn" in str(info.value)


def test_label_names_the_model_and_its_changed_options():
    assert RunConfig().label() == "lenet"
    assert RunConfig(lr=0.5, epochs=3).label() == "lenet"
    config = RunConfig(model_options={"pool": "max", "activation": "relu", "fc": (256, 128)})
    assert config.label() == "lenet(activation=relu fc=256,128 pool=max)"
    assert RunConfig(model="vgg11", model_options={"width_ratio": 4}).label() == "vgg11(width_ratio=4)"


def test_check_fits_passes_at_native_sizes():
    for model in ("lenet", "alexnet", "resnet18", "mlp"):
        RunConfig(model=model).check_fits()
    with pytest.raises(ConfigError) as info:
        RunConfig(model="alexnet", input_size=28).check_fits()
    assert info.value.field == "input_size"
