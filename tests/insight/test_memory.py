"""cnnkit.insight.memory: the training-memory estimate, its parts, how they grow with the batch and the
optimizer, the activation memory per layer, and one-line errors."""
from __future__ import annotations

import pytest

from cnnkit.errors import ConfigError
from cnnkit.insight import memory
from cnnkit.models import anatomy

LENET_PARAMS = 61_706


def test_activation_bytes_are_the_output_for_the_whole_batch() -> None:
    assert memory.activation_bytes((6, 28, 28), 256) == {"fp32": 6 * 28 * 28 * 256 * 4, "bf16": 6 * 28 * 28 * 256 * 2}
    first = anatomy.describe("lenet").layers[0]
    assert memory.activation_bytes(first.output_shape, 1)["fp32"] == 6 * 28 * 28 * 4


def test_lenet_parts() -> None:
    est = memory.training_memory("lenet", batch=256)
    assert est.params == est.grads == 4 * LENET_PARAMS and est.optimizer_state == 0
    conv1_and_its_sigmoid = 2 * 6 * 28 * 28 * 256 * 4
    assert est.activations > conv1_and_its_sigmoid, "the largest outputs are held, and their gradients"
    assert est.total == est.params + est.grads + est.activations
    assert est.bf16_total == est.total - est.activations // 2
    assert est.headline() == "fits in 15.0 MiB at batch 256 with sgd (fp32; 7.7 MiB with bf16 autocast)"
    assert "activations 14.5 MiB" in est.parts()
    assert memory.size_text(3 * 2**30) == "3.00 GiB"
    assert est.to_dict()["total"] == est.total


@pytest.mark.parametrize(("optimizer", "states"), [("sgd", 0), ("sgd-momentum", 1), ("adam", 2), ("adamw", 2)])
def test_optimizer_state_per_parameter(optimizer: str, states: int) -> None:
    est = memory.training_memory("lenet", batch=8, optimizer=optimizer)
    assert est.optimizer_state == states * 4 * LENET_PARAMS


def test_activations_grow_with_the_batch_and_the_input() -> None:
    small, large = (memory.training_memory("resnet18", input_size=32, batch=b).activations for b in (16, 64))
    assert 3.5 < large / small < 4.5
    assert memory.training_memory("resnet18", input_size=64, batch=16).activations > 3.5 * small


def test_large_models_are_estimated_without_allocating() -> None:
    est = memory.training_memory("vgg16", input_size=224, batch=256)
    assert est.total > 16 * 2**30, "VGG-16 at batch 256 needs far more than this machine has"


def test_bad_batch_or_optimizer_is_one_line() -> None:
    with pytest.raises(ConfigError, match=r"^batch_size: must be an integer in \[1, 8192\], got 0$"):
        memory.training_memory("lenet", batch=0)
    with pytest.raises(ConfigError, match="^optimizer: must be one of sgd, sgd-momentum, adam, adamw, got 'lbfgs'$"):
        memory.training_memory("lenet", optimizer="lbfgs")
