"""cnnkit.insight.memory_probe: the estimate against a real step's measured peak, within ±25 % on the CPU for
LeNet, the MLP and ResNet-18 at 32 px (each measured in a fresh process)."""
from __future__ import annotations

import pytest
import torch

from cnnkit.insight.memory_probe import check, measure_peak


@pytest.mark.parametrize(("model", "size", "batch"), [
    ("lenet", 28, 256), ("mlp", 28, 256),
    pytest.param("resnet18", 32, 64, marks=pytest.mark.slow),
])
def test_estimate_within_a_quarter_of_the_measured_cpu_peak(model: str, size: int, batch: int) -> None:
    result = check(model, 1, size, 10, batch)
    assert result.measured > 0 and 0.75 <= result.ratio <= 1.25, result.line()
    assert result.to_dict()["ratio"] == result.ratio and f"{model}@{size} batch {batch}" in result.line()


def test_a_larger_batch_measures_more() -> None:
    assert measure_peak("lenet", 1, 28, 10, 512, "sgd") > 1.5 * measure_peak("lenet", 1, 28, 10, 128, "sgd")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU here")
def test_estimate_against_cuda_max_memory_allocated() -> None:
    result = check("resnet18", 1, 32, 10, 128, device="cuda")
    assert 0.6 <= result.ratio <= 1.4, result.line()
