"""What the churn decomposition shows in its tables: readable columns, numbers as text (the numbers
themselves are in the CSVs beside the report). A cell whose number cannot be computed says why in
words, never nan or n/a."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...i18n import N_, _, ngettext
from ...text import confidence_label, money, number, p_value, pct
from .compute_rates import BRIDGE_MOVEMENTS
from .result import Result
from .words import ci_text, no_retention_interval, paren, rate_with_ci, segment_label, split_label, value_label

# the MRR bridge's columns as a reader names them
BRIDGE_HEADERS = {
    "starting_mrr": N_("starting mrr"), "new": N_("new"), "expansion": N_("expansion"),
    "reactivation": N_("reactivation"), "contraction": N_("contraction"), "churn": N_("churn"),
    "ending_mrr": N_("ending mrr"),
}


def bridge_display(bridge: pd.DataFrame, months: int = 12) -> pd.DataFrame:
    """The last ``months`` of the bridge, newest first, money as text."""
    shown = bridge.sort_values("month", ascending=False).head(months)
    out = pd.DataFrame({_("month"): shown["month"].astype(str)})
    for column in ["starting_mrr", *BRIDGE_MOVEMENTS, "ending_mrr"]:
        out[_(BRIDGE_HEADERS[column]) if column in BRIDGE_HEADERS else column.replace("_", " ")] = shown[column].map(money)
    out[_("accounts churned")] = shown["churned_accounts"].map("{:,}".format)
    out[_("accounts paying at end")] = shown["accounts_end"].map("{:,}".format)
    return out


def _or(text_of, why: str):
    """A formatter that writes ``why`` for a missing value."""
    return lambda v: why if pd.isna(v) else text_of(v)


def splits_display(splits: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Churn by segment as readable text: one row per segment value."""
    if splits.empty:
        return splits
    no_mrr, no_churn = _("no starting MRR"), _("no churn to test")
    return pd.DataFrame({
        _("split"): splits["split"].map(split_label),
        _("value"): [value_label(split, value) for split, value in zip(splits["split"], splits["value"])],
        _("account-months at risk"): splits["accounts_at_risk"].map("{:,}".format),
        _("churned"): splits["churned_accounts"].map("{:,}".format),
        _("logo churn ({ci_label})").format(ci_label=confidence_label(confidence)): [
            rate_with_ci(r, lo, hi, None, _("one account-month: no interval"))
            for r, lo, hi in zip(splits["logo_churn_rate"], splits["logo_churn_low"], splits["logo_churn_high"])],
        _("rest of base"): splits["rest_logo_churn_rate"].map(_or(pct, _("no other account"))),
        _("gross revenue churn"): splits["gross_revenue_churn_rate"].map(_or(pct, no_mrr)),
        _("net revenue churn"): splits["net_revenue_churn_rate"].map(_or(pct, no_mrr)),
        _("adjusted p"): splits["p_adjusted"].map(lambda p: no_churn if pd.isna(p) else p_value(p)),
        _("flag"): np.where(splits["flagged"], _("above the rest"), ""),
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
        return text if text else _("no variation")

    metrics = {"logo_churn": _("logo churn"), "gross_revenue_churn": _("gross revenue churn")}
    absent = _("not in the base")
    return pd.DataFrame({
        _("metric"): decomposition["metric"].map(lambda m: metrics.get(m, str(m).replace("_", " "))),
        _("segment"): [segment_label(segment, by) for segment, by in
                       zip(decomposition["segment"], decomposition["segmented_by"])],
        _("share before"): decomposition["share_before"].map(pct),
        _("share after"): decomposition["share_after"].map(pct),
        _("churn before"): decomposition["rate_before"].map(_or(lambda v: pct(v, 2), absent)),
        _("churn after"): decomposition["rate_after"].map(_or(lambda v: pct(v, 2), absent)),
        _("mix (pt)"): decomposition["mix_effect"].map(pt),
        _("rate (pt)"): decomposition["rate_effect"].map(pt),
        _("total (pt)"): decomposition["total_effect"].map(pt),
        _("total, {ci_label}").format(ci_label=confidence_label(confidence)): [
            total_ci(lo, hi) for lo, hi in zip(decomposition["total_low"], decomposition["total_high"])],
    })


def bridge_table(result: Result) -> pd.DataFrame:
    return bridge_display(result.bridge)


def rates_table(result: Result) -> pd.DataFrame:
    """The report month's rates for the month and the trailing windows, monthly and annualised, as
    display text with intervals (the numbers are in ``churn_rates.csv``)."""
    conf = result.settings.confidence
    windows = sorted(result.rates.loc[result.rates["month"] == result.month, "window_months"].unique())
    columns = {w: (_("this month") if w == 1 else
                   ngettext("trailing {n} month", "trailing {n} months", w).format(n=w)) for w in windows}
    lines = []
    r = result.rate

    def add(label, fn):
        lines.append({_("measure"): label, **{columns[w]: fn(w) for w in windows}})

    def with_ci(rate, low, high, base="accounts_at_risk"):
        def cell(w):
            if not r(base, w) > 0:
                return _("no paying account") if base == "accounts_at_risk" else _("no starting MRR")
            why = (_("one paying account: no interval") if r("accounts_at_risk", w) < 2
                   else _("no variation: no interval"))
            return rate_with_ci(r(rate, w), r(low, w), r(high, w), conf, why)
        return cell

    def plain(column, base="starting_mrr"):
        return lambda w: pct(r(column, w)) if r(base, w) > 0 else _("no starting MRR")

    compounded = result.settings.annualisation == "compounded"
    yearly = _("compounded to a year") if compounded else _("x 12 (simple)")
    add(_("logo churn, monthly"), with_ci("logo_churn_rate", "logo_churn_low", "logo_churn_high"))
    add(_("logo churn, monthly {yearly}").format(yearly=yearly),
        with_ci("logo_churn_rate_annualised", "logo_churn_low_annualised", "logo_churn_high_annualised"))
    add(_("gross revenue churn, monthly"), with_ci("gross_revenue_churn_rate", "gross_revenue_churn_low",
                                                   "gross_revenue_churn_high", "starting_mrr"))
    add(_("net revenue churn, monthly"), with_ci("net_revenue_churn_rate", "net_revenue_churn_low",
                                                 "net_revenue_churn_high", "starting_mrr"))
    add(_("GRR, monthly rate {yearly} (not the 12-month cohort GRR)").format(yearly=yearly), plain("grr_annualised"))
    add(_("NRR, monthly rate {yearly} (not the 12-month cohort NRR)").format(yearly=yearly), plain("nrr_annualised"))
    add(_("quick ratio"), lambda w: number(r("quick_ratio", w), 2) if not pd.isna(r("quick_ratio", w))
        else _("no MRR lost"))
    add(_("accounts at risk (account-months)"), lambda w: f"{int(r('accounts_at_risk', w)):,}")
    add(_("accounts churned"), lambda w: f"{int(r('churned_accounts', w)):,}")
    return pd.DataFrame(lines)


def retention_table(result: Result) -> pd.DataFrame:
    """The 12-month cohort's NRR and GRR, for every account and per segment, as display text."""
    table = result.retention_12m
    if table.empty:
        return table
    conf = result.settings.confidence

    def value(row, name: str) -> str:
        text = ci_text(row[f"{name}_low"], row[f"{name}_high"], None)
        return pct(row[name]) + paren(text or no_retention_interval(name, row[name], row["accounts_start"]))

    rows = [row for _index, row in table.iterrows()]
    return pd.DataFrame({
        _("accounts"): table["group"].str.replace("segment=", "", regex=False).replace({"all": _("every account")}),
        _("paying then"): table["accounts_start"].map("{:,}".format),
        _("still paying"): table["accounts_paying_now"].map("{:,}".format),
        _("MRR then"): table["starting_mrr"].map(money),
        _("MRR now"): table["mrr_now"].map(money),
        _("NRR ({ci_label})").format(ci_label=confidence_label(conf)): [value(row, "nrr") for row in rows],
        _("GRR ({ci_label})").format(ci_label=confidence_label(conf)): [value(row, "grr") for row in rows],
    })


def splits_table(result: Result) -> pd.DataFrame:
    return splits_display(result.splits, result.settings.confidence)


def decomposition_table(result: Result) -> pd.DataFrame:
    return decomposition_display(result.decomposition, result.settings.confidence)

