"""Memory: activation memory per layer for a batch, and what one training step needs.

The step is simulated on the meta device under torch's own memory tracker
(``torch.distributed._tools.mem_tracker.MemTracker``, the one PyTorch's FSDP planning uses): every
tensor the forward pass, the backward pass and the optimizer step create is counted, and uncounted
when it is freed, so the estimate includes the gradients of activations that live only during the
backward pass. Nothing is allocated: VGG-16 at 224 px and batch 256 is estimated in a fraction of a
second. The model is set up as the engine trains it (channels_last for conv nets, fp32 on the CPU).
The tracker is private torch API (``torch.distributed._tools``), pinned with torch in requirements.txt;
cnnkit.memory_probe measures real steps to hold the estimate against.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch.nn import functional as F

from cnnkit.config import OPTIMIZERS, RunConfig
from cnnkit.engine import make_optimizer
from cnnkit.errors import ConfigError
from cnnkit.models import registry

GIB = 2**30
MIB = 2**20
DTYPE_BYTES = {"fp32": 4, "bf16": 2}
STATES_PER_PARAM = {"sgd": 0, "sgd-momentum": 1, "adam": 2, "adamw": 2}  # optimizer buffers per parameter
MAX_BATCH = 8192


@dataclass
class TrainingMemory:
    """Bytes one training step needs: the parts and their sum.

    ``activations`` is the most the step holds besides the weights: the outputs autograd saves for
    the backward pass and the gradients flowing back through them (at the simulated peak). The sum
    counts every gradient and optimizer buffer in full, which a step only holds at its very end: an
    upper bound, the right side to err on for "does it fit". ``bf16_total`` is the same step under
    bf16 autocast (CUDA), activations halved.
    """

    model: str
    batch: int
    optimizer: str
    params: int
    grads: int
    optimizer_state: int
    activations: int

    @property
    def total(self) -> int:
        return self.params + self.grads + self.optimizer_state + self.activations

    @property
    def bf16_total(self) -> int:
        return self.total - self.activations // 2

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"total": self.total, "bf16_total": self.bf16_total}

    def headline(self) -> str:
        """"fits in 15.0 MiB at batch 256 with sgd (fp32; 7.7 MiB with bf16 autocast)"."""
        return (f"fits in {size_text(self.total)} at batch {self.batch} with {self.optimizer} "
                f"(fp32; {size_text(self.bf16_total)} with bf16 autocast)")

    def parts(self) -> str:
        return (f"parameters {mib(self.params)} · gradients {mib(self.grads)} · optimizer state "
                f"{mib(self.optimizer_state)} · activations {mib(self.activations)}")


def size_text(n: float) -> str:
    """Bytes as "15.0 MiB" below a GiB, "1.02 GiB" from there."""
    return f"{n / GIB:.2f} GiB" if n >= GIB else mib(n)


def mib(n: float) -> str:
    return f"{n / MIB:.1f} MiB"


def check_batch(batch: int, field: str = "batch_size") -> int:
    if isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= MAX_BATCH:
        raise ConfigError(field, f"must be an integer in [1, {MAX_BATCH}], got {batch!r}")
    return batch


def check_optimizer(optimizer: str) -> str:
    if optimizer not in STATES_PER_PARAM:
        raise ConfigError("optimizer", f"must be one of {', '.join(OPTIMIZERS)}, got {optimizer!r}")
    return optimizer


def activation_bytes(output_shape: tuple[int, ...], batch: int) -> dict[str, int]:
    """Bytes of a layer's output of ``output_shape`` (one image's) for a batch of ``batch``, per dtype."""
    return {dtype: math.prod(output_shape) * batch * size for dtype, size in DTYPE_BYTES.items()}


def engine_layout(model: str) -> torch.memory_format:
    """The memory format the engine trains registry model ``model`` in: channels_last for conv nets."""
    return torch.channels_last if registry.get(model).family == "cnn" else torch.contiguous_format


def training_memory(model: str, in_channels: int = 1, input_size: int | None = None, num_classes: int = 10,
                    batch: int = 256, optimizer: str = "sgd", **options: Any) -> TrainingMemory:
    """The memory of one training step of registry model ``model`` (fp32, as on the CPU)."""
    # imported here: its package pulls in torch's runtime estimator, about a second
    from torch.distributed._tools.mem_tracker import MemTracker, _MemRefType

    check_batch(batch)
    check_optimizer(optimizer)
    size = input_size or registry.get(model).native_input
    layout = engine_layout(model)
    with torch.device("meta"):
        net = registry.build_model(model, in_channels, num_classes, size, **options).to(memory_format=layout)
        opt = make_optimizer(RunConfig(optimizer=optimizer), net.parameters())
        tracker = MemTracker()
        tracker.track_external(net, opt)
        with tracker:
            # the batch is created inside: a real step gathers it from the dataset every time
            x = torch.empty((batch, in_channels, size, size)).contiguous(memory_format=layout)
            y = torch.zeros(batch, dtype=torch.long)
            F.cross_entropy(net(x), y).backward()
            opt.step()
        peak = next(iter(tracker.get_tracker_snapshot("peak").values()))
    params = sum(p.numel() * p.element_size() for p in net.parameters())
    weights = sum(peak.get(kind, 0) for kind in (_MemRefType.PARAM, _MemRefType.BUFFER, _MemRefType.GRAD,
                                                  _MemRefType.OPT))
    return TrainingMemory(model, batch, optimizer, params, params, STATES_PER_PARAM[optimizer] * params,
                          peak["Total"] - weights)


