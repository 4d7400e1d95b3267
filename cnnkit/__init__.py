"""cnnkit: a lab for comparing the classic convolutional networks.

The Python API (the one the CLI and the dashboard use)::

    import cnnkit
    net = cnnkit.build_model("lenet", activation="relu", pool="max")      # an nn.Module
    print(cnnkit.describe("vgg11", width_ratio=4).total_params)          # per-layer anatomy
    data = cnnkit.load_dataset("fashion-mnist")                           # uint8 tensors
    result = cnnkit.fit(cnnkit.RunConfig(model="lenet", epochs=2, lr=0.9), print)
    cnnkit.explain_run(cnnkit.Store(), run_id, index=4).heat              # Grad-CAM of test image 4
    print(cnnkit.training_memory("resnet18", input_size=32, batch=128).headline())
"""
from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "RunConfig": "cnnkit.config",
    "ConfigError": "cnnkit.errors",
    "CnnkitError": "cnnkit.errors",
    "build_model": "cnnkit.models.registry",
    "describe": "cnnkit.models.anatomy",
    "summarize": "cnnkit.models.anatomy",
    "fit": "cnnkit.engine",
    "Reporter": "cnnkit.events",
    "MetricPoint": "cnnkit.events",
    "Store": "cnnkit.store",
    "explain_run": "cnnkit.insight.explain",
    "training_memory": "cnnkit.insight.memory",
    "receptive_fields": "cnnkit.models.receptive",
    "profile_step": "cnnkit.insight.layer_profile",
}
_RENAMED = {"load_dataset": ("cnnkit.data.loading", "load")}

__all__ = [*_EXPORTS, *_RENAMED]


def __getattr__(name: str) -> Any:
    """Import lazily: `import cnnkit` stays cheap for commands that never touch torch."""
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    if name in _RENAMED:
        module, attr = _RENAMED[name]
        return getattr(import_module(module), attr)
    raise AttributeError(f"module 'cnnkit' has no attribute {name!r}")
