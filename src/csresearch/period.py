"""Months and days: the one month-end helper and the one days-per-month constant."""

from __future__ import annotations

import pandas as pd

# an average Gregorian month; every conversion between days and months uses it
DAYS_PER_MONTH = 365.25 / 12


def month_end(month: pd.Period | str) -> pd.Timestamp:
    """The last day of ``month`` at 00:00 (a report month's data cut-off)."""
    return pd.Period(month, "M").to_timestamp(how="end").normalize()


def month_ends(first_month: pd.Period | str, last_month: pd.Period | str) -> pd.DatetimeIndex:
    """Last day of every month from ``first_month`` to ``last_month`` inclusive."""
    first, last = pd.Period(first_month, "M"), pd.Period(last_month, "M")
    return pd.period_range(first, last, freq="M").to_timestamp(how="end").normalize()
