"""The small CIFAR-10 net of the course notes: two 5×5 convs with max-pooling, FC 800-120-84-10."""
from __future__ import annotations

from torch import nn

from cnnkit.models.layers import flat_features
from cnnkit.models.registry import ModelSpec, register


def course_cnn(in_channels: int, num_classes: int, input_size: int) -> nn.Sequential:
    def features() -> nn.Sequential:
        return nn.Sequential(
            nn.Conv2d(in_channels, 16, kernel_size=5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, kernel_size=5), nn.ReLU(), nn.MaxPool2d(2),
        )

    width = flat_features(features, in_channels, input_size)
    return nn.Sequential(
        *features(), nn.Flatten(),
        nn.Linear(width, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, num_classes),
    )


register(ModelSpec(
    name="course-cnn",
    builder=course_cnn,
    native_input=32,
    in_channels=3,  # the notes' net is defined on RGB; grey datasets are repeated to 3 channels
    description="The notes' CIFAR-10 net: conv 3→16 5×5, max-pool, conv 16→32 5×5, max-pool, FC 800-120-84-10",
    paper="PyTorch 'Training a classifier' tutorial, as used in the course notes",
    recipe={"lr": 0.001, "batch_size": 4, "optimizer": "sgd-momentum", "epochs": 10},
))
