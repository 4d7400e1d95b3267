"""Hypothesis strategies for invalid run settings, each invalid by construction, with the message it must get.

One ``Bad`` is one mistake a user can make, in the forms the tools take it: a ``config`` dict for
RunConfig.from_dict (and the JSON of --config and bundles), ``flags`` for `train`/`submit`, ``summary``
flags. Each says which ``field`` the one-line message must start with and a fragment of ``allowed``
(what the field accepts) it must contain. The same cases drive the dashboard's inline messages.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from hypothesis import strategies as st

from cnnkit.config import FIELD_NAMES, FIELD_PARAMS
from cnnkit.models import registry, shapes
from cnnkit.params import Param

TRAIN_FLAGS = ("epochs", "lr", "batch_size", "optimizer", "schedule", "init", "seed", "subset", "input_size",
               "device")  # the fields with a flag of their own (cnnkit.cli.common.TRAIN_FLAGS)
# Letters that spell none of: a number (inf, nan, e), a bool (true, yes, on, off, …), none/null/native/auto,
# any choice (sgd, adam, relu, max, cifar10, …) or a device (cpu, cuda): text made of them never parses.
JUNK_ALPHABET = "bdghjkmpqwxzBDGHJKMPQWXZ!#%^&*()[]{}<>?|~;:'\"/"
MODELS = ("lenet", "mlp")  # models whose knobs the cases exercise (all knob kinds occur among them)


@dataclass(frozen=True)
class Bad:
    """One invalid setting and the message it must be refused with."""

    field: str  # the message starts with "<field>: "
    allowed: str  # … and contains this
    what: str  # a short label for the ledger
    config: dict[str, Any] | None = None  # RunConfig.from_dict input
    flags: tuple[str, ...] | None = None  # `train`/`submit` flags (the model included)
    cli_field: str | None = None  # the field the CLI names, when it differs (knobs: "fc", not "model_options.fc")
    slow: bool = False  # needs the shape check of a model (a fraction of a second)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def cli_name(self) -> str:
        return self.cli_field or self.field

    @property
    def cli_allowed(self) -> str:
        return self.extra.get("cli_allowed", self.allowed)


# ---- values and texts a Param refuses -----------------------------------------------------------

junk_text = st.text(JUNK_ALPHABET + "0123456789 ,", min_size=1, max_size=12).filter(
    lambda t: any(c in JUNK_ALPHABET for c in t))
any_junk_value = st.one_of(
    st.text(max_size=8), st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(),
                                                                               max_size=1))


def below_range(p: Param) -> st.SearchStrategy:
    if p.kind in ("int", "ints"):
        return st.integers(max_value=int(p.low) - (0 if p.open_low else 1), min_value=-(10**12))
    edge = st.just(float(p.low)) if p.open_low else st.nothing()
    return edge | st.floats(max_value=p.low, exclude_max=True, allow_nan=False, allow_infinity=False,
                            min_value=-1e300)


def above_range(p: Param) -> st.SearchStrategy:
    if p.kind in ("int", "ints"):
        return st.integers(min_value=int(p.high) + 1, max_value=10**12)
    return st.floats(min_value=p.high, exclude_min=True, allow_nan=False, allow_infinity=False, max_value=1e300)


def _out_of_range(p: Param) -> st.SearchStrategy:
    return below_range(p) | above_range(p)


def _not_integer(p: Param) -> st.SearchStrategy:
    return st.floats(p.low, p.high, allow_nan=False).filter(lambda x: not x.is_integer())


NON_FINITE = st.sampled_from([math.nan, math.inf, -math.inf])
HUGE = st.sampled_from([10**400, -(10**400), 2**1100])  # past any float: JSON can hold them, float() cannot


def bad_scalar_value(p: Param) -> st.SearchStrategy:
    """A Python value that ``p`` (a scalar kind) refuses."""
    kind = p.kind
    none = st.nothing() if p.optional else st.none()
    if kind == "bool":
        return st.integers(0, 1) | st.text(max_size=5) | st.floats(allow_nan=False) | none
    if kind == "str":
        if p.choices:
            return st.text(max_size=12).filter(lambda s: s not in p.choices) | st.integers() | st.booleans() | none
        return st.integers() | st.booleans() | st.lists(st.text(max_size=2), max_size=2) | none
    if p.choices:  # numeric choices (a knob's kernel size)
        numbers = st.integers(-1000, 1000).filter(lambda v: v not in p.choices)
    else:
        numbers = _out_of_range(p) | NON_FINITE | HUGE
        if kind == "int":
            numbers |= _not_integer(p)
    return numbers | st.text(max_size=6) | st.booleans() | st.lists(st.integers(), max_size=2) | none


def bad_value(p: Param) -> st.SearchStrategy:
    """A Python value that ``p`` refuses, list kinds included."""
    if p.kind not in ("ints", "floats", "strs"):
        return bad_scalar_value(p)
    item_kind = p.kind[:-1]
    item = Param(p.name, item_kind, None, choices=p.choices, low=p.low, high=p.high, open_low=p.open_low)
    good_item = (st.sampled_from(p.choices) if p.choices else
                 st.integers(int(p.low) + (1 if p.open_low else 0), int(p.high)) if item_kind == "int" else
                 st.floats(p.low, p.high, exclude_min=p.open_low))
    one_bad = st.tuples(st.lists(good_item, max_size=max(0, p.max_len - 1)), bad_scalar_value(item).filter(
        lambda v: v is not None), st.integers(0, 8)).map(lambda t: [*t[0][:t[2]], t[1], *t[0][t[2]:]])
    too_long = st.lists(good_item, min_size=p.max_len + 1, max_size=p.max_len + 3)
    options = [one_bad, too_long, st.text(max_size=6), st.integers(), st.none()]
    if p.min_len:
        options.append(st.just([]))
    if p.kind == "strs":
        options.append(st.sampled_from(p.choices).map(lambda c: [c, c]))
    return st.one_of(options)


def bad_scalar_text(p: Param) -> st.SearchStrategy:
    """Command-line text that ``p`` (a scalar kind) refuses."""
    if p.kind == "bool":
        return junk_text | st.sampled_from(["2", "-1", "truee", "y e s"])
    if p.kind == "str":
        if p.name == "device":
            return junk_text | st.sampled_from(["gpu", "cuda:", "cuda:123", "cuda:-1", "cpu0", "CUDA", "tpu"])
        return junk_text | st.sampled_from([c.upper() + "x" for c in p.choices] or ["x"])
    if p.choices:  # numeric choices (a knob's kernel size)
        return junk_text | st.integers(-50, 50).filter(lambda v: v not in p.choices).map(str)
    texts = junk_text | _out_of_range(p).map(repr)
    if p.kind == "float":
        texts |= st.sampled_from(["nan", "inf", "-inf", "1e999", "1" + "0" * 400])
    else:
        texts |= _not_integer(p).map(repr) | st.sampled_from(["0x10", "1e3", "2.0.0"])
    if not p.optional:
        texts |= st.just("none")
    return texts


def bad_text(p: Param) -> st.SearchStrategy:
    if p.kind not in ("ints", "floats", "strs"):
        return bad_scalar_text(p)
    item = Param(p.name, p.kind[:-1], None, choices=p.choices, low=p.low, high=p.high, open_low=p.open_low)
    good = (st.sampled_from(p.choices) if p.choices else
            st.integers(int(p.low) + (1 if p.open_low else 0), int(p.high)).map(str) if p.kind == "ints" else
            st.floats(p.low, p.high, exclude_min=p.open_low).map(repr))
    one_bad = st.tuples(st.lists(good, max_size=max(0, p.max_len - 1)), bad_scalar_text(item).filter(
        lambda t: "," not in t and t.strip() not in ("", "none")), st.integers(0, 8)).map(
        lambda t: ",".join([*t[0][:t[2]], t[1], *t[0][t[2]:]]))
    options = [one_bad, st.lists(good, min_size=p.max_len + 1, max_size=p.max_len + 3).map(",".join)]
    if p.min_len:
        options.append(st.just(""))
    if p.kind == "strs":
        options.append(st.sampled_from(p.choices).map(lambda c: f"{c},{c}"))
    return st.one_of(options)


def _allowed(p: Param) -> str:
    if p.name == "device":
        return "auto, cpu, cuda or cuda:N"
    return p.allowed()


# ---- the cases ----------------------------------------------------------------------------------

VALUE_FIELDS = [n for n in FIELD_PARAMS if n != "model"]


@st.composite
def bad_field_config(draw: st.DrawFn) -> Bad:
    """One config field set to a value it refuses (model unknown or not a string included)."""
    name = draw(st.sampled_from(["model", *VALUE_FIELDS]))
    if name == "model":
        value = draw(st.text(max_size=10).filter(lambda s: s not in registry.names()) | st.integers())
        allowed = "must be one of lenet" if isinstance(value, str) else "a string"
        return Bad("model", allowed, "config: model", config={"model": value})
    p = FIELD_PARAMS[name]
    if name == "device":  # a string the device pattern refuses, or not a string at all
        value = draw(bad_scalar_text(p) | bad_value(p) | st.sampled_from(["cpu\n", "auto\n", "cuda:0\n"]))
        allowed = _allowed(p) if isinstance(value, str) else "a string"
        return Bad("device", allowed, "config: device", config={"device": value})
    return Bad(name, _allowed(p), f"config: {name}", config={name: draw(bad_value(p))})


@st.composite
def bad_field_flags(draw: st.DrawFn) -> Bad:
    """One config field given text it refuses, through its own flag or through --set."""
    name = draw(st.sampled_from(["model", "dataset", *VALUE_FIELDS]))
    if name == "model":
        text = draw(junk_text)
        how = draw(st.sampled_from(["flag", "set"]))
        flags = (f"--model={text}",) if how == "flag" else (f"--set=model={text}",)
        return Bad("model", "must be one of lenet", "flags: model", flags=flags)
    p = FIELD_PARAMS[name]
    text = draw(bad_text(p))
    own_flag = name in TRAIN_FLAGS or name == "dataset"
    if own_flag and draw(st.booleans()):
        flags = (f"--{name.replace('_', '-')}={text}",)
    else:
        flags = (f"--set={name}={text}",)
    return Bad(name, _allowed(p), f"flags: {name}", flags=flags)


@st.composite
def bad_knob(draw: st.DrawFn) -> Bad:
    """A model option set to a value (config) or text (flags) its knob refuses."""
    model = draw(st.sampled_from(MODELS))
    knobs = registry.get(model).knobs
    knob = draw(st.sampled_from(sorted(knobs)))
    p = knobs[knob]
    value = draw(bad_value(p))
    text = draw(bad_text(p))
    return Bad(f"model_options.{knob}", p.allowed(), f"knob: {model}.{knob}", cli_field=knob,
               config={"model": model, "model_options": {knob: value}},
               flags=(f"--model={model}", f"--set={knob}={text}"))


key_text = st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=14)
# Any name a user could type or a JSON file could hold: control characters, quotes, spaces, other scripts.
# (Not "=": it ends a --set key; no surrounding blanks: the command line strips them; neither NUL nor lone
# surrogates, which no command line can carry.)
odd_key = (st.sampled_from(["a\nb", "tab\there", "x\ry", "bell\x07"])
           | st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00="), min_size=1, max_size=10)
           ).filter(lambda k: k == k.strip() and not k.startswith("-"))


def shown(name: str) -> str:
    """How a message names a field: as it is, or quoted when it holds characters that would break the line."""
    return name if name.isprintable() else repr(name)


@st.composite
def unknown_key(draw: st.DrawFn) -> Bad:
    """A field or option that does not exist."""
    model = draw(st.sampled_from(MODELS))
    key = draw((key_text | odd_key).filter(lambda k: k not in FIELD_NAMES and k not in registry.get(model).knobs))
    where = draw(st.sampled_from(["field", "option"]))
    config = {"model": model, key: 1} if where == "field" else {"model": model, "model_options": {key: 1}}
    field_ = shown(key if where == "field" else f"model_options.{key}")
    allowed = "allowed: " + ("model" if where == "field" else (", ".join(registry.get(model).knobs) or "none"))
    return Bad(field_, allowed, f"unknown {where}", config=config, cli_field=shown(key),
               flags=(f"--model={model}", f"--set={key}=1"), extra={"cli_allowed": "allowed: model"})


@st.composite
def bad_options_shape(draw: st.DrawFn) -> Bad:
    value = draw(st.text(max_size=5) | st.lists(st.integers(), max_size=2) | st.integers() | st.none())
    return Bad("model_options", "must be a mapping", "config: model_options not a mapping",
               config={"model_options": value})


@st.composite
def warmup_past_the_end(draw: st.DrawFn) -> Bad:
    epochs = draw(st.integers(1, 100))
    warmup = draw(st.floats(epochs, 100))
    return Bad("warmup_epochs", f"below epochs ({epochs})", "warm-up not below epochs",
               config={"epochs": epochs, "warmup_epochs": warmup},
               flags=(f"--epochs={epochs}", f"--set=warmup_epochs={warmup!r}"))


def _options(command: str) -> set[str]:
    from cnnkit.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.__class__.__name__ == "_SubParsersAction")
    return set(sub.choices[command]._option_string_actions)


KNOWN_OPTIONS = _options("train") | _options("submit") | _options("summary")


@st.composite
def malformed_flag(draw: st.DrawFn) -> Bad:
    """--set without '=', or a flag that does not exist (nor abbreviates one: argparse takes prefixes)."""
    if draw(st.booleans()):
        return Bad("--set", "must look like key=value", "flags: --set without =",
                   flags=(f"--set={draw(key_text)}",))
    flag = draw(key_text.map(lambda k: "--" + k.replace("_", "-")).filter(
        lambda f: f.strip("-") and not any(known.startswith(f) for known in KNOWN_OPTIONS)))
    return Bad(flag, "unrecognized arguments", "flags: unknown flag", flags=(f"{flag}=1",),
               extra={"loose": True})


@st.composite
def bad_labels(draw: st.DrawFn) -> Bad:
    """A run name or tags the store would not keep (rename and bundles refuse the same)."""
    kind = draw(st.sampled_from(["name", "tag", "tags"]))
    if kind == "name":
        name = draw(st.text("abc xyz", min_size=201, max_size=400).filter(lambda n: len(n.strip()) > 200))
        return Bad("name", "1–200 characters", "flags: --name too long", flags=(f"--name={name}",),
                   extra={"loose": True})
    if kind == "tag":
        tag = draw(st.text("abc", min_size=51, max_size=80))
        return Bad("tags", "each at most 50 characters", "flags: --tag too long", flags=(f"--tag={tag}",))
    count = draw(st.integers(21, 30))
    return Bad("tags", "at most 20", "flags: too many --tag", flags=tuple(f"--tag=t{i}" for i in range(count)))


SWEEPABLE = [n for n, p in FIELD_PARAMS.items() if p.kind not in ("ints", "floats", "strs")
             and n not in ("model", "dataset")]


@st.composite
def bad_submit_flags(draw: st.DrawFn) -> Bad:
    """What only `submit` takes: --sweep axes and --seeds."""
    kind = draw(st.sampled_from(["no =", "bad level", "twice", "seeds", "seeds text", "too many"]))
    if kind == "no =":
        return Bad("--sweep", "must look like key=value", "submit: --sweep without =",
                   flags=(f"--sweep={draw(key_text)}",))
    if kind == "bad level":
        key = draw(st.sampled_from(SWEEPABLE))
        p = FIELD_PARAMS[key]
        level = draw(bad_text(p).filter(lambda t: "," not in t and "|" not in t))
        good = {"float": "0.5", "int": "1", "bool": "true", "str": p.choices[0] if p.choices else "cpu"}[p.kind]
        return Bad(key, _allowed(p), f"submit: --sweep {key}", flags=(f"--sweep={key}={good},{level}",))
    if kind == "twice":
        return Bad("sweep", "each key may be swept once", "submit: a key swept twice",
                   flags=("--sweep=lr=0.1,0.2", "--sweep=lr=0.3"))
    if kind == "seeds":
        seeds = draw(st.integers(21, 10**6) | st.integers(-100, 0))
        return Bad("seeds", "an integer in [1, 20]", "submit: --seeds out of range", flags=(f"--seeds={seeds}",))
    if kind == "seeds text":
        text = draw(junk_text)
        return Bad("--seeds", "invalid int value", "submit: --seeds not a number", flags=(f"--seeds={text}",),
                   extra={"loose": True})
    a, b = draw(st.integers(20, 40)), draw(st.integers(26, 40))  # more than 500 runs
    lrs = ",".join(f"0.{i + 1:03d}" for i in range(a))
    seeds = ",".join(str(i) for i in range(b))
    return Bad("sweep", "at most 500", "submit: sweep too large", flags=(f"--sweep=lr={lrs}", f"--sweep=seed={seeds}"))


# ---- impossible architectures --------------------------------------------------------------------

@cache
def smallest_input(model: str) -> int:
    """The smallest input the model takes with its default options (its shape check finds it)."""
    return shapes.smallest_input(model, 1)


@st.composite
def impossible_architecture(draw: st.DrawFn) -> Bad:
    """A model whose feature maps collapse: AlexNet's stem on a small input, deep nets at a few pixels,
    LeNet with conv layers whose kernel eats the map after the first pooling."""
    kind = draw(st.sampled_from(["alexnet", "lenet", "other"]))
    if kind == "lenet":
        kernel = draw(st.sampled_from([5, 7, 9, 11]))
        layers = draw(st.integers(2, 8))
        smallest = 2 * kernel + 2  # conv1 keeps the side, the pool halves it, conv2 takes kernel−1, the pool halves
        size = draw(st.integers(8, smallest - 1))
        options = {"kernel_size": kernel, "conv_layers": layers}
        flags = ("--model=lenet", f"--input-size={size}", f"--set=kernel_size={kernel}",
                 f"--set=conv_layers={layers}")
        return Bad("input_size", f"lenet needs at least {smallest}×{smallest} input", "collapse: lenet conv layers",
                   config={"model": "lenet", "input_size": size, "model_options": options}, flags=flags, slow=True,
                   extra={"model": "lenet", "size": size, "options": options})
    model = "alexnet" if kind == "alexnet" else draw(st.sampled_from(["vgg11", "vgg16", "nin", "course-cnn"]))
    smallest = smallest_input(model)
    size = draw(st.integers(8, smallest - 1))
    return Bad("input_size", f"{model} needs at least {smallest}×{smallest} input", f"collapse: {model}",
               config={"model": model, "input_size": size}, flags=(f"--model={model}", f"--input-size={size}"),
               slow=True, extra={"model": model, "size": size, "options": {}})


# ---- `summary` ----------------------------------------------------------------------------------

SUMMARY_PARAMS = {  # the flags of `summary` and the bounds cnnkit.cli gives them
    "--input-size": Param("input_size", "int", None, low=1, high=1024, optional=True),
    "--in-channels": Param("in_channels", "int", 1, low=1, high=16),
    "--num-classes": Param("num_classes", "int", 10, low=2, high=100_000),
}


@st.composite
def bad_summary(draw: st.DrawFn) -> Bad:
    """`summary` arguments (everything after the command) with one mistake."""
    kind = draw(st.sampled_from(["model", "number", "knob", "training field", "unknown", "no =", "format",
                                 "collapse"]))
    model = draw(st.sampled_from(MODELS))
    noise = draw(st.lists(st.sampled_from(["--format=json", "--num-classes=5", "--in-channels=3"]), max_size=2,
                          unique=True))
    if kind == "model":
        name = draw(junk_text)
        return Bad("model", "must be one of lenet", "summary: model", flags=(name, *noise))
    if kind == "number":
        flag = draw(st.sampled_from(sorted(SUMMARY_PARAMS)))
        p = SUMMARY_PARAMS[flag]
        return Bad(p.name, p.allowed(), f"summary: {flag}", flags=(model, *noise, f"{flag}={draw(bad_text(p))}"))
    if kind == "knob":
        knob = draw(st.sampled_from(sorted(registry.get(model).knobs)))
        p = registry.get(model).knobs[knob]
        text = draw(bad_text(p))
        return Bad(knob, p.allowed(), f"summary: {model}.{knob}", flags=(model, *noise, f"--set={knob}={text}"))
    if kind == "training field":
        key = draw(st.sampled_from(VALUE_FIELDS))
        return Bad(key, "summary takes", "summary: a training field", flags=(model, *noise, f"--set={key}=1"))
    if kind == "unknown":
        key = draw(key_text.filter(lambda k: k not in FIELD_NAMES and k not in registry.get(model).knobs))
        return Bad(key, "allowed: model", "summary: unknown option", flags=(model, *noise, f"--set={key}=1"))
    if kind == "no =":
        return Bad("--set", "must look like key=value", "summary: --set without =",
                   flags=(model, *noise, f"--set={draw(key_text)}"))
    if kind == "format":
        fmt = draw(key_text.filter(lambda f: f not in ("table", "json", "csv")))
        return Bad("--format", "choose from", "summary: --format", flags=(model, f"--format={fmt}"),
                   extra={"loose": True})
    arch = draw(impossible_architecture())
    size = draw(st.integers(1, arch.extra["size"]))  # summary takes any side from 1
    options = tuple(f"--set={k}={v}" for k, v in arch.extra["options"].items())
    return Bad("input_size", arch.allowed, f"summary: {arch.what}", slow=True,
               flags=(arch.extra["model"], *noise, f"--input-size={size}", *options))


# ---- the mixes the tests draw from ----------------------------------------------------------------

def bad_configs() -> st.SearchStrategy[Bad]:
    """Invalid RunConfig dicts (cheap ones; impossible architectures are drawn separately)."""
    return st.one_of(bad_field_config(), bad_knob(), unknown_key(), bad_options_shape(), warmup_past_the_end())


def bad_flag_sets() -> st.SearchStrategy[Bad]:
    """Invalid `train`/`submit` flags (cheap ones)."""
    return st.one_of(bad_field_flags(), bad_knob(), unknown_key(), warmup_past_the_end(), malformed_flag(),
                     bad_labels())


# Valid flags mixed in around the bad one: the mistake must be found wherever it sits.
harmless_flags = st.lists(st.sampled_from([
    ("--epochs=1",), ("--batch-size=64",), ("--name=a run",), ("--tag=x",), ("--set=subset=0.5",),
    ("--set=normalize=true",), ("--optimizer=adam",), ("--json",), ("--set=augment=crop,flip",),
]), max_size=3, unique=True).map(lambda groups: tuple(f for g in groups for f in g))
