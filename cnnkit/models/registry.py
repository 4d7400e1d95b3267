"""The model registry: name → builder, native input, channels, knobs, description and paper."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from torch import nn

from cnnkit.data.datasets import DATASETS
from cnnkit.errors import ConfigError
from cnnkit.params import Param

Builder = Callable[..., nn.Module]


@dataclass(frozen=True)
class ModelSpec:
    """How to build one architecture and what it expects.

    ``builder(in_channels, num_classes, input_size, **options)`` returns the module.
    ``in_channels`` is None when the model adapts to the dataset (1 for MNIST, 3 for CIFAR-10).
    ``recipe`` holds the reference training settings (d2l's, where d2l trains the model).
    """

    name: str
    builder: Builder
    native_input: int
    description: str
    paper: str
    knobs: dict[str, Param] = field(default_factory=dict)
    in_channels: int | None = None
    recipe: dict[str, Any] = field(default_factory=dict)
    family: str = "cnn"

    def input_shape(self, dataset_channels: int, input_size: int | None = None) -> tuple[int, int, int]:
        """(C, H, W) the model takes from a dataset of ``dataset_channels``: its own channels where it
        fixes them, the dataset's otherwise; ``input_size`` None means the native side."""
        size = input_size or self.native_input
        return (self.in_channels or dataset_channels, size, size)

    def build(self, in_channels: int, num_classes: int, input_size: int, options: dict[str, Any]) -> nn.Module:
        """The module, with ``options`` (already checked against the knobs) over the knobs' defaults."""
        return self.builder(in_channels, num_classes, input_size, **({k: p.default for k, p in self.knobs.items()}
                                                                      | options))


# Filled by the family modules as they are imported; cnnkit/models/__init__.py imports them all.
MODELS: dict[str, ModelSpec] = {}


def register(spec: ModelSpec) -> ModelSpec:
    MODELS[spec.name] = spec
    return spec


def knobs(*params: Param) -> dict[str, Param]:
    return {p.name: p for p in params}


def get(name: str) -> ModelSpec:
    if name not in MODELS:
        raise ConfigError("model", f"must be one of {', '.join(names())}, got {name!r}")
    return MODELS[name]


ORDER = ("lenet", "alexnet", "vgg11", "vgg16", "nin", "googlenet", "resnet18", "mlp", "course-cnn")


def names() -> list[str]:
    """Registered models, the classic ones in historical order first."""
    return sorted(MODELS, key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER), n))


def check_options(name: str, options: dict[str, Any]) -> dict[str, Any]:
    """Validate ``options`` against the model's knobs; returns them normalised (lists → tuples)."""
    spec = get(name)
    if not isinstance(options, dict):
        raise ConfigError("model_options", f"must be a mapping of option → value, got {options!r}")
    checked = {}
    for key, value in options.items():
        if key not in spec.knobs:
            allowed = ", ".join(spec.knobs) or "none"
            raise ConfigError(f"model_options.{key}", f"is not an option of {name}; allowed: {allowed}")
        checked[key] = spec.knobs[key].check(value, f"model_options.{key}")
    return checked


def build_model(
    name: str,
    in_channels: int = 1,
    num_classes: int = 10,
    input_size: int | None = None,
    **options: Any,
) -> nn.Module:
    """Build ``name`` with its knobs. ``input_size`` None means the model's native input."""
    spec = get(name)
    return spec.build(in_channels, num_classes, input_size or spec.native_input, check_options(name, options))


def input_shape(name: str, dataset: str, input_size: int | None) -> tuple[int, int, int]:
    """(C, H, W) model ``name`` takes from ``dataset``; ``input_size`` None means its native side."""
    return get(name).input_shape(DATASETS[dataset].channels, input_size)

