"""Numbers of the data overview: MRR trend and accounts by attribute."""

from __future__ import annotations

import pandas as pd

from ...core.revenue import account_month_mrr
from ...data import Dataset


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
