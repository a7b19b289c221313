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


def num(x: float) -> str:
    """A metric's value in a sentence: 1,234 / 12 / 12.3 / 0.42; missing values read 'n/a'."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    a = abs(x)
    if a >= 100:
        return f"{x:,.0f}"
    if a >= 10:
        return f"{x:.0f}" if float(x).is_integer() else f"{x:.1f}"
    return f"{x:.0f}" if float(x).is_integer() else f"{x:.2f}"


def count(n: float) -> str:
    """1,234 below a million, 2.1M above."""
    return f"{n / 1e6:.1f}M" if n >= 1e6 else f"{int(n):,}"


def format_each(values, fmt):
    """``fmt`` applied once per distinct value (missing values included), spread back to every row."""
    import numpy as np
    import pandas as pd

    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    return np.array([fmt(u) for u in uniques], dtype=object)[codes]
