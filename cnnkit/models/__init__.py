"""The classic architectures, one module per family, all reachable through the registry."""
from cnnkit.models.registry import MODELS, ModelSpec, build_model, get, names

__all__ = ["MODELS", "ModelSpec", "build_model", "get", "names"]
