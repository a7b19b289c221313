"""Numbers as words in generated sentences: one formatting of money and shares for every report."""

from __future__ import annotations

import math


def money(x: float) -> str:
    """$1.2M, $35k, $4,210: short enough for a headline, exact below $10k."""
    a = abs(x)
    if a >= 1e6:
        return f"${x / 1e6:.1f}M"
    if a >= 1e4:
        return f"${x / 1e3:.0f}k"
    return f"${x:,.0f}"


def pct(x: float | None, digits: int = 0) -> str:
    """0.123 -> '12%'; missing values read 'n/a'."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    return f"{100 * x:.{digits}f}%"
