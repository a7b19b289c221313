"""How much we lose: the MRR bridge, churn rates with their intervals, and the book's convention."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...core.revenue import ANNUALISATIONS, _check_choice
from ...core.stats import annualise, ratio_interval, wilson_interval

BRIDGE_MOVEMENTS = ("new", "expansion", "reactivation", "contraction", "churn")


# --------------------------------------------------------------------------------------------------
# MRR bridge
# --------------------------------------------------------------------------------------------------
def _cents(values: pd.Series) -> pd.Series:
    return np.rint(values.astype(float) * 100).astype("int64")


def mrr_bridge(frame: pd.DataFrame, by: str | list[str] | None = None) -> pd.DataFrame:
    """Per month (and per ``by`` group): ``starting_mrr``, ``new``, ``expansion``, ``reactivation``,
    ``contraction``, ``churn`` (signed: losses negative), ``ending_mrr``, and account counts.

    starting + new + expansion + reactivation + contraction + churn = ending, exactly: amounts are
    summed in integer cents. Takes :func:`csresearch.core.revenue.mrr_movements` or
    :func:`.compute_frame.account_month_churn` output.
    """
    keys = ["month", *([by] if isinstance(by, str) else (by or []))]
    work = frame[keys].copy()
    start, end = _cents(frame["prev_mrr"]), _cents(frame["mrr"])
    work["starting_mrr"] = start
    for name in BRIDGE_MOVEMENTS:
        work[name] = (end - start).where(frame["movement"] == name, 0)
    work["ending_mrr"] = end
    same = frame["same_month"] if "same_month" in frame else pd.Series(False, index=frame.index)
    work["accounts_start"] = (start > 0).astype(int)
    work["accounts_end"] = (end > 0).astype(int)
    work["new_accounts"] = (frame["movement"] == "new").astype(int)
    work["reactivated_accounts"] = (frame["movement"] == "reactivation").astype(int)
    work["churned_accounts"] = (frame["movement"] == "churn").astype(int)
    work["same_month_churns"] = same.astype(int)
    grouped = work.groupby(keys, observed=True, sort=True).sum().reset_index()
    money = ["starting_mrr", *BRIDGE_MOVEMENTS, "ending_mrr"]
    grouped[money] = grouped[money] / 100.0
    return grouped


def bridge_gap_cents(bridge: pd.DataFrame) -> pd.Series:
    """ending - (starting + movements) in cents per row: all zeros when the bridge holds."""
    parts = ["starting_mrr", *BRIDGE_MOVEMENTS]
    return _cents(bridge["ending_mrr"]) - sum(_cents(bridge[c]) for c in parts)


# --------------------------------------------------------------------------------------------------
# Rates and their intervals
# --------------------------------------------------------------------------------------------------
def _rate_row(rows: pd.DataFrame, annualisation: str, confidence: float) -> dict:
    at_risk, churned = int(rows["at_risk"].sum()), int(rows["churned"].sum())
    start = rows["prev_mrr"].to_numpy(dtype=float)
    delta = (rows["mrr"] - rows["prev_mrr"]).to_numpy(dtype=float)
    mv = rows["movement"].to_numpy()
    loss = np.where(np.isin(mv, ["churn", "contraction"]), -delta, 0.0)
    expansion = np.where(mv == "expansion", delta, 0.0)
    reactivation = np.where(mv == "reactivation", delta, 0.0)
    new = np.where(mv == "new", delta, 0.0)
    logo = churned / at_risk if at_risk else np.nan
    logo_low, logo_high = wilson_interval(churned, at_risk, confidence)
    # the ratios themselves from the sums (ratio_interval gives its interval from two account-months on)
    total = start.sum()
    _, gross_low, gross_high = ratio_interval(loss, start, confidence)
    _, net_low, net_high = ratio_interval(loss - expansion - reactivation, start, confidence)
    gross = loss.sum() / total if total > 0 else np.nan
    net = (loss - expansion - reactivation).sum() / total if total > 0 else np.nan
    nrr_loss = (loss - expansion).sum() / total if total > 0 else np.nan
    losses = loss.sum()
    out = {
        "accounts_at_risk": at_risk, "churned_accounts": churned,
        "logo_churn_rate": logo, "logo_churn_low": logo_low, "logo_churn_high": logo_high,
        "starting_mrr": start.sum(), "lost_mrr": losses, "expansion_mrr": expansion.sum(),
        "reactivation_mrr": reactivation.sum(), "new_mrr": new.sum(),
        "gross_revenue_churn_rate": gross, "gross_revenue_churn_low": gross_low,
        "gross_revenue_churn_high": gross_high,
        "net_revenue_churn_rate": net, "net_revenue_churn_low": net_low, "net_revenue_churn_high": net_high,
        "grr": 1 - gross, "nrr": 1 - nrr_loss,
        "quick_ratio": (new.sum() + expansion.sum() + reactivation.sum()) / losses if losses > 0 else np.nan,
    }
    for key in ("logo_churn_rate", "logo_churn_low", "logo_churn_high", "gross_revenue_churn_rate",
                "net_revenue_churn_rate"):
        out[f"{key}_annualised"] = annualise(out[key], annualisation) if not pd.isna(out[key]) else np.nan
    out["grr_annualised"] = 1 - out["gross_revenue_churn_rate_annualised"]
    out["nrr_annualised"] = 1 - annualise(nrr_loss, annualisation) if not pd.isna(nrr_loss) else np.nan
    return out


def churn_rates(frame: pd.DataFrame, months: list[pd.Period] | None = None, windows=(1, 3, 12),
                annualisation: str = "compounded", confidence: float = 0.95) -> pd.DataFrame:
    """Monthly rates per month and trailing window (``window_months`` 1, 3, 12), pooled over the window's
    account-months (a trailing rate is a monthly rate: churned / at-risk account-months).

    logo churn (Wilson interval); gross revenue churn ``(churn + contraction) / starting MRR``; net
    revenue churn ``(churn + contraction - expansion - reactivation) / starting MRR`` (negative = net
    negative churn); GRR = 1 - gross, NRR = 1 - net; quick ratio ``(new + expansion + reactivation) /
    (churn + contraction)``; each rate also annualised. A window needs all its months in ``frame``.
    NRR counts only accounts paying at the start (start - churn - contraction + expansion) / start, as
    *Fighting Churn With Data*'s net retention does; reactivations enter net revenue churn, not NRR.
    """
    _check_choice("annualisation", annualisation, ANNUALISATIONS)
    available = sorted(frame["month"].unique())
    months = sorted(months) if months is not None else available
    by_month = {m: g for m, g in frame.groupby("month")}
    rows = []
    for month in months:
        for window in windows:
            span = [month - k for k in range(window)]
            if any(m not in by_month for m in span):
                continue
            pooled = pd.concat([by_month[m] for m in span])
            rows.append({"month": month, "window_months": window, "first_month": span[-1],
                         **_rate_row(pooled, annualisation, confidence)})
    return pd.DataFrame(rows)


def period_start_rates(subscriptions: pd.DataFrame, start_date, end_date) -> dict:
    """*Fighting Churn With Data*'s metrics between two dates, as the book's SQL computes them: an
    account is active on a date when one of its subscriptions is (start <= date < end or no end).
    churn rate = accounts active at start and not at end / accounts active at start; net retention =
    end MRR of accounts active at both dates / start MRR of accounts active at start; MRR churn =
    (churned MRR + downsell MRR) / start MRR, downsell summed over retained accounts whose MRR fell."""
    start, end = pd.Timestamp(start_date), pd.Timestamp(end_date)

    def mrr_on(day):
        active = subscriptions[(subscriptions["start_date"] <= day)
                               & (subscriptions["end_date"].isna() | (subscriptions["end_date"] > day))]
        return active.groupby("account_id")["mrr"].sum()

    before, after = mrr_on(start), mrr_on(end)
    retained = before.index.intersection(after.index)
    churned = before.index.difference(after.index)
    downsell = (before[retained] - after[retained]).clip(lower=0).sum()
    return {
        "start_accounts": len(before), "churned_accounts": len(churned),
        "churn_rate": len(churned) / len(before) if len(before) else np.nan,
        "net_retention": after[retained].sum() / before.sum() if before.sum() else np.nan,
        "mrr_churn": (before[churned].sum() + downsell) / before.sum() if before.sum() else np.nan,
    }
