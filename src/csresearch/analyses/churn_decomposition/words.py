"""Sentences, captions, display tables and KPI text of the churn decomposition, read from its result.

Every number is written by :mod:`csresearch.text` (true minus signs, en-dash intervals, one decimal).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...text import day, interval, money, month_label, number, p_value, pct, plural, points, window_label
from ..base import Kpi, kpi
from .compute_rates import BRIDGE_MOVEMENTS
from .result import Result

SPLIT_LABELS = {
    "value_band": "contract value (ACV)", "billing_period": "billing period", "product": "plan",
    "segment": "segment", "touch_tier": "touch tier", "region": "region",
    "acquisition_cohort": "acquisition cohort",
}
CORRECTION_NAMES = {"holm": "Holm", "bonferroni": "Bonferroni", "fdr_bh": "Benjamini-Hochberg"}


def _months(span: str) -> list[pd.Period]:
    """The first and last month of a window written ``2026-06..2026-08``."""
    return [pd.Period(p, "M") for p in span.split("..")]


def span_label(span: str) -> str:
    """A window written ``2026-06..2026-08`` in words: Jun–Aug 2026."""
    return window_label(*_months(span))


# --------------------------------------------------------------------------------------------------
# Sentences from tables (usable on any bridge / rates / splits / decomposition)
# --------------------------------------------------------------------------------------------------
def driver_sentence(decomposition: pd.DataFrame, rates: pd.DataFrame, metric: str = "logo_churn",
                    confidence: float = 0.95, change_ci: tuple[float, float] | None = None) -> str:
    """Where the rate is, how it moved on the window before (with the window's interval for logo
    churn), and which segment moved it most, with its share of the change and whether through its
    own churn rate or through its share of the base. ``change_ci``: the interval of the change
    (:func:`.compute_change.change_interval` / ``revenue_change_interval``); None: not known, so the
    change is not called noise."""
    table = decomposition[decomposition["metric"] == metric]
    if table.empty:
        return "Not enough history to compare churn with the previous window."
    name = {"logo_churn": "Logo churn", "gross_revenue_churn": "Gross revenue churn"}[metric]
    before_win, after_win = _months(table["window_before"].iloc[0]), _months(table["window_after"].iloc[0])
    now_label, before_label = window_label(*after_win), window_label(*before_win)
    rate0, rate1 = table["overall_before"].iloc[0], table["overall_after"].iloc[0]
    change = rate1 - rate0
    window = (after_win[1] - after_win[0]).n + 1
    per = " a month" if window > 1 else ""
    rate_ci = ""
    if metric == "logo_churn":
        row = rates[(rates["month"] == after_win[1]) & (rates["window_months"] == window)]
        if len(row):
            low_high = row["logo_churn_low"].iloc[0], row["logo_churn_high"].iloc[0]
            rate_ci = f" ({interval(*low_high, confidence=confidence)})"
    direction = np.sign(change) if change != 0 else 1.0
    lead = table.iloc[int((table["total_effect"] * direction).to_numpy().argmax())]
    rate_led = abs(lead["rate_effect"]) >= abs(lead["mix_effect"])
    if rate_led:
        how = "its own churn rate " + ("rose" if lead["rate_effect"] > 0 else "fell")
    else:
        how = "its share of the base " + ("grew" if lead["share_after"] > lead["share_before"] else "shrank")
    low, high = change_ci if change_ci is not None else (np.nan, np.nan)
    noise = not pd.isna(low) and low <= 0 <= high
    if table["segmented_by"].iloc[0] == "all":  # no segment columns in the data
        verb = "was" if noise else "rose to" if change > 0 else "fell to" if change < 0 else "held at"
        return (f"{name} {verb} {pct(rate1)}{per} in {now_label}{rate_ci}, {points(change, signed=True)} on "
                f"{before_label}"
                + (", a change within noise" if noise else "")
                + "; the data has no segment columns to say which customers drove it.")
    if noise or change == 0:
        bounds = (f" ({pct(confidence, 0)} CI of the change {interval(low, high, 'points')})"
                  if not pd.isna(low) else "")
        return (f"{name} was {pct(rate1)}{per} in {now_label}{rate_ci}, {points(change, signed=True)} on "
                f"{before_label}, a change within noise{bounds}; the segment that moved it most was "
                f"{lead['segment']} ({points(lead['total_effect'], signed=True)}: {how}).")
    verb, noun = ("rose", "rise") if change > 0 else ("fell", "fall")
    share = lead["total_effect"] / change
    if share > 1:
        part = (f"{lead['segment']} alone moved it {points(lead['total_effect'], signed=True)}, more than the whole "
                f"{noun}, while other segments moved the other way ({how})")
    else:
        part = f"{pct(share, 0)} of the {noun} came from {lead['segment']} ({how})"
    return (f"{name} {verb} to {pct(rate1)}{per} in {now_label}{rate_ci} from {pct(rate0)} in {before_label} "
            f"({points(change, signed=True)}); {part}.")


def month_sentences(bridge: pd.DataFrame, rates: pd.DataFrame, month: pd.Period | str,
                    confidence: float = 0.95) -> list[str]:
    """The report month in plain words: logo churn with its interval and change on the month before,
    revenue churn, and the MRR bridge."""
    month = pd.Period(month, "M")
    one = rates[rates["window_months"] == 1].set_index("month")
    out = []
    if month in one.index:
        now = one.loc[month]
        text = (f"In {month_label(month)} logo churn was {pct(now['logo_churn_rate'])} "
                f"({interval(now['logo_churn_low'], now['logo_churn_high'], confidence=confidence)}): "
                f"{int(now['churned_accounts']):,} of {plural(int(now['accounts_at_risk']), 'paying account')}")
        if month - 1 in one.index:
            change = now["logo_churn_rate"] - one.loc[month - 1, "logo_churn_rate"]
            direction = "up" if change > 0 else "down" if change < 0 else "unchanged"
            text += (f", {direction} {points(abs(change))} on {month_label(month - 1)}" if direction != "unchanged"
                     else f", unchanged on {month_label(month - 1)}")
        out.append(text + ".")
        net = now["net_revenue_churn_rate"]
        net_text = (f"net revenue churn {pct(net)}" if net >= 0 else
                    f"net revenue churn {pct(net)} (negative churn: expansion and reactivation outweighed losses)")
        out.append(f"Gross revenue churn was {pct(now['gross_revenue_churn_rate'])} of starting MRR "
                   f"({interval(now['gross_revenue_churn_low'], now['gross_revenue_churn_high'], confidence=confidence)}), "
                   f"{net_text}; monthly NRR {pct(now['nrr'])}, quick ratio "
                   f"{number(now['quick_ratio'])}." if not pd.isna(now["quick_ratio"]) else
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
    method = CORRECTION_NAMES.get(correction, correction)
    if flagged.empty:
        return (f"No segment's logo churn is significantly above the rest of the base ({method} correction over "
                f"{n_tests} comparisons, {pct(1 - confidence, 0)} level).")
    items = [f"{SPLIT_LABELS.get(r.split, r.split)} {r.value} ({pct(r.logo_churn_rate)} vs {pct(r.rest_logo_churn_rate)})"
             for r in flagged.itertuples()]
    return (f"Churn significantly above the rest of the base ({method}-corrected over {n_tests} comparisons, "
            f"{pct(1 - confidence, 0)} level): " + "; ".join(items) + ".")


# --------------------------------------------------------------------------------------------------
# The report's words, from its result
# --------------------------------------------------------------------------------------------------
def headline(result: Result) -> str:
    """The report's first sentence: logo churn over the trailing window, its change on the window
    before, and the segment that moved it most."""
    return driver_sentence(result.decomposition, result.rates, "logo_churn", result.settings.confidence,
                           change_ci=result.logo_change_ci)


def revenue_driver(result: Result) -> str:
    """The same sentence for gross revenue churn."""
    return driver_sentence(result.decomposition, result.rates, "gross_revenue_churn", result.settings.confidence,
                           change_ci=result.revenue_change_ci)


def flagged(result: Result) -> str:
    s = result.settings
    return flagged_sentence(result.splits, s.multiple_comparison_correction, s.confidence)


def month_summary(result: Result) -> str:
    """The report month in bullets: logo churn, revenue churn, the bridge, and the flagged segments."""
    sentences = month_sentences(result.bridge, result.rates, result.month, result.settings.confidence)
    return "\n".join(f"- {s}" for s in sentences + [flagged(result)])


def drivers(result: Result) -> str:
    """What drove the change, for logo and for gross revenue churn, in two bullets."""
    return f"- {headline(result)}\n- {revenue_driver(result)}"


def skipped_splits(result: Result) -> str:
    return f"Not in the data, so not split by: {', '.join(result.skipped_splits)}."


def conventions(result: Result) -> tuple[dict, dict]:
    """The conventions box: values and a plain-words note for each."""
    s = result.settings
    window = int(s.reactivation_window_days or 0)
    same = result.same_month_churns
    values = {
        "MRR rule": "subscriptions active on the month's last day" if s.churn_convention == "month_end"
        else "subscriptions active on the first day of the month and of the next",
        "churn_convention": s.churn_convention,
        "reactivation_window_days": window,
        "count_same_month_churn": s.count_same_month_churn,
        "annualisation": s.annualisation,
        "trailing window": plural(s.window_months, "month"),
        "intervals": pct(s.confidence, 0),
        "multiple comparisons": s.multiple_comparison_correction,
    }
    if window:
        window_note = (f"a zero-MRR gap shorter than {window} days is not a churn: the drop is booked as a contraction "
                       "to 0 and the return as an expansion (the bridge still adds up); a gap still open at the end "
                       "of the data counts as a provisional churn until the account returns within the window")
    else:
        window_note = "every month end at zero MRR after a paying month end is a churn; a return is a reactivation"
    if s.churn_convention == "period_start":
        window_note = "not used under period_start (the book's code has no reactivation window)"
    notes = {
        "MRR rule": "the data contract's rule; a lapse that does not cover a month end is not a churn",
        "churn_convention": ("month_end: churn = MRR > 0 at the end of the previous month and 0 at the end of this "
                             "one (contract). period_start: active on the 1st and not on the 1st of the next month "
                             "(Fighting Churn With Data)"),
        "reactivation_window_days": window_note,
        "count_same_month_churn": (f"accounts that join and leave inside one month count in logo churn, numerator "
                                   f"and denominator ({same:,} in the data shown); they never carry month-end MRR, "
                                   "so revenue figures are unaffected") if s.count_same_month_churn else
                                  "accounts that join and leave inside one month are left out (never paying at a month end)",
        "annualisation": ("annual = 1 - (1 - monthly)^12" if s.annualisation == "compounded"
                          else "annual = 12 x monthly"),
        "trailing window": "splits and the change decomposition compare this window with the one before it",
        "intervals": "Wilson for logo churn; delta-method (linearised ratio) for revenue churn",
        "multiple comparisons": "segments flagged above the rest after this correction across every segment tested",
    }
    return values, notes


def book_comparison(result: Result) -> str:
    """The report month's logo churn under the other convention, for comparison with the book's code."""
    book = result.book_comparison
    month = month_label(result.month)
    ours = result.rate("logo_churn_rate")
    if result.settings.churn_convention == "period_start":
        return (f"Numbers follow *Fighting Churn With Data* (active on the 1st, not on the 1st of the next month): "
                f"churn rate {pct(book['churn_rate'])}, net retention {pct(book['net_retention'])}, MRR churn "
                f"{pct(book['mrr_churn'])} for {month}.")
    return (f"For comparison with *Fighting Churn With Data*'s code (active on {day(result.month.to_timestamp())}, "
            f"not on {day((result.month + 1).to_timestamp())}): churn rate {pct(book['churn_rate'])} "
            f"({book['churned_accounts']:,} of {book['start_accounts']:,}), net retention "
            f"{pct(book['net_retention'])}, MRR churn {pct(book['mrr_churn'])}; this report's month-end rule gives "
            f"{pct(ours)} logo churn for {month}.")


def method_notes(result: Result) -> str:
    """How censoring, multiple comparisons and the intervals are handled, in plain words."""
    s = result.settings
    provisional = ""
    if s.reactivation_window_days:
        provisional = (f" Churns in the last {s.reactivation_window_days} days of the data are provisional: an "
                       "account that comes back within the window will be restated as contraction + expansion.")
    return (
        "**How these numbers are made.** "
        f"Every rate counts an account-month as at risk when the account paid at the start of the month; accounts still "
        f"paying at the end of {month_label(result.month)} are censored, not counted as retained forever.{provisional} "
        "Logo churn intervals are Wilson intervals; revenue churn intervals are delta-method intervals for a ratio, "
        "which widen when a few large accounts carry the losses. Trailing-window rates pool account-months, and an "
        "account appears once per month, so their intervals are slightly too narrow. Segments are flagged only when a "
        "one-sided Fisher exact test against the rest of the base stays significant after "
        f"{s.multiple_comparison_correction.title()} correction across every segment tested; segments are compared, "
        "not explained: a segment that churns more "
        "may differ in many ways (plan, size, tenure), so read flags as where to look, not as causes. Cohort retention "
        "counts only cohorts that started inside the lookback, so older, surviving customers cannot flatter it. The "
        "mix-vs-rate split uses the midpoint (Shapley) formula, so each segment's mix and rate parts add up exactly "
        "to its share of the change."
    )


def kpis(result: Result) -> list[Kpi]:
    """Headline numbers for the index page, with their intervals."""
    conf = result.settings.confidence
    window = result.settings.window_months
    r = result.rate
    month = result.month.strftime("%b %Y")  # short, in the KPI names
    out = [
        kpi(f"Logo churn, {month}", r("logo_churn_rate"),
            f"{pct(r('logo_churn_rate'))} ({interval(r('logo_churn_low'), r('logo_churn_high'), confidence=conf)})",
            low=r("logo_churn_low"), high=r("logo_churn_high")),
        kpi(f"Logo churn, trailing {window} months", r("logo_churn_rate", window),
            f"{pct(r('logo_churn_rate', window))} a month "
            f"({interval(r('logo_churn_low', window), r('logo_churn_high', window), confidence=conf)})",
            low=r("logo_churn_low", window), high=r("logo_churn_high", window)),
        kpi(f"Gross revenue churn, {month}", r("gross_revenue_churn_rate"),
            f"{pct(r('gross_revenue_churn_rate'))} "
            f"({interval(r('gross_revenue_churn_low'), r('gross_revenue_churn_high'), confidence=conf)})"),
        kpi("NRR (annualised), trailing 12 months", r("nrr_annualised", 12) if result.has_trailing_year else None,
            pct(r("nrr_annualised", 12)) if result.has_trailing_year else "not enough history"),
    ]
    net = result.net_mrr_change
    if net is not None:
        out.append(kpi(f"Net MRR change, {month}", net, money(net, signed=True)))
    return out


# --------------------------------------------------------------------------------------------------
# Display tables and their captions (formatted text; the numbers are in the CSVs beside the report)
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
        f"logo churn ({pct(confidence, 0)} CI)": [f"{pct(r)} ({interval(lo, hi)})" for r, lo, hi in
                                            zip(splits["logo_churn_rate"], splits["logo_churn_low"],
                                                splits["logo_churn_high"])],
        "rest of base": splits["rest_logo_churn_rate"].map(pct),
        "gross revenue churn": splits["gross_revenue_churn_rate"].map(pct),
        "net revenue churn": splits["net_revenue_churn_rate"].map(pct),
        "adjusted p": splits["p_adjusted"].map(lambda p: "\u2013" if pd.isna(p) else p_value(p)),
        "flag": np.where(splits["flagged"], "above the rest", ""),
    })


def decomposition_display(decomposition: pd.DataFrame) -> pd.DataFrame:
    """The mix-vs-rate table in percentage points."""
    def pt(v: float) -> str:
        return number(v * 100, 2, signed=True)  # the column header says pt

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


def bridge_table(result: Result) -> pd.DataFrame:
    return bridge_display(result.bridge)


def bridge_caption(result: Result) -> str:
    return "MRR bridge, last 12 months (every month in mrr_bridge.csv)"


def rates_table(result: Result) -> pd.DataFrame:
    """The report month's rates for the month and the trailing windows, monthly and annualised, as
    display text with intervals (the numbers are in ``churn_rates.csv``)."""
    conf = result.settings.confidence
    windows = sorted(result.rates.loc[result.rates["month"] == result.month, "window_months"].unique())
    columns = {w: ("this month" if w == 1 else f"trailing {w} months") for w in windows}
    lines = []

    def add(label, fn):
        lines.append({"measure": label, **{columns[w]: fn(w) for w in windows}})

    def with_ci(rate, low, high):
        return lambda w: f"{pct(r(rate, w))} ({interval(r(low, w), r(high, w), confidence=conf)})"

    r = result.rate
    add("logo churn, monthly", with_ci("logo_churn_rate", "logo_churn_low", "logo_churn_high"))
    add("logo churn, annualised", with_ci("logo_churn_rate_annualised", "logo_churn_low_annualised",
                                          "logo_churn_high_annualised"))
    add("gross revenue churn, monthly", with_ci("gross_revenue_churn_rate", "gross_revenue_churn_low",
                                                "gross_revenue_churn_high"))
    add("net revenue churn, monthly", with_ci("net_revenue_churn_rate", "net_revenue_churn_low",
                                              "net_revenue_churn_high"))
    add("GRR, annualised", lambda w: pct(r("grr_annualised", w)))
    add("NRR, annualised", lambda w: pct(r("nrr_annualised", w)))
    add("quick ratio", lambda w: "no losses" if pd.isna(r("quick_ratio", w)) else number(r("quick_ratio", w), 2))
    add("accounts at risk (account-months)", lambda w: f"{int(r('accounts_at_risk', w)):,}")
    add("accounts churned", lambda w: f"{int(r('churned_accounts', w)):,}")
    return pd.DataFrame(lines)


def rates_caption(result: Result) -> str:
    return (f"Rates for {month_label(result.month)} (intervals at {pct(result.settings.confidence, 0)}; "
            "all months in churn_rates.csv)")


def splits_table(result: Result) -> pd.DataFrame:
    return splits_display(result.splits, result.settings.confidence)


def splits_caption(result: Result) -> str:
    splits = result.splits
    if splits.empty:
        return "Churn by segment (monthly rates)"
    return f"Churn by segment, {window_label(splits['first_month'].iloc[0], splits['last_month'].iloc[0])} (monthly rates)"


def decomposition_table(result: Result) -> pd.DataFrame:
    return decomposition_display(result.decomposition)


def decomposition_caption(result: Result) -> str:
    d = result.decomposition
    if d.empty:
        return "Mix and rate effects"
    return f"Mix and rate effects, {span_label(d['window_before'].iloc[0])} to {span_label(d['window_after'].iloc[0])}"
