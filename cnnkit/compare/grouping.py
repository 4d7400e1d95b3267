"""Grouping runs: which fields differ among them, group labels ("lr=0.1") in their natural order, legend labels."""
from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from cnnkit.compare.urlstate import GROUPABLE
from cnnkit.compare.values import order_key
from cnnkit.text import value_text


def config_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c.startswith("cfg.")]


def differing_columns(frame: pd.DataFrame) -> list[str]:
    """Config columns whose value is not the same in every row (the only ones worth showing)."""
    return [c for c in config_columns(frame) if frame[c].map(value_text).nunique(dropna=False) > 1]


def groupable_fields(frame: pd.DataFrame) -> list[str]:
    """Fields worth grouping by: those that differ among the selected runs (cfg.seed last)."""
    plain = [c for c in GROUPABLE if c in frame.columns and frame[c].map(value_text).nunique() > 1]
    differing = differing_columns(frame)
    return plain + [c for c in differing if c != "cfg.seed"] + (["cfg.seed"] if "cfg.seed" in differing else [])


def group_values(frame: pd.DataFrame, field_name: str) -> pd.Series:
    """run id → group label ("lr=0.1") for grouping by a config field (or model, dataset, …).

    The result is categorical, its categories in the values' natural order (0.01 before 0.1 before 1),
    which is the order of legends and tables. Not grouped: every label is "".
    """
    if not field_name or field_name not in frame.columns:
        return pd.Series({rid: "" for rid in frame["id"]}, dtype=object)
    short = field_name.removeprefix("cfg.")
    raw = dict(zip(frame["id"], frame[field_name]))
    ordered = sorted({value_text(v): v for v in raw.values()}.items(), key=lambda kv: order_key(kv[1]))
    categories = [f"{short}={text}" for text, _ in ordered]
    labels = pd.Series({rid: f"{short}={value_text(v)}" for rid, v in raw.items()}, dtype=object)
    return labels.astype(pd.CategoricalDtype(categories, ordered=True))


def labelled_groups(labels: Mapping[str, str], order: list[str] | None = None) -> pd.Series:
    """run id → group label from an explicit mapping (an experiment's levels), in ``order``."""
    order = [o for o in (order or list(dict.fromkeys(labels.values()))) if o in set(labels.values())]
    return pd.Series(dict(labels), dtype=object).astype(pd.CategoricalDtype(order, ordered=True))


def group_order(groups: pd.Series) -> list[str]:
    """The group labels present, in their category order (sorted for plain series)."""
    present = set(groups.dropna().values)
    if isinstance(groups.dtype, pd.CategoricalDtype):
        return [c for c in groups.cat.categories if c in present]
    return sorted(present)


def is_grouped(groups: pd.Series) -> bool:
    """Whether any run has a group label."""
    return any(g for g in groups.dropna().values)


def run_labels(frame: pd.DataFrame) -> dict[str, str]:
    """run id → a legend label: the run's name, with its id where names repeat."""
    counts = frame["name"].value_counts()
    return {rid: (name if counts[name] == 1 else f"{name} [{rid}]") for rid, name in zip(frame["id"], frame["name"])}
