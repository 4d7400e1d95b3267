"""What a network's first layers show for given inputs: its conv layers in order, the activation that follows
each, their feature maps, conv 1's filters, and Grad-CAM of a conv layer (captum).

Torch and captum only, for any model and inputs: the Activations page calls these on a finished run's model,
and the engine on a copy of the model it trains at every epoch's end, so an epoch's snapshot is exactly what
the page would show for that epoch's weights.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from cnnkit.models.layers import ACTIVATIONS

ACTIVATION_TYPES = tuple(ACTIVATIONS.values())


@dataclass
class FeatureMaps:
    """The output of one layer for a batch of images: ``maps`` is (N, C, H, W)."""

    layer: str  # module name, e.g. "1" or "features.0"
    title: str  # e.g. "conv 1 (Conv2d 1→6, 5×5) after Sigmoid"
    maps: torch.Tensor


def conv_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """Conv modules in the order they are registered (the order of the forward pass for our models)."""
    return [(name, m) for name, m in model.named_modules() if isinstance(m, nn.modules.conv._ConvNd)]


def activation_after(model: nn.Module, conv_name: str) -> tuple[str, nn.Module] | None:
    """The activation that follows conv ``conv_name`` (before any other conv or linear), if any."""
    leaves = [(n, m) for n, m in model.named_modules() if n and not any(m.children())]
    names = [n for n, _ in leaves]
    if conv_name not in names:
        return None
    for name, module in leaves[names.index(conv_name) + 1:]:
        if isinstance(module, (nn.modules.conv._ConvNd, nn.Linear)):
            return None
        if isinstance(module, ACTIVATION_TYPES):
            return name, module
    return None


def feature_maps(model: nn.Module, inputs: torch.Tensor, layers: int = 2) -> list[FeatureMaps]:
    """Outputs of the first ``layers`` conv layers (after their activation where one follows) for float model
    ``inputs``; empty for a model without conv layers."""
    captured: dict[str, torch.Tensor] = {}
    handles, titles = [], {}
    for i, (name, conv) in enumerate(conv_layers(model)[:layers], start=1):
        follow = activation_after(model, name)
        target_name, target = follow if follow else (name, conv)
        k = "×".join(map(str, conv.kernel_size))
        titles[target_name] = (f"conv {i} ({name}: {conv.in_channels}→{conv.out_channels}, {k})"
                               + (f" after {type(target).__name__}" if follow else ""))
        handles.append(target.register_forward_hook(_capture(captured, target_name)))
    if not handles:
        return []
    try:
        with torch.no_grad():
            model(inputs)
    finally:
        for h in handles:
            h.remove()
    return [FeatureMaps(n, titles[n], captured[n]) for n in titles if n in captured]


def _capture(store: dict[str, torch.Tensor], name: str) -> Callable[[nn.Module, tuple, Any], None]:
    def hook(module: nn.Module, args: tuple, out: Any) -> None:
        if name not in store and isinstance(out, torch.Tensor):
            store[name] = out.detach().float().cpu()
    return hook


def first_filters(model: nn.Module) -> torch.Tensor | None:
    """A copy of the first conv layer's weights, (out, in, kH, kW); None without conv layers."""
    convs = conv_layers(model)
    return convs[0][1].weight.detach().float().cpu().clone() if convs else None  # a copy: the model trains on


def gradcam(model: nn.Module, inputs: torch.Tensor, layer: nn.Module, targets: torch.Tensor,
            size: tuple[int, int] | None = None) -> torch.Tensor:
    """Grad-CAM of ``layer`` for float model inputs (N, C, H, W): (N, H, W), or (N, *size)."""
    from captum.attr import LayerAttribution, LayerGradCam  # half a second to import: only where a map is made

    with torch.enable_grad():
        maps = LayerGradCam(model, layer).attribute(inputs, target=targets, relu_attributions=True)
    return LayerAttribution.interpolate(maps.detach(), size or tuple(inputs.shape[-2:]), "bilinear")[:, 0]


def unpermute(maps: torch.Tensor, permutation: torch.Tensor | None) -> torch.Tensor:
    """Maps (N, H, W) of pixel-permuted inputs moved back to where each pixel sits in the image one sees."""
    if permutation is None:
        return maps
    flat = torch.empty_like(maps.flatten(1))
    flat[:, permutation] = maps.flatten(1)
    return flat.view_as(maps)
