"""Sentences and KPI text of the data overview, read from its result."""

from __future__ import annotations

from ..base import Kpi, kpi
from .result import Result


def headline(result: Result) -> str:
    """One sentence: how much data, how much of it usable, and where MRR stands."""
    month = result.month.strftime("%B %Y")
    if result.now.empty:
        return f"No subscription is active in {month}: check the report month against the data."
    growth = result.year_on_year_growth
    change = "" if growth is None else f", {'up' if growth >= 0 else 'down'} {abs(growth):.0%} on a year earlier"
    read, rejected = result.rows_read, result.rows_rejected
    usable = "all usable" if rejected == 0 else f"{rejected:,} rejected ({rejected / read:.2%})"
    return (f"{result.paying_accounts:,} paying accounts and ${result.mrr:,.0f} MRR at the end of {month}{change}; "
            f"{read:,} rows read across {result.tables_read} tables, {usable}.")


def kpis(result: Result) -> list[Kpi]:
    return [
        kpi("MRR at month end", result.mrr, f"${result.mrr:,.0f}"),
        kpi("Paying accounts", result.paying_accounts, f"{result.paying_accounts:,}"),
        kpi("Rows rejected", result.rows_rejected, f"{result.rows_rejected:,} of {result.rows_read:,}"),
    ]


def trend_title(result: Result) -> str:
    return f"MRR at month end, last {result.trend_months} months"
