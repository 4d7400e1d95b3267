"""The classic architectures, one module per family, all reachable through the registry.

Importing a family module registers its models, so every family is imported here: whatever part
of cnnkit.models is imported first, the registry is complete.
"""
from cnnkit.models import alexnet, course_cnn, googlenet, lenet, mlp, nin, resnet, vgg  # noqa: F401
from cnnkit.models.registry import MODELS, ModelSpec, build_model, get, names

__all__ = ["MODELS", "ModelSpec", "build_model", "get", "names"]
