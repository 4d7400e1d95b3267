"""Receptive fields per layer: how many input pixels one output unit sees, the step between
neighbouring units' fields (the jump), and where the first unit's field starts.

The classic recurrence, per conv or pool with kernel k, stride s, padding p and dilation d, from
the layer's input field (size r, jump j, start a):
    r' = r + (k_eff - 1)·j,  j' = j·s,  a' = a - p·j,  with k_eff = d·(k - 1) + 1.
``start`` is the input coordinate of the first unit's field's first pixel: negative means the field
begins in the padding. Fields are followed through the real forward pass (on the meta device), so
residual and Inception blocks work: every torch call hands its inputs' widest field to its outputs
(an add or a concat sees as far as its farthest-seeing input). Flatten, fully connected layers and
global pooling see the whole input (``size`` None).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from cnnkit.models.shapes import output_shape

POOLS = (nn.MaxPool2d, nn.AvgPool2d)


@dataclass(frozen=True)
class Field:
    """The receptive field of a layer's units, in input pixels; ``size`` None means the whole input."""

    size: int | None
    jump: int | None
    start: int | None

    def through(self, kernel: int, stride: int, padding: int, dilation: int = 1) -> Field:
        if self.size is None:
            return self
        reach = dilation * (kernel - 1)
        return Field(self.size + reach * self.jump, self.jump * stride, self.start - padding * self.jump)


PIXEL = Field(1, 1, 0)
WHOLE = Field(None, None, None)


def widest(fields: list[Field]) -> Field:
    if any(f.size is None for f in fields):
        return WHOLE
    return max(fields, key=lambda f: f.size)


def layer_field(module: nn.Module, before: Field, output: Any) -> Field | None:
    """The field after ``module`` given the field of its input; None where the module leaves it as it is."""
    if isinstance(module, (nn.modules.conv._ConvNd, *POOLS)):
        kernel, stride, padding, dilation = (_first(getattr(module, a, 1)) for a in
                                             ("kernel_size", "stride", "padding", "dilation"))
        return before.through(kernel, stride, padding, dilation)
    if isinstance(module, (nn.Flatten, nn.Linear)):
        return WHOLE
    if isinstance(module, (nn.modules.pooling._AdaptiveAvgPoolNd, nn.modules.pooling._AdaptiveMaxPoolNd)):
        return WHOLE if isinstance(output, torch.Tensor) and output.shape[-1] == 1 else None
    return None


@contextmanager
def tracking(model: nn.Module) -> Iterator[dict[str, Field]]:
    """Around one forward pass of ``model``: yields {leaf module name: Field of its output}, filled by the pass."""
    fields: dict[str, Field] = {}
    tensors = _TensorFields()
    leaves = [(name, m) for name, m in model.named_modules() if name and not any(m.children())]

    def start(module: nn.Module, args: tuple) -> None:
        for t in _tensors(args):
            tensors.set(t, PIXEL)

    def after(name: str) -> Callable[[nn.Module, tuple, Any], None]:
        def hook(module: nn.Module, args: tuple, out: Any) -> None:
            found = [f for f in map(tensors.get, _tensors(args)) if f is not None]
            before = widest(found) if found else PIXEL
            field = layer_field(module, before, out)
            if field is None:  # an activation, a norm, dropout: the field goes through as it is
                field = before
            else:
                for t in _tensors(out):
                    tensors.set(t, field)
            fields[name] = field
        return hook

    handles = [model.register_forward_pre_hook(start)]
    handles += [m.register_forward_hook(after(name)) for name, m in leaves]
    try:
        with tensors:
            yield fields
    finally:
        for handle in handles:
            handle.remove()


def receptive_fields(model: nn.Module, input_shape: tuple[int, ...]) -> dict[str, Field]:
    """{leaf module name: Field} of ``model`` for one input of ``input_shape`` (C, H, W)."""
    with tracking(model) as fields:
        output_shape(model, input_shape)
    return fields


class _TensorFields(TorchFunctionMode):
    """Hands fields from the inputs of every torch call to its outputs (functional relu, add, cat, pad, views)."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[int, Field] = {}
        self.alive: list[torch.Tensor] = []  # keeps ids unique for the length of the pass

    def get(self, t: torch.Tensor) -> Field | None:
        return self.fields.get(id(t))

    def set(self, t: torch.Tensor, field: Field) -> None:
        self.fields[id(t)] = field
        self.alive.append(t)

    def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        out = func(*args, **(kwargs or {}))
        found = [f for f in (self.get(t) for t in _tensors((args, kwargs))) if f is not None]
        if found:
            field = widest(found)
            for t in _tensors(out):
                self.set(t, field)
        return out


def _tensors(value: Any) -> list[torch.Tensor]:
    """The tensors in a call's arguments or results (nested tuples, lists and dicts)."""
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, dict):
        value = value.values()
    elif not isinstance(value, (tuple, list)):
        return []
    return [t for item in value for t in _tensors(item)]


def _first(value: Any) -> int:
    return int(value[0] if isinstance(value, (tuple, list)) else value)
