"""Where we lose: churn by segment with corrected flags, and retention by start-month cohort."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...core.revenue import movements
from ...core.stats import wilson_interval
from .compute_rates import _rate_row


def resample_counts(n_units: int, n_resamples: int, seed: int):
    """Bootstrap resamples of ``n_units`` units (accounts) drawn with replacement, as counts: batches of
    a (resamples x n_units) matrix of how often each unit was drawn, each batch under ~5M cells."""
    rng = np.random.default_rng(seed)
    batch = max(1, min(n_resamples, 5_000_000 // max(n_units, 1)))
    for done in range(0, n_resamples, batch):
        size = min(batch, n_resamples - done)
        drawn = rng.integers(0, n_units, size=(size, n_units)) + n_units * np.arange(size)[:, None]
        yield np.bincount(drawn.ravel(), minlength=size * n_units).reshape(size, n_units).astype(float)


def window_months_ending(month: pd.Period | str, window_months: int) -> list[pd.Period]:
    """The ``window_months`` months ending at ``month``, oldest first."""
    month = pd.Period(month, "M")
    return [month - k for k in range(window_months - 1, -1, -1)]


def churn_by_segment(frame: pd.DataFrame, columns, month: pd.Period | str, window_months: int = 3,
                     confidence: float = 0.95, correction: str = "holm",
                     annualisation: str = "compounded") -> pd.DataFrame:
    """Rates per value of each split column over the ``window_months`` ending at ``month``, and a flag
    for values whose logo churn is significantly above the rest of the base.

    The test per value is a one-sided Fisher exact test (value vs everyone else, scipy ``fisher_exact``:
    valid for small groups too), its p-values corrected together across every value of every column
    with statsmodels ``multipletests(method=correction)`` (Holm by default: family-wise error at
    1 - confidence). Values with no account at risk in the window are left out.
    Account-months of one account over the window are treated as independent, which makes the
    test slightly liberal for windows over one month.
    """
    from scipy.stats import fisher_exact
    from statsmodels.stats.multitest import multipletests

    span = window_months_ending(month, window_months)
    rows_in = frame[frame["month"].isin(span)]
    total_risk, total_churn = int(rows_in["at_risk"].sum()), int(rows_in["churned"].sum())
    out = []
    for column in columns:
        if column not in rows_in:
            continue
        for value, rows in rows_in.groupby(column, observed=True, sort=True):
            if not rows["at_risk"].any():
                continue
            row = _rate_row(rows, annualisation, confidence)
            rest_risk, rest_churn = total_risk - row["accounts_at_risk"], total_churn - row["churned_accounts"]
            p_value = np.nan
            if row["accounts_at_risk"] and rest_risk and 0 < row["churned_accounts"] + rest_churn:
                table_2x2 = [[row["churned_accounts"], row["accounts_at_risk"] - row["churned_accounts"]],
                             [rest_churn, rest_risk - rest_churn]]
                p_value = float(fisher_exact(table_2x2, alternative="greater").pvalue)
            out.append({"split": column, "value": str(value), **row,
                        "rest_logo_churn_rate": rest_churn / rest_risk if rest_risk else np.nan,
                        "p_value": p_value})
    table = pd.DataFrame(out)
    if table.empty:
        return table
    table.insert(2, "first_month", span[0])
    table.insert(3, "last_month", span[-1])
    tested = table["p_value"].notna()
    table["p_adjusted"] = np.nan
    table["flagged"] = False
    if tested.any():
        reject, adjusted, _, _ = multipletests(table.loc[tested, "p_value"], alpha=1 - confidence, method=correction)
        table.loc[tested, "p_adjusted"] = adjusted
        table.loc[tested, "flagged"] = reject & (table.loc[tested, "logo_churn_rate"]
                                                 > table.loc[tested, "rest_logo_churn_rate"])
    return table


def cohort_retention(subscriptions: pd.DataFrame, first_cohort: pd.Period | str, last_month: pd.Period | str,
                     reactivation_window_days: int = 0, convention: str = "month_end",
                     confidence: float = 0.95) -> pd.DataFrame:
    """Logo and net MRR retention by start month (the account's first paying month), long format:
    ``cohort``, ``months_since_start`` (0 = the first paying month), ``cohort_accounts``,
    ``active_accounts`` (MRR > 0; a returning account counts again), ``logo_retention`` with its Wilson
    interval, ``cohort_mrr`` (the cohort's MRR in its first month), ``mrr``, ``net_mrr_retention``
    (= mrr / cohort_mrr, expansion included). Cohorts from ``first_cohort`` to ``last_month``."""
    first, last = pd.Period(first_cohort, "M"), pd.Period(last_month, "M")
    history = movements(subscriptions, pd.Timestamp(subscriptions["start_date"].min()).to_period("M"), last,
                        reactivation_window_days, convention)
    start = history.loc[history["mrr"] > 0].groupby("account_id")["month"].min().rename("cohort")
    frame = history.join(start, on="account_id")
    frame = frame[(frame["cohort"] >= first) & (frame["month"] >= frame["cohort"])].copy()
    columns = ["cohort", "months_since_start", "cohort_accounts", "active_accounts", "logo_retention",
               "logo_retention_low", "logo_retention_high", "cohort_mrr", "mrr", "net_mrr_retention"]
    if frame.empty:  # no account started paying from first_cohort on
        return pd.DataFrame(columns=columns)
    frame["months_since_start"] = (frame["month"] - frame["cohort"]).apply(lambda d: d.n)
    frame["active"] = frame["mrr"] > 0
    cells = frame.groupby(["cohort", "months_since_start"]).agg(
        active_accounts=("active", "sum"), mrr=("mrr", "sum")).reset_index()
    base = cells[cells["months_since_start"] == 0].set_index("cohort")
    cells["cohort_accounts"] = cells["cohort"].map(base["active_accounts"])
    cells["cohort_mrr"] = cells["cohort"].map(base["mrr"])
    cells["logo_retention"] = cells["active_accounts"] / cells["cohort_accounts"]
    low, high = wilson_interval(cells["active_accounts"], cells["cohort_accounts"], confidence)
    cells["logo_retention_low"], cells["logo_retention_high"] = low, high
    cells["net_mrr_retention"] = cells["mrr"] / cells["cohort_mrr"]
    return cells[columns]
