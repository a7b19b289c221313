"""What the churn decomposition shows in its tables: readable columns, numbers as text (the numbers
themselves are in the CSVs beside the report). A cell whose number cannot be computed says why in
words, never nan or n/a."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...text import money, number, p_value, pct
from .compute_rates import BRIDGE_MOVEMENTS
from .result import Result
from .words import SPLIT_LABELS, ci_text, no_retention_interval, rate_with_ci


def bridge_display(bridge: pd.DataFrame, months: int = 12) -> pd.DataFrame:
    """The last ``months`` of the bridge, newest first, money as text."""
    shown = bridge.sort_values("month", ascending=False).head(months)
    out = pd.DataFrame({"month": shown["month"].astype(str)})
    for column in ["starting_mrr", *BRIDGE_MOVEMENTS, "ending_mrr"]:
        out[column.replace("_", " ")] = shown[column].map(money)
    out["accounts churned"] = shown["churned_accounts"].map("{:,}".format)
    out["accounts paying at end"] = shown["accounts_end"].map("{:,}".format)
    return out


def _or(text_of, why: str):
    """A formatter that writes ``why`` for a missing value."""
    return lambda v: why if pd.isna(v) else text_of(v)


def splits_display(splits: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Churn by segment as readable text: one row per segment value."""
    if splits.empty:
        return splits
    return pd.DataFrame({
        "split": splits["split"].map(lambda c: SPLIT_LABELS.get(c, c)),
        "value": splits["value"],
        "account-months at risk": splits["accounts_at_risk"].map("{:,}".format),
        "churned": splits["churned_accounts"].map("{:,}".format),
        f"logo churn ({pct(confidence, 0)} CI)": [
            rate_with_ci(r, lo, hi, None, "one account-month: no interval")
            for r, lo, hi in zip(splits["logo_churn_rate"], splits["logo_churn_low"], splits["logo_churn_high"])],
        "rest of base": splits["rest_logo_churn_rate"].map(_or(pct, "no other account")),
        "gross revenue churn": splits["gross_revenue_churn_rate"].map(_or(pct, "no starting MRR")),
        "net revenue churn": splits["net_revenue_churn_rate"].map(_or(pct, "no starting MRR")),
        "adjusted p": splits["p_adjusted"].map(lambda p: "no churn to test" if pd.isna(p) else p_value(p)),
        "flag": np.where(splits["flagged"], "above the rest", ""),
    })


def decomposition_display(decomposition: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """The mix-vs-rate table in percentage points, largest contribution first per metric, each
    contribution with its simultaneous interval."""
    if decomposition.empty:
        return decomposition

    def pt(v: float) -> str:
        return number(v * 100, 2, signed=True)  # the column header says pt

    def total_ci(low: float, high: float) -> str:
        text = ci_text(low, high, None, "points")
        return text if text else "no variation"

    return pd.DataFrame({
        "metric": decomposition["metric"].str.replace("_", " "),
        "segment": decomposition["segment"],
        "share before": decomposition["share_before"].map(pct),
        "share after": decomposition["share_after"].map(pct),
        "churn before": decomposition["rate_before"].map(_or(lambda v: pct(v, 2), "not in the base")),
        "churn after": decomposition["rate_after"].map(_or(lambda v: pct(v, 2), "not in the base")),
        "mix (pt)": decomposition["mix_effect"].map(pt),
        "rate (pt)": decomposition["rate_effect"].map(pt),
        "total (pt)": decomposition["total_effect"].map(pt),
        f"total, {pct(confidence, 0)} CI": [total_ci(lo, hi) for lo, hi in
                                            zip(decomposition["total_low"], decomposition["total_high"])],
    })


def bridge_table(result: Result) -> pd.DataFrame:
    return bridge_display(result.bridge)


def rates_table(result: Result) -> pd.DataFrame:
    """The report month's rates for the month and the trailing windows, monthly and annualised, as
    display text with intervals (the numbers are in ``churn_rates.csv``)."""
    conf = result.settings.confidence
    windows = sorted(result.rates.loc[result.rates["month"] == result.month, "window_months"].unique())
    columns = {w: ("this month" if w == 1 else f"trailing {w} months") for w in windows}
    lines = []
    r = result.rate

    def add(label, fn):
        lines.append({"measure": label, **{columns[w]: fn(w) for w in windows}})

    def with_ci(rate, low, high, base="accounts_at_risk"):
        def cell(w):
            if not r(base, w) > 0:
                return "no paying account" if base == "accounts_at_risk" else "no starting MRR"
            why = "one paying account: no interval" if r("accounts_at_risk", w) < 2 else "no variation: no interval"
            return rate_with_ci(r(rate, w), r(low, w), r(high, w), conf, why)
        return cell

    def plain(column, base="starting_mrr"):
        return lambda w: pct(r(column, w)) if r(base, w) > 0 else "no starting MRR"

    compounded = result.settings.annualisation == "compounded"
    yearly = "compounded to a year" if compounded else "x 12 (simple)"
    add("logo churn, monthly", with_ci("logo_churn_rate", "logo_churn_low", "logo_churn_high"))
    add(f"logo churn, monthly {yearly}", with_ci("logo_churn_rate_annualised", "logo_churn_low_annualised",
                                                 "logo_churn_high_annualised"))
    add("gross revenue churn, monthly", with_ci("gross_revenue_churn_rate", "gross_revenue_churn_low",
                                                "gross_revenue_churn_high", "starting_mrr"))
    add("net revenue churn, monthly", with_ci("net_revenue_churn_rate", "net_revenue_churn_low",
                                              "net_revenue_churn_high", "starting_mrr"))
    add(f"GRR, monthly rate {yearly} (not the 12-month cohort GRR)", plain("grr_annualised"))
    add(f"NRR, monthly rate {yearly} (not the 12-month cohort NRR)", plain("nrr_annualised"))
    add("quick ratio", lambda w: number(r("quick_ratio", w), 2) if not pd.isna(r("quick_ratio", w))
        else "no MRR lost")
    add("accounts at risk (account-months)", lambda w: f"{int(r('accounts_at_risk', w)):,}")
    add("accounts churned", lambda w: f"{int(r('churned_accounts', w)):,}")
    return pd.DataFrame(lines)


def retention_table(result: Result) -> pd.DataFrame:
    """The 12-month cohort's NRR and GRR, for every account and per segment, as display text."""
    table = result.retention_12m
    if table.empty:
        return table
    conf = result.settings.confidence

    def value(row, name: str) -> str:
        text = ci_text(row[f"{name}_low"], row[f"{name}_high"], None)
        if text:
            return f"{pct(row[name])} ({text})"
        return f"{pct(row[name])} ({no_retention_interval(name, row[name], row['accounts_start'])})"

    return pd.DataFrame({
        "accounts": table["group"].str.replace("segment=", "", regex=False).replace({"all": "every account"}),
        "paying then": table["accounts_start"].map("{:,}".format),
        "still paying": table["accounts_paying_now"].map("{:,}".format),
        "MRR then": table["starting_mrr"].map(money),
        "MRR now": table["mrr_now"].map(money),
        f"NRR ({pct(conf, 0)} CI)": [value(row, "nrr") for _, row in table.iterrows()],
        f"GRR ({pct(conf, 0)} CI)": [value(row, "grr") for _, row in table.iterrows()],
    })


def splits_table(result: Result) -> pd.DataFrame:
    return splits_display(result.splits, result.settings.confidence)


def decomposition_table(result: Result) -> pd.DataFrame:
    return decomposition_display(result.decomposition, result.settings.confidence)

