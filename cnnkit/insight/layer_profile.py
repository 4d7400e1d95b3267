"""Where the time of one training step goes, layer by layer, measured with torch.profiler.

One step (forward, loss, backward) of a registry model on random images runs under the profiler
after a warm-up step. Every module's forward runs inside a ``record_function`` range named after
it, so a forward op is charged to the innermost module around it; a backward op carries the
sequence number of the forward op it differentiates (autograd's own link, which the profiler
records), so it is charged to the same module. Ops outside every module (the loss) are charged to
"loss", gradient accumulation into the weights to "weights". Times are CPU time on the CPU and the
kernels' device time on CUDA.
"""
from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import nn
from torch.autograd.profiler import record_function
from torch.nn import functional as F
from torch.profiler import ProfilerActivity, profile

from cnnkit.insight.memory import check_batch, engine_layout
from cnnkit.models import registry
from cnnkit.models.anatomy import Anatomy

PREFIX = "layer::"
BACKWARD = "autograd::engine::evaluate_function: "
LOSS, WEIGHTS = "loss", "weights"
# kineto logs every profiler start and stop on stderr; 6 keeps it to fatal errors
os.environ.setdefault("KINETO_LOG_LEVEL", "6")


@dataclass
class LayerTime:
    name: str  # a module's name ("" is the model itself), or "loss" / "weights"
    forward_ms: float = 0.0
    backward_ms: float = 0.0

    @property
    def total_ms(self) -> float:
        return self.forward_ms + self.backward_ms


@dataclass
class StepProfile:
    model: str
    input_shape: tuple[int, ...]
    batch: int
    device: str
    step_ms: float  # wall time of the profiled step (profiler overhead included)
    layers: list[LayerTime] = field(default_factory=list)

    @property
    def total_ms(self) -> float:
        return sum(t.total_ms for t in self.layers)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "input_shape": list(self.input_shape),
                "layers": [asdict(t) | {"total_ms": t.total_ms} for t in self.layers]}


def profile_step(model: str, in_channels: int = 1, input_size: int | None = None, num_classes: int = 10,
                 batch: int = 32, device: str = "cpu", **options: Any) -> StepProfile:
    """Per-module forward and backward time of one training step of registry model ``model``."""
    check_batch(batch)
    size = input_size or registry.get(model).native_input
    dev = torch.device(device)
    layout = engine_layout(model)  # as the engine trains it: oneDNN's and cuDNN's kernels depend on the layout
    net = registry.build_model(model, in_channels, num_classes, size, **options).to(dev, memory_format=layout)
    x = torch.randn(batch, in_channels, size, size, device=dev).contiguous(memory_format=layout)
    y = torch.randint(0, num_classes, (batch,), device=dev)
    _step(net, x, y)  # warm-up: kernels chosen, memory allocated
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if dev.type == "cuda" else [])
    with _module_ranges(net), profile(activities=activities) as prof:
        t0 = time.perf_counter()
        _step(net, x, y)
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        step_ms = 1000 * (time.perf_counter() - t0)
    times = charge(prof.events(), device_time=dev.type == "cuda")
    order = [name for name, _ in net.named_modules()] + [LOSS, WEIGHTS]
    layers = [times[name] for name in order if name in times]
    return StepProfile(model, (in_channels, size, size), batch, str(dev), step_ms, layers)


def charge(events: list[Any], device_time: bool = False) -> dict[str, LayerTime]:
    """{module name: LayerTime} from the profiler's events (FunctionEvents with parents and sequence numbers)."""
    times: dict[str, LayerTime] = {}
    owner_of_seq: dict[int, str] = {}
    backward = []
    for event in events:
        if event.name.startswith(BACKWARD):
            backward.append(event)
            continue
        if event.name.startswith(PREFIX) or _inside_backward(event):
            continue
        owner = _owner(event)
        if event.sequence_nr >= 0:
            owner_of_seq.setdefault(event.sequence_nr, owner)
        parent = event.cpu_parent
        if parent is None or parent.name.startswith(PREFIX):  # a top-level op of its module: count it once
            times.setdefault(owner, LayerTime(owner)).forward_ms += _ms(event, device_time)
    for event in backward:
        owner = owner_of_seq.get(event.sequence_nr, WEIGHTS if event.sequence_nr < 0 else LOSS)
        times.setdefault(owner, LayerTime(owner)).backward_ms += _ms(event, device_time)
    return times


def time_shares(anatomy: Anatomy, step: StepProfile) -> list[dict[str, Any]]:
    """Per anatomy layer, then per other module with time of its own: share of the MACs and of the step's time."""
    total_macs = sum(layer.macs for layer in anatomy.layers) or 1
    total_ms = step.total_ms or 1.0
    times = {t.name: t for t in step.layers}
    rows = []
    for layer in anatomy.layers:
        t = times.pop(layer.name, LayerTime(layer.name))
        rows.append({"name": layer.name, "type": layer.type, "macs_share": layer.macs / total_macs,
                     "forward_ms": t.forward_ms, "backward_ms": t.backward_ms, "time_share": t.total_ms / total_ms})
    for t in times.values():  # block-level ops (a residual add, a concat), the loss, the weight updates
        rows.append({"name": t.name or "(model)", "type": "ops outside layers", "macs_share": 0.0,
                     "forward_ms": t.forward_ms, "backward_ms": t.backward_ms, "time_share": t.total_ms / total_ms})
    return rows


def _step(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> None:
    net.zero_grad(set_to_none=True)
    F.cross_entropy(net(x), y).backward()


@contextmanager
def _module_ranges(net: nn.Module) -> Iterator[None]:
    """Every module's forward inside a profiler range named ``layer::<module name>``."""
    names = {module: name for name, module in net.named_modules()}
    open_ranges: dict[nn.Module, list[record_function]] = {}

    def enter(module: nn.Module, args: tuple) -> None:
        scope = record_function(PREFIX + names[module])
        scope.__enter__()
        open_ranges.setdefault(module, []).append(scope)

    def leave(module: nn.Module, args: tuple, out: Any) -> None:
        open_ranges[module].pop().__exit__(None, None, None)

    handles = [m.register_forward_pre_hook(enter) for m in names] + [m.register_forward_hook(leave) for m in names]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def _owner(event: Any) -> str:
    """The innermost module range around ``event``; LOSS when it ran outside every module."""
    parent = event.cpu_parent
    while parent is not None:
        if parent.name.startswith(PREFIX):
            return parent.name.removeprefix(PREFIX)
        parent = parent.cpu_parent
    return LOSS


def _inside_backward(event: Any) -> bool:
    parent = event.cpu_parent
    while parent is not None:
        if parent.name.startswith(BACKWARD):
            return True
        parent = parent.cpu_parent
    return False


def _ms(event: Any, device_time: bool) -> float:
    return (event.device_time_total if device_time else event.cpu_time_total) / 1000
