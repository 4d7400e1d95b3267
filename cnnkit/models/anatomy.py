"""Per-layer anatomy of a network: output shape, parameters and MACs per layer, and the totals.

Shapes and MACs come from one forward pass; on the meta device (how the registry builds models for
inspection) that pass allocates nothing, so even VGG-16 at 224 px is summarised in milliseconds.
MACs are torch.utils.flop_counter's FLOPs halved: multiply–accumulates of convolutions and matrix
products only, the convention of the papers and of torchinfo. Where a feature map collapses and the
smallest input a model takes are cnnkit.models.shapes's business.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from cnnkit.models import receptive, registry
from cnnkit.models.shapes import output_shape

KINDS = ("conv", "fc", "other")


@dataclass
class Layer:
    name: str
    type: str
    kind: str
    output_shape: tuple[int, ...]
    params: int
    macs: int
    param_share: float = 0.0
    rf_size: int | None = None  # receptive field of one output unit, in input pixels; None: the whole input
    rf_jump: int | None = None  # input pixels between neighbouring units' fields
    rf_start: int | None = None  # input coordinate where the first unit's field starts (< 0: in the padding)


@dataclass
class Anatomy:
    input_shape: tuple[int, ...]
    layers: list[Layer]
    total_params: int
    trainable_params: int
    macs: int
    split: dict[str, dict[str, float]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON view (the CLI contract): model-independent keys, layers as plain dicts."""
        return {
            "input": list(self.input_shape),
            "total_params": self.total_params,
            "trainable_params": self.trainable_params,
            "macs": self.macs,
            "split": self.split,
            "layers": [{**asdict(layer), "output_shape": list(layer.output_shape)} for layer in self.layers],
        }


def layer_kind(module: nn.Module) -> str:
    if isinstance(module, nn.modules.conv._ConvNd):
        return "conv"
    if isinstance(module, nn.Linear):
        return "fc"
    return "other"


def summarize(model: nn.Module, input_shape: tuple[int, ...]) -> Anatomy:
    """Anatomy of ``model`` for one input of ``input_shape`` (C, H, W); leaves are the rows."""
    leaves = [(name, m) for name, m in model.named_modules() if name and not any(m.children())]
    shapes: dict[str, tuple[int, ...]] = {}
    handles = [m.register_forward_hook(_record_shape(shapes, name)) for name, m in leaves]
    counter = FlopCounterMode(display=False)
    try:
        with counter, receptive.tracking(model) as fields:
            output_shape(model, input_shape)
    finally:
        for handle in handles:
            handle.remove()
    flops = _flops_by_module(counter, type(model).__name__)
    layers = [
        Layer(
            name=name,
            type=type(m).__name__,
            kind=layer_kind(m),
            output_shape=shapes.get(name, ()),
            params=sum(p.numel() for p in m.parameters(recurse=False)),
            macs=flops.get(name, 0) // 2,
            rf_size=(rf := fields.get(name, receptive.WHOLE)).size, rf_jump=rf.jump, rf_start=rf.start,
        )
        for name, m in leaves
    ]
    total = sum(p.numel() for p in model.parameters())
    for layer in layers:
        layer.param_share = layer.params / total if total else 0.0
    return Anatomy(
        input_shape=tuple(input_shape),
        layers=layers,
        total_params=total,
        trainable_params=sum(p.numel() for p in model.parameters() if p.requires_grad),
        macs=flops.get("", 0) // 2,
        split=_split(layers),
    )


def describe(model: str, in_channels: int = 1, input_size: int | None = None, num_classes: int = 10,
             **options: Any) -> Anatomy:
    """Anatomy of a registry model with its knobs, built on the meta device (nothing allocated).

    Raises shapes.CollapseError when the model's feature map collapses at this input.
    """
    size = input_size or registry.get(model).native_input
    with torch.device("meta"):
        net = registry.build_model(model, in_channels, num_classes, size, **options)
    return summarize(net, (in_channels, size, size))


def _record_shape(shapes: dict[str, tuple[int, ...]], name: str) -> Callable:
    def hook(module: nn.Module, args: tuple, out: Any) -> None:
        if isinstance(out, torch.Tensor):
            shapes[name] = tuple(out.shape[1:])
    return hook


def _flops_by_module(counter: FlopCounterMode, root: str) -> dict[str, int]:
    """FLOPs per module name ("" is the whole model); flop_counter prefixes names with the root class."""
    out = {}
    for key, ops in counter.get_flop_counts().items():
        if key == "Global":
            continue
        name = "" if key == root else key.removeprefix(root + ".")
        out[name] = int(sum(ops.values()))
    out.setdefault("", int(counter.get_total_flops()))
    return out


def _split(layers: list[Layer]) -> dict[str, dict[str, float]]:
    total_params = sum(layer.params for layer in layers) or 1
    total_macs = sum(layer.macs for layer in layers) or 1
    split = {}
    for kind in KINDS:
        params = sum(layer.params for layer in layers if layer.kind == kind)
        macs = sum(layer.macs for layer in layers if layer.kind == kind)
        split[kind] = {"params": params, "macs": macs,
                       "params_share": params / total_params, "macs_share": macs / total_macs}
    return split
