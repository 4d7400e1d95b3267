"""cnnkit.plan: a config resolved once into the model's and the dataset's specs, input shape and transform."""
from __future__ import annotations

import pytest
import torch

from cnnkit.config import RunConfig
from cnnkit.models import registry
from cnnkit.plan import plan_run


def test_the_plan_of_the_default_run():
    plan = plan_run(RunConfig())
    assert plan.model is registry.get("lenet") and plan.dataset.name == "fashion-mnist"
    assert plan.input_shape == (1, 28, 28) and plan.num_classes == 10
    assert plan.device == torch.device("cpu")
    assert (plan.transform.size, plan.transform.channels, plan.transform.mean) == (28, 1, None)


@pytest.mark.parametrize("changes,shape", [
    ({"model": "course-cnn"}, (3, 32, 32)),  # the notes' net takes RGB at 32 px whatever the dataset
    ({"model": "resnet18", "input_size": 32}, (1, 32, 32)),
    ({"model": "alexnet", "dataset": "cifar10"}, (3, 224, 224)),
    ({"model": "mlp", "dataset": "cifar10", "input_size": 16}, (3, 16, 16)),
])
def test_input_shape_comes_from_the_model_and_the_dataset(changes: dict, shape: tuple[int, int, int]) -> None:
    plan = plan_run(RunConfig(**changes))
    assert plan.input_shape == shape
    assert (plan.transform.channels, plan.transform.size, plan.transform.size) == shape
    assert plan.input_shape == registry.input_shape(plan.config.model, plan.config.dataset, plan.config.input_size)


def test_a_normalising_transform_uses_the_datasets_constants():
    plan = plan_run(RunConfig(model="course-cnn", normalize=True))  # grey data into an RGB model
    assert plan.transform.mean.shape == (1, 3, 1, 1)
    assert plan.transform.mean.flatten().tolist() == pytest.approx([plan.dataset.mean[0]] * 3)
    batch = torch.full((2, 1, 28, 28), 255, dtype=torch.uint8)
    out = plan.transform(batch)
    assert out.shape == (2, 3, 32, 32)
    assert out.flatten().tolist() == pytest.approx([(1 - plan.dataset.mean[0]) / plan.dataset.std[0]] * out.numel())
