"""RunConfig: everything that defines a training run, validated against allow-lists and bounds."""
from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass, field
from typing import Any

from cnnkit.data.datasets import DATASETS
from cnnkit.errors import ConfigError
from cnnkit.params import Param
from cnnkit.text import options_text

# cnnkit.models is imported inside the functions that use it: it imports torch (about a second), and
# `import cnnkit.config` stays light for the CLI and the dashboard.

__all__ = ["RunConfig", "ConfigError", "FIELD_PARAMS", "DATASET_NAMES"]

DATASET_NAMES = tuple(DATASETS)
OPTIMIZERS = ("sgd", "sgd-momentum", "adam", "adamw")
SCHEDULES = ("constant", "step", "cosine")
INITS = ("default", "xavier", "kaiming")
AUGMENTATIONS = ("crop", "flip", "pca")
_DEVICE_RE = re.compile(r"^(auto|cpu|cuda(:\d{1,2})?)\Z")  # \Z, not $: "cpu\n" is no device


def _p(default: Any, kind: str, help: str, **bounds: Any) -> Any:
    """A dataclass field whose metadata carries its Param (the name is filled in below)."""
    return field(default=default, metadata={"param": Param("", kind, default, help=help, **bounds)})


@dataclass
class RunConfig:
    """One training run. Construction validates every field; bad values raise ConfigError."""

    model: str = _p("lenet", "str", "architecture name from the registry")
    model_options: dict = field(default_factory=dict, metadata={"help": "the model's knobs"})
    dataset: str = _p("fashion-mnist", "str", "dataset", choices=DATASET_NAMES)
    permute_pixels: bool = _p(False, "bool", "shuffle pixel positions by one fixed permutation")
    normalize: bool = _p(False, "bool", "subtract the dataset mean, divide by its std")
    subset: float = _p(1.0, "float", "fraction of the training set (stratified)", low=0, high=1, open_low=True)
    test_subset: float = _p(1.0, "float", "fraction of the test set (stratified)", low=0, high=1, open_low=True)
    input_size: int | None = _p(None, "int", "side of the model input in pixels; none = the model's native size",
                                low=8, high=512, optional=True)
    epochs: int = _p(10, "int", "passes over the training set", low=1, high=1000)
    batch_size: int = _p(256, "int", "images per step", low=1, high=8192)
    optimizer: str = _p("sgd", "str", "optimizer", choices=OPTIMIZERS)
    lr: float = _p(0.1, "float", "peak learning rate", low=0, high=1000, open_low=True)
    momentum: float = _p(0.9, "float", "momentum of sgd-momentum", low=0, high=0.999)
    weight_decay: float = _p(0.0, "float", "L2 penalty", low=0, high=1)
    schedule: str = _p("constant", "str", "learning-rate schedule", choices=SCHEDULES)
    warmup_epochs: float = _p(0.0, "float", "linear warm-up length in epochs", low=0, high=100)
    step_milestones: tuple = _p((0.5, 0.75), "floats", "step schedule: fractions of training where lr drops",
                                low=0, high=1, open_low=True, min_len=1, max_len=8)
    step_gamma: float = _p(0.1, "float", "step schedule: factor at each milestone", low=0, high=1, open_low=True)
    init: str = _p("default", "str", "weight initialisation", choices=INITS)
    seed: int = _p(0, "int", "random seed", low=0, high=2**31 - 1)
    shuffle: bool = _p(True, "bool", "reshuffle the training set every epoch")
    label_smoothing: float = _p(0.0, "float", "label smoothing of the loss", low=0, high=0.99)
    augment: tuple = _p((), "strs", "training augmentations", choices=AUGMENTATIONS, max_len=3)
    crop_padding: int = _p(4, "int", "padding of the random crop in pixels", low=0, high=64)
    device: str = _p("auto", "str", "auto, cpu, cuda or cuda:N")
    amp: bool = _p(True, "bool", "bf16 autocast on CUDA (ignored on the CPU)")
    softmax_before_loss: bool = _p(False, "bool", "the classic mistake: softmax before CrossEntropyLoss")
    reports_per_epoch: int = _p(5, "int", "train-metric points per epoch", low=1, high=100)

    def __post_init__(self) -> None:
        for name, param in FIELD_PARAMS.items():
            setattr(self, name, param.check(getattr(self, name)))
        if not _DEVICE_RE.match(self.device):
            raise ConfigError("device", f"must be auto, cpu, cuda or cuda:N, got {self.device!r}")
        if self.warmup_epochs >= self.epochs:
            raise ConfigError("warmup_epochs", f"must be below epochs ({self.epochs}), got {self.warmup_epochs:g}")
        from cnnkit.models import registry

        self.model_options = registry.check_options(self.model, self.model_options)

    # ---- conversions -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        return json.loads(json.dumps(out))  # tuples → lists: the JSON view

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunConfig:
        if not isinstance(data, dict):
            raise ConfigError("config", f"must be a JSON object, got {type(data).__name__}")
        unknown = sorted(set(data) - set(FIELD_NAMES))
        if unknown:
            raise ConfigError(unknown[0], f"is not a config field; allowed: {', '.join(FIELD_NAMES)}")
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> RunConfig:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError("config", f"is not valid JSON ({exc.msg} at line {exc.lineno})") from None
        except ValueError as exc:  # a number past Python's limit on digits (int-from-text)
            raise ConfigError("config", f"is not valid JSON ({str(exc).split(':')[0]})") from None
        return cls.from_dict(data)

    # ---- edits -------------------------------------------------------------------------------
    def replace(self, **changes: Any) -> RunConfig:
        """A validated copy with ``changes``; a model change drops options the new model lacks."""
        data = self.to_dict()
        if "model" in changes and changes["model"] != self.model and "model_options" not in changes:
            data["model_options"] = {}
        data.update(changes)
        return RunConfig.from_dict(data)

    def with_value(self, key: str, value: Any) -> RunConfig:
        """Set a config field, or else a model option, by name (as ``--set key=value`` does)."""
        if key in FIELD_PARAMS or key in ("model", "model_options"):
            return self.replace(**{key: value})
        return self.replace(model_options={**self.model_options, key: value})

    def with_text(self, key: str, text: str) -> RunConfig:
        """Like with_value, parsing ``text`` with the type of the field or model option."""
        return self.with_value(key, param_for(self.model, key).parse(text))

    def check_fits(self) -> None:
        """Raise ConfigError when the model cannot take this input (a collapsed feature map)."""
        from cnnkit.models import registry, shapes

        shapes.check_fits(self.model, self.model_options,
                          registry.input_shape(self.model, self.dataset, self.input_size))

    def label(self) -> str:
        """A short human label: model and the options that differ from its defaults."""
        return options_text(self.model, self.model_options)


FIELD_PARAMS: dict[str, Param] = {
    f.name: dataclasses.replace(f.metadata["param"], name=f.name)
    for f in dataclasses.fields(RunConfig)
    if "param" in f.metadata
}
FIELD_NAMES = tuple(f.name for f in dataclasses.fields(RunConfig))


def param_for(model: str, key: str) -> Param:
    """The Param of a config field, or of ``model``'s option ``key``; ConfigError if neither."""
    from cnnkit.models import registry

    if key == "model":  # a field whose allowed values live in the registry
        return Param("model", "str", "lenet", choices=tuple(registry.names()))
    if key in FIELD_PARAMS:
        return FIELD_PARAMS[key]

    knobs = registry.get(model).knobs
    if key not in knobs:
        allowed = ", ".join(list(FIELD_NAMES) + sorted(knobs))
        raise ConfigError(key, f"is neither a config field nor an option of {model}; allowed: {allowed}")
    return knobs[key]

