"""Months and days: the one month-end helper and the one days-per-month constant."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd

from .errors import ParameterError

# an average Gregorian month; every conversion between days and months uses it
DAYS_PER_MONTH = 365.25 / 12


def month_end(month: pd.Period | str) -> pd.Timestamp:
    """The last day of ``month`` at 00:00 (a report month's data cut-off)."""
    return pd.Period(month, "M").to_timestamp(how="end").normalize()


def month_ends(first_month: pd.Period | str, last_month: pd.Period | str) -> pd.DatetimeIndex:
    """Last day of every month from ``first_month`` to ``last_month`` inclusive."""
    first, last = pd.Period(first_month, "M"), pd.Period(last_month, "M")
    return pd.period_range(first, last, freq="M").to_timestamp(how="end").normalize()


def check_month(text: str) -> str:
    """``text`` if it is a month like ``2026-10`` (a real month, a year from 1900 to 2999), else
    :class:`ParameterError` with one sentence."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", str(text))
    if not match or not (1900 <= int(match.group(1)) <= 2999 and 1 <= int(match.group(2)) <= 12):
        raise ParameterError(f"month {text!r} is not a month like 2026-10")
    return str(text)


def resolve_month(month: str | pd.Period | None, today: dt.date | None = None) -> pd.Period:
    """The report month as a monthly Period; ``None`` means the last complete month before today."""
    if month is None or month == "":
        today = today or dt.date.today()
        return pd.Period(today, freq="M") - 1
    if isinstance(month, pd.Period):
        return month.asfreq("M")
    return pd.Period(check_month(str(month)), freq="M")
