"""Churn decomposition: how much revenue and how many customers we lose, where, and what drove it.

This module is the one place that defines account-month MRR and churn; every other analysis
(survival, drivers, postmortems) calls these functions rather than re-deriving churn.
"""

from __future__ import annotations

import duckdb
import pandas as pd


def month_ends(first_month: pd.Period | str, last_month: pd.Period | str) -> pd.DatetimeIndex:
    """Last day of every month from ``first_month`` to ``last_month`` inclusive."""
    first, last = pd.Period(first_month, "M"), pd.Period(last_month, "M")
    return pd.period_range(first, last, freq="M").to_timestamp(how="end").normalize()


def account_month_mrr(subscriptions: pd.DataFrame, first_month: pd.Period | str,
                      last_month: pd.Period | str) -> pd.DataFrame:
    """MRR per account at the last day of each month (the contract rule), dense from the account's
    first paying month in the window to ``last_month``, zeros included after a churn.

    Returns columns ``account_id``, ``month`` (Period[M]), ``month_end`` (Timestamp), ``mrr``.
    A subscription is active on day d when ``start_date <= d < end_date`` (end exclusive, null = open).
    """
    ends = pd.DataFrame({"month_end": month_ends(first_month, last_month)})
    subs = subscriptions[["account_id", "start_date", "end_date", "mrr"]]
    con = duckdb.connect()
    con.register("subs", subs)
    con.register("ends", ends)
    frame = con.execute(
        """
        WITH active AS (
            SELECT s.account_id, e.month_end, sum(s.mrr) AS mrr
            FROM subs s JOIN ends e
              ON s.start_date <= e.month_end AND (s.end_date IS NULL OR s.end_date > e.month_end)
            GROUP BY ALL
        ),
        span AS (SELECT account_id, min(month_end) AS first_end FROM active WHERE mrr > 0 GROUP BY ALL)
        SELECT sp.account_id, e.month_end, coalesce(a.mrr, 0.0) AS mrr
        FROM span sp JOIN ends e ON e.month_end >= sp.first_end
        LEFT JOIN active a ON a.account_id = sp.account_id AND a.month_end = e.month_end
        ORDER BY sp.account_id, e.month_end
        """
    ).df()
    con.close()
    frame["month_end"] = pd.to_datetime(frame["month_end"])
    frame.insert(1, "month", frame["month_end"].dt.to_period("M"))
    return frame
