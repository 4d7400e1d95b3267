"""Values as text, one way everywhere: config values in run labels, sweep names, tables and pages;
numbers in tables and exports; plain-text tables for the terminal."""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any


def is_missing(value: Any) -> bool:
    """None, NaN or pandas' NA (what a table holds where a run has no such value)."""
    return (value is None or (isinstance(value, float) and math.isnan(value))
            or type(value).__name__ in ("NAType", "NaTType"))


def value_text(value: Any, digits: int | None = None) -> str:
    """A config value as labels, sweep names, tables and pages show it: 0.1 → "0.1", 1.0 → "1", True →
    "true", (6, 16) → "6,16", () and None → "none". ``digits``: significant digits of a float (all by default)."""
    if hasattr(value, "item") and not isinstance(value, (list, tuple)):  # numpy and torch scalars
        value = value.item()
    if is_missing(value):
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.{digits}g}" if digits else f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ",".join(value_text(v, digits) for v in value) or "none"
    return str(value)


def options_text(model: str, options: Mapping[str, Any]) -> str:
    """"lenet(activation=relu fc=120,84)": a model and its options, sorted by name; just the model without any."""
    opts = " ".join(f"{key}={value_text(value)}" for key, value in sorted(options.items()))
    return f"{model}({opts})" if opts else model


def number_text(value: Any, digits: int = 4) -> str:
    """A table cell: floats to ``digits`` significant digits (whole numbers from 1000 up in full), missing → ""."""
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if is_missing(value):
        return ""
    if isinstance(value, float):
        if value.is_integer() and 1000 <= abs(value) < 1e15:
            return str(int(value))
        return f"{value:.{digits}g}"
    return str(value)


def format_table(rows: Sequence[Sequence[Any]], headers: Sequence[str], align: str | None = None) -> str:
    """Columns padded to their widest cell; ``align`` is one character per column, "l" or "r"."""
    cells = [["-" if v is None else number_text(v) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    align = align or "l" * len(headers)

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if a == "r" else v.ljust(w) for v, w, a in zip(values, widths, align)).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in cells)])


def format_count(n: float) -> str:
    """1234 → '1.23 k', 61706 → '61.7 k', 46764746 → '46.8 M'."""
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n:g}" if not math.isnan(n) else "nan"


def format_pct(x: float | None, digits: int = 0) -> str:
    """A fraction as a percentage: 0.874 → '87 %', with digits=1 '87.4 %'; None → '—'."""
    return "—" if x is None else f"{100 * x:.{digits}f} %"


def format_mean_std(mean: float | None, std: float | None) -> str:
    """Mean ± std of fractions as percentages: '87.4 ± 0.3 %'; without a std '87.4 %'; None → '—'."""
    if mean is None:
        return "—"
    return f"{100 * mean:.1f} ± {100 * std:.1f} %" if std is not None else f"{100 * mean:.1f} %"
