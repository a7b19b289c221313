"""The account-month churn table every number of the report is computed from, and value bands.

Account-month MRR, churn and the reactivation window are defined once, in
:mod:`csresearch.core.revenue` (the data contract's month-end rule); this module only adds the
report's attributes (value band, plan, acquisition cohort, account splits) to those rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...core.revenue import CONVENTIONS, _check_choice, _connect, movements, paying_spells
from ...text import money_band, money_edge

DEFAULT_VALUE_BANDS = (0, 1_000, 5_000, 20_000, 50_000)
# Edges for a currency whose unit is far from a dollar (the dollar edges would put every yen account in
# the top band): yen at about 120 to the dollar, rounded (12万, 60万, 240万, 600万円).
VALUE_BANDS_BY_CURRENCY = {"JPY": (0, 120_000, 600_000, 2_400_000, 6_000_000)}


def default_value_bands(currency: str) -> tuple[float, ...]:
    """The value-band edges used when the settings give none: the currency's own, else the dollar edges."""
    return VALUE_BANDS_BY_CURRENCY.get(str(currency).upper(), DEFAULT_VALUE_BANDS)
ACCOUNT_SPLITS = ("segment", "touch_tier", "region")


def value_band(annual_value: pd.Series, edges=DEFAULT_VALUE_BANDS) -> pd.Series:
    """Annual contract value (12 x MRR) in bands with edges ``edges`` (left-closed): ``<$1k``,
    ``$1k-5k``, ..., ``>=$50k``. An ordered categorical."""
    edges = sorted(float(e) for e in edges)
    inner = [e for e in edges if e > 0]
    labels = [f"<{money_edge(inner[0])}"]
    labels += [money_band(a, b) for a, b in zip(inner, inner[1:])]
    labels += [f">={money_edge(inner[-1])}"]
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


def known_columns(frame: pd.DataFrame) -> set[str]:
    """Columns of ``frame`` that hold data: the loader adds missing optional contract columns as
    nulls, and a column with no value (or only 'unknown') is not in the data."""
    return {c for c in frame.columns if frame[c].astype(str).ne("unknown").any() and frame[c].notna().any()}
