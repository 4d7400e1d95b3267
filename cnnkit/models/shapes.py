"""Feature-map shapes: a network's output shape, where its map collapses, the smallest input it takes.

The checks run on the meta device (how models are built for inspection): a forward pass there
allocates nothing, so even VGG-16 at 224 px is checked in milliseconds.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from cnnkit.errors import ConfigError
from cnnkit.models.registry import build_model

LARGEST_INPUT = 1024  # the side up to which the smallest input is searched


class CollapseError(RuntimeError):
    """The feature map shrank to nothing at ``layer``."""

    def __init__(self, layer: str, layer_type: str, input_shape: tuple[int, ...], detail: str = ""):
        self.layer, self.layer_type, self.input_shape = layer, layer_type, input_shape
        spatial = "×".join(map(str, input_shape[2:])) or "?"
        super().__init__(f"the feature map collapses at layer {layer} ({layer_type}), which gets a {spatial} map"
                         + (f" ({detail})" if detail else ""))


def output_shape(model: nn.Module, input_shape: tuple[int, ...]) -> tuple[int, ...]:
    """Shape of the output for one input (batch dimension dropped).

    Runs in eval mode (batch norm accepts a batch of one) on the device of the model's parameters,
    the meta device included. Raises CollapseError naming the innermost module that failed.
    """
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("meta")
    stack: list[tuple[str, nn.Module, tuple[int, ...]]] = []
    names = {m: name for name, m in model.named_modules()}

    def push(module: nn.Module, args: tuple) -> None:
        shape = tuple(args[0].shape) if args and isinstance(args[0], torch.Tensor) else ()
        stack.append((names.get(module, "?"), module, shape))

    def pop(module: nn.Module, args: tuple, out: Any) -> None:
        name, _, in_shape = stack.pop()
        if isinstance(out, torch.Tensor) and out.dim() > 2 and 0 in out.shape[2:]:
            raise CollapseError(name, type(module).__name__, in_shape, "its output is empty")

    handles = [m.register_forward_pre_hook(push) for m in model.modules() if m is not model]
    handles += [m.register_forward_hook(pop) for m in model.modules() if m is not model]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(torch.empty((1, *input_shape), device=device))
    except CollapseError:
        raise
    except RuntimeError as exc:
        if not stack:
            raise
        name, module, in_shape = stack[-1]
        raise CollapseError(name, type(module).__name__, in_shape, str(exc).split("\n")[0]) from None
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    return tuple(out.shape[1:])


def min_input_size(build: Callable[[int], nn.Module], in_channels: int, largest: int = LARGEST_INPUT) -> int | None:
    """Smallest square input side for which ``build(side)`` runs without collapsing; None if none ≤ largest.

    Output sizes of convs and pools never decrease as the input grows, so "fits" is monotone in the
    side and a binary search finds the threshold.
    """
    def fits(side: int) -> bool:
        try:
            with torch.device("meta"):
                output_shape(build(side), (in_channels, side, side))
            return True
        except CollapseError:
            return False

    if not fits(largest):
        return None
    low, high = 1, largest
    while low < high:
        mid = (low + high) // 2
        if fits(mid):
            high = mid
        else:
            low = mid + 1
    return low


def smallest_input(model: str, in_channels: int, options: dict[str, Any] | None = None) -> int | None:
    """Smallest square input side registry model ``model`` takes with ``options``; None if none ≤ 1024 px."""
    options = options or {}
    return min_input_size(lambda side: build_model(model, in_channels, 10, side, **options), in_channels)


def check_fits(model: str, options: dict[str, Any], input_shape: tuple[int, int, int]) -> None:
    """Raise ConfigError naming the layer when ``model``'s feature map collapses on ``input_shape``
    (C, H, W), with the smallest input that works."""
    # Remembered: pages and reports check the same few configs over and over (a reference report checks
    # every level of every preset), and each check builds the model.
    key = (model, json.dumps(options, sort_keys=True, default=str), tuple(input_shape))
    if key not in _CHECKED:
        _CHECKED[key] = _collapse(model, options, input_shape)
    if _CHECKED[key] is not None:
        raise ConfigError(*_CHECKED[key])


_CHECKED: dict[tuple[str, str, tuple[int, ...]], tuple[str, str] | None] = {}


def _collapse(model: str, options: dict[str, Any], input_shape: tuple[int, int, int]) -> tuple[str, str] | None:
    """(field, message) of check_fits's error, or None when the map does not collapse."""
    channels, size, _ = input_shape
    try:
        with torch.device("meta"):
            output_shape(build_model(model, channels, 10, size, **options), input_shape)
    except CollapseError as exc:
        smallest = smallest_input(model, channels, options)
        if smallest is None:
            return "model_options", f"{model} collapses at any input up to {LARGEST_INPUT} px: {exc}"
        return "input_size", f"{model} needs at least {smallest}×{smallest} input, got {size}×{size}: {exc}"
    return None
