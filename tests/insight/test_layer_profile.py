"""cnnkit.insight.layer_profile: per-layer time of a training step, ops charged to the module that ran them,
backward ops to the module of their forward op, and shares of MACs and time side by side."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from cnnkit.errors import ConfigError
from cnnkit.insight import layer_profile
from cnnkit.insight.layer_profile import BACKWARD, PREFIX, charge
from cnnkit.models import anatomy


@dataclass
class Event:
    """The fields of a profiler FunctionEvent that ``charge`` reads."""

    name: str
    cpu_time_total: float  # µs
    sequence_nr: int = -1
    cpu_parent: Event | None = None
    device_time_total: float = 0.0


def test_charge_follows_ranges_forward_and_sequence_numbers_backward() -> None:
    conv = Event(PREFIX + "0", 900)
    op = Event("aten::conv2d", 800, 11, conv)
    inner = Event("aten::convolution", 790, 11, op)
    block = Event(PREFIX + "1", 300)
    add = Event("aten::add", 100, 12, block)
    loss = Event("aten::cross_entropy_loss", 50, 13)
    grad_conv = Event(BACKWARD + "ConvolutionBackward0", 1600, 11)
    grad_inside = Event("aten::convolution_backward", 1500, -1, grad_conv)
    grad_add = Event(BACKWARD + "AddBackward0", 40, 12)
    grad_loss = Event(BACKWARD + "NllLossBackward0", 20, 13)
    accumulate = Event(BACKWARD + "torch::autograd::AccumulateGrad", 10)
    times = charge([conv, op, inner, block, add, loss, grad_conv, grad_inside, grad_add, grad_loss, accumulate])
    assert (times["0"].forward_ms, times["0"].backward_ms) == (0.8, 1.6), "the op once, not with its children"
    assert (times["1"].forward_ms, times["1"].backward_ms) == (0.1, 0.04)
    assert (times["loss"].forward_ms, times["loss"].backward_ms) == (0.05, 0.02)
    assert times["weights"].backward_ms == 0.01
    assert times["0"].total_ms == pytest.approx(2.4)


def test_charge_reads_device_time_on_cuda() -> None:
    conv = Event(PREFIX + "0", 10)
    op = Event("aten::conv2d", 9, 3, conv, device_time_total=500)
    back = Event(BACKWARD + "ConvolutionBackward0", 9, 3, device_time_total=900)
    times = charge([conv, op, back], device_time=True)
    assert (times["0"].forward_ms, times["0"].backward_ms) == (0.5, 0.9)


def test_profile_of_a_lenet_step() -> None:
    step = layer_profile.profile_step("lenet", batch=16)
    times = {t.name: t for t in step.layers}
    for conv in ("0", "3"):
        assert times[conv].forward_ms > 0 and times[conv].backward_ms > 0
    assert times["loss"].total_ms > 0 and step.step_ms > 0
    rows = layer_profile.time_shares(anatomy.describe("lenet"), step)
    assert [r["name"] for r in rows][:12] == [layer.name for layer in anatomy.describe("lenet").layers]
    assert sum(r["time_share"] for r in rows) == pytest.approx(1.0)
    assert sum(r["macs_share"] for r in rows) == pytest.approx(1.0)
    assert step.to_dict()["layers"][0]["total_ms"] >= 0


def test_residual_blocks_keep_their_own_ops() -> None:
    step = layer_profile.profile_step("resnet18", input_size=32, batch=2)
    rows = layer_profile.time_shares(anatomy.describe("resnet18", 1, 32), step)
    outside = {r["name"] for r in rows if r["type"] == "ops outside layers"}
    assert "1.0" in outside, "a residual block's add and ReLU are its own"


def test_bad_batch_is_one_line() -> None:
    with pytest.raises(ConfigError, match="^batch_size: must be an integer"):
        layer_profile.profile_step("lenet", batch=0)
