"""RunPlan: what a RunConfig resolves to, looked up once and handed down.

A config names its model and dataset; the plan holds their specs, the (C, H, W) input the model
takes from that dataset, and the transform that turns a uint8 batch into that input on the run's
device. The engine builds one per run; the activations and the time estimate use it too, so that
they see the same model input the run saw.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from cnnkit.config import RunConfig
from cnnkit.data import datasets, transform
from cnnkit.data.datasets import DatasetSpec
from cnnkit.models import registry


@dataclass(frozen=True)
class RunPlan:
    config: RunConfig
    model: registry.ModelSpec
    dataset: DatasetSpec
    input_shape: tuple[int, int, int]  # (C, H, W) the model takes
    device: torch.device
    transform: transform.BatchTransform  # uint8 batch on ``device`` → the model's input

    @property
    def num_classes(self) -> int:
        return self.dataset.num_classes


def plan_run(config: RunConfig, device: torch.device | str = "cpu") -> RunPlan:
    """The plan of ``config`` on ``device``."""
    model = registry.get(config.model)
    dataset = datasets.get_spec(config.dataset)
    input_shape = model.input_shape(dataset.channels, config.input_size)
    channels, size, _ = input_shape
    device = torch.device(device)
    batch_transform = transform.make_transform(dataset, size, channels, config.normalize, device)
    return RunPlan(config, model, dataset, input_shape, device, batch_transform)
