"""Data overview: what data did we get, how much of it is usable, and the shape of the business."""

from __future__ import annotations

import pandas as pd

from .core.revenue import account_month_mrr
from .data import Dataset


def mrr_trend(ds: Dataset, month: pd.Period, months: int = 24) -> pd.DataFrame:
    """Total MRR and paying accounts at each month end, for the ``months`` months up to ``month``."""
    first = month - (months - 1)
    mrr = account_month_mrr(ds.table("subscriptions"), first, month)
    trend = (mrr.assign(paying=mrr["mrr"] > 0)
                .groupby("month", as_index=False)
                .agg(mrr=("mrr", "sum"), paying_accounts=("paying", "sum")))
    trend["month_end"] = trend["month"].dt.to_timestamp(how="end").dt.normalize()
    return trend


def accounts_by(ds: Dataset, column: str) -> pd.DataFrame:
    """Accounts per value of an account attribute (missing values shown as 'unknown')."""
    accounts = ds.table("accounts")
    if column not in accounts:
        return pd.DataFrame(columns=[column, "accounts", "share"])
    counts = accounts[column].fillna("unknown").value_counts().rename_axis(column).reset_index(name="accounts")
    counts["share"] = counts["accounts"] / counts["accounts"].sum()
    return counts


def headline(ds: Dataset, trend: pd.DataFrame, month: pd.Period) -> str:
    """One sentence: how much data, how much of it usable, and where MRR stands."""
    q = ds.quality
    read, rejected = int(q["rows_read"].sum()), int(q["rows_rejected"].sum())
    now = trend.loc[trend["month"] == month]
    if now.empty:
        return f"No subscription is active in {month.strftime('%B %Y')}: check the report month against the data."
    mrr, paying = float(now["mrr"].iloc[0]), int(now["paying_accounts"].iloc[0])
    year_ago = trend.loc[trend["month"] == month - 12]
    change = ""
    if not year_ago.empty and year_ago["mrr"].iloc[0] > 0:
        growth = mrr / float(year_ago["mrr"].iloc[0]) - 1
        change = f", {'up' if growth >= 0 else 'down'} {abs(growth):.0%} on a year earlier"
    usable = "all usable" if rejected == 0 else f"{rejected:,} rejected ({rejected / read:.2%})"
    return (f"{paying:,} paying accounts and ${mrr:,.0f} MRR at the end of {month.strftime('%B %Y')}{change}; "
            f"{read:,} rows read across {len(q)} tables, {usable}.")
