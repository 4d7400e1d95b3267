"""Layer health, measured on the model being trained without changing it.

- ``LayerHealth``, at every report, per layer with weights (all of the layer's own parameters, weight and bias
  together): the norm of the last step's gradient, the norm of the weights, and the size of the last step's
  update against the weights, ‖Δw‖ / ‖w‖ (what any optimizer did, momentum and weight decay included).
- ``ActivationHealth``, once an epoch on the probe batch (eval mode, no gradient): per activation module its
  mean and std, for a ReLU the share of dead units (a unit is a channel of a conv map or a feature of a linear
  layer; dead when its output is 0 for every probe image at every position), for a sigmoid or tanh the share of
  outputs within ``SATURATION_MARGIN`` of a bound (where its gradient has all but vanished).

Neither draws a random number or writes to the model: reading gradients and weights, and a forward pass in
eval mode under hooks that only read, leave the run's results as they would be without them.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from cnnkit.watch.lens import ACTIVATION_TYPES
from cnnkit.watch.names import LAYER_QUANTITIES, SATURATION_MARGIN, metric_name

SATURATING = (nn.Sigmoid, nn.Tanh)


def _kind(module: nn.Module) -> str:
    if isinstance(module, nn.modules.conv._ConvNd):
        return "conv"
    if isinstance(module, nn.Linear):
        return "fc"
    if isinstance(module, nn.modules.batchnorm._BatchNorm):
        return "bn"
    return type(module).__name__.lower()


def layer_labels(model: nn.Module) -> dict[str, str]:
    """module name → health label, for every module with parameters of its own (``conv1``, ``fc3``, ``bn2``:
    kind and rank in registration order) and every activation module (``conv1.relu``: the layer before it)."""
    counts: Counter[str] = Counter()
    labels: dict[str, str] = {}
    last = ""
    for name, module in model.named_modules():
        if isinstance(module, ACTIVATION_TYPES):
            act = type(module).__name__.lower()
            counts[act] += 1
            labels[name] = f"{last}.{act}" if last else f"{act}{counts[act]}"
        elif next(module.parameters(recurse=False), None) is not None:
            kind = _kind(module)
            counts[kind] += 1
            last = labels[name] = f"{kind}{counts[kind]}"
    return labels


class LayerHealth:
    """Gradient norm, weight norm and update-to-weight ratio of each layer with weights."""

    def __init__(self, model: nn.Module):
        modules = dict(model.named_modules())
        self.labels: list[str] = []
        self.params: list[nn.Parameter] = []
        owner: list[int] = []  # the layer of each parameter tensor
        for name, label in layer_labels(model).items():
            if not isinstance(modules[name], ACTIVATION_TYPES):
                mine = list(modules[name].parameters(recurse=False))
                owner += [len(self.labels)] * len(mine)
                self.labels.append(label)
                self.params += mine
        self.owner = torch.tensor(owner, dtype=torch.long)
        self.before: list[torch.Tensor] | None = None

    def before_step(self) -> None:
        """Remember the weights the coming optimizer step changes (called only before a reported step)."""
        self.before = [p.detach().clone() for p in self.params]

    def values(self) -> dict[str, float]:
        """``<layer>.grad_norm``, ``.weight_norm``, ``.update_ratio`` after the step ``before_step`` preceded."""
        if not self.params:
            return {}
        weights = [p.detach() for p in self.params]
        grads = [p.grad.detach() if p.grad is not None else torch.zeros_like(w) for p, w in zip(self.params, weights)]
        before = self.before or weights
        squares = torch.stack([torch.stack([_square(g), _square(w), _square(w - b)])
                               for g, w, b in zip(grads, weights, before)], dim=1)  # (3, tensors)
        owner = self.owner.to(squares.device)
        per_layer = torch.zeros(3, len(self.labels), device=squares.device, dtype=squares.dtype)
        grad, weight, update = per_layer.index_add_(1, owner, squares).sqrt()
        ratio = torch.where(weight > 0, update / weight.clamp_min(torch.finfo(weight.dtype).tiny), 0.0)
        self.before = None
        rows = dict(zip(LAYER_QUANTITIES, torch.stack((grad, weight, ratio)).tolist()))
        return {metric_name(label, quantity): row[i] for quantity, row in rows.items()
                for i, label in enumerate(self.labels)}


def _square(t: torch.Tensor) -> torch.Tensor:
    return t.float().pow(2).sum()


class _Moments:
    """Running sums of one activation's outputs over the probe batch (its chunks, and its calls)."""

    def __init__(self, module: nn.Module):
        self.relu = isinstance(module, nn.ReLU)
        self.saturating = isinstance(module, SATURATING)
        self.low = 0.0 if isinstance(module, nn.Sigmoid) else -1.0
        self.sums = torch.zeros(4, dtype=torch.float64)  # count, sum, sum of squares, saturated
        self.unit_max: torch.Tensor | None = None

    def add(self, module: nn.Module, args: tuple, out: Any) -> None:
        if not isinstance(out, torch.Tensor):
            return
        y = out.detach().double()
        saturated = y.new_zeros(())
        if self.saturating:
            saturated = ((y < self.low + SATURATION_MARGIN) | (y > 1 - SATURATION_MARGIN)).sum().double()
        self.sums += torch.stack((y.new_tensor(y.numel()), y.sum(), y.pow(2).sum(), saturated)).cpu()
        if self.relu and y.dim() >= 2:
            unit = y.transpose(0, 1).flatten(1).amax(1).cpu()  # each channel's (or feature's) largest output
            self.unit_max = unit if self.unit_max is None else torch.maximum(self.unit_max, unit)

    def values(self) -> dict[str, float]:
        count, total, squares, saturated = self.sums.tolist()
        if not count:
            return {}
        mean = total / count
        out = {"mean": mean, "std": max(0.0, squares / count - mean * mean) ** 0.5}
        if self.relu and self.unit_max is not None:
            out["dead"] = float((self.unit_max <= 0).double().mean())
        if self.saturating:
            out["saturated"] = saturated / count
        return out


class ActivationHealth:
    """Dead share (ReLU), saturated share (sigmoid, tanh), mean and std of every activation module's output."""

    def __init__(self, model: nn.Module):
        modules = dict(model.named_modules())
        self.activations = [(label, modules[name]) for name, label in layer_labels(model).items()
                            if isinstance(modules[name], ACTIVATION_TYPES)]

    def measure(self, forward: Callable[[], Any]) -> dict[str, float]:
        """``<activation>.<quantity>`` over what ``forward`` (a pass over the probe batch) feeds the model."""
        moments = [(label, _Moments(module)) for label, module in self.activations]
        handles = [module.register_forward_hook(m.add) for (_, module), (_, m) in zip(self.activations, moments)]
        try:
            forward()
        finally:
            for handle in handles:
                handle.remove()
        return {metric_name(label, quantity): value for label, m in moments for quantity, value in m.values().items()}
