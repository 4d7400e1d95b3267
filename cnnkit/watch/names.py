"""The names of layer health, shared by the engine that records it and the pages and reports that read it
(no torch here): its split, its quantities, and how a metric name joins a layer and a quantity.

A layer with weights is named by its kind and rank in the forward order (``conv1``, ``conv2``, ``fc1``,
``bn1``); an activation by the layer before it and its own kind (``conv1.sigmoid``). Metric names are
``<layer>.<quantity>``: ``conv1.grad_norm``, ``conv1.sigmoid.saturated``.
"""
from __future__ import annotations

from cnnkit.events import HEALTH_SPLIT

SPLIT = HEALTH_SPLIT
PROBE_PER_CLASS = 16  # the probe batch: the first 16 test images of every class (160 on a 10-class dataset)
SATURATION_MARGIN = 0.02  # saturated: a sigmoid output below 0.02 or above 0.98, a tanh output beyond ±0.98
LAYER_QUANTITIES = ("grad_norm", "weight_norm", "update_ratio")  # each layer with weights, at every report
ACTIVATION_QUANTITIES = ("dead", "saturated", "mean", "std")  # each activation, once an epoch, on the probe batch
QUANTITIES = (*LAYER_QUANTITIES, *ACTIVATION_QUANTITIES)
TITLES = {  # short: a button's label, a colour bar's title
    "grad_norm": "gradient norm",
    "weight_norm": "weight norm",
    "update_ratio": "update / weight",
    "dead": "dead share",
    "saturated": "saturated share",
    "mean": "activation mean",
    "std": "activation std",
}
LOG_SCALE = frozenset(LAYER_QUANTITIES)  # norms and ratios span orders of magnitude between layers


def metric_name(layer: str, quantity: str) -> str:
    return f"{layer}.{quantity}"


def parse(name: str) -> tuple[str, str]:
    """(layer, quantity) of a health metric name: ``"conv1.sigmoid.dead"`` → ``("conv1.sigmoid", "dead")``."""
    layer, _, quantity = name.rpartition(".")
    return layer, quantity
