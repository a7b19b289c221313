"""Sentences and KPI text of the data overview, read from its result."""

from __future__ import annotations

from ...text import day, money, month_label, pct, plural
from ..base import Kpi, kpi
from .result import Result


def headline(result: Result) -> str:
    """One sentence: how much data, how much of it usable, and where MRR stands."""
    month = month_label(result.month)
    if result.now.empty:
        return f"No subscription is active in {month}: check the report month against the data."
    growth = result.year_on_year_growth
    change = "" if growth is None else f", {'up' if growth >= 0 else 'down'} {pct(abs(growth), 0)} on a year earlier"
    read, rejected = result.rows_read, result.rows_rejected
    usable = "all usable" if rejected == 0 else f"{rejected:,} rejected ({pct(rejected / read, 2)})"
    return (f"{plural(result.paying_accounts, 'paying account')} and {money(result.mrr)} MRR at the end of "
            f"{month}{change}; {plural(read, 'row')} read across {plural(result.tables_read, 'table')}, {usable}.")


def kpis(result: Result) -> list[Kpi]:
    return [
        kpi("MRR at month end", result.mrr, money(result.mrr)),
        kpi("Paying accounts", result.paying_accounts, f"{result.paying_accounts:,}"),
        kpi("Rows rejected", result.rows_rejected, f"{result.rows_rejected:,} of {result.rows_read:,}"),
    ]


def trend_title(result: Result) -> str:
    return f"MRR at month end, last {plural(result.trend_months, 'month')}"


def coverage(result: Result) -> str:
    """What dates the data covers, and which tables stop earlier than the others."""
    if result.covered_to is None:
        return ""
    text = f"The data covers to {day(result.covered_to)} (its latest record: {result.covered_source.replace('_', ' ')})."
    late = result.stops_early
    if late:
        table = result.coverage.set_index("table")
        parts = [f"{name.replace('_', ' ')} (last record {day(table.loc[name, 'last'])})" for name in late]
        text += (f" {'These tables stop' if len(parts) > 1 else 'One table stops'} a month or more earlier, so "
                 f"what they feed is missing for the latest weeks: {', '.join(parts)}.")
    return text
