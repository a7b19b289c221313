"""Sentences, KPI text, the conventions box and display tables of the onboarding-survival report,
read from its result."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ...text import day, format_each, interval, money, number, p_value, pct, plural, words
from ..base import Kpi, Table, kpi
from .compute_value import bucket_labels
from .result import Result


def _finite(*values: Any) -> bool:
    try:
        return all(v is not None and np.isfinite(float(v)) for v in values)
    except (TypeError, ValueError):
        return False


def _shown(value: float | None, kind: str, decimals: int) -> str:
    return money(value, decimals=decimals) if kind == "money" else {"pct": pct, "number": number}[kind](value, decimals)


def _decimals(low: float, high: float, kind: str, decimals: int) -> int:
    """``decimals``, or more (up to 3) when the bounds would otherwise print as the same number."""
    while decimals < 3 and _shown(low, kind, decimals) == _shown(high, kind, decimals):
        decimals += 1
    return decimals


def _with_interval(value: float | None, low: float | None, high: float | None, kind: str = "pct",
                   decimals: int = 0, none: str = "interval not estimable", extra: str = "") -> str:
    """'76% (74–79%)', '0.68 (0.58–0.81)', '$1,200 ($1,000–$1,400)': an estimate and its interval
    (``extra`` follows it inside the brackets). A narrow interval gets the digits that keep its bounds
    apart; one of zero width (or not finite) is replaced by ``none``, the words saying why."""
    if not _finite(low, high) or float(low) == float(high):  # type: ignore[arg-type]
        return f"{_shown(value, kind, decimals)} ({none}{extra})"
    d = _decimals(float(low), float(high), kind, decimals)  # type: ignore[arg-type]
    return f"{_shown(value, kind, d)} ({interval(low, high, kind, d)}{extra})"


def _share(row: Mapping[str, Any], key: str) -> str:
    """The share still paying at a tenure with its interval, in whole percent: '76% (74–79%)'. Before the
    first churn (100%) or after the last account followed churned (0%) there is no interval: the words
    say which."""
    return _share_of(float(row[key]), row[key + "_lower"], row[key + "_upper"])


def _share_of(value: float, low: float, high: float) -> str:
    none = ("no churn by then" if value == 1 else "every account followed that long churned" if value == 0
            else "interval not estimable")
    return _with_interval(value, low, high, none=none)


def _ratio(hr: Mapping[str, Any]) -> str:
    """A hazard ratio with its interval: '0.68 (0.58–0.81)'."""
    return _with_interval(hr.get("hazard_ratio"), hr.get("lower"), hr.get("upper"), "number", 2)


def _hr_interval(hr: Mapping[str, Any]) -> str:
    low, high = hr.get("lower"), hr.get("upper")
    if not _finite(low, high) or low == high:
        return "interval not estimable"
    return interval(low, high, "number", _decimals(float(low), float(high), "number", 2))  # type: ignore[arg-type]


def months_text(value: float, decimals: int = 0) -> str:
    """'1 month', '1.5 months', '24 months'."""
    shown = number(value, decimals)
    return f"{shown} month" if shown == "1" else f"{shown} months"


def _median_interval(low: float, high: float, unit: str = "") -> str:
    """The interval of a median lifetime in months; its upper end may not be reached yet."""
    if not _finite(low) or (_finite(high) and low == high):
        return "interval not estimable"
    if not _finite(high):
        return f"{number(low, 0)} or more{unit}"
    return interval(low, high, "number", _decimals(low, high, "number", 0)) + unit


def _median(row: Mapping[str, Any]) -> str:
    """'24 months (24–26 months)', '1.5 months (interval not estimable)': a median lifetime, with one
    decimal below 10 months."""
    value = float(row["median_months"])
    spread = _median_interval(row["median_lower"], row["median_upper"], " months")
    return f"{months_text(value, 0 if value >= 10 else 1)} ({spread})"


def _latest_month(row: pd.Series, months: Sequence[float], prefer: float = 12) -> float | None:
    """``prefer`` if estimable for the row, else the longest of ``months`` that is."""
    order = [prefer] + sorted((m for m in months if m != prefer), reverse=True)
    for m in order:
        if np.isfinite(row.get(f"survival_{m:g}m", np.nan)):
            return m
    return None


def _comparison(result: Result, month: float = 12) -> str | None:
    """The onboarding comparison of the headline, or None when it cannot be made."""
    if not result.has_onboarding:
        return None
    table = result.survival_of("onboarding").set_index("group")
    fast, slow = result.fast_group, result.slow_group
    if fast not in table.index or slow not in table.index:
        return None
    f, s = table.loc[fast], table.loc[slow]
    m = _latest_month(f, result.survival_months, month)
    if m is None or not np.isfinite(s.get(f"survival_{m:g}m", np.nan)):
        return None
    key = f"survival_{m:g}m"
    edge = result.buckets_days[0]
    return (f"Of accounts still paying on day {result.landmark_days}, those that reached first value within "
            f"{edge} days keep {_share(f, key)} at {m:g} months vs {_share(s, key)} for those with "
            f"{slow.replace('no value', 'no first value')}.")


def headline(result: Result) -> str:
    """The report's first sentence: the onboarding comparison and its adjusted hazard ratio when
    onboarding data allow it, otherwise overall survival."""
    text = _comparison(result)
    if text is None:
        return "Customer lifetimes: " + overall_sentence(result)
    hr = result.fast_hazard_ratio()
    if _finite(hr.get("hazard_ratio")):
        text = text.rstrip(".") + f"; adjusted hazard ratio {_ratio(hr)}."
    return text


def overall_sentence(result: Result) -> str:
    row = result.overall
    m = _latest_month(row, result.survival_months, 12)
    end = result.km_overall.ends.get("all accounts") if hasattr(result.km_overall, "ends") else None
    text = f"{plural(int(row['accounts']), 'account')}, {int(row['churned']):,} churned so far"
    if m is not None:
        key = f"survival_{m:g}m"
        text += (f"; {_share(row, key)} are still paying "
                 f"{m:g} months after their first payment")
    elif end is not None:
        return text + (f"; after {months_text(end, 1)} of tenure fewer than {result.min_at_risk} accounts remain at "
                       f"risk, so the survival curve stops there, before {min(result.survival_months):g} months.")
    if np.isfinite(row["median_months"]):
        text += f"; half are gone by {_median(row)}"
    elif end is not None:
        text += (f"; more than half are still paying at {months_text(end, 1)}, where the curve stops (fewer than "
                 f"{result.min_at_risk} accounts remain at risk after it)")
    else:
        text += "; the median lifetime is not reached (more than half are still paying at the longest follow-up)"
    return text + "."


def size_rule_sentence(result: Result) -> str:
    """The report's size rules in words, with the groups they left out."""
    left = []
    for kind, curves in (("segment", result.km_segment), ("cohort", result.km_cohort),
                         ("onboarding group", result.km_outcome)):
        small = {**getattr(curves, "too_small", {}), **getattr(curves, "no_curve", {})}
        if small:
            names = ", ".join(f"{g} ({plural(n, 'account')})" for g, n in small.items())
            left.append(f"{kind} {names}" if len(small) == 1 else f"{kind}s {names}")
    text = (f"A group needs at least {result.min_accounts} accounts for a curve, and a curve stops at the first "
            f"tenure after which fewer than {result.min_at_risk} accounts remain at risk: nothing past it is estimated.")
    if left:
        text += " Left out for that reason: " + "; ".join(left) + "."
    return text


def cohort_sentence(result: Result) -> str:
    if "cohorts" in result.unavailable:
        return result.unavailable["cohorts"]
    lr = result.cohort_logrank
    if not lr or not np.isfinite(lr.get("p_value", np.nan)):
        if len(result.km_cohort) < 2:
            return "Only one onboarding cohort has a curve: nothing to compare."
        return "No account of the onboarding cohorts has churned yet: their survival cannot be compared."
    verdict = ("Cohorts differ in survival more than chance would explain" if lr["p_value"] < 0.05
               else "Cohorts do not differ in survival more than chance would explain")
    return (f"{verdict} (log-rank test across {lr['groups']} cohorts at equal tenure: chi-square "
            f"{number(lr['test_statistic'])} on {lr['degrees_of_freedom']} df, {p_value(lr['p_value'])}).")


def outcome_sentence(result: Result, month: float = 12) -> str:
    """'Of accounts still paying on day 90, those reaching first value within 30 days keep 88%
    (85–90%) at 12 months vs 71% (68–74%) for those with no value by day 90.'"""
    if not result.has_onboarding:
        return result.unavailable.get("onboarding", "")
    text = _comparison(result, month)
    return text if text is not None else (
        f"Follow-up from day {result.landmark_days} is too short to compare survival by onboarding outcome at "
        f"{min(result.survival_months):g} months or more.")


def outcome_logrank_sentence(result: Result) -> str:
    lr = result.outcome_logrank
    if not lr or not np.isfinite(lr.get("p_value", np.nan)):
        return ""
    verdict = "differ" if lr["p_value"] < 0.05 else "do not clearly differ"
    return (f"The onboarding groups {verdict} in survival after day {result.landmark_days} (log-rank chi-square "
            f"{number(lr['test_statistic'])} on {lr['degrees_of_freedom']} df, {p_value(lr['p_value'])}; unadjusted).")


def naive_warning(result: Result) -> str:
    """The immortal-time caution, with the naive number next to the landmark one."""
    nv, hr = result.naive, result.fast_hazard_ratio()
    if not nv or not np.isfinite(nv.get("hazard_ratio", np.nan)):
        return ""
    return ("**Why a landmark.** An account has to stay long enough to reach value, so comparing 'reached value' "
            "with 'did not' from day 1 credits onboarding with survival it did not cause (*immortal-time bias*). "
            f"That naive comparison gives a hazard ratio of {_ratio(nv)}. Here every group is fixed on day "
            f"{result.landmark_days} using only what had happened by then, and accounts that churned or were censored "
            f"before day {result.landmark_days} are left out of the comparison; 'later' and 'never' are one group, "
            f"because on day {result.landmark_days} nobody can tell them apart. "
            + (f"The landmark estimate is {_ratio(hr)}." if _finite(hr.get("hazard_ratio"))
               else "The landmark estimate could not be made: "
               + _lower_first(result.unavailable.get("cox", "too few accounts in a group."))))


def _lower_first(sentence: str) -> str:
    return sentence[:1].lower() + sentence[1:] if sentence[:2] != sentence[:2].upper() else sentence


def trend_sentence(result: Result) -> str:
    t = result.trend
    if not t or not _finite(t.get("hazard_ratio"), t.get("lower"), t.get("upper")):
        return result.unavailable.get("trend", "Too few cohorts to tell whether onboarding is getting faster.")
    unit = {"quarter": "quarterly", "month": "monthly"}[result.cohort_frequency]
    rate = abs(t["hazard_ratio"] - 1)
    if t["lower"] > 1:
        head = (f"Onboarding is getting faster: each {unit} cohort reaches first value at a {pct(rate, 0)} higher rate "
                "than the one before")
    elif t["upper"] < 1:
        head = (f"Onboarding is getting slower: each {unit} cohort reaches first value at a {pct(rate, 0)} lower rate "
                "than the one before")
    else:
        head = "No clear trend in onboarding speed across cohorts"
    return f"{head} (hazard ratio per cohort {number(t['hazard_ratio'], 2)}, {_hr_interval(t)})."


def cox_sentence(result: Result) -> str:
    """The adjusted hazard ratio of fast onboarding, with what was held fixed and how."""
    if result.cox is None:
        return result.unavailable.get("cox", "")
    hr = result.fast_hazard_ratio()
    if not _finite(hr.get("hazard_ratio"), hr.get("lower"), hr.get("upper")):
        return "The Cox model could not estimate the effect of fast onboarding (a compared group has no variation left)."
    held = [words(c) for c in result.data.covariates if c not in result.cox.strata]
    strata = [words(c) for c in result.cox.strata]
    fixed = ", ".join(held + strata) or "nothing else"
    direction = ("lower" if hr["upper"] < 1 else "higher" if hr["lower"] > 1 else "no clearly different")
    change = abs(1 - hr["hazard_ratio"])
    what = (f"a {pct(change, 0)} {direction} churn hazard" if direction != "no clearly different"
            else "no clearly different churn hazard")
    return (f"Comparing accounts alike in {fixed}, reaching first value within {result.buckets_days[0]} days goes "
            f"with {what} after day {result.landmark_days} than {result.slow_group.replace('no value', 'no first value')}: "
            f"hazard ratio {number(hr['hazard_ratio'], 2)} ({_hr_interval(hr)}, {p_value(hr['p_value'])}).")


def cox_checks_sentence(result: Result) -> str:
    """Proportional-hazards results, strata, concordance and sample, in words."""
    cox = result.cox
    if cox is None:
        return ""
    tests = cox.ph_tests
    bad = tests[tests["violated"]]
    text = (f"**Model checks.** {cox.accounts:,} accounts paying on day {cox.landmark_days}, {cox.events:,} churns after "
            f"it. Proportional hazards were tested for each of {len(tests)} terms (Schoenfeld residuals against rank of "
            "time, Holm-corrected for the number of tests). ")
    if len(bad):
        names = ", ".join(sorted({words(v) for v in bad["variable"]}))
        text += f"Violated: {names}. "
        if cox.strata:
            text += (f"The model is therefore stratified by {', '.join(words(s) for s in cox.strata)} "
                     "(each group gets its own baseline hazard, so no hazard ratio is shown for it). ")
        if "outcome" in set(bad["variable"]):
            text += ("The onboarding effect itself changes over tenure, so its hazard ratio is an average over "
                     "follow-up. ")
    else:
        text += "No term violates the assumption. "
    if result.cox_left_out:
        text += ("Left out of the model for having fewer than "
                 f"{result.min_accounts} accounts: "
                 + ", ".join(f"{g} ({plural(n, 'account')})" for g, n in result.cox_left_out.items()) + ". ")
    ci = (_hr_interval({"lower": cox.concordance_lower, "upper": cox.concordance_upper}) + ", bootstrap over accounts "
          "with the model fixed") if _finite(cox.concordance_lower, cox.concordance_upper) else (
        "no bootstrap interval" if not _finite(cox.concordance_lower) else "interval not estimable")
    text += (f"Concordance {number(cox.concordance, 2)} ({ci}): 0.5 is a coin flip, 1 a perfect ranking of who "
             "churns first.")
    return text


def ltv_sentence(result: Result) -> str:
    ltv = result.ltv_segment
    horizon = f"{result.horizon_months:g}-month"
    if ltv is None:
        return f"No segment column (or no MRR): no {horizon} lifetime value by segment."
    small = {**getattr(result.km_segment, "too_small", {})}
    left = ("" if not small else " Left out for having fewer than "
            f"{result.min_accounts} accounts: " + ", ".join(f"{g} ({plural(n, 'account')})" for g, n in small.items())
            + ".")
    shown = ltv.dropna(subset=["lifetime_value", "lifetime_value_lower", "lifetime_value_upper"])
    if ltv.empty:
        return f"No segment has {result.min_accounts} accounts: no {horizon} lifetime value by segment." + left
    if shown.empty:
        return (f"No segment is followed for {result.horizon_months:g} months with at least {result.min_at_risk} "
                f"accounts at risk: a {horizon} lifetime value would have to be extrapolated." + left)
    shown = shown.sort_values("lifetime_value", ascending=False)
    parts = [f"{r.segment} " + _with_interval(r.lifetime_value, r.lifetime_value_lower, r.lifetime_value_upper, "money",
                                              extra=f"; {number(r.rmst_months)} paid months x {money(r.average_mrr)} MRR")
             for r in shown.itertuples()]
    short = [r.segment for r in ltv.itertuples() if r.segment not in set(shown["segment"])]
    text = f"Revenue per account over its first {result.horizon_months:g} months: " + ", ".join(parts) + "."
    if short:
        text += (f" Not followed {result.horizon_months:g} months with {result.min_at_risk} accounts at risk (no "
                 "extrapolation): " + ", ".join(short) + ".")
    return text + left


def missing_onboarding_note(result: Result) -> str:
    """Why the onboarding sections are empty (empty text when they are not)."""
    return result.unavailable.get("onboarding", "")


def conventions(result: Result) -> tuple[dict, dict]:
    """The conventions box: values and a note on each."""
    sd = result.data
    values = {
        "data cut-off": day(sd.as_of),
        "data window starts": day(sd.window_start),
        "reactivation_window_days": result.reactivation_window_days,
        "count_same_month_churn": result.count_same_month_churn,
        "value_milestone": result.value_milestone,
        "landmark": f"day {result.landmark_days}",
        "time-to-value buckets": ", ".join(bucket_labels(result.buckets_days)),
        "cohorts": result.cohort_frequency,
        "lifetime value horizon": f"{result.horizon_months:g} months",
        "smallest group": f"{result.min_accounts} accounts; {result.min_at_risk} at risk",
    }
    notes = {
        "data cut-off": "accounts still paying are censored here",
        "data window starts": "accounts paying before this enter late (left truncation)",
        "reactivation_window_days": "a zero-MRR gap shorter than this is not a churn (csresearch.core.revenue.paying_spells)",
        "count_same_month_churn": "false: accounts that joined and left without paying at a month end are left out",
        "value_milestone": "time to value = days from the first paid day to this milestone",
        "landmark": "onboarding groups are fixed on this day; survival is compared from it on",
        "cohorts": "onboarding cohort = period of the first paid day",
        "lifetime value horizon": "restricted mean paid months to the horizon x average MRR",
        "smallest group": ("a smaller segment, cohort or onboarding group gets no curve; a curve stops where fewer "
                           "accounts remain at risk"),
    }
    return values, notes


def method_note(result: Result) -> str:
    """How lifetimes were built, with the counts: late entry, reactivations, censoring."""
    n = result.data.notes
    text = (f"**How a lifetime is measured.** From an account's first paid day to its first churn (MRR to zero, the "
            f"shared definition in `csresearch.core.revenue`), in paid days shown as months. {n['accounts']:,} accounts: "
            f"{n['churned']:,} churned, the other {n['accounts'] - n['churned']:,} are still paying and are *censored* "
            f"at {day(result.data.as_of)} (counted as at risk until then, never as churned). "
            f"{n['late_entry']:,} accounts were already paying when the data window opened on "
            f"{day(result.data.window_start)}: they are *left truncated*, entering the risk set at the tenure they "
            "had then, because customers who churned before the window are missing from the data and counting the "
            "survivors from day 0 would overstate retention. ")
    if n["reactivated"]:
        text += (f"{n['reactivated']:,} accounts churned and later came back: their first churn counts and the return "
                 "is not a new lifetime (onboarding is about the first life). ")
    if n["provisional_churn"]:
        text += (f"{n['provisional_churn']:,} churns are provisional (the gap is still shorter than the reactivation "
                 "window) and may be restated next month. ")
    if n["ended_before_window"]:
        text += f"{n['ended_before_window']:,} lifetimes ended before the window opened and are left out. "
    text += ("Onboarding sections use the accounts whose first paid day is inside the window, so their onboarding "
             "is observed from its first day.")
    return text


def display_survival(table: pd.DataFrame, months: Sequence[float], rmst_months: Sequence[float],
                     ends: Mapping[str, float] | None = None) -> pd.DataFrame:
    """The survival table as a reader sees it: 'estimate (low–high)' strings. ``ends``: where a
    group's curve stops because too few remain at risk (a median not reached is 'not reached by' it)."""
    ends = ends or {}
    out = pd.DataFrame({"group": table["group"], "accounts": table["accounts"].map("{:,}".format),
                        "churned": table["churned"].map("{:,}".format)})
    for m in months:
        k = f"survival_{m:g}m"
        out[f"paying at {m:g} mo"] = [_share_of(v, lo, hi) if np.isfinite(v) else "–"
                                      for v, lo, hi in zip(table[k], table[k + "_lower"], table[k + "_upper"])]
    out["median lifetime (mo)"] = [
        f"{number(v, 0)} ({_median_interval(lo, hi)})" if np.isfinite(v)
        else f"not reached by {number(ends[g], 1)} mo" if g in ends else "not reached"
        for g, v, lo, hi in zip(table["group"], table["median_months"], table["median_lower"], table["median_upper"])]
    for h in rmst_months:
        k = f"rmst_{h:g}m"
        out[f"paid months of first {h:g}"] = [_with_interval(v, lo, hi, "number", 1) if np.isfinite(v) else "–"
                                             for v, lo, hi in zip(table[k], table[k + "_lower"], table[k + "_upper"])]
    return out


def display_ltv(table: pd.DataFrame, by: str) -> pd.DataFrame:
    """Lifetime value as a reader sees it: 'estimate (low–high)' strings, '–' where not estimable."""
    def fmt(column: str, low: str, high: str, kind: str, decimals: int = 0) -> list[str]:
        return [_with_interval(v, lo, hi, kind, decimals) if np.isfinite(v) else "–"
                for v, lo, hi in zip(table[column], table[low], table[high])]

    return pd.DataFrame({
        by: table[by], "accounts": table["accounts"].map("{:,}".format),
        "paid months (RMST)": fmt("rmst_months", "rmst_lower", "rmst_upper", "number", 1),
        "average MRR": fmt("average_mrr", "average_mrr_lower", "average_mrr_upper", "money"),
        "lifetime value": fmt("lifetime_value", "lifetime_value_lower", "lifetime_value_upper", "money"),
    })


# ---- the report's sections ------------------------------------------------------------------------
def cohort_section(result: Result) -> str:
    """Under the cohort curves: overall survival and whether cohorts differ."""
    return overall_sentence(result) + " " + cohort_sentence(result)


def survival_tables(result: Result) -> list:
    """The survival table as a reader sees it, one table each for all accounts, segments and cohorts
    (a sentence instead where a kind has no curve), then the size rules."""
    blocks: list = []
    for kind in ["all accounts", "segment", "cohort"]:
        rows = result.survival_of(kind)
        if len(rows):
            curves = {"all accounts": result.km_overall, "segment": result.km_segment, "cohort": result.km_cohort}[kind]
            blocks.append(Table(display_survival(rows, result.survival_months, result.rmst_months,
                                                 getattr(curves, "ends", {})), caption=kind))
        elif kind == "cohort":
            blocks.append(result.unavailable.get("cohorts", "No onboarding cohort has a curve."))
        elif kind == "segment":
            blocks.append(f"No segment has a curve (at least {result.min_accounts} accounts each).")
    blocks.append(size_rule_sentence(result))
    return blocks


def outcome_blocks(result: Result) -> list:
    """Under the onboarding-outcome curves: their survival table, the comparison and the landmark
    caution; or the reason the comparison cannot be made."""
    if not result.has_onboarding:
        return [result.unavailable.get("onboarding", "")]
    return [
        Table(display_survival(result.survival_of("onboarding"), result.survival_months, result.rmst_months,
                               getattr(result.km_outcome, "ends", {})),
              caption=f"survival from day {result.landmark_days}, by onboarding outcome"),
        outcome_sentence(result) + " " + outcome_logrank_sentence(result),
        naive_warning(result),
    ]


def value_blocks(result: Result) -> list:
    """Under the time-to-value charts: whether onboarding is getting faster, or why it cannot be read,
    and the cohorts too small for a curve."""
    if "time_to_value" in result.unavailable:
        return [result.unavailable["time_to_value"]]
    blocks = [trend_sentence(result)]
    table = result.ttv_by_cohort
    if table is not None and len(table):
        small = table[table["accounts"] < result.min_accounts]
        if len(small):
            blocks.append(f"Cohorts with fewer than {result.min_accounts} accounts get no curve and are left out of the "
                          "trend: " + ", ".join(f"{r.cohort} ({plural(int(r.accounts), 'account')})"
                                               for r in small.itertuples()) + ".")
    return blocks


def cox_blocks(result: Result) -> list:
    """Under the forest plot: the onboarding effect, the model checks and the proportional-hazards tests."""
    if result.cox is None:
        return [result.unavailable.get("cox", "")]
    tests = result.cox.ph_tests[["covariate", "test_statistic", "p_value", "p_holm", "violated"]].copy()
    for column in ("p_value", "p_holm"):
        tests[column] = format_each(tests[column], p_value)
    return [
        cox_sentence(result),
        cox_checks_sentence(result),
        Table(tests, caption="proportional-hazards test per term (before stratifying)",
              formats={"test_statistic": "{:.2f}"}),
    ]


def ltv_blocks(result: Result) -> list:
    """Under the lifetime-value chart: the segments in words and the table by onboarding cohort."""
    blocks: list = [ltv_sentence(result)]
    cohorts = result.ltv_cohort
    if cohorts is not None and cohorts["lifetime_value"].notna().any():
        blocks.append(Table(display_ltv(cohorts, "cohort"), caption=(
            f"lifetime value to {result.horizon_months:g} months by onboarding cohort (95% intervals)")))
    elif cohorts is not None:
        blocks.append(f"No onboarding cohort of at least {result.min_accounts} accounts is followed for "
                      f"{result.horizon_months:g} months with {result.min_at_risk} accounts at risk: no lifetime value "
                      "by cohort (it would have to be extrapolated).")
    return blocks


# ---- chart titles ---------------------------------------------------------------------------------
def cohort_chart_title(result: Result) -> str:
    if not result.km_cohort:  # the chart shows all accounts and the segments instead
        return "Share still paying by months since first payment: all accounts and segments (no cohort curve)"
    return "Share of each onboarding cohort still paying, by months since first payment"


def outcome_chart_title(result: Result) -> str:
    return f"Share still paying by time to first value (accounts paying on day {result.landmark_days})"


def value_incidence_title(result: Result) -> str:
    return "Share of each cohort that reached first value, by days since first payment"


def value_by_cohort_title(result: Result) -> str:
    return f"Share of each cohort reaching first value within {result.buckets_days[0]} days"


def forest_title(result: Result) -> str:
    return f"Hazard ratio of churn after day {result.landmark_days}, with 95% intervals"


def ltv_segment_title(result: Result) -> str:
    return f"Revenue per account over its first {result.horizon_months:g} months, by segment"


# ---- KPIs for the index page ----------------------------------------------------------------------
def kpis(result: Result) -> list[Kpi]:
    """Share still paying at 12 months (or the longest estimable tenure) and the adjusted hazard ratio
    of reaching value within the first bucket."""
    out = []
    overall = result.overall
    m = _latest_month(overall, result.survival_months, 12)
    if m is not None:
        k = f"survival_{m:g}m"
        out.append(kpi(f"Still paying at {m:g} months", float(overall[k]),
                       _share(overall, k)))
    hr = result.fast_hazard_ratio()
    if np.isfinite(hr.get("hazard_ratio", np.nan)):
        out.append(kpi(f"Churn hazard ratio, value within {result.buckets_days[0]} days", hr["hazard_ratio"],
                       _ratio(hr)))
    return out
