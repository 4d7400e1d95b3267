"""Per-layer anatomy of a network: output shape, parameters, MACs, and where the map collapses.

Shapes and MACs come from one forward pass; on the meta device (how the registry builds models for
inspection) that pass allocates nothing, so even VGG-16 at 224 px is summarised in milliseconds.
MACs are torch.utils.flop_counter's FLOPs halved: multiply–accumulates of convolutions and matrix
products only, the convention of the papers and of torchinfo.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

KINDS = ("conv", "fc", "other")


class CollapseError(RuntimeError):
    """The feature map shrank to nothing at ``layer``."""

    def __init__(self, layer: str, layer_type: str, input_shape: tuple[int, ...], detail: str = ""):
        self.layer, self.layer_type, self.input_shape = layer, layer_type, input_shape
        spatial = "×".join(map(str, input_shape[2:])) or "?"
        super().__init__(f"the feature map collapses at layer {layer} ({layer_type}), which gets a {spatial} map"
                         + (f" ({detail})" if detail else ""))


@dataclass
class Layer:
    name: str
    type: str
    kind: str
    output_shape: tuple[int, ...]
    params: int
    macs: int
    param_share: float = 0.0


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
        with counter:
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
    """Anatomy of a registry model with its knobs, built on the meta device (nothing allocated)."""
    from cnnkit.models import registry

    size = input_size or registry.get(model).native_input
    with torch.device("meta"):
        net = registry.build_model(model, in_channels, num_classes, size, **options)
    return summarize(net, (in_channels, size, size))


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


def min_input_size(build: Callable[[int], nn.Module], in_channels: int, largest: int = 1024) -> int | None:
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
