"""Widgets generated from cnnkit Params: one widget per config field or model knob.

Widget state lives in ``st.session_state[key]`` (set before the widget is drawn, so that callers can
reset it, e.g. to a model's recipe). Reading a value never raises: bad input comes back as a
ConfigError in the ``errors`` list, which the page shows inline, and nothing else is lost.
"""
from __future__ import annotations

from typing import Any

import streamlit as st

from cnnkit.errors import ConfigError
from cnnkit.params import Param

LIST_KINDS = ("ints", "floats")


def to_state(param: Param, value: Any) -> Any:
    """A Python value → what the widget of ``param`` holds."""
    if param.kind in LIST_KINDS:
        return ",".join(str(v) for v in (value or ()))
    if param.kind == "strs":
        return list(value or ())
    if param.kind == "str" and not param.choices:
        return "" if value is None else str(value)
    if param.kind == "float" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)  # a number_input must not mix int and float
    if param.kind == "int" and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def set_value(key: str, param: Param, value: Any) -> None:
    st.session_state[key] = to_state(param, value)


def widget(param: Param, key: str, default: Any = None, label: str | None = None, disabled: bool = False,
           persist: bool = False) -> Any:
    """Draw the widget for ``param`` (state under ``key``); returns its raw state.

    ``persist`` keeps the value while the user visits other pages (Streamlit drops the state of
    widgets that are not drawn otherwise).
    """
    if key not in st.session_state:
        set_value(key, param, param.default if default is None else default)
    label = label or param.name
    help_text = f"{param.help} — {param.allowed()}" if param.help else param.allowed()
    kw: dict[str, Any] = {"key": key, "help": help_text, "disabled": disabled}
    if persist:
        kw["persist_state"] = "session"
    if param.kind == "bool":
        return st.checkbox(label, **kw)
    if param.choices and param.kind in ("str", "int", "float"):
        if st.session_state[key] not in param.choices:
            st.session_state[key] = param.default
        return st.selectbox(label, list(param.choices), **kw)
    if param.kind == "strs":
        return st.multiselect(label, list(param.choices), **kw)
    if param.kind in LIST_KINDS or (param.kind == "str"):
        return st.text_input(label, **kw)
    if param.kind == "int":
        return st.number_input(label, step=1, placeholder="native" if param.optional else None, **kw)
    return st.number_input(label, step=_float_step(param.default), format="%g",
                           placeholder="none" if param.optional else None, **kw)


def read(param: Param, raw: Any, field: str | None = None) -> Any:
    """The widget's raw state → a checked value; raises ConfigError naming the field."""
    field = field or param.name
    if param.kind in LIST_KINDS:
        return param.parse(str(raw or ""), field)
    if param.kind == "int" and isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    return param.check(raw, field)


def form(params: dict[str, Param], prefix: str, defaults: dict[str, Any] | None = None, columns: int = 3,
         names: list[str] | None = None, persist: bool = False) -> tuple[dict[str, Any], list[ConfigError]]:
    """Widgets for ``params`` (or the ``names`` among them) in a grid; returns (values, errors)."""
    defaults = defaults or {}
    names = [n for n in (names or list(params)) if n in params]
    values: dict[str, Any] = {}
    errors: list[ConfigError] = []
    cols = st.columns(columns) if names else []
    for i, name in enumerate(names):
        param = params[name]
        with cols[i % columns]:
            raw = widget(param, f"{prefix}.{name}", defaults.get(name), persist=persist)
        try:
            values[name] = read(param, raw, name)
        except ConfigError as exc:
            errors.append(exc)
    return values, errors


def reset(params: dict[str, Param], prefix: str, values: dict[str, Any]) -> None:
    """Put ``values`` (and the defaults of the other params) into the widgets of ``prefix``."""
    for name, param in params.items():
        set_value(f"{prefix}.{name}", param, values.get(name, param.default))


def _float_step(value: Any) -> float:
    """A step that suits the default's magnitude (0.9 → 0.1, 0.001 → 0.001); fixed per field, so that the
    widget keeps its identity while the user types."""
    try:
        v = abs(float(value))
    except (TypeError, ValueError):
        return 0.01
    if v == 0:
        return 0.01
    import math

    return float(10 ** math.floor(math.log10(v)))
