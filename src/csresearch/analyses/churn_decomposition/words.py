"""Sentences, captions and KPI text of the churn decomposition, read from its result.

Every number is written by :mod:`csresearch.text` (true minus signs, en-dash intervals, one decimal).
A number that cannot be computed (nobody paying, no starting MRR, one account, no earlier window) is
never printed: the sentence says why instead. Display tables are in :mod:`.views`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...text import day, interval, money, month_label, number, pct, plural, points, window_label
from ..base import Kpi, kpi
from .result import Result

SPLIT_LABELS = {
    "value_band": "contract value (ACV)", "billing_period": "billing period", "product": "plan",
    "segment": "segment", "touch_tier": "touch tier", "region": "region",
    "acquisition_cohort": "acquisition cohort",
}
CORRECTION_NAMES = {"holm": "Holm", "bonferroni": "Bonferroni", "fdr_bh": "Benjamini-Hochberg"}
METRIC_NAMES = {"logo_churn": "Logo churn", "gross_revenue_churn": "Gross revenue churn"}


def _months(span: str) -> list[pd.Period]:
    """The first and last month of a window written ``2026-06..2026-08``."""
    return [pd.Period(p, "M") for p in span.split("..")]


def span_label(span: str) -> str:
    """A window written ``2026-06..2026-08`` in words: Jun–Aug 2026."""
    return window_label(*_months(span))


def _missing(*values) -> bool:
    return any(v is None or pd.isna(v) for v in values)


def ci_text(low, high, confidence: float | None = None, kind: str = "pct") -> str | None:
    """``95% CI 2.0–2.6%`` with as many decimals (1 to 3) as it takes for the bounds to differ; None
    when the interval is missing or has no width at all (the caller says why in words)."""
    if _missing(low, high):
        return None
    fmt = points if kind == "points" else pct
    for decimals in (1, 2, 3):
        if fmt(low, decimals) != fmt(high, decimals):
            return interval(low, high, kind, decimals, confidence=confidence)
    return None


def _decimals(low, high, kind: str = "pct") -> int:
    """The decimals :func:`ci_text` uses for an interval (1 when there is none)."""
    fmt = points if kind == "points" else pct
    if _missing(low, high):
        return 1
    return next((d for d in (1, 2, 3) if fmt(low, d) != fmt(high, d)), 1)


def rate_with_ci(rate, low, high, confidence: float | None, why_no_interval: str, per: str = "") -> str:
    """``2.3% (95% CI 2.0–2.6%)``, or ``0.0% (why_no_interval)`` when the interval cannot be shown;
    ``per`` follows the rate (`` a month``)."""
    text = ci_text(low, high, confidence)
    return f"{pct(rate)}{per} ({text or why_no_interval})"


# --------------------------------------------------------------------------------------------------
# What drove the change (the headline)
# --------------------------------------------------------------------------------------------------
def _how(lead: pd.Series, metric: str) -> str:
    """Through its own rate or through its share of the base, with the numbers that show it."""
    if abs(lead["rate_effect"]) >= abs(lead["mix_effect"]):
        verb = "rose" if lead["rate_effect"] > 0 else "fell"
        own = "churn rate" if metric == "logo_churn" else "revenue churn rate"
        return f"its own {own} {verb} from {pct(lead['rate_before'], 2)} to {pct(lead['rate_after'], 2)}"
    base = "the base" if metric == "logo_churn" else "starting MRR"
    grew = lead["share_after"] > lead["share_before"]
    rates = [r for r in (lead["rate_before"], lead["rate_after"]) if not pd.isna(r)]
    above = np.mean(rates) > (lead["overall_before"] + lead["overall_after"]) / 2
    return (f"its share of {base} {'grew' if grew else 'shrank'} from {pct(lead['share_before'])} to "
            f"{pct(lead['share_after'])} while it churns {'above' if above else 'below'} the overall rate")


def _contribution(lead: pd.Series, confidence: float) -> str:
    """``+0.3 pt (95% CI +0.1 to +0.5 pt)``: a segment's contribution and its simultaneous interval."""
    low, high = lead.get("total_low"), lead.get("total_high")
    decimals = max(_decimals(low, high, "points"), 1 if abs(lead["total_effect"]) >= 0.0005 else 2)
    text = ci_text(low, high, confidence, "points")
    return (f"{points(lead['total_effect'], decimals, signed=True)} "
            f"({text or 'no interval: the bootstrap never moved it'})")


def _no_comparison(metric: str, rates: pd.DataFrame, windows: pd.DataFrame | None, confidence: float) -> str:
    """Why the change in ``metric`` between the two windows cannot be measured."""
    name = METRIC_NAMES[metric]
    if windows is None or windows.empty:
        return f"{name} cannot be compared with an earlier window: the data does not cover two windows."
    w = windows.set_index("window")
    before = window_label(w.loc["before", "first_month"], w.loc["before", "last_month"])
    after_first, after_last = w.loc["after", "first_month"], w.loc["after", "last_month"]
    after = window_label(after_first, after_last)
    base = "accounts_at_risk" if metric == "logo_churn" else "starting_mrr"
    nobody = ("no account was paying at the start of any month of" if metric == "logo_churn"
              else "no MRR was billed at the start of any month of")
    if w.loc["after", base] <= 0:
        return f"{name} cannot be measured for {after}: {nobody} {after}."
    months = (pd.Period(after_last, "M") - pd.Period(after_first, "M")).n + 1
    per = " a month" if months > 1 else ""
    if metric == "logo_churn":
        now = w.loc["after", "churned_accounts"] / w.loc["after", "accounts_at_risk"]
        row = rates[(rates["month"] == pd.Period(after_last, "M")) & (rates["window_months"] == months)]
        text = ci_text(row["logo_churn_low"].iloc[0], row["logo_churn_high"].iloc[0], confidence) if len(row) else None
        now_text, ci = pct(now), (f" ({text})" if text else "")
    else:
        now_text, ci = pct(w.loc["after", "lost_mrr"] / w.loc["after", "starting_mrr"]), ""
    return (f"{name} was {now_text}{per} in {after}{ci}; {nobody} {before}, so there is no earlier window to "
            "compare it with.")


def driver_sentence(decomposition: pd.DataFrame, rates: pd.DataFrame, metric: str = "logo_churn",
                    confidence: float = 0.95, change_ci: tuple[float, float] | None = None,
                    windows: pd.DataFrame | None = None) -> str:
    """Where the rate is, how it moved on the window before (with the window's interval for logo
    churn and the interval of the change), and the segment with the largest contribution to the
    change in the table shown below (its contribution with a simultaneous interval, and whether it
    came through its own churn rate or its share of the base). ``change_ci``: the interval of the
    change (:func:`.compute_change.change_interval` / ``revenue_change_interval``); None: not known,
    so the change is not called noise. ``windows``: the two windows' totals, which say why there is
    no comparison when the decomposition has no row for ``metric``."""
    table = decomposition[decomposition["metric"] == metric] if len(decomposition) else decomposition
    if table.empty:
        return _no_comparison(metric, rates, windows, confidence)
    name = METRIC_NAMES[metric]
    before_win, after_win = _months(table["window_before"].iloc[0]), _months(table["window_after"].iloc[0])
    now_label, before_label = window_label(*after_win), window_label(*before_win)
    rate0, rate1 = table["overall_before"].iloc[0], table["overall_after"].iloc[0]
    change = rate1 - rate0
    window = (after_win[1] - after_win[0]).n + 1
    per = " a month" if window > 1 else ""
    rate_ci = ""
    if metric == "logo_churn":
        row = rates[(rates["month"] == after_win[1]) & (rates["window_months"] == window)]
        text = ci_text(row["logo_churn_low"].iloc[0], row["logo_churn_high"].iloc[0], confidence) if len(row) else None
        rate_ci = f" ({text})" if text else ""
    if table["events_before"].sum() == 0 and table["events_after"].sum() == 0:
        lost = "no paying account churned" if metric == "logo_churn" else "no MRR was lost to churn or contraction"
        base = (f"{table['base_before'].sum():,.0f} and {table['base_after'].sum():,.0f} account-months at risk"
                if metric == "logo_churn" else f"{money(table['base_before'].sum())} and "
                f"{money(table['base_after'].sum())} of starting MRR")
        return (f"{name} was {pct(rate1)}{per} in {now_label}{rate_ci}, as in {before_label}: {lost} in either "
                f"window ({base}), so there is no change for a segment to explain.")
    low, high = change_ci if change_ci is not None else (np.nan, np.nan)
    change_ci_text = ci_text(low, high, None, "points")
    change_text = f"{pct(confidence, 0)} CI of the change {change_ci_text}" if change_ci_text else None
    noise = change_text is not None and low <= 0 <= high
    lead = table.iloc[int(table["total_effect"].abs().to_numpy().argmax())]
    if table["segmented_by"].iloc[0] == "all":  # no segment columns in the data
        verb = "was" if noise else "rose to" if change > 0 else "fell to" if change < 0 else "held at"
        return (f"{name} {verb} {pct(rate1)}{per} in {now_label}{rate_ci}, {points(change, signed=True)} on "
                f"{before_label}" + (f", a change within noise ({change_text})" if noise else "")
                + "; the data has no segment columns to say which customers drove it.")
    if lead["total_effect"] == 0:
        return (f"{name} held at {pct(rate1)}{per} in {now_label}{rate_ci}, as in {before_label}"
                + (f", a change within noise ({change_text})" if change_text else "")
                + ": no segment's share or churn rate moved.")
    contribution = f"{_contribution(lead, confidence)}: {_how(lead, metric)}"
    if noise or change == 0:
        return (f"{name} was {pct(rate1)}{per} in {now_label}{rate_ci}, {points(change, signed=True)} on "
                f"{before_label}, a change within noise ({change_text}); the largest single "
                f"contribution was {lead['segment']}'s, {contribution}.")
    verb, noun = ("rose", "rise") if change > 0 else ("fell", "fall")
    change_part = f"{points(change, signed=True)}" + (f", {change_text}" if change_text else "")
    share = lead["total_effect"] / change
    if share < 0:
        part = (f"the largest single contribution, {lead['segment']}'s, went against the {noun}: {contribution}; "
                "other segments moved it more in total")
    elif share > 1:
        part = (f"{lead['segment']} alone moved it {contribution}, more than the whole {noun}, while other segments "
                "moved it the other way")
    else:
        part = f"{pct(share, 0)} of the {noun} came from {lead['segment']}, {contribution}"
    return (f"{name} {verb} to {pct(rate1)}{per} in {now_label}{rate_ci} from {pct(rate0)} in {before_label} "
            f"({change_part}); {part}.")


# --------------------------------------------------------------------------------------------------
# The report month in plain words
# --------------------------------------------------------------------------------------------------
def _logo_month(one: pd.DataFrame, month: pd.Period, confidence: float) -> str:
    if month not in one.index or one.loc[month, "accounts_at_risk"] == 0:
        return (f"In {month_label(month)} no account was paying at the start of the month, so there is no logo "
                "churn to measure.")
    now = one.loc[month]
    at_risk = int(now["accounts_at_risk"])
    why = "one paying account: no interval" if at_risk == 1 else "no interval"
    text = (f"In {month_label(month)} logo churn was "
            f"{rate_with_ci(now['logo_churn_rate'], now['logo_churn_low'], now['logo_churn_high'], confidence, why)}: "
            f"{int(now['churned_accounts']):,} of {plural(at_risk, 'paying account')}")
    previous = month - 1
    if previous in one.index and one.loc[previous, "accounts_at_risk"] > 0:
        change = now["logo_churn_rate"] - one.loc[previous, "logo_churn_rate"]
        direction = "up" if change > 0 else "down" if change < 0 else ""
        text += (f", {direction} {points(abs(change))} on {month_label(previous)}" if direction
                 else f", the same rate as in {month_label(previous)}")
    else:
        text += f"; no account was paying at the start of {month_label(previous)} to compare with"
    return text + "."


def _revenue_month(one: pd.DataFrame, month: pd.Period, confidence: float) -> str:
    if month not in one.index or one.loc[month, "starting_mrr"] <= 0:
        return f"No MRR was billed at the start of {month_label(month)}, so revenue churn cannot be measured."
    now = one.loc[month]
    accounts = int(now["accounts_at_risk"])
    why = ("one paying account: no interval" if accounts < 2 else
           "no paying account lost MRR" if now["lost_mrr"] == 0 else "no interval")
    gross = rate_with_ci(now["gross_revenue_churn_rate"], now["gross_revenue_churn_low"],
                         now["gross_revenue_churn_high"], confidence, why)
    net = now["net_revenue_churn_rate"]  # starting MRR > 0 here, so every ratio exists
    net_text = (f"net revenue churn {pct(net)}" if net >= 0 else
                f"net revenue churn {pct(net)} (negative churn: expansion and reactivation outweighed losses)")
    quick = (f"quick ratio {number(now['quick_ratio'])}" if not pd.isna(now["quick_ratio"])
             else "no quick ratio, since no MRR was lost")
    return (f"Gross revenue churn was {gross} of starting MRR, {net_text}; monthly NRR {pct(now['nrr'])}, "
            f"{quick}.")


def month_sentences(bridge: pd.DataFrame, rates: pd.DataFrame, month: pd.Period | str,
                    confidence: float = 0.95) -> list[str]:
    """The report month in plain words: logo churn with its interval and change on the month before,
    revenue churn, and the MRR bridge; what cannot be measured is said, not printed."""
    month = pd.Period(month, "M")
    one = rates[rates["window_months"] == 1].set_index("month") if len(rates) else pd.DataFrame()
    out = [_logo_month(one, month, confidence), _revenue_month(one, month, confidence)]
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
        return "No account was paying in the window, or the data has no column to split by: no segment to compare."
    n_tests = int(splits["p_value"].notna().sum())
    if n_tests == 0:
        return "No account churned in the window, so no segment can churn more than the rest of the base."
    flagged = splits[splits["flagged"]].sort_values("logo_churn_rate", ascending=False)
    method = CORRECTION_NAMES.get(correction, correction)
    if flagged.empty:
        return (f"No segment's logo churn is significantly above the rest of the base ({method} correction over "
                f"{plural(n_tests, 'comparison')}, {pct(1 - confidence, 0)} level).")
    items = [f"{SPLIT_LABELS.get(r.split, r.split)} {r.value} ({pct(r.logo_churn_rate)} vs {pct(r.rest_logo_churn_rate)})"
             for r in flagged.itertuples()]
    return (f"Churn significantly above the rest of the base ({method}-corrected over "
            f"{plural(n_tests, 'comparison')}, {pct(1 - confidence, 0)} level): " + "; ".join(items) + ".")


# --------------------------------------------------------------------------------------------------
# 12-month cohort NRR and GRR
# --------------------------------------------------------------------------------------------------
def _retention_value(result: Result, name: str, group: str = "all") -> str:
    """``101.1% (95% CI 99.8–102.4%)`` for nrr or grr, the interval replaced by its reason."""
    value, low, high = (result.retention(c, group) for c in (name, f"{name}_low", f"{name}_high"))
    return rate_with_ci(value, low, high, result.settings.confidence,
                        no_retention_interval(name, value, result.retention("accounts_start", group)))


def no_retention_interval(name: str, value: float, accounts: float) -> str:
    """Why a 12-month NRR or GRR has no interval."""
    if accounts < 2:
        return "one account: no interval"
    if value == 0:
        return "every account has left: no interval"
    if name == "grr" and value >= 1:
        return "no account lost MRR: no interval"
    return "every account's MRR moved by the same factor: no interval"


def _no_cohort(result: Result) -> str:
    then = month_label(result.month - 12)
    return f"no account was paying at the end of {then}, twelve months before {month_label(result.month)}"


def retention(result: Result) -> str:
    """The 12-month cohort NRR and GRR in a sentence."""
    if result.retention_12m.empty:
        return f"The 12-month NRR and GRR cannot be measured: {_no_cohort(result)}."
    n, still = int(result.retention("accounts_start")), int(result.retention("accounts_paying_now"))
    then = month_label(result.month - 12)
    return (f"Of the {money(result.retention('starting_mrr'))} MRR that {plural(n, 'account')} paid at the end of "
            f"{then}, the same {'account pays' if n == 1 else 'accounts pay'} {money(result.retention('mrr_now'))} at the end of "
            f"{month_label(result.month)}: NRR {_retention_value(result, 'nrr')}, expansion included; GRR "
            f"{_retention_value(result, 'grr')}, each account capped at its starting MRR. {still:,} of "
            f"{plural(n, 'account')} still {'pays' if still == 1 else 'pay'}; accounts that joined since are not "
            "counted.")


def retention_caption(result: Result) -> str:
    return (f"12-month cohort: accounts paying at the end of {month_label(result.month - 12)}, their MRR then and "
            f"at the end of {month_label(result.month)} (net_retention_12m.csv)")


# --------------------------------------------------------------------------------------------------
# The report's words, from its result
# --------------------------------------------------------------------------------------------------
def headline(result: Result) -> str:
    """The report's first sentence: logo churn over the trailing window, its change on the window
    before, and the segment with the largest contribution to the change."""
    return driver_sentence(result.decomposition, result.rates, "logo_churn", result.settings.confidence,
                           change_ci=result.logo_change_ci, windows=result.change_windows)


def revenue_driver(result: Result) -> str:
    """The same sentence for gross revenue churn."""
    return driver_sentence(result.decomposition, result.rates, "gross_revenue_churn", result.settings.confidence,
                           change_ci=result.revenue_change_ci, windows=result.change_windows)


def flagged(result: Result) -> str:
    s = result.settings
    return flagged_sentence(result.splits, s.multiple_comparison_correction, s.confidence)


def month_summary(result: Result) -> str:
    """The report month in bullets: logo churn, revenue churn, the bridge, the 12-month cohort and
    the flagged segments."""
    sentences = month_sentences(result.bridge, result.rates, result.month, result.settings.confidence)
    return "\n".join(f"- {s}" for s in sentences + [retention(result), flagged(result)])


def drivers(result: Result) -> str:
    """What drove the change, for logo and for gross revenue churn, in two bullets."""
    return f"- {headline(result)}\n- {revenue_driver(result)}"


def skipped_splits(result: Result) -> str:
    if not result.skipped_splits:
        return "Every split column asked for is in the data."
    return f"Not in the data, so not split by: {', '.join(result.skipped_splits)}."


def cohorts_note(result: Result) -> str:
    """Why the cohort charts are empty, or nothing when they are not."""
    if len(result.cohorts):
        return ""
    first = result.month - (result.settings.trend_months - 1)
    return (f"No account started paying between {month_label(first)} and {month_label(result.month)}, so there is "
            "no start-month cohort to follow.")


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
        "annualisation": ("annual = 1 - (1 - monthly)^12, for the monthly rates only; NRR and GRR are the 12-month "
                          "cohort figures" if s.annualisation == "compounded"
                          else "annual = 12 x monthly, for the monthly rates only; NRR and GRR are the 12-month "
                          "cohort figures"),
        "trailing window": "splits and the change decomposition compare this window with the one before it",
        "intervals": ("Wilson for logo churn; delta-method (linearised ratio) for revenue churn, and for the 12-month "
                      "NRR and GRR on the log and logit scales; account-level bootstrap for each segment's "
                      "contribution to the change"),
        "multiple comparisons": ("segments flagged above the rest after this correction across every segment tested; "
                                 "the contributions' intervals hold for every segment at once"),
    }
    return values, notes


def book_comparison(result: Result) -> str:
    """The report month's logo churn under the other convention, for comparison with the book's code."""
    book = result.book_comparison
    month = month_label(result.month)
    start, end = day(result.month.to_timestamp()), day((result.month + 1).to_timestamp())
    if not book.get("start_accounts"):
        return (f"*Fighting Churn With Data*'s code counts accounts active on {start}: none was, so its churn rate "
                f"cannot be computed for {month}.")
    ours = result.rate("logo_churn_rate")
    if result.settings.churn_convention == "period_start":
        return (f"Numbers follow *Fighting Churn With Data* (active on the 1st, not on the 1st of the next month): "
                f"churn rate {pct(book['churn_rate'])}, net retention {pct(book['net_retention'])}, MRR churn "
                f"{pct(book['mrr_churn'])} for {month}.")
    ours_text = (f"this report's month-end rule gives {pct(ours)} logo churn for {month}" if not pd.isna(ours) else
                 f"this report's month-end rule finds no account paying at the start of {month}")
    return (f"For comparison with *Fighting Churn With Data*'s code (active on {start}, not on {end}): churn rate "
            f"{pct(book['churn_rate'])} ({book['churned_accounts']:,} of {book['start_accounts']:,}), net retention "
            f"{pct(book['net_retention'])}, MRR churn {pct(book['mrr_churn'])}; {ours_text}.")


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
        "account appears once per month, so their intervals are slightly too narrow. "
        "NRR and GRR are the 12-month cohort figures: the MRR now of the accounts paying twelve months ago over their "
        "MRR then (GRR caps each account at its MRR then), with delta-method intervals over those accounts drawn on "
        "the log (NRR) and logit (GRR) scales, so GRR stays within 0–100%; in a cohort of under about 100 accounts "
        "where a few large ones hold the MRR, they are narrower than stated. New accounts are not in the cohort. "
        "The monthly rates compounded to a year, in the rates table, are labelled as such and are not the same "
        "figure. Segments are flagged only when a "
        "one-sided Fisher exact test against the rest of the base stays significant after "
        f"{s.multiple_comparison_correction.title()} correction across every segment tested; segments are compared, "
        "not explained: a segment that churns more "
        "may differ in many ways (plan, size, tenure), so read flags as where to look, not as causes. Cohort retention "
        "counts only cohorts that started inside the lookback, so older, surviving customers cannot flatter it. The "
        "mix-vs-rate split is Kitagawa's midpoint decomposition with each segment's mix measured against the overall "
        "rate (a segment that grows while churning at the overall rate moves nothing), so mix and rate parts add up "
        f"exactly to the change. Each segment's contribution carries a {pct(s.confidence, 0)} interval from an "
        "account-level bootstrap (an account's months resampled together) that holds for all segments at once, so "
        "the segment named as the largest is not given a flattering interval for having been picked."
    )


def kpis(result: Result) -> list[Kpi]:
    """Headline numbers for the index page, with their intervals; a number that cannot be computed is
    None with the reason as its text."""
    conf = result.settings.confidence
    window = result.settings.window_months
    r = result.rate
    month = result.month.strftime("%b %Y")  # short, in the KPI names
    out = []
    if r("accounts_at_risk") > 0:
        out.append(kpi(f"Logo churn, {month}", r("logo_churn_rate"),
                       rate_with_ci(r("logo_churn_rate"), r("logo_churn_low"), r("logo_churn_high"), conf,
                                    "one paying account: no interval"),
                       low=r("logo_churn_low"), high=r("logo_churn_high")))
    else:
        out.append(kpi(f"Logo churn, {month}", None, "no paying account at the start of the month"))
    if r("accounts_at_risk", window) > 0:
        out.append(kpi(f"Logo churn, trailing {window} months", r("logo_churn_rate", window),
                       rate_with_ci(r("logo_churn_rate", window), r("logo_churn_low", window),
                                    r("logo_churn_high", window), conf, "one paying account: no interval", " a month"),
                       low=r("logo_churn_low", window), high=r("logo_churn_high", window)))
    else:
        out.append(kpi(f"Logo churn, trailing {window} months", None, "no paying account in the window"))
    if r("starting_mrr") > 0:
        why = ("one paying account: no interval" if r("accounts_at_risk") < 2 else
               "no paying account lost MRR" if r("lost_mrr") == 0 else "no interval")
        out.append(kpi(f"Gross revenue churn, {month}", r("gross_revenue_churn_rate"),
                       rate_with_ci(r("gross_revenue_churn_rate"), r("gross_revenue_churn_low"),
                                    r("gross_revenue_churn_high"), conf, why),
                       low=r("gross_revenue_churn_low"), high=r("gross_revenue_churn_high")))
    else:
        out.append(kpi(f"Gross revenue churn, {month}", None, "no MRR at the start of the month"))
    for name in ("nrr", "grr"):
        label = f"{name.upper()}, 12-month cohort"
        if result.retention_12m.empty:
            out.append(kpi(label, None, f"no account paying in {(result.month - 12).strftime('%b %Y')}"))
        else:
            out.append(kpi(label, result.retention(name), _retention_value(result, name),
                           low=result.retention(f"{name}_low"), high=result.retention(f"{name}_high")))
    net = result.net_mrr_change
    if net is not None:
        out.append(kpi(f"Net MRR change, {month}", net, money(net, signed=True)))
    return out


# --------------------------------------------------------------------------------------------------
# Captions of the display tables (the tables are in views.py; the numbers in the CSVs)
# --------------------------------------------------------------------------------------------------
def bridge_caption(result: Result) -> str:
    return "MRR bridge, last 12 months (every month in mrr_bridge.csv)"


def rates_caption(result: Result) -> str:
    return (f"Rates for {month_label(result.month)} (intervals at {pct(result.settings.confidence, 0)}; "
            "all months in churn_rates.csv)")


def splits_caption(result: Result) -> str:
    splits = result.splits
    if splits.empty:
        return "Churn by segment (monthly rates)"
    return f"Churn by segment, {window_label(splits['first_month'].iloc[0], splits['last_month'].iloc[0])} (monthly rates)"


def decomposition_caption(result: Result) -> str:
    d = result.decomposition
    if d.empty:
        return "Mix and rate effects"
    return (f"Mix and rate effects, {span_label(d['window_before'].iloc[0])} to {span_label(d['window_after'].iloc[0])}, "
            f"largest contribution first (intervals at {pct(result.settings.confidence, 0)}, for all segments at once)")
