"""The Models page: a model variant's label, its layer table, several variants side by side, and
where one training step's time goes."""
from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pandas as pd

from cnnkit.insight.memory import activation_bytes
from cnnkit.params import Param
from cnnkit.text import options_text


def input_size_param(native_input: int) -> Param:
    """The input side a variant is shown at; empty means the model's native side."""
    return Param("input_size", "int", None, low=8, high=512, optional=True,
                 help=f"input side in pixels; empty = native {native_input}")


def changed_options(knobs: Mapping[str, Param], values: Mapping[str, Any]) -> dict[str, Any]:
    """The knob values that differ from the knobs' defaults (what sets a variant apart)."""
    return {k: v for k, v in values.items() if v != knobs[k].default}


def variant_label(model: str, options: Mapping[str, Any], input_size: int | None = None) -> str:
    """"lenet(activation=relu fc=120,84)@64": the model, its changed options, its input side."""
    return options_text(model, options) + (f"@{input_size}" if input_size else "")


def options_key(options: Mapping[str, Any]) -> str:
    """The options as canonical JSON: a cache key, and the form json.loads gives back to a builder."""
    return json.dumps({k: list(v) if isinstance(v, tuple) else v for k, v in options.items()}, sort_keys=True)


def layer_table(anatomy: Mapping[str, Any], batch: int | None = None) -> pd.DataFrame:
    """One row per layer of an ``Anatomy.to_dict()``: output shape, params and MACs with their shares
    in %, the receptive field, and with ``batch`` the memory of the layer's output for that batch."""
    layers = pd.DataFrame(anatomy["layers"])
    table = pd.DataFrame({
        "layer": layers["name"], "type": layers["type"], "kind": layers["kind"],
        "output shape": layers["output_shape"].map(lambda s: "×".join(map(str, s))),
        "params": layers["params"], "% of params": 100 * layers["param_share"], "MACs": layers["macs"],
        "% of MACs": 100 * layers["macs"] / max(1, layers["macs"].sum()),
        "receptive field": layers["rf_size"].map(rf_text),
        "jump": layers["rf_jump"].astype("Int64"), "field starts at": layers["rf_start"].astype("Int64"),
    })
    if batch:
        sizes = pd.DataFrame([activation_bytes(tuple(shape), batch) for shape in layers["output_shape"]])
        for dtype in sizes.columns:
            table[f"{dtype} MiB @ {batch}"] = sizes[dtype] / 2**20
    return table


def rf_text(size: float | None) -> str:
    """"16×16", or "whole input" for layers that see all of it (FC, global pooling)."""
    return "whole input" if size is None or pd.isna(size) else f"{int(size)}×{int(size)}"


def time_table(rows: list[Mapping[str, Any]]) -> pd.DataFrame:
    """``layer_profile.time_shares`` rows as a table: share of MACs next to share of the step's time, in %."""
    frame = pd.DataFrame(rows)
    return pd.DataFrame({
        "layer": frame["name"], "type": frame["type"], "% of MACs": 100 * frame["macs_share"],
        "% of time": 100 * frame["time_share"], "forward ms": frame["forward_ms"],
        "backward ms": frame["backward_ms"],
    })


def side_by_side(anatomies: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """One row per variant (label → ``Anatomy.to_dict()``): input, totals and where they sit, in %."""
    return pd.DataFrame([{
        "model": label, "input": "×".join(map(str, a["input"])), "params": a["total_params"],
        "MACs": a["macs"], "FC % of params": 100 * a["split"]["fc"]["params_share"],
        "conv % of params": 100 * a["split"]["conv"]["params_share"],
        "conv % of MACs": 100 * a["split"]["conv"]["macs_share"]} for label, a in anatomies.items()])

