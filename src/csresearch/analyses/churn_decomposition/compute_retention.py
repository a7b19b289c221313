"""How much of a year-old book of revenue we still bill: the 12-month cohort NRR and GRR.

The figures people quote: take the accounts paying ``months`` months before the report month's end
(the cohort), and compare their MRR now with their MRR then, each account counted whether it
churned, shrank, grew or left and came back.

- NRR = sum(MRR now) / sum(MRR then), expansion included;
- GRR = sum(min(MRR now, MRR then)) / sum(MRR then): each account capped at its starting MRR, so
  only losses count.

Both are ratios of sums over the cohort's accounts, one independent pair (then, now) per account.
Their intervals are delta-method intervals (the linearised ratio of
:func:`csresearch.core.stats.ratio_interval`) drawn on the log scale for NRR and the logit scale for
GRR and mapped back, so NRR stays above 0 and GRR within 0-100%. We chose them over an account-level
(BCa) bootstrap after measuring both on planted cohorts with lognormal MRR: at 300 accounts the
transformed delta intervals covered 92-94% against the bootstrap's 91%, and at 30-100 accounts both
undercover (85-89%): a cohort's interval is approximate when a few large accounts hold its MRR.
Accounts that joined after the cohort month are not in it, so new business cannot flatter either
figure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...core.stats import ratio_interval

COHORT_MONTHS = 12


def transformed_ratio_interval(numerator, denominator, confidence: float = 0.95,
                               scale: str = "log") -> tuple[float, float]:
    """Interval for sum(numerator) / sum(denominator) over units (accounts): the delta-method standard
    error of :func:`csresearch.core.stats.ratio_interval`, applied on the ``log`` scale (a ratio
    above 0: NRR) or the ``logit`` scale (a ratio in 0-1: GRR) and mapped back. NaNs with fewer than two
    units; the ratio twice (zero width) when no unit's ratio differs from the whole's or the ratio sits
    on its bound, where the scale has no slope."""
    from scipy.stats import norm

    ratio, low, high = ratio_interval(numerator, denominator, confidence)
    if pd.isna(ratio):
        return np.nan, np.nan
    se = (high - low) / 2 / norm.ppf(0.5 + confidence / 2)
    on_bound = ratio <= 0 or (scale == "logit" and ratio >= 1)
    if se <= 1e-12 * max(1.0, abs(ratio)) or on_bound:
        return float(ratio), float(ratio)
    z = norm.ppf(0.5 + confidence / 2)
    if scale == "log":
        spread = z * se / ratio
        return float(ratio * np.exp(-spread)), float(ratio * np.exp(spread))
    centre, spread = np.log(ratio / (1 - ratio)), z * se / (ratio * (1 - ratio))
    return float(1 / (1 + np.exp(-(centre - spread)))), float(1 / (1 + np.exp(-(centre + spread))))


def cohort_accounts(frame: pd.DataFrame, month: pd.Period | str, months: int = COHORT_MONTHS) -> pd.DataFrame:
    """The cohort's accounts: ``account_id``, ``mrr_then`` (MRR at the end of the month ``months``
    before ``month``, > 0), ``mrr_now`` (MRR at the end of ``month``, 0 when gone), ``retained_mrr``
    (min of the two), and the account's ``segment`` when the frame has it. Reads the account-month
    table of :func:`.compute_frame.account_month_churn` (its ``prev_mrr`` of the month after the
    cohort month is the cohort month's closing MRR)."""
    month = pd.Period(month, "M")
    rows = frame[~frame["same_month"]] if "same_month" in frame else frame
    start = rows[(rows["month"] == month - months + 1) & (rows["prev_mrr"] > 0)]
    keep = ["account_id", "prev_mrr", *(["segment"] if "segment" in start else [])]
    cohort = start[keep].drop_duplicates("account_id").rename(columns={"prev_mrr": "mrr_then"})
    now = rows[rows["month"] == month].groupby("account_id")["mrr"].sum()
    cohort["mrr_now"] = cohort["account_id"].map(now).fillna(0.0).astype(float)
    cohort["retained_mrr"] = np.minimum(cohort["mrr_now"], cohort["mrr_then"])
    return cohort.reset_index(drop=True)


def _row(cohort: pd.DataFrame, confidence: float) -> dict:
    then = cohort["mrr_then"].to_numpy(float)
    nrr_low, nrr_high = transformed_ratio_interval(cohort["mrr_now"].to_numpy(float), then, confidence, "log")
    grr_low, grr_high = transformed_ratio_interval(cohort["retained_mrr"].to_numpy(float), then, confidence, "logit")
    total = then.sum()  # > 0: every cohort account paid
    return {
        "accounts_start": len(cohort), "accounts_paying_now": int((cohort["mrr_now"] > 0).sum()),
        "starting_mrr": total, "mrr_now": float(cohort["mrr_now"].sum()),
        "retained_mrr": float(cohort["retained_mrr"].sum()),
        # one account has a ratio but no interval: NaN bounds, said in words
        "nrr": cohort["mrr_now"].sum() / total, "nrr_low": nrr_low, "nrr_high": nrr_high,
        "grr": cohort["retained_mrr"].sum() / total, "grr_low": grr_low, "grr_high": grr_high,
    }


def cohort_retention_12m(frame: pd.DataFrame, month: pd.Period | str, months: int = COHORT_MONTHS,
                         confidence: float = 0.95) -> pd.DataFrame:
    """NRR and GRR of the accounts paying ``months`` months before ``month``, with their intervals:
    one row for every account (``group`` = all) and one per value of ``segment`` when the frame has
    it. Columns: ``group``, ``cohort_month`` (the month whose closing MRR is the start), ``month``,
    ``accounts_start``, ``accounts_paying_now``, ``starting_mrr``, ``mrr_now``, ``retained_mrr``,
    ``nrr`` (= mrr_now / starting_mrr) with ``nrr_low``/``nrr_high``, ``grr`` (= retained_mrr /
    starting_mrr) with ``grr_low``/``grr_high``. No rows when nobody was paying then."""
    month = pd.Period(month, "M")
    cohort = cohort_accounts(frame, month, months)
    if cohort.empty:
        return pd.DataFrame()
    rows = [{"group": "all", **_row(cohort, confidence)}]
    if "segment" in cohort:
        for value, part in cohort.groupby(cohort["segment"].astype(str), sort=True):
            rows.append({"group": f"segment={value}", **_row(part, confidence)})
    table = pd.DataFrame(rows)
    table.insert(1, "cohort_month", month - months)
    table.insert(2, "month", month)
    return table
