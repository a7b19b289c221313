"""Numbers as words: one formatter each for percentages, points, money, intervals, p-values, counts,
months and dates, used by every report's sentences, tables and chart axes.

One style (so a reader never meets two spellings of the same thing):
- negatives carry a true minus sign (−2.1%), and ``signed`` puts a + on positives;
- an interval joins its bounds with an en dash when they share a sign (2.3–3.4%) and with "to"
  when they do not (−0.5 to +0.4 pt), the unit written once; ``confidence`` prefixes "95% CI";
- money is exact with thousands separators ($12,345) or, ``compact``, short enough for a headline
  ($1.2M, $35k);
- months read "November 2026", windows "Sep–Nov 2026", days "15 Oct 2026".

The run's language and currency live in one place, set once per run by :func:`use_locale`
(``session.start`` calls it with the report's ``language`` and ``currency`` settings): money takes
its symbol and decimals from Babel (``¥`` and no decimals for JPY, never a dollar sign on yen), and
in Japanese it reads the Japanese way: 12,345円, 2,576万円, 2.6億円; months 2026年11月, days
2026年10月15日, windows 2026年9月～11月, intervals 95%信頼区間 2.3–3.4%.

A value that is missing or not finite has no formatting: callers say in words why it cannot be
computed. Here it reads ``MISSING`` so that a slip is visible in a test, never "nan".
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass
from typing import Any, Callable

import pandas as pd

MINUS = "\u2212"
DASH = "\u2013"
MISSING = "n/a"
WAVE_DASH = "\uff5e"  # ～, the Japanese range mark


# --------------------------------------------------------------------------------------------------
# The run's locale: language and currency, set once (session.start), read by every formatter
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NumberLocale:
    """The language numbers and dates are written in and the currency money is in."""

    language: str = "en"
    currency: str = "USD"

    @property
    def japanese(self) -> bool:
        return self.language.split("_")[0].split("-")[0].lower() == "ja"

    @property
    def babel_locale(self) -> str:
        return "ja" if self.japanese else "en"

    @property
    def precision(self) -> int:
        """Decimals the currency has (2 for USD and EUR, 0 for JPY), from Babel's CLDR data."""
        from babel.numbers import get_currency_precision

        return int(get_currency_precision(self.currency))

    @property
    def symbol(self) -> str:
        """The currency's symbol in this language (``$``, ``€``, ``¥``); Japanese yen is written 円 after
        the number instead (see :attr:`suffix`)."""
        from babel.numbers import get_currency_symbol

        if self.yen_suffix:
            return ""
        symbol = str(get_currency_symbol(self.currency, self.babel_locale))
        return "\u00a5" if symbol == "\uffe5" else symbol  # CLDR's full-width ￥: the ordinary ¥

    @property
    def yen_suffix(self) -> bool:
        return self.japanese and self.currency == "JPY"

    @property
    def suffix(self) -> str:
        return "円" if self.yen_suffix else ""


_LOCALE = NumberLocale()


def check_currency(code: str) -> str:
    """An ISO 4217 code Babel knows (``usd`` -> ``USD``); ValueError with one sentence otherwise."""
    from babel.numbers import list_currencies

    value = str(code).strip().upper()
    if value not in list_currencies():
        raise ValueError(f"{code!r} is not an ISO 4217 currency code like USD, EUR or JPY")
    return value


def use_locale(language: str | None = None, currency: str | None = None) -> NumberLocale:
    """Set the run's language (``en``, ``ja``) and currency (ISO 4217); None keeps the current one.
    Returns the locale now in force."""
    global _LOCALE
    _LOCALE = NumberLocale(language=str(language or _LOCALE.language),
                           currency=check_currency(currency) if currency else _LOCALE.currency)
    return _LOCALE


def current_locale() -> NumberLocale:
    return _LOCALE


def currency() -> str:
    """The run's currency code (USD unless the run says otherwise)."""
    return _LOCALE.currency


def csv_encoding(setting: str | None = None, language: str | None = None) -> str:
    """The encoding CSVs are written in: the setting if given, else UTF-8 with a byte-order mark for a
    Japanese run (Excel on Japanese Windows reads BOM-less UTF-8 as Shift_JIS: mojibake), else UTF-8."""
    if setting:
        return setting
    lang = language if language is not None else _LOCALE.language
    return "utf-8-sig" if NumberLocale(language=lang).japanese else "utf-8"


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


def _points_unit() -> str:
    """" pt" in English, "pt" in Japanese (前年比+0.4pt, as Japanese business writing has it)."""
    return "pt" if _LOCALE.japanese else " pt"


def points(x: float | None, decimals: int = 1, signed: bool = False) -> str:
    """A change of a rate in percentage points: 0.004 -> 0.4 pt; ``signed``: +0.4 pt, −0.3 pt (ja: 0.4pt)."""
    if _missing(x):
        return MISSING
    value = float(x)  # type: ignore[arg-type]
    shown = round(abs(value) * 100, decimals)
    return _signed(f"{shown:.{decimals}f}{_points_unit()}", value, shown, signed)


# Compact scales: (threshold, divisor, unit, decimals), largest first. English counts in thousands
# (k, M, B); Japanese in 万 (10^4), 億 (10^8) and 兆 (10^12). Below the last threshold money is exact.
_COMPACT_EN = ((1e9, 1e9, "B", 1), (1e6, 1e6, "M", 1), (1e4, 1e3, "k", 0))
_COMPACT_JA = ((1e12, 1e12, "兆", 1), (1e8, 1e8, "億", 1), (1e5, 1e4, "万", 0))


def _compact_body(a: float, scales: tuple[tuple[float, float, str, int], ...]) -> tuple[str, float] | None:
    """``a`` (>= 0) in the largest scale it reaches, as text and the rounded number shown; a value that
    rounds up to the next scale is written in it (999,999 -> 1.0M, never 1000k). None below every scale."""
    for k, (threshold, divisor, unit, decimals) in enumerate(scales):
        smaller = scales[k + 1] if k + 1 < len(scales) else None
        rounds_up = (smaller is not None and a >= smaller[0]
                     and round(a / smaller[1], smaller[3]) * smaller[1] >= threshold)
        if a >= threshold or rounds_up:
            shown = round(a / divisor, decimals)
            return f"{shown:,.{decimals}f}{unit}", shown
    return None


def _with_currency(body: str, symbol: str | None) -> str:
    if symbol is not None:  # an explicit symbol: written before the number
        return f"{symbol}{body}"
    return f"{_LOCALE.symbol}{body}{_LOCALE.suffix}"


def money(x: float | None, compact: bool = False, decimals: int = 0, signed: bool = False,
          symbol: str | None = None) -> str:
    """$12,345 (exact) or, ``compact``, $1.2M / $35k / $4,210 (exact below 10k), in the run's currency.

    ``decimals`` never exceeds the currency's (JPY has none: ¥12,346). Japanese: 12,345円, and compact
    2,576万円 / 2.6億円 (exact below 10万). ``symbol`` (legacy) forces a symbol written before the number.
    """
    if _missing(x):
        return MISSING
    value = float(x)  # type: ignore[arg-type]
    a = abs(value)
    decimals = max(0, min(decimals, _LOCALE.precision))
    compacted = None
    if compact:
        compacted = _compact_body(a, _COMPACT_JA if _LOCALE.japanese else _COMPACT_EN)
    if compacted is not None:
        body, shown = compacted
    else:
        shown = round(a, decimals)
        body = f"{shown:,.{decimals}f}"
    return _signed(_with_currency(body, symbol), value, shown, signed)


def _edge_body(x: float) -> str:
    a = abs(x)
    if _LOCALE.japanese:
        for divisor, unit in ((1e12, "兆"), (1e8, "億"), (1e4, "万")):
            if a >= divisor:
                return f"{x / divisor:,g}{unit}"
        return f"{x:,g}"
    if a >= 1e9:
        return f"{x / 1e9:g}B"
    if a >= 1e6:
        return f"{x / 1e6:g}M"
    if a >= 1e3:
        return f"{x / 1e3:g}k"
    return f"{x:g}"


def money_edge(x: float, symbol: str | None = None) -> str:
    """A band edge in a label: $1k, $50k, $1.5M, $500 (as few digits as the edge has); ja: 5万円, 1億円."""
    return _with_currency(_edge_body(x), symbol)


def money_band(low: float, high: float) -> str:
    """A band between two edges, the currency written once: $1k-5k, ¥1k-5k, 1万-5万円."""
    return f"{_LOCALE.symbol}{_edge_body(low)}-{_edge_body(high)}{_LOCALE.suffix}"


def money_tick(x: float, thousands: bool = False) -> str:
    """A money axis tick with a true minus sign: −$20k, $1.2M, $500 (``thousands``: always $1,750k);
    Japanese yen: 2.6億円, 250万円, 5,000円 (``thousands``: always in 万円)."""
    sign = MINUS if x < 0 else ""
    a = abs(x)
    if _LOCALE.japanese:
        if thousands:
            body = f"{a / 1e4:,.0f}万"
        elif a >= 1e8:
            body = f"{a / 1e8:,.1f}億"
        elif a >= 1e4:
            body = f"{a / 1e4:,.0f}万"
        else:
            body = f"{a:,.0f}"
    elif thousands:
        body = f"{a / 1e3:,.0f}k"
    elif a >= 1e9:
        body = f"{a / 1e9:.1f}B"
    elif a >= 1e6:
        body = f"{a / 1e6:.1f}M"
    elif a >= 1e3:
        body = f"{a / 1e3:.0f}k"
    else:
        body = f"{a:.0f}"
    return sign + _with_currency(body, None)


_UNITS: dict[str, Callable[..., str]] = {"pct": pct, "points": points, "number": number}


def confidence_label(level: float) -> str:
    """95% CI (ja: 95%信頼区間)."""
    return f"{level:.0%}信頼区間" if _LOCALE.japanese else f"{level:.0%} CI"


def interval(low: float | None, high: float | None, kind: str = "pct", decimals: int = 1,
             confidence: float | None = None, signed: bool = False, unit: str = "") -> str:
    """2.3–3.4% / −0.5 to +0.4 pt / $1,200–$3,400 / 0.71–0.78; ``confidence`` prefixes "95% CI ".

    ``kind``: pct, points, number or money. ``unit`` follows a number interval ("0.1–0.3 visits").
    Japanese: 1,200–3,400円, −0.5～+0.4pt, 95%信頼区間 2.3–3.4%.
    """
    if _missing(low) or _missing(high):
        return MISSING
    lo, hi = float(low), float(high)  # type: ignore[arg-type]
    same_sign = (lo < 0) == (hi < 0) and not signed
    if kind == "money":
        first, second = money(lo, signed=not same_sign), money(hi, signed=not same_sign)
        if same_sign and _LOCALE.suffix:  # the unit once: 1,200–3,400円
            first = first[: len(first) - len(_LOCALE.suffix)]
    else:
        fmt = _UNITS[kind]
        first, second = fmt(lo, decimals, not same_sign), fmt(hi, decimals, not same_sign)
        suffix = {"pct": "%", "points": _points_unit()}.get(kind, "")
        if suffix and (same_sign or kind == "points"):  # the unit once: 2.3–3.4%, −0.5 to +0.4 pt
            first = first[: len(first) - len(suffix)] if first.endswith(suffix) else first
    joiner = WAVE_DASH if _LOCALE.japanese else " to "
    text = f"{first}{DASH}{second}" if same_sign else f"{first}{joiner}{second}"
    if unit:
        text += f" {unit}"
    return f"{confidence_label(confidence)} {text}" if confidence is not None else text


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
    """1,234 below a million, 2.1M above (ja: 210万, 2.1億)."""
    if _LOCALE.japanese and n >= 1e6:
        return f"{n / 1e8:,.1f}億" if n >= 1e8 else f"{n / 1e4:,.0f}万"
    return f"{n / 1e6:.1f}M" if n >= 1e6 else f"{int(n):,}"


def plural(n: int, singular: str, plural_form: str | None = None) -> str:
    """1 account / 3 accounts (never "account(s)")."""
    return f"{n:,} {singular if n == 1 else (plural_form or singular + 's')}"


def _date(value: Any) -> datetime.date:
    return pd.Timestamp(value).date()


def month_label(month: pd.Period | str) -> str:
    """November 2026 (ja: 2026年11月)."""
    period = pd.Period(month, "M")
    if _LOCALE.japanese:
        from babel.dates import format_skeleton

        return str(format_skeleton("yMMMM", period.start_time.date(), locale="ja"))
    return period.strftime("%B %Y")


def window_label(first: pd.Period, last: pd.Period) -> str:
    """November 2026 / Sep–Nov 2026 / Dec 2025–Feb 2026 (ja: 2026年9月～11月, 2025年12月～2026年2月)."""
    first, last = pd.Period(first, "M"), pd.Period(last, "M")
    if first == last:
        return month_label(last)
    if _LOCALE.japanese:
        from babel.dates import format_interval

        return str(format_interval(first.start_time.date(), last.start_time.date(), "yMMM", locale="ja"))
    if first.year == last.year:
        return f"{first.strftime('%b')}{DASH}{last.strftime('%b %Y')}"
    return f"{first.strftime('%b %Y')}{DASH}{last.strftime('%b %Y')}"


def day(value: Any) -> str:
    """15 Oct 2026 (ja: 2026年10月15日)."""
    if _LOCALE.japanese:
        from babel.dates import format_date

        return str(format_date(_date(value), "long", locale="ja"))
    return pd.Timestamp(value).strftime("%-d %b %Y")


def words(code: Any) -> str:
    """A code name in words: ``low_usage`` -> ``low usage``."""
    return str(code).replace("_", " ")


def format_each(values: Any, fmt: Callable[[Any], str]) -> Any:
    """``fmt`` applied once per distinct value (missing values included), spread back to every row."""
    import numpy as np

    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    return np.array([fmt(u) for u in uniques], dtype=object)[codes]
