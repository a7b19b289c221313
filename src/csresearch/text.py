"""Numbers as words: one formatter each for percentages, points, money, intervals, p-values, counts,
months and dates, used by every report's sentences, tables and chart axes.

One style (so a reader never meets two spellings of the same thing):
- negatives carry a true minus sign (−2.1%), and ``signed`` puts a + on positives;
- an interval joins its bounds with an en dash when they share a sign (2.3–3.4%) and with "to"
  when they do not (−0.5 to +0.4 pt), the unit written once; ``confidence`` prefixes "95% CI";
- money is exact with thousands separators ($12,345) or, ``compact``, short enough for a headline
  ($1.2M, $35k);
- months read "November 2026", windows "Sep–Nov 2026", days "15 Oct 2026".

A value that is missing or not finite has no formatting: callers say in words why it cannot be
computed. Here it reads ``MISSING`` so that a slip is visible in a test, never "nan".
"""

from __future__ import annotations

import math
from typing import Any, Callable

import pandas as pd

MINUS = "\u2212"
DASH = "\u2013"
MISSING = "n/a"


def _missing(x: Any) -> bool:
    if x is None:
        return True
    try:
        return not math.isfinite(float(x))
    except (TypeError, ValueError):
        return True


def _signed(text: str, value: float, shown: float, signed: bool) -> str:
    """``text`` (the absolute value) with the sign of ``value``; ``shown`` is what rounding leaves."""
    if value < 0 and shown != 0:
        return MINUS + text
    return ("+" + text) if signed and shown > 0 else text


def number(x: float | None, decimals: int = 1, signed: bool = False) -> str:
    """12.3, 1,234.5, −0.4 (thousands separators, a true minus)."""
    if _missing(x):
        return MISSING
    value = float(x)  # type: ignore[arg-type]
    shown = round(abs(value), decimals)
    return _signed(f"{shown:,.{decimals}f}", value, shown, signed)


def pct(x: float | None, decimals: int = 1, signed: bool = False) -> str:
    """0.028 -> 2.8%; −1.5%; ``signed``: +0.4%."""
    if _missing(x):
        return MISSING
    value = float(x)  # type: ignore[arg-type]
    shown = round(abs(value) * 100, decimals)
    return _signed(f"{shown:.{decimals}f}%", value, shown, signed)


def points(x: float | None, decimals: int = 1, signed: bool = False) -> str:
    """A change of a rate in percentage points: 0.004 -> 0.4 pt; ``signed``: +0.4 pt, −0.3 pt."""
    if _missing(x):
        return MISSING
    value = float(x)  # type: ignore[arg-type]
    shown = round(abs(value) * 100, decimals)
    return _signed(f"{shown:.{decimals}f} pt", value, shown, signed)


def money(x: float | None, compact: bool = False, decimals: int = 0, signed: bool = False,
          symbol: str = "$") -> str:
    """$12,345 (exact) or, ``compact``, $1.2M / $35k / $4,210 (exact below 10k)."""
    if _missing(x):
        return MISSING
    value = float(x)  # type: ignore[arg-type]
    a = abs(value)
    if compact and a >= 1e6:
        body, shown = f"{symbol}{a / 1e6:.1f}M", round(a / 1e6, 1)
    elif compact and a >= 1e4:
        body, shown = f"{symbol}{a / 1e3:.0f}k", round(a / 1e3)
    else:
        body, shown = f"{symbol}{a:,.{decimals}f}", round(a, decimals)
    return _signed(body, value, shown, signed)


def money_edge(x: float, symbol: str = "$") -> str:
    """A band edge in a label: $1k, $50k, $1.5M, $500 (as few digits as the edge has)."""
    a = abs(x)
    if a >= 1e6:
        return f"{symbol}{x / 1e6:g}M"
    if a >= 1e3:
        return f"{symbol}{x / 1e3:g}k"
    return f"{symbol}{x:g}"


_UNITS: dict[str, Callable[..., str]] = {"pct": pct, "points": points, "number": number}


def interval(low: float | None, high: float | None, kind: str = "pct", decimals: int = 1,
             confidence: float | None = None, signed: bool = False, unit: str = "") -> str:
    """2.3–3.4% / −0.5 to +0.4 pt / $1,200–$3,400 / 0.71–0.78; ``confidence`` prefixes "95% CI ".

    ``kind``: pct, points, number or money. ``unit`` follows a number interval ("0.1–0.3 visits").
    """
    if _missing(low) or _missing(high):
        return MISSING
    lo, hi = float(low), float(high)  # type: ignore[arg-type]
    same_sign = (lo < 0) == (hi < 0) and not signed
    if kind == "money":
        first, second = money(lo, signed=not same_sign), money(hi, signed=not same_sign)
    else:
        fmt = _UNITS[kind]
        first, second = fmt(lo, decimals, not same_sign), fmt(hi, decimals, not same_sign)
        suffix = {"pct": "%", "points": " pt"}.get(kind, "")
        if suffix and (same_sign or kind == "points"):  # the unit once: 2.3–3.4%, −0.5 to +0.4 pt
            first = first[: len(first) - len(suffix)] if first.endswith(suffix) else first
    text = f"{first}{DASH}{second}" if same_sign else f"{first} to {second}"
    if unit:
        text += f" {unit}"
    return f"{confidence:.0%} CI {text}" if confidence is not None else text


def p_value(p: float | None) -> str:
    """p < 0.001 / p = 0.012 / p = 0.34."""
    if _missing(p):
        return f"p {MISSING}"
    value = float(p)  # type: ignore[arg-type]
    if value < 0.001:
        return "p < 0.001"
    return f"p = {value:.3f}" if value < 0.01 else f"p = {value:.2f}"


def num(x: float | None) -> str:
    """A metric's value in a sentence: 1,234 / 12 / 12.3 / 0.42 (as many digits as its size needs)."""
    if _missing(x):
        return MISSING
    value = float(x)  # type: ignore[arg-type]
    a = abs(value)
    if a >= 100:
        text = f"{a:,.0f}"
    elif a >= 10:
        text = f"{a:.0f}" if value.is_integer() else f"{a:.1f}"
    else:
        text = f"{a:.0f}" if value.is_integer() else f"{a:.2f}"
    return _signed(text, value, float(text.replace(",", "")), False)


def count(n: float) -> str:
    """1,234 below a million, 2.1M above."""
    return f"{n / 1e6:.1f}M" if n >= 1e6 else f"{int(n):,}"


def plural(n: int, singular: str, plural_form: str | None = None) -> str:
    """1 account / 3 accounts (never "account(s)")."""
    return f"{n:,} {singular if n == 1 else (plural_form or singular + 's')}"


def month_label(month: pd.Period | str) -> str:
    """November 2026."""
    return pd.Period(month, "M").strftime("%B %Y")


def window_label(first: pd.Period, last: pd.Period) -> str:
    """November 2026 / Sep–Nov 2026 / Dec 2025–Feb 2026."""
    first, last = pd.Period(first, "M"), pd.Period(last, "M")
    if first == last:
        return last.strftime("%B %Y")
    if first.year == last.year:
        return f"{first.strftime('%b')}{DASH}{last.strftime('%b %Y')}"
    return f"{first.strftime('%b %Y')}{DASH}{last.strftime('%b %Y')}"


def day(value: Any) -> str:
    """15 Oct 2026."""
    return pd.Timestamp(value).strftime("%-d %b %Y")


def words(code: Any) -> str:
    """A code name in words: ``low_usage`` -> ``low usage``."""
    return str(code).replace("_", " ")


def format_each(values: Any, fmt: Callable[[Any], str]) -> Any:
    """``fmt`` applied once per distinct value (missing values included), spread back to every row."""
    import numpy as np

    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    return np.array([fmt(u) for u in uniques], dtype=object)[codes]
