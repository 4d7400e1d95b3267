"""Typed, bounded parameters: one spec drives validation, CLI parsing and the dashboard's forms."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from cnnkit.errors import ConfigError
from cnnkit.text import value_text

KINDS = ("int", "float", "bool", "str", "ints", "strs", "floats")
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}
_NONE = {"none", "null", "native", "auto", ""}


@dataclass(frozen=True)
class Param:
    """A value's type and the values it may take.

    ``kind`` is one of KINDS; list kinds hold tuples. ``low``/``high`` bound numbers (and each item
    of a number list, and a list's length via ``min_len``/``max_len``); ``open_low`` makes the lower
    bound exclusive. ``optional`` allows None (meaning "the model's native value").
    """

    name: str
    kind: str
    default: Any
    choices: tuple = ()
    low: float | None = None
    high: float | None = None
    open_low: bool = False
    optional: bool = False
    min_len: int = 0
    max_len: int = 16
    help: str = ""

    def allowed(self) -> str:
        """A short phrase saying what this parameter accepts."""
        if self.choices:
            phrase = "one of " + ", ".join(map(str, self.choices))
            if self.kind == "strs":
                phrase = "a list of " + phrase
        elif self.kind == "bool":
            phrase = "true or false"
        elif self.kind in ("int", "float", "ints", "floats"):
            noun = "an integer" if self.kind in ("int", "ints") else "a number"
            lo = "(" if self.open_low else "["
            rng = f"{lo}{_bound(self.low)}, {_bound(self.high)}]"
            phrase = f"{noun} in {rng}"
            if self.kind in ("ints", "floats"):
                phrase = f"a list of {self.min_len}–{self.max_len} items, each {phrase}"
        else:
            phrase = "a string"
        return phrase + (", or none" if self.optional else "")

    def check(self, value: Any, field: str | None = None) -> Any:
        """Return ``value`` normalised (lists become tuples) or raise ConfigError."""
        field = field or self.name
        if value is None:
            if self.optional:
                return None
            raise ConfigError(field, f"must be {self.allowed()}, got none")
        if self.kind in ("ints", "floats", "strs"):
            if isinstance(value, str) or not isinstance(value, (list, tuple)):
                raise ConfigError(field, f"must be {self.allowed()}, got {value!r}")
            if not self.min_len <= len(value) <= self.max_len:
                raise ConfigError(field, f"must be {self.allowed()}, got {len(value)} items")
            item_kind = self.kind[:-1]
            items = tuple(self._check_scalar(v, item_kind, field) for v in value)
            if self.kind == "strs" and len(set(items)) != len(items):
                raise ConfigError(field, f"must be {self.allowed()}, each at most once: must not repeat items, "
                                         f"got {list(items)}")
            return items
        return self._check_scalar(value, self.kind, field)

    def _check_scalar(self, value: Any, kind: str, field: str) -> Any:
        bad = ConfigError(field, f"must be {self.allowed()}, got {value!r}")
        if kind == "bool":
            if not isinstance(value, bool):
                raise bad
            return value
        if kind == "str":
            if not isinstance(value, str) or (self.choices and value not in self.choices):
                raise bad
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad
        if kind == "int":
            if isinstance(value, float):
                if not value.is_integer():
                    raise bad
                value = int(value)
        else:
            try:
                value = float(value)
            except OverflowError:  # an int past any float (JSON can hold one): as out of range as inf
                raise bad from None
            if not math.isfinite(value):
                raise bad
        too_low = self.low is not None and (value <= self.low if self.open_low else value < self.low)
        too_high = self.high is not None and value > self.high
        if too_low or too_high or (self.choices and value not in self.choices):
            raise bad
        return value

    def parse(self, text: str, field: str | None = None) -> Any:
        """Parse a command-line string (``"0.1"``, ``"true"``, ``"120,84"``) and check it."""
        field = field or self.name
        raw = text.strip()
        if self.optional and raw.lower() in _NONE:
            return None
        if self.kind in ("ints", "floats", "strs"):
            parts = [p.strip() for p in raw.split(",")] if raw else []
            item_kind = self.kind[:-1]
            return self.check([_parse_scalar(p, item_kind, field, self) for p in parts], field)
        return self.check(_parse_scalar(raw, self.kind, field, self), field)


def _parse_scalar(raw: str, kind: str, field: str, param: Param) -> Any:
    try:
        if kind == "bool":
            low = raw.lower()
            if low in _TRUE:
                return True
            if low in _FALSE:
                return False
            raise ValueError
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        return raw
    except ValueError:
        raise ConfigError(field, f"must be {param.allowed()}, got {raw!r}") from None


def _bound(x: float | None) -> str:
    return "∞" if x is None else value_text(float(x))  # 2147483647, not 2.14748e+09
