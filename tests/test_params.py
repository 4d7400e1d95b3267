"""cnnkit.params: one Param spec checks values, parses command-line text and says what it allows."""
from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cnnkit.errors import ConfigError
from cnnkit.params import Param

EPOCHS = Param("epochs", "int", 10, low=1, high=1000)
LR = Param("lr", "float", 0.1, low=0, high=1000, open_low=True)
OPT = Param("optimizer", "str", "sgd", choices=("sgd", "adam"))
FLAG = Param("shuffle", "bool", True)
SIZE = Param("input_size", "int", None, low=8, high=512, optional=True)
FC = Param("fc", "ints", (120, 84), low=1, high=16384, max_len=3)
MILESTONES = Param("step_milestones", "floats", (0.5,), low=0, high=1, open_low=True, min_len=1, max_len=2)
AUG = Param("augment", "strs", (), choices=("crop", "flip", "pca"), max_len=3)


def rejects(param: Param, value, field: str | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        param.check(value, field)
    exc = info.value
    assert exc.field == (field or param.name)
    assert str(exc).startswith(f"{exc.field}: ") and "\n" not in str(exc)
    return exc


# ---- check ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [1, 10, 1000, 5.0])
def test_int_in_range_is_accepted_as_int(value):
    out = EPOCHS.check(value)
    assert out == value and type(out) is int


@pytest.mark.parametrize("value", [0, 1001, -3, 2.5, True, "10", None, float("nan")])
def test_int_out_of_range_or_wrong_type_is_rejected(value):
    exc = rejects(EPOCHS, value)
    assert "an integer in [1, 1000]" in str(exc)


def test_open_lower_bound_excludes_the_bound_only():
    assert LR.check(1e-9) == 1e-9
    assert LR.check(1000) == 1000.0 and type(LR.check(1000)) is float
    assert "(0, 1000]" in str(rejects(LR, 0))
    rejects(LR, 1000.0001)


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
def test_non_finite_floats_are_rejected(value):
    rejects(Param("x", "float", 0.0, low=None, high=None), value)


def test_choices_are_an_allow_list():
    assert OPT.check("adam") == "adam"
    exc = rejects(OPT, "rmsprop")
    assert "one of sgd, adam" in str(exc) and "'rmsprop'" in str(exc)
    rejects(OPT, 3)


def test_bool_accepts_only_bools():
    assert FLAG.check(False) is False
    for bad in (0, 1, "true", None):
        assert "true or false" in str(rejects(FLAG, bad))


def test_optional_means_none_is_allowed():
    assert SIZE.check(None) is None
    assert "or none" in SIZE.allowed()
    assert "got none" in str(rejects(EPOCHS, None))


def test_list_kinds_become_tuples_and_check_each_item_and_the_length():
    assert FC.check([256]) == (256,)
    assert FC.check(()) == ()
    assert "got 4 items" in str(rejects(FC, [1, 2, 3, 4]))
    assert "got 0" in str(rejects(FC, [120, 0]))
    rejects(FC, "120,84")  # a string is not a list
    rejects(FC, 120)
    assert "got 0 items" in str(rejects(MILESTONES, []))
    assert MILESTONES.check([0.5, 1]) == (0.5, 1.0)


def test_string_lists_take_choices_and_refuse_repeats():
    assert AUG.check(["flip", "crop"]) == ("flip", "crop")
    assert "must not repeat" in str(rejects(AUG, ["crop", "crop"]))
    assert "a list of one of crop, flip, pca" in str(rejects(AUG, ["blur"]))


def test_field_overrides_the_name_in_the_message():
    exc = rejects(OPT, "x", field="model_options.optimizer")
    assert str(exc).startswith("model_options.optimizer: ")


# ---- parse ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("param,text,expected", [
    (EPOCHS, " 12 ", 12),
    (LR, "1e-3", 0.001),
    (OPT, "adam", "adam"),
    (FLAG, "yes", True), (FLAG, "OFF", False), (FLAG, "1", True), (FLAG, "false", False),
    (SIZE, "none", None), (SIZE, "native", None), (SIZE, "", None), (SIZE, "96", 96),
    (FC, "256, 128", (256, 128)), (FC, "", ()),
    (MILESTONES, "0.3,0.6", (0.3, 0.6)),
    (AUG, "crop,pca", ("crop", "pca")),
])
def test_parse(param, text, expected):
    assert param.parse(text) == expected


@pytest.mark.parametrize("param,text", [
    (EPOCHS, "ten"), (EPOCHS, "1.5"), (EPOCHS, "0"), (EPOCHS, "none"),
    (LR, "fast"), (LR, "-1"), (LR, "nan"),
    (FLAG, "maybe"), (OPT, "SGD"), (FC, "120,x"), (FC, "1,2,3,4"), (AUG, "crop,crop"), (SIZE, "4"),
])
def test_parse_rejects_with_one_line_naming_the_field(param, text):
    with pytest.raises(ConfigError) as info:
        param.parse(text)
    assert info.value.field == param.name
    assert str(info.value).startswith(param.name + ": must ")
    assert "\n" not in str(info.value)


def test_allowed_phrases():
    assert EPOCHS.allowed() == "an integer in [1, 1000]"
    assert LR.allowed() == "a number in (0, 1000]"
    assert FC.allowed() == "a list of 0–3 items, each an integer in [1, 16384]"
    assert Param("s", "int", 0, low=0, high=2**31 - 1).allowed() == "an integer in [0, 2147483647]"
    assert Param("m", "float", 0.9, low=0, high=0.999).allowed() == "a number in [0, 0.999]"
    assert Param("u", "float", 0.0).allowed() == "a number in [∞, ∞]"
    assert Param("t", "str", "").allowed() == "a string"


@given(st.integers(min_value=1, max_value=1000))
def test_any_int_in_range_round_trips_through_text(n):
    assert EPOCHS.parse(str(n)) == n


@given(st.integers().filter(lambda n: not 1 <= n <= 1000))
def test_any_int_out_of_range_is_rejected(n):
    with pytest.raises(ConfigError):
        EPOCHS.parse(str(n))


@given(st.floats(min_value=0, max_value=1000, exclude_min=True, allow_nan=False))
def test_any_float_in_range_round_trips_through_text(x):
    assert math.isclose(LR.parse(repr(x)), x)
