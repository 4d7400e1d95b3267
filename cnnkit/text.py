"""Plain-text tables for the terminal, and the number formats the reports share."""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


def format_table(rows: Sequence[Sequence[Any]], headers: Sequence[str], align: str | None = None) -> str:
    """Columns padded to their widest cell; ``align`` is one character per column, "l" or "r"."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    align = align or "l" * len(headers)

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if a == "r" else v.ljust(w) for v, w, a in zip(values, widths, align)).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in cells)])


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


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
