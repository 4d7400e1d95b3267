"""A search space as users type it (``--space lr=log:1e-3:1 --space batch_size=64,128,256``) and as
Optuna samples it.

Three forms per key, checked against the key's own bounds (a config field or a model option):
``KEY=log:LOW:HIGH`` (log-uniform), ``KEY=LOW:HIGH`` (uniform; integers for an integer field) and
``KEY=V1,V2,…`` (a choice; ``|`` separates the values of list fields: ``fc=120,84|256``).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cnnkit.config import RunConfig, param_for
from cnnkit.errors import ConfigError
from cnnkit.params import Param

if TYPE_CHECKING:
    from optuna.distributions import BaseDistribution

FLAG = "--space"
SYNTAX = "write KEY=log:LOW:HIGH, KEY=LOW:HIGH or KEY=V1,V2,… (| between list values: fc=120,84|256)"
LIST_KINDS = ("ints", "floats", "strs")
NUMBER_KINDS = ("int", "float")
MAX_DIMENSIONS = 8


@dataclass(frozen=True)
class Dimension:
    """One searched key: a log or linear range of numbers, or a choice among values.

    Choices of list fields are kept as their text ("120,84"): Optuna's choices must be plain values.
    """

    key: str
    text: str  # as the user typed it, after the "="
    kind: str  # "log", "range" or "choice"
    integer: bool = False
    low: float = 0.0
    high: float = 0.0
    choices: tuple[Any, ...] = ()

    def distribution(self) -> BaseDistribution:
        from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

        if self.kind == "choice":
            return CategoricalDistribution(self.choices)
        if self.integer:
            return IntDistribution(int(self.low), int(self.high), log=self.kind == "log")
        return FloatDistribution(self.low, self.high, log=self.kind == "log")

    def describe(self) -> str:
        """"lr in [0.001, 1] (log)", "batch_size in {64, 128, 256}"."""
        if self.kind == "choice":
            sep = " | " if any("," in str(c) for c in self.choices) else ", "
            return f"{self.key} in {{{sep.join(map(str, self.choices))}}}"
        return f"{self.key} in [{self.low:g}, {self.high:g}]" + (" (log)" if self.kind == "log" else "")


@dataclass(frozen=True)
class SearchSpace:
    model: str  # the model whose options the keys may name
    dimensions: tuple[Dimension, ...]

    @property
    def keys(self) -> list[str]:
        return [d.key for d in self.dimensions]

    def distributions(self) -> dict[str, BaseDistribution]:
        return {d.key: d.distribution() for d in self.dimensions}

    def apply(self, base: RunConfig, params: dict[str, Any]) -> RunConfig:
        """``base`` with a trial's values (keys of the space; the others keep base's); ConfigError when
        the combination does not fit the model."""
        config = base
        for dim in self.dimensions:  # "model" first (see parse_space): a model change drops the options
            if dim.key not in params:
                continue
            value = params[dim.key]
            param = param_for(config.model, dim.key)
            if param.kind in LIST_KINDS:
                value = param.parse(value, dim.key)
            config = config.with_value(dim.key, value)
        config.check_fits()
        return config

    def params_of(self, config: dict[str, Any]) -> dict[str, Any]:
        """The searched values of a run's config, as Optuna holds them (list values as text)."""
        values = {**config, **config.get("model_options", {})}
        model = config.get("model", self.model)
        return {d.key: _choice_value(values[d.key] if d.key in values else param_for(model, d.key).default)
                for d in self.dimensions}

    def to_meta(self) -> dict[str, str]:
        """{key: text}: what a search group stores; ``parse_space(model, meta.items())`` reads it back."""
        return {d.key: d.text for d in self.dimensions}

    def describe(self) -> str:
        return "; ".join(d.describe() for d in self.dimensions)


def parse_space(model: str, items: Iterable[str | tuple[str, str]]) -> SearchSpace:
    """Parse ``KEY=SPEC`` items (or (key, spec) pairs); ConfigError naming ``--space`` when one is wrong."""
    items = list(items)
    if len(items) > MAX_DIMENSIONS:
        raise ConfigError(FLAG, f"at most {MAX_DIMENSIONS} keys, got {len(items)}")
    dimensions: list[Dimension] = []
    for item in items:
        key, text = item if isinstance(item, tuple) else _split(item)
        if key in [d.key for d in dimensions]:
            raise ConfigError(FLAG, f"{key} is given twice; one {FLAG} per key")
        dimensions.append(_dimension(model, key, text))
    if not dimensions:
        raise ConfigError(FLAG, f"give at least one key to search; {SYNTAX}")
    dimensions.sort(key=lambda d: d.key != "model")  # stable: the model first, the rest as given
    return SearchSpace(model, tuple(dimensions))


def check_space(base: RunConfig, space: SearchSpace) -> None:
    """Every bound and every choice of each key must make a valid config on its own (a combination
    that does not fit, say a kernel too big for a size, is a failed trial at worst)."""
    for dim in space.dimensions:
        values = dim.choices if dim.kind == "choice" else (dim.low, dim.high)
        for value in values:
            try:
                space.apply(base, {dim.key: value})
            except ConfigError as exc:
                raise ConfigError(FLAG, f"{dim.key}={value}: {_reason(exc, dim.key)}") from None


def _split(item: str) -> tuple[str, str]:
    if "=" not in item:
        raise ConfigError(FLAG, f"must look like KEY=SPEC, got {item!r}; {SYNTAX}")
    key, text = item.split("=", 1)
    return key.strip(), text.strip()


def _dimension(model: str, key: str, text: str) -> Dimension:
    try:
        param = param_for(model, key)
    except ConfigError as exc:
        raise ConfigError(FLAG, f"{key!r} {_reason(exc, key)}") from None
    where = f"{key}={text}"
    if not text:
        raise ConfigError(FLAG, f"{where}: no values; {SYNTAX}")
    try:
        if ":" in text:
            return _range(key, text, param, where)
        return _choice(key, text, param, where)
    except ConfigError as exc:
        if exc.field == FLAG:
            raise
        raise ConfigError(FLAG, f"{where}: {_reason(exc, key)}") from None


def _range(key: str, text: str, param: Param, where: str) -> Dimension:
    parts = text.split(":")
    log = parts[0] == "log"
    bounds = parts[1:] if log else parts
    if len(bounds) != 2:
        raise ConfigError(FLAG, f"{where}: a range is LOW:HIGH or log:LOW:HIGH; {SYNTAX}")
    if param.kind not in NUMBER_KINDS or param.choices:
        raise ConfigError(FLAG, f"{where}: {key} takes {param.allowed()}, so only a choice V1,V2,…")
    low, high = (param.parse(b, key) for b in bounds)
    if low is None or high is None or not low < high:
        raise ConfigError(FLAG, f"{where}: a range needs LOW < HIGH")
    if log and low <= 0:
        raise ConfigError(FLAG, f"{where}: a log range needs LOW > 0")
    return Dimension(key, text, "log" if log else "range", param.kind == "int", low, high)


def _choice(key: str, text: str, param: Param, where: str) -> Dimension:
    parts = text.split("|") if "|" in text or param.kind in LIST_KINDS else text.split(",")
    values = [param.parse(p.strip(), key) for p in parts]
    choices = tuple(dict.fromkeys(_choice_value(v) for v in values))
    if len(choices) < 2:
        raise ConfigError(FLAG, f"{where}: a choice needs at least two different values")
    return Dimension(key, text, "choice", choices=choices)


def _choice_value(value: Any) -> Any:
    """A value as an Optuna choice: plain values as they are, lists as their text."""
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    return value


def _reason(exc: ConfigError, key: str) -> str:
    """The message of a ConfigError without the "key: " it starts with."""
    text = str(exc)
    prefix = f"{exc.field}: "
    return text[len(prefix):] if text.startswith(prefix) else text
