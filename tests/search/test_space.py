"""`--space`: the three forms, Optuna's distributions, trial values into configs, one-line errors."""
from __future__ import annotations

import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from cnnkit.config import RunConfig
from cnnkit.errors import ConfigError
from cnnkit.search import check_space, parse_space

BASE = RunConfig(epochs=2)


def test_log_range_and_choice_as_the_issue_writes_them() -> None:
    space = parse_space("lenet", ["lr=log:1e-3:1", "batch_size=64,128,256"])
    assert space.distributions() == {"lr": FloatDistribution(1e-3, 1.0, log=True),
                                     "batch_size": CategoricalDistribution((64, 128, 256))}
    assert space.describe() == "lr in [0.001, 1] (log); batch_size in {64, 128, 256}"
    assert space.to_meta() == {"lr": "log:1e-3:1", "batch_size": "64,128,256"}


def test_ranges_follow_the_type_of_their_field() -> None:
    space = parse_space("lenet", [("momentum", "0:0.9"), ("epochs", "1:5"), ("batch_size", "log:16:512")])
    assert space.distributions() == {"momentum": FloatDistribution(0.0, 0.9), "epochs": IntDistribution(1, 5),
                                     "batch_size": IntDistribution(16, 512, log=True)}


def test_choices_of_options_lists_and_flags() -> None:
    space = parse_space("lenet", ["activation=relu,sigmoid", "fc=120,84|256", "normalize=true,false",
                                  "augment=flip|crop,flip"])
    assert [d.choices for d in space.dimensions] == [("relu", "sigmoid"), ("120,84", "256"), (True, False),
                                                     ("flip", "crop,flip")]
    config = space.apply(BASE, {"activation": "relu", "fc": "256", "normalize": True, "augment": "crop,flip"})
    assert config.model_options == {"activation": "relu", "fc": (256,)} and config.normalize
    assert config.augment == ("crop", "flip")
    assert space.params_of(config.to_dict()) == {"activation": "relu", "fc": "256", "normalize": True,
                                                 "augment": "crop,flip"}
    assert space.params_of(BASE.to_dict())["fc"] == "120,84", "an option left at its default reads as the default"


def test_a_model_choice_is_applied_first() -> None:
    space = parse_space("lenet", ["lr=0.1,0.2", "model=lenet,mlp"])
    assert space.keys == ["model", "lr"]
    config = space.apply(RunConfig(model_options={"activation": "relu"}), {"model": "mlp", "lr": 0.2})
    assert (config.model, config.lr, config.model_options) == ("mlp", 0.2, {})


@pytest.mark.parametrize("items, says", [
    ([], "give at least one key"),
    (["lr"], "must look like KEY=SPEC, got 'lr'"),
    (["foo=1,2"], "'foo' is neither a config field nor an option of lenet"),
    (["lr="], "lr=: no values"),
    (["lr=log:0:1"], "lr=log:0:1: must be a number in (0, 1000], got 0.0"),
    (["momentum=log:0:0.9"], "a log range needs LOW > 0"),
    (["lr=1:0.1"], "a range needs LOW < HIGH"),
    (["lr=log:1:2:3"], "a range is LOW:HIGH or log:LOW:HIGH"),
    (["activation=1:2"], "activation takes one of sigmoid"),
    (["kernel_size=3:7"], "kernel_size takes one of 1, 3, 5"),
    (["batch_size=64,99999"], "batch_size=64,99999: must be an integer in [1, 8192], got 99999"),
    (["batch_size=log:0.5:8"], "must be an integer"),
    (["lr=0.1"], "a choice needs at least two different values"),
    (["lr=0.1,0.1"], "a choice needs at least two different values"),
    (["lr=0.1,0.2", "lr=log:1e-3:1"], "lr is given twice"),
    ([f"{k}=1,2" for k in ("epochs", "seed", "batch_size", "crop_padding", "reports_per_epoch", "channels",
                            "conv_layers", "fc", "kernel_size")], "at most 8 keys, got 9"),
])
def test_a_bad_space_is_one_line_naming_the_flag(items: list[str], says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_space("lenet", items)
    message = str(caught.value)
    assert message.startswith("--space: ") and says in message and "\n" not in message


def test_every_bound_and_choice_must_make_a_valid_config() -> None:
    check_space(BASE, parse_space("lenet", ["kernel_size=3,11", "input_size=12,28"]))  # each alone fits
    with pytest.raises(ConfigError, match=r"^--space: input_size=8: .*needs at least"):
        check_space(BASE, parse_space("lenet", ["input_size=8,28"]))
    with pytest.raises(ConfigError, match=r"^--space: warmup_epochs=5.0: must be below epochs"):
        check_space(BASE, parse_space("lenet", ["warmup_epochs=0:5"]))
