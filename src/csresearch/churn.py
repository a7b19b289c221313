"""Churn decomposition: how much revenue and how many customers we lose, where, and what drove it.

This module is the one place that defines account-month MRR and churn; every other analysis
(survival, drivers, postmortems) calls these functions rather than re-deriving churn.

Definitions (the data contract's month-end rule):
- account MRR in month M = sum of ``mrr`` over the account's subscriptions active on M's last day;
- a *churn* is a month end at zero MRR after a month end with MRR > 0;
- ``reactivation_window_days`` (default 0): a zero-MRR gap shorter than this many days is not a
  churn. Its drop to zero is booked as a *contraction* to 0 and the return as an *expansion*, so the
  MRR bridge (start + movements = end) still holds exactly. A gap still open at the end of the data
  that is not yet as long as the window counts as a churn from its first day (*provisional*): if the
  account comes back within the window, a later run restates it as contraction + expansion. We chose
  this over waiting because waiting would hide the most recent churn for ``window`` days and bias the
  latest month's churn rate down.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .core.revenue import *  # noqa: F401,F403  (moved; this module keeps the report)
from .core.revenue import _check_choice, _connect  # noqa: F401
from .core.stats import annualise, ratio_interval, wilson_interval  # noqa: F401


# --------------------------------------------------------------------------------------------------
# One row per account-month with its movement, churn flag and segment attributes
# --------------------------------------------------------------------------------------------------
DEFAULT_VALUE_BANDS = (0, 1_000, 5_000, 20_000, 50_000)
ACCOUNT_SPLITS = ("segment", "touch_tier", "region")
SPLIT_LABELS = {
    "value_band": "contract value (ACV)", "billing_period": "billing period", "product": "plan",
    "segment": "segment", "touch_tier": "touch tier", "region": "region",
    "acquisition_cohort": "acquisition cohort",
}


def _money_short(x: float) -> str:
    a = abs(x)
    if a >= 1e6:
        return f"${x / 1e6:g}M"
    if a >= 1e3:
        return f"${x / 1e3:g}k"
    return f"${x:g}"


def value_band(annual_value: pd.Series, edges=DEFAULT_VALUE_BANDS) -> pd.Series:
    """Annual contract value (12 x MRR) in bands with edges ``edges`` (left-closed): ``<$1k``,
    ``$1k-5k``, ..., ``>=$50k``. An ordered categorical."""
    edges = sorted(float(e) for e in edges)
    inner = [e for e in edges if e > 0]
    labels = [f"<{_money_short(inner[0])}"]
    labels += [f"{_money_short(a)}-{_money_short(b)[1:]}" for a, b in zip(inner, inner[1:])]
    labels += [f">={_money_short(inner[-1])}"]
    bins = [-np.inf, *inner, np.inf]
    return pd.cut(annual_value, bins=bins, labels=labels, right=False)


def _dominant_subscription(subscriptions: pd.DataFrame, frame: pd.DataFrame, offset_days: int) -> pd.DataFrame:
    """Product and billing period of the largest-MRR subscription of each (account, month) snapshot."""
    subs = subscriptions.copy()
    if "billing_period" not in subs:
        subs["billing_period"] = None
    if "product" not in subs:
        subs["product"] = None
    snaps = frame[["account_id", "month_end"]].drop_duplicates().copy()
    snaps["snapshot"] = snaps["month_end"] + pd.Timedelta(days=offset_days)
    con = _connect()
    con.register("subs", subs[["account_id", "start_date", "end_date", "mrr", "product", "billing_period"]])
    con.register("snaps", snaps)
    out = con.execute(
        """
        SELECT n.account_id, n.month_end,
               CAST(arg_max(s.product, s.mrr) AS VARCHAR) AS product,
               CAST(arg_max(s.billing_period, s.mrr) AS VARCHAR) AS billing_period
        FROM snaps n JOIN subs s
          ON s.account_id = n.account_id AND s.start_date <= n.snapshot
         AND coalesce(s.end_date, TIMESTAMP '2200-01-01') > n.snapshot AND s.mrr > 0
        GROUP BY ALL
        """
    ).df()
    con.close()
    out["month_end"] = pd.to_datetime(out["month_end"])
    return out


def account_month_churn(subscriptions: pd.DataFrame, accounts: pd.DataFrame | None,
                        first_month: pd.Period | str, last_month: pd.Period | str, *,
                        convention: str = "month_end", reactivation_window_days: int = 0,
                        count_same_month_churn: bool = True,
                        value_bands=DEFAULT_VALUE_BANDS) -> pd.DataFrame:
    """The table every churn number here is computed from: one row per account and month.

    Columns: ``account_id``, ``month``, ``prev_mrr`` (MRR at the start of the month), ``mrr`` (at its
    end), ``movement``; ``at_risk`` (counts in the logo churn denominator: paying at the start of the
    month) and ``churned`` (the numerator); ``same_month`` (joined and churned inside the month, never
    paying at a month end: a row only when ``count_same_month_churn``, at risk and churned, with 0 MRR,
    so the MRR bridge is unaffected); and the attributes at the start of the month (at the end for
    accounts that were not paying at the start): ``value_band`` (12 x MRR), ``product``,
    ``billing_period`` (of the largest subscription), ``acquisition_cohort`` (year of the first paid
    month), plus ``segment``, ``touch_tier``, ``region`` and any extra ``accounts`` columns.
    """
    _check_choice("convention", convention, CONVENTIONS)
    first, last = pd.Period(first_month, "M"), pd.Period(last_month, "M")
    offset = 0 if convention == "month_end" else 1
    history = movements(subscriptions, pd.Timestamp(subscriptions["start_date"].min()).to_period("M"), last,
                        reactivation_window_days, convention)
    acquired = history.loc[history["mrr"] > 0].groupby("account_id")["month"].min()
    dom = _dominant_subscription(subscriptions, history.loc[history["mrr"] > 0], offset)
    history = history.merge(dom, on=["account_id", "month_end"], how="left")
    by_account = history.groupby("account_id")
    start_product = by_account["product"].shift()
    start_billing = by_account["billing_period"].shift()
    paying_at_start = history["prev_mrr"] > 0
    history["product"] = start_product.where(paying_at_start, history["product"])
    history["billing_period"] = start_billing.where(paying_at_start, history["billing_period"])
    frame = history[(history["month"] >= first) & (history["month"] <= last)].copy()
    frame["at_risk"] = frame["prev_mrr"] > 0
    frame["churned"] = frame["movement"] == "churn"
    frame["same_month"] = False
    frame["annual_value"] = 12 * frame["prev_mrr"].where(frame["at_risk"], frame["mrr"])
    frame["acquisition_month"] = frame["account_id"].map(acquired)
    if count_same_month_churn and convention == "month_end":
        spells = paying_spells(subscriptions, last.to_timestamp(how="end").normalize(), reactivation_window_days)
        blips = spells[spells["churned"] & (spells["month_ends_paid"] == 0)].copy()
        blips["month"] = blips["start_date"].dt.to_period("M")
        blips = blips[(blips["month"] >= first) & (blips["month"] <= last)]
        if len(blips):
            blip_dom = _dominant_subscription(
                subscriptions, blips.assign(month_end=blips["start_date"]), 0)
            blips = blips.merge(blip_dom.rename(columns={"month_end": "start_date"}), on=["account_id", "start_date"],
                                how="left")
            extra = pd.DataFrame({
                "account_id": blips["account_id"], "month": blips["month"],
                "month_end": blips["month"].dt.to_timestamp(how="end").dt.normalize(),
                "mrr": 0.0, "prev_mrr": 0.0, "movement": "inactive", "product": blips["product"],
                "billing_period": blips["billing_period"], "at_risk": True, "churned": True, "same_month": True,
                "annual_value": 12 * blips["start_mrr"],
                "acquisition_month": blips["account_id"].map(acquired).fillna(blips["month"]),
            })
            frame = pd.concat([frame, extra], ignore_index=True)
    frame["value_band"] = value_band(frame["annual_value"], value_bands)
    frame["acquisition_cohort"] = frame["acquisition_month"].dt.year.astype("Int64").astype(str)
    frame["product"] = frame["product"].astype(object).fillna("unknown")
    frame["billing_period"] = frame["billing_period"].astype(object).fillna("unknown")
    if accounts is not None:
        extra_cols = [c for c in accounts.columns if c not in frame.columns and c not in ("account_name",)]
        frame = frame.merge(accounts[["account_id", *extra_cols]], on="account_id", how="left")
        for col in ACCOUNT_SPLITS:
            if col in frame:
                frame[col] = frame[col].fillna("unknown")
    return frame.sort_values(["month", "account_id"]).reset_index(drop=True)


# --------------------------------------------------------------------------------------------------
# MRR bridge
# --------------------------------------------------------------------------------------------------
BRIDGE_MOVEMENTS = ("new", "expansion", "reactivation", "contraction", "churn")


def _cents(values: pd.Series) -> pd.Series:
    return np.rint(values.astype(float) * 100).astype("int64")


def mrr_bridge(frame: pd.DataFrame, by: str | list[str] | None = None) -> pd.DataFrame:
    """Per month (and per ``by`` group): ``starting_mrr``, ``new``, ``expansion``, ``reactivation``,
    ``contraction``, ``churn`` (signed: losses negative), ``ending_mrr``, and account counts.

    starting + new + expansion + reactivation + contraction + churn = ending, exactly: amounts are
    summed in integer cents. Takes :func:`mrr_movements` or :func:`account_month_churn` output.
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
    gross, gross_low, gross_high = ratio_interval(loss, start, confidence)
    net, net_low, net_high = ratio_interval(loss - expansion - reactivation, start, confidence)
    nrr_loss = ratio_interval(loss - expansion, start, confidence)[0]
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


# --------------------------------------------------------------------------------------------------
# Where: splits by segment
# --------------------------------------------------------------------------------------------------
def window_months_ending(month: pd.Period | str, window_months: int) -> list[pd.Period]:
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


# --------------------------------------------------------------------------------------------------
# Cohorts
# --------------------------------------------------------------------------------------------------
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
    return cells[["cohort", "months_since_start", "cohort_accounts", "active_accounts", "logo_retention",
                  "logo_retention_low", "logo_retention_high", "cohort_mrr", "mrr", "net_mrr_retention"]]


# --------------------------------------------------------------------------------------------------
# What drove the change: mix vs rate
# --------------------------------------------------------------------------------------------------
def mix_rate_split(share_before, rate_before, share_after, rate_after) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric (midpoint) split of each segment's change in contribution s*r to an overall rate:
    mix = (s1 - s0)(r0 + r1)/2, rate = (r1 - r0)(s0 + s1)/2, so mix + rate = s1 r1 - s0 r0 exactly and
    the segments sum to the change in the overall rate. A segment absent in one window takes its rate
    from the other (all its change is mix)."""
    s0, s1 = np.asarray(share_before, float), np.asarray(share_after, float)
    r0, r1 = np.asarray(rate_before, float), np.asarray(rate_after, float)
    r0 = np.where(np.isnan(r0), r1, r0)
    r1 = np.where(np.isnan(r1), r0, r1)
    r0, r1 = np.nan_to_num(r0), np.nan_to_num(r1)
    return (s1 - s0) * (r0 + r1) / 2, (r1 - r0) * (s0 + s1) / 2


def churn_change_decomposition(frame: pd.DataFrame, by, month: pd.Period | str,
                               window_months: int = 3) -> pd.DataFrame:
    """Change in logo churn and in gross revenue churn between the ``window_months`` ending at ``month``
    and the window before, per segment (the cells of the ``by`` columns), split into a mix part (the
    segment's share of the base moved) and a rate part (its churn rate moved). Per metric, the
    segments' ``mix_effect + rate_effect`` sum exactly to ``total_change`` (rate_after - rate_before).

    Logo churn: shares of at-risk account-months, rates churned / at risk. Gross revenue churn:
    shares of starting MRR, rates (churn + contraction) / starting MRR."""
    by = [by] if isinstance(by, str) else list(by)
    by = [c for c in by if c in frame]
    after = window_months_ending(month, window_months)
    before = window_months_ending(after[0] - 1, window_months)
    work = frame[frame["month"].isin(before + after) & (frame["at_risk"] | (frame["prev_mrr"] > 0))].copy()
    work["window"] = np.where(work["month"].isin(after), "after", "before")
    work["segment"] = work[by].astype(str).agg(" · ".join, axis=1) if by else "all"
    delta = work["mrr"] - work["prev_mrr"]
    work["lost"] = np.where(work["movement"].isin(["churn", "contraction"]), -delta, 0.0)
    work["start"] = work["prev_mrr"]
    out = []
    for metric, weight, event in (("logo_churn", "at_risk", "churned"),
                                  ("gross_revenue_churn", "start", "lost")):
        cells = work.groupby(["segment", "window"])[[weight, event]].sum().unstack("window")
        cells = cells.reindex(columns=pd.MultiIndex.from_product([[weight, event], ["before", "after"]]),
                              fill_value=0).fillna(0)
        w0, w1 = cells[(weight, "before")].astype(float), cells[(weight, "after")].astype(float)
        e0, e1 = cells[(event, "before")].astype(float), cells[(event, "after")].astype(float)
        s0, s1 = w0 / w0.sum(), w1 / w1.sum()
        r0, r1 = (e0 / w0).where(w0 > 0), (e1 / w1).where(w1 > 0)
        mix, rate = mix_rate_split(s0, r0, s1, r1)
        table = pd.DataFrame({
            "metric": metric, "segment": cells.index, "share_before": s0.values, "rate_before": r0.values,
            "share_after": s1.values, "rate_after": r1.values, "mix_effect": mix, "rate_effect": rate,
            "base_before": w0.values, "base_after": w1.values, "events_before": e0.values, "events_after": e1.values,
        })
        table["total_effect"] = table["mix_effect"] + table["rate_effect"]
        table["overall_before"] = e0.sum() / w0.sum() if w0.sum() else np.nan
        table["overall_after"] = e1.sum() / w1.sum() if w1.sum() else np.nan
        table["total_change"] = table["overall_after"] - table["overall_before"]
        table["share_of_change"] = table["total_effect"] / table["total_change"].where(table["total_change"] != 0)
        out.append(table.sort_values("total_effect", key=np.abs, ascending=False))
    result = pd.concat(out, ignore_index=True)
    result.insert(1, "window_before", f"{before[0]}..{before[-1]}")
    result.insert(2, "window_after", f"{after[0]}..{after[-1]}")
    result.insert(3, "segmented_by", " x ".join(by) if by else "all")
    return result


# --------------------------------------------------------------------------------------------------
# Words generated from the numbers
# --------------------------------------------------------------------------------------------------
def pct(value: float, decimals: int = 1, signed: bool = False) -> str:
    """2.8% (a true minus sign for negatives; ``signed`` adds + to positives)."""
    if value is None or pd.isna(value):
        return "n/a"
    text = f"{abs(value) * 100:.{decimals}f}%"
    if value < 0 and round(abs(value) * 100, decimals) > 0:
        return "\u2212" + text
    return ("+" + text) if signed and round(value * 100, decimals) > 0 else text


def points(value: float, decimals: int = 1) -> str:
    return f"{abs(value) * 100:.{decimals}f} pt"


def money(value: float) -> str:
    sign = "\u2212" if value < 0 else ""
    return f"{sign}${abs(value):,.0f}"


def ci(low: float, high: float, decimals: int = 1, confidence: float = 0.95) -> str:
    """95% CI 2.3\u20133.4% (the first bound keeps its own % only when the signs differ)."""
    first = pct(low, decimals)
    if (low < 0) == (high < 0):
        first = first.rstrip("%")
    return f"{confidence:.0%} CI {first}\u2013{pct(high, decimals)}"


def window_label(first: pd.Period, last: pd.Period) -> str:
    if first == last:
        return last.strftime("%B %Y")
    if first.year == last.year:
        return f"{first.strftime('%b')}\u2013{last.strftime('%b %Y')}"
    return f"{first.strftime('%b %Y')}\u2013{last.strftime('%b %Y')}"


def change_interval(decomposition: pd.DataFrame, confidence: float = 0.95) -> tuple[float, float]:
    """Newcombe interval (statsmodels ``confint_proportions_2indep``) for the change in logo churn
    between the two windows of a decomposition (account-months treated as independent)."""
    from statsmodels.stats.proportion import confint_proportions_2indep

    table = decomposition[decomposition["metric"] == "logo_churn"]
    e0, e1 = table["events_before"].sum(), table["events_after"].sum()
    n0, n1 = table["base_before"].sum(), table["base_after"].sum()
    if not (n0 and n1):
        return np.nan, np.nan
    low, high = confint_proportions_2indep(e1, n1, e0, n0, method="newcomb", compare="diff",
                                           alpha=1 - confidence)
    return float(low), float(high)


def revenue_change_interval(frame: pd.DataFrame, month: pd.Period | str, window_months: int = 3,
                            confidence: float = 0.95) -> tuple[float, float]:
    """Interval for the change in gross revenue churn between the window ending at ``month`` and the
    one before: the two windows' delta-method standard errors combined as if independent."""
    from scipy.stats import norm

    after = window_months_ending(month, window_months)
    before = window_months_ending(after[0] - 1, window_months)
    z = norm.ppf(0.5 + confidence / 2)
    estimates = []
    for span in (before, after):
        rows = frame[frame["month"].isin(span)]
        delta = (rows["mrr"] - rows["prev_mrr"]).to_numpy(float)
        loss = np.where(rows["movement"].isin(["churn", "contraction"]), -delta, 0.0)
        ratio, low, high = ratio_interval(loss, rows["prev_mrr"].to_numpy(float), confidence)
        estimates.append((ratio, (high - low) / (2 * z)))
    (r0, se0), (r1, se1) = estimates
    if pd.isna(r0) or pd.isna(r1):
        return np.nan, np.nan
    se = np.hypot(se0, se1)
    return float(r1 - r0 - z * se), float(r1 - r0 + z * se)


def driver_sentence(decomposition: pd.DataFrame, rates: pd.DataFrame, metric: str = "logo_churn",
                    confidence: float = 0.95, change_ci: tuple[float, float] | None = None) -> str:
    """The report's first sentence: where the rate is, how it moved on the window before (with the
    change's interval for logo churn), and which segment moved it most, with its share of the change
    and whether through its own churn rate or through its share of the base."""
    table = decomposition[decomposition["metric"] == metric]
    if table.empty:
        return "Not enough history to compare churn with the previous window."
    name = {"logo_churn": "Logo churn", "gross_revenue_churn": "Gross revenue churn"}[metric]
    before_win = [pd.Period(p, "M") for p in table["window_before"].iloc[0].split("..")]
    after_win = [pd.Period(p, "M") for p in table["window_after"].iloc[0].split("..")]
    now_label, before_label = window_label(*after_win), window_label(*before_win)
    rate0, rate1 = table["overall_before"].iloc[0], table["overall_after"].iloc[0]
    change = rate1 - rate0
    window = (after_win[1] - after_win[0]).n + 1
    per = " a month" if window > 1 else ""
    interval = ""
    if metric == "logo_churn":
        row = rates[(rates["month"] == after_win[1]) & (rates["window_months"] == window)]
        if len(row):
            interval = f" ({ci(row['logo_churn_low'].iloc[0], row['logo_churn_high'].iloc[0], confidence=confidence)})"
    direction = np.sign(change) if change != 0 else 1.0
    lead = table.iloc[int((table["total_effect"] * direction).to_numpy().argmax())]
    rate_led = abs(lead["rate_effect"]) >= abs(lead["mix_effect"])
    if rate_led:
        how = "its own churn rate " + ("rose" if lead["rate_effect"] > 0 else "fell")
    else:
        how = "its share of the base " + ("grew" if lead["share_after"] > lead["share_before"] else "shrank")
    sign = "+" if change >= 0 else "\u2212"
    lead_sign = "+" if lead["total_effect"] >= 0 else "\u2212"
    if change_ci is not None:
        low, high = change_ci
    else:
        low, high = change_interval(decomposition, confidence) if metric == "logo_churn" else (np.nan, np.nan)
    noise = not pd.isna(low) and low <= 0 <= high
    if table["segmented_by"].iloc[0] == "all":  # no segment columns in the data
        verb = "was" if noise else "rose to" if change > 0 else "fell to" if change < 0 else "held at"
        return (f"{name} {verb} {pct(rate1)}{per} in {now_label}{interval}, {sign}{points(change)} on {before_label}"
                + (", a change within noise" if noise else "")
                + "; the data has no segment columns to say which customers drove it.")
    if noise or change == 0:
        bounds = (f" ({confidence:.0%} CI of the change {sign_pct(low)} to {sign_pct(high)} pt)"
                  if not pd.isna(low) else "")
        return (f"{name} was {pct(rate1)}{per} in {now_label}{interval}, {sign}{points(change)} on {before_label}, "
                f"a change within noise{bounds}; the segment that moved it most was {lead['segment']} "
                f"({lead_sign}{points(lead['total_effect'])}: {how}).")
    verb, noun = ("rose", "rise") if change > 0 else ("fell", "fall")
    share = lead["total_effect"] / change
    if share > 1:
        part = (f"{lead['segment']} alone moved it {lead_sign}{points(lead['total_effect'])}, more than the whole "
                f"{noun}, while other segments moved the other way ({how})")
    else:
        part = f"{share:.0%} of the {noun} came from {lead['segment']} ({how})"
    return (f"{name} {verb} to {pct(rate1)}{per} in {now_label}{interval} from {pct(rate0)} in {before_label} "
            f"({sign}{points(change)}); {part}.")


def sign_pct(value: float, decimals: int = 1) -> str:
    """A change in percentage points as a signed number: +0.4, \u22120.3."""
    text = f"{abs(value) * 100:.{decimals}f}"
    return ("\u2212" if value < 0 else "+") + text


def month_sentences(bridge: pd.DataFrame, rates: pd.DataFrame, month: pd.Period | str,
                    confidence: float = 0.95) -> list[str]:
    """The report month in plain words: logo churn with its interval and change on the month before,
    revenue churn, and the MRR bridge."""
    month = pd.Period(month, "M")
    one = rates[rates["window_months"] == 1].set_index("month")
    out = []
    if month in one.index:
        now = one.loc[month]
        text = (f"In {month.strftime('%B %Y')} logo churn was {pct(now['logo_churn_rate'])} "
                f"({ci(now['logo_churn_low'], now['logo_churn_high'], confidence=confidence)}): "
                f"{int(now['churned_accounts']):,} of {int(now['accounts_at_risk']):,} paying accounts")
        if month - 1 in one.index:
            change = now["logo_churn_rate"] - one.loc[month - 1, "logo_churn_rate"]
            direction = "up" if change > 0 else "down" if change < 0 else "unchanged"
            text += (f", {direction} {points(change)} on {(month - 1).strftime('%B')}" if direction != "unchanged"
                     else f", unchanged on {(month - 1).strftime('%B')}")
        out.append(text + ".")
        net = now["net_revenue_churn_rate"]
        net_text = (f"net revenue churn {pct(net)}" if net >= 0 else
                    f"net revenue churn {pct(net)} (negative churn: expansion and reactivation outweighed losses)")
        out.append(f"Gross revenue churn was {pct(now['gross_revenue_churn_rate'])} of starting MRR "
                   f"({ci(now['gross_revenue_churn_low'], now['gross_revenue_churn_high'], confidence=confidence)}), "
                   f"{net_text}; monthly NRR {pct(now['nrr'])}, quick ratio "
                   f"{now['quick_ratio']:.1f}." if not pd.isna(now["quick_ratio"]) else
                   f"Gross revenue churn was {pct(now['gross_revenue_churn_rate'])}, {net_text}.")
    row = bridge[bridge["month"] == month]
    if len(row):
        b = row.iloc[0]
        out.append(f"MRR went from {money(b['starting_mrr'])} to {money(b['ending_mrr'])}: new "
                   f"{money(b['new'])}, expansion {money(b['expansion'])}, reactivation {money(b['reactivation'])}, "
                   f"contraction {money(b['contraction'])}, churn {money(b['churn'])}.")
    return out


def flagged_sentence(splits: pd.DataFrame, correction: str = "holm", confidence: float = 0.95) -> str:
    """Which segments churn significantly more than the rest of the base, after correction."""
    if splits.empty:
        return "No segment columns to split by."
    n_tests = int(splits["p_value"].notna().sum())
    flagged = splits[splits["flagged"]].sort_values("logo_churn_rate", ascending=False)
    method = {"holm": "Holm", "bonferroni": "Bonferroni", "fdr_bh": "Benjamini-Hochberg"}.get(correction, correction)
    if flagged.empty:
        return (f"No segment's logo churn is significantly above the rest of the base ({method} correction over "
                f"{n_tests} comparisons, {1 - confidence:.0%} level).")
    items = [f"{SPLIT_LABELS.get(r.split, r.split)} {r.value} ({pct(r.logo_churn_rate)} vs {pct(r.rest_logo_churn_rate)})"
             for r in flagged.itertuples()]
    return (f"Churn significantly above the rest of the base ({method}-corrected over {n_tests} comparisons, "
            f"{1 - confidence:.0%} level): " + "; ".join(items) + ".")


# --------------------------------------------------------------------------------------------------
# The whole report in one call
# --------------------------------------------------------------------------------------------------
DEFAULT_SPLITS = ("value_band", "billing_period", "product", "segment", "touch_tier", "region", "acquisition_cohort")


@dataclass
class ChurnReport:
    """Every table and sentence of the churn decomposition report for one month."""

    month: pd.Period
    frame: pd.DataFrame
    bridge: pd.DataFrame
    rates: pd.DataFrame
    splits: pd.DataFrame
    cohorts: pd.DataFrame
    decomposition: pd.DataFrame
    headline: str
    month_sentences: list[str]
    flagged_sentence: str
    revenue_driver_sentence: str
    book_comparison: dict
    skipped_splits: list[str]
    settings: dict

    def rate(self, column: str, window_months: int = 1, month: pd.Period | None = None) -> float:
        month = month or self.month
        row = self.rates[(self.rates["month"] == month) & (self.rates["window_months"] == window_months)]
        return float(row[column].iloc[0]) if len(row) else float("nan")


def churn_report(subscriptions: pd.DataFrame, accounts: pd.DataFrame | None, month: pd.Period | str, *,
                 lookback_months: int = 24, window_months: int = 3, split_columns=DEFAULT_SPLITS,
                 value_bands=DEFAULT_VALUE_BANDS, decomposition_columns=("segment", "billing_period"),
                 churn_convention: str = "month_end", reactivation_window_days: int = 0,
                 count_same_month_churn: bool = True, annualisation: str = "compounded",
                 confidence: float = 0.95, multiple_comparison_correction: str = "holm") -> ChurnReport:
    """Compute the churn decomposition report for ``month``: account-month table, MRR bridge and rates
    over ``lookback_months``, splits and the mix-vs-rate decomposition over trailing ``window_months``
    windows, cohorts started in the lookback, and the generated sentences."""
    _check_choice("churn_convention", churn_convention, CONVENTIONS)
    _check_choice("annualisation", annualisation, ANNUALISATIONS)
    month = pd.Period(month, "M")
    window_months = max(1, int(window_months))
    shown = [month - k for k in range(lookback_months - 1, -1, -1)]
    first = min(shown[0] - 11, month - (2 * window_months - 1))
    frame = account_month_churn(subscriptions, accounts, first, month, convention=churn_convention,
                                reactivation_window_days=reactivation_window_days,
                                count_same_month_churn=count_same_month_churn, value_bands=value_bands)
    bridge = mrr_bridge(frame[frame["month"] >= shown[0]])
    windows = sorted({1, 3, 12, window_months})
    rates = churn_rates(frame, shown, windows=windows, annualisation=annualisation, confidence=confidence)
    # the loader adds missing optional contract columns as nulls: a column with no value is not in the data
    known = {c for c in frame.columns if frame[c].astype(str).ne("unknown").any() and frame[c].notna().any()}
    present = [c for c in split_columns if c in known]
    skipped = [c for c in split_columns if c not in known]
    splits = churn_by_segment(frame, present, month, window_months, confidence, multiple_comparison_correction,
                              annualisation)
    cohorts = cohort_retention(subscriptions, shown[0], month, reactivation_window_days, churn_convention, confidence)
    decomposition = churn_change_decomposition(frame, [c for c in decomposition_columns if c in known],
                                               month, window_months)
    start = month.to_timestamp(how="start")
    book = period_start_rates(subscriptions, start, (month + 1).to_timestamp(how="start"))
    return ChurnReport(
        month=month, frame=frame, bridge=bridge, rates=rates, splits=splits, cohorts=cohorts,
        decomposition=decomposition,
        headline=driver_sentence(decomposition, rates, "logo_churn", confidence),
        month_sentences=month_sentences(bridge, rates, month, confidence),
        flagged_sentence=flagged_sentence(splits, multiple_comparison_correction, confidence),
        revenue_driver_sentence=driver_sentence(
            decomposition, rates, "gross_revenue_churn", confidence,
            change_ci=revenue_change_interval(frame, month, window_months, confidence)),
        book_comparison=book, skipped_splits=skipped,
        settings=dict(lookback_months=lookback_months, window_months=window_months, churn_convention=churn_convention,
                      reactivation_window_days=reactivation_window_days,
                      count_same_month_churn=count_same_month_churn, annualisation=annualisation,
                      confidence=confidence, multiple_comparison_correction=multiple_comparison_correction,
                      decomposition_columns=list(decomposition_columns), value_bands=list(value_bands)),
    )


def conventions(report: ChurnReport) -> tuple[dict, dict]:
    """The conventions box: values and a plain-words note for each."""
    s = report.settings
    window = int(s["reactivation_window_days"] or 0)
    same = int(report.frame["same_month"].sum())
    values = {
        "MRR rule": "subscriptions active on the month's last day" if s["churn_convention"] == "month_end"
        else "subscriptions active on the first day of the month and of the next",
        "churn_convention": s["churn_convention"],
        "reactivation_window_days": window,
        "count_same_month_churn": s["count_same_month_churn"],
        "annualisation": s["annualisation"],
        "trailing window": f"{s['window_months']} month" + ("s" if s["window_months"] > 1 else ""),
        "intervals": f"{s['confidence']:.0%}",
        "multiple comparisons": s["multiple_comparison_correction"],
    }
    if window:
        window_note = (f"a zero-MRR gap shorter than {window} days is not a churn: the drop is booked as a contraction "
                       "to 0 and the return as an expansion (the bridge still adds up); a gap still open at the end "
                       "of the data counts as a provisional churn until the account returns within the window")
    else:
        window_note = "every month end at zero MRR after a paying month end is a churn; a return is a reactivation"
    if s["churn_convention"] == "period_start":
        window_note = "not used under period_start (the book's code has no reactivation window)"
    notes = {
        "MRR rule": "the data contract's rule; a lapse that does not cover a month end is not a churn",
        "churn_convention": ("month_end: churn = MRR > 0 at the end of the previous month and 0 at the end of this "
                             "one (contract). period_start: active on the 1st and not on the 1st of the next month "
                             "(Fighting Churn With Data)"),
        "reactivation_window_days": window_note,
        "count_same_month_churn": (f"accounts that join and leave inside one month count in logo churn, numerator "
                                   f"and denominator ({same:,} in the data shown); they never carry month-end MRR, "
                                   "so revenue figures are unaffected") if s["count_same_month_churn"] else
                                  "accounts that join and leave inside one month are left out (never paying at a month end)",
        "annualisation": ("annual = 1 - (1 - monthly)^12" if s["annualisation"] == "compounded"
                          else "annual = 12 x monthly"),
        "trailing window": "splits and the change decomposition compare this window with the one before it",
        "intervals": "Wilson for logo churn; delta-method (linearised ratio) for revenue churn",
        "multiple comparisons": "segments flagged above the rest after this correction across every segment tested",
    }
    return values, notes


def book_comparison_sentence(report: ChurnReport) -> str:
    """The report month's logo churn under the other convention, for comparison with the book's code."""
    book = report.book_comparison
    month = report.month.strftime("%B %Y")
    ours = report.rate("logo_churn_rate")
    if report.settings["churn_convention"] == "period_start":
        return (f"Numbers follow *Fighting Churn With Data* (active on the 1st, not on the 1st of the next month): "
                f"churn rate {pct(book['churn_rate'])}, net retention {pct(book['net_retention'])}, MRR churn "
                f"{pct(book['mrr_churn'])} for {month}.")
    return (f"For comparison with *Fighting Churn With Data*'s code (active on {report.month.to_timestamp():%-d %b}, "
            f"not on {(report.month + 1).to_timestamp():%-d %b}): churn rate {pct(book['churn_rate'])} "
            f"({book['churned_accounts']:,} of {book['start_accounts']:,}), net retention "
            f"{pct(book['net_retention'])}, MRR churn {pct(book['mrr_churn'])}; this report's month-end rule gives "
            f"{pct(ours)} logo churn for {month}.")


def rates_table(report: ChurnReport) -> pd.DataFrame:
    """The report month's rates for the month and the trailing windows, monthly and annualised, as
    display text with intervals (the numbers are in ``churn_rates.csv``)."""
    conf = report.settings["confidence"]
    windows = sorted(report.rates.loc[report.rates["month"] == report.month, "window_months"].unique())
    columns = {w: ("this month" if w == 1 else f"trailing {w} months") for w in windows}
    lines = []

    def add(label, fn):
        lines.append({"measure": label, **{columns[w]: fn(w) for w in windows}})

    r = report.rate
    add("logo churn, monthly", lambda w: f"{pct(r('logo_churn_rate', w))} ({ci(r('logo_churn_low', w), r('logo_churn_high', w), confidence=conf)})")
    add("logo churn, annualised", lambda w: f"{pct(r('logo_churn_rate_annualised', w))} ({ci(r('logo_churn_low_annualised', w), r('logo_churn_high_annualised', w), confidence=conf)})")
    add("gross revenue churn, monthly", lambda w: f"{pct(r('gross_revenue_churn_rate', w))} ({ci(r('gross_revenue_churn_low', w), r('gross_revenue_churn_high', w), confidence=conf)})")
    add("net revenue churn, monthly", lambda w: f"{pct(r('net_revenue_churn_rate', w))} ({ci(r('net_revenue_churn_low', w), r('net_revenue_churn_high', w), confidence=conf)})")
    add("GRR, annualised", lambda w: pct(r("grr_annualised", w)))
    add("NRR, annualised", lambda w: pct(r("nrr_annualised", w)))
    add("quick ratio", lambda w: "n/a" if pd.isna(r("quick_ratio", w)) else f"{r('quick_ratio', w):.2f}")
    add("accounts at risk (account-months)", lambda w: f"{int(r('accounts_at_risk', w)):,}")
    add("accounts churned", lambda w: f"{int(r('churned_accounts', w)):,}")
    return pd.DataFrame(lines)


def method_notes(report: ChurnReport) -> str:
    """How censoring, multiple comparisons and the intervals are handled, in plain words."""
    s = report.settings
    provisional = ""
    if s["reactivation_window_days"]:
        provisional = (f" Churns in the last {s['reactivation_window_days']} days of the data are provisional: an "
                       "account that comes back within the window will be restated as contraction + expansion.")
    return (
        "**How these numbers are made.** "
        f"Every rate counts an account-month as at risk when the account paid at the start of the month; accounts still "
        f"paying at the end of {report.month.strftime('%B %Y')} are censored, not counted as retained forever.{provisional} "
        "Logo churn intervals are Wilson intervals; revenue churn intervals are delta-method intervals for a ratio, "
        "which widen when a few large accounts carry the losses. Trailing-window rates pool account-months, and an "
        "account appears once per month, so their intervals are slightly too narrow. Segments are flagged only when a "
        f"one-sided Fisher exact test against the rest of the base stays significant after {s['multiple_comparison_correction'].title()} "
        "correction across every segment tested; segments are compared, not explained: a segment that churns more "
        "may differ in many ways (plan, size, tenure), so read flags as where to look, not as causes. Cohort retention "
        "counts only cohorts that started inside the lookback, so older, surviving customers cannot flatter it. The "
        "mix-vs-rate split uses the midpoint (Shapley) formula, so each segment's mix and rate parts add up exactly "
        "to its share of the change."
    )


def record_summary(nb, report: ChurnReport) -> None:
    """Headline numbers into ``summary.json`` (KPIs for the index page, values for tests and other reports)."""
    conf = report.settings["confidence"]
    window = report.settings["window_months"]
    r = report.rate
    month_label = report.month.strftime("%b %Y")
    nb.kpi(f"Logo churn, {month_label}", r("logo_churn_rate"),
           f"{pct(r('logo_churn_rate'))} ({ci(r('logo_churn_low'), r('logo_churn_high'), confidence=conf)})",
           low=r("logo_churn_low"), high=r("logo_churn_high"))
    nb.kpi(f"Logo churn, trailing {window} months", r("logo_churn_rate", window),
           f"{pct(r('logo_churn_rate', window))} a month ({ci(r('logo_churn_low', window), r('logo_churn_high', window), confidence=conf)})",
           low=r("logo_churn_low", window), high=r("logo_churn_high", window))
    nb.kpi(f"Gross revenue churn, {month_label}", r("gross_revenue_churn_rate"),
           f"{pct(r('gross_revenue_churn_rate'))} ({ci(r('gross_revenue_churn_low'), r('gross_revenue_churn_high'), confidence=conf)})")
    nb.kpi("NRR (annualised), trailing 12 months", r("nrr_annualised", 12) if 12 in set(report.rates["window_months"]) else None,
           pct(r("nrr_annualised", 12)))
    row = report.bridge[report.bridge["month"] == report.month]
    net = float(row["ending_mrr"].iloc[0] - row["starting_mrr"].iloc[0]) if len(row) else None
    if net is not None:
        nb.kpi(f"Net MRR change, {month_label}", net, ("+" if net >= 0 else "") + money(net))
    logo = report.decomposition[report.decomposition["metric"] == "logo_churn"]
    lead = logo.iloc[int((logo["total_effect"] * (1 if logo["total_change"].iloc[0] >= 0 else -1)).to_numpy().argmax())] \
        if len(logo) else None
    segment_rates = report.splits[report.splits["split"] == "segment"] if len(report.splits) else report.splits
    nb.record(
        logo_churn_rate=r("logo_churn_rate"), logo_churn_ci=[r("logo_churn_low"), r("logo_churn_high")],
        gross_revenue_churn_rate=r("gross_revenue_churn_rate"), net_revenue_churn_rate=r("net_revenue_churn_rate"),
        nrr=r("nrr"), grr=r("grr"), quick_ratio=r("quick_ratio"),
        logo_churn_trailing=r("logo_churn_rate", window), window_months=window,
        bridge_max_gap_cents=int(bridge_gap_cents(report.bridge).abs().max()) if len(report.bridge) else 0,
        bridge_months=len(report.bridge),
        change_driver=None if lead is None else {
            "segment": lead["segment"], "total_effect": lead["total_effect"], "mix_effect": lead["mix_effect"],
            "rate_effect": lead["rate_effect"], "total_change": lead["total_change"]},
        flagged_segments=[f"{s}={v}" for s, v in report.splits.loc[report.splits["flagged"], ["split", "value"]]
                          .itertuples(index=False)] if len(report.splits) else [],
        logo_churn_by_segment={row.value: row.logo_churn_rate for row in segment_rates.itertuples()},
        book_convention=report.book_comparison,
        skipped_splits=report.skipped_splits,
    )


# --------------------------------------------------------------------------------------------------
# Display tables (formatted text; the numbers are in the CSVs beside the report)
# --------------------------------------------------------------------------------------------------
def bridge_display(bridge: pd.DataFrame, months: int = 12) -> pd.DataFrame:
    """The last ``months`` of the bridge, newest first, money as text."""
    shown = bridge.sort_values("month", ascending=False).head(months)
    out = pd.DataFrame({"month": shown["month"].astype(str)})
    for column in ["starting_mrr", *BRIDGE_MOVEMENTS, "ending_mrr"]:
        out[column.replace("_", " ")] = shown[column].map(money)
    out["accounts churned"] = shown["churned_accounts"].map("{:,}".format)
    out["accounts paying at end"] = shown["accounts_end"].map("{:,}".format)
    return out


def splits_display(splits: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Churn by segment as readable text: one row per segment value."""
    if splits.empty:
        return splits
    return pd.DataFrame({
        "split": splits["split"].map(lambda c: SPLIT_LABELS.get(c, c)),
        "value": splits["value"],
        "account-months at risk": splits["accounts_at_risk"].map("{:,}".format),
        "churned": splits["churned_accounts"].map("{:,}".format),
        f"logo churn ({confidence:.0%} CI)": [f"{pct(r)} ({pct(lo)}\u2013{pct(hi)})" for r, lo, hi in
                                            zip(splits["logo_churn_rate"], splits["logo_churn_low"],
                                                splits["logo_churn_high"])],
        "rest of base": splits["rest_logo_churn_rate"].map(pct),
        "gross revenue churn": splits["gross_revenue_churn_rate"].map(pct),
        "net revenue churn": splits["net_revenue_churn_rate"].map(pct),
        "adjusted p": splits["p_adjusted"].map(lambda p: "\u2013" if pd.isna(p) else ("<0.001" if p < 0.001 else f"{p:.3f}")),
        "flag": np.where(splits["flagged"], "above the rest", ""),
    })


def decomposition_display(decomposition: pd.DataFrame) -> pd.DataFrame:
    """The mix-vs-rate table in percentage points."""
    def pt(v):
        text = f"{v * 100:+.2f}"
        return "0.00" if text in ("+0.00", "-0.00") else text.replace("-", "\u2212")
    return pd.DataFrame({
        "metric": decomposition["metric"].str.replace("_", " "),
        "segment": decomposition["segment"],
        "share before": decomposition["share_before"].map(pct),
        "share after": decomposition["share_after"].map(pct),
        "churn before": decomposition["rate_before"].map(lambda v: pct(v, 2)),
        "churn after": decomposition["rate_after"].map(lambda v: pct(v, 2)),
        "mix (pt)": decomposition["mix_effect"].map(pt),
        "rate (pt)": decomposition["rate_effect"].map(pt),
        "total (pt)": decomposition["total_effect"].map(pt),
    })
