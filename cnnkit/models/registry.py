"""The model registry: name → builder, native input, channels, knobs, description and paper."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

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


MODELS: dict[str, ModelSpec] = {}


def register(spec: ModelSpec) -> ModelSpec:
    MODELS[spec.name] = spec
    return spec


def knobs(*params: Param) -> dict[str, Param]:
    return {p.name: p for p in params}


def get(name: str) -> ModelSpec:
    _load_families()
    if name not in MODELS:
        raise ConfigError("model", f"must be one of {', '.join(names())}, got {name!r}")
    return MODELS[name]


ORDER = ("lenet", "alexnet", "vgg11", "vgg16", "nin", "googlenet", "resnet18", "mlp", "course-cnn")


def names() -> list[str]:
    """Registered models, the classic ones in historical order first."""
    _load_families()
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


def in_channels_for(name: str, dataset: str) -> int:
    from cnnkit.data import DATASETS

    spec = get(name)
    return spec.in_channels or DATASETS[dataset].channels


def build_model(
    name: str,
    in_channels: int = 1,
    num_classes: int = 10,
    input_size: int | None = None,
    **options: Any,
) -> nn.Module:
    """Build ``name`` with its knobs. ``input_size`` None means the model's native input."""
    spec = get(name)
    options = {k: p.default for k, p in spec.knobs.items()} | check_options(name, options)
    return spec.builder(in_channels, num_classes, input_size or spec.native_input, **options)


def input_shape(name: str, dataset: str, input_size: int | None) -> tuple[int, int, int]:
    spec = get(name)
    size = input_size or spec.native_input
    return (in_channels_for(name, dataset), size, size)


def check_fits(name: str, options: dict[str, Any], input_size: int | None, dataset: str) -> None:
    """Raise ConfigError naming the layer when the feature map collapses, with the smallest input."""
    from cnnkit import anatomy

    channels, size, _ = input_shape(name, dataset, input_size)

    def build(side: int) -> nn.Module:
        return build_model(name, channels, 10, side, **options)

    try:
        with torch.device("meta"):
            anatomy.output_shape(build(size), (channels, size, size))
    except anatomy.CollapseError as exc:
        smallest = anatomy.min_input_size(build, channels)
        if smallest is None:
            raise ConfigError("model_options", f"{name} collapses at any input up to 1024 px: {exc}") from None
        raise ConfigError(
            "input_size",
            f"{name} needs at least {smallest}×{smallest} input, got {size}×{size}: {exc}",
        ) from None


_loaded = False


def _load_families() -> None:
    """Import the family modules once; each registers its models."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    from cnnkit.models import alexnet, course_cnn, googlenet, lenet, mlp, nin, resnet, vgg  # noqa: F401
