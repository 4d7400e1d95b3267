"""RunPlan: what a RunConfig resolves to, looked up once and handed down.

A config names its model and dataset; the plan holds their specs, the (C, H, W) input the model
takes from that dataset, the device, and the transform that turns a uint8 batch into that input on
the device. It builds the run's model (once per run) and gives its anatomy from the same module. The
engine makes one per run; the activations and the time estimate use it too, so that they see the
same model and input the run saw.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from cnnkit.config import RunConfig
from cnnkit.data import datasets, transform
from cnnkit.data.datasets import DatasetSpec
from cnnkit.models import registry
from cnnkit.models.anatomy import Anatomy, summarize
from cnnkit.models.layers import initialize
from cnnkit.models.shapes import CollapseError, check_fits


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

    @property
    def channels(self) -> int:
        return self.input_shape[0]

    @property
    def size(self) -> int:
        return self.input_shape[1]

    def architecture(self) -> nn.Module:
        """The run's network on the CPU with PyTorch's own initialisation (to load a checkpoint into)."""
        return self.model.build(self.channels, self.num_classes, self.size, self.config.model_options)

    def build_model(self) -> tuple[nn.Module, Anatomy]:
        """The run's model on the plan's device, initialised by the config's seed and scheme, and its
        anatomy (shapes, parameters, MACs) from the same module: the forward pass that counts it also
        shows that the feature map does not collapse. ConfigError (naming the layer and the smallest
        input that works) when it does."""
        torch.manual_seed(self.config.seed)
        try:
            model = self.architecture()
            anatomy = summarize(model, self.input_shape)
        except CollapseError:
            check_fits(self.config.model, self.config.model_options, self.input_shape)
            raise
        initialize(model, self.config.init)
        return model.to(self.device), anatomy


def plan_run(config: RunConfig, device: torch.device | str = "cpu") -> RunPlan:
    """The plan of ``config`` on ``device``."""
    model = registry.get(config.model)
    dataset = datasets.get_spec(config.dataset)
    input_shape = model.input_shape(dataset.channels, config.input_size)
    device = torch.device(device)
    batch_transform = transform.make_transform(dataset, input_shape[1], input_shape[0], config.normalize, device)
    return RunPlan(config, model, dataset, input_shape, device, batch_transform)
