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


def _with_interval(value: float | None, low: float | None, high: float | None, kind: str = "pct",
                   decimals: int = 0) -> str:
    """'76% (74–79%)', '0.68 (0.58–0.81)', '$1,200 ($1,000–$1,400)': an estimate and its interval."""
    shown = money(value, decimals=decimals) if kind == "money" else {"pct": pct, "number": number}[kind](value, decimals)
    return f"{shown} ({interval(low, high, kind, decimals)})"


def _share(row: Mapping[str, Any], key: str) -> str:
    """The share still paying at a tenure with its interval, in whole percent: '76% (74–79%)'."""
    return _with_interval(row[key], row[key + "_lower"], row[key + "_upper"])


def _ratio(hr: Mapping[str, Any]) -> str:
    """A hazard ratio with its interval: '0.68 (0.58–0.81)'."""
    return _with_interval(hr.get("hazard_ratio"), hr.get("lower"), hr.get("upper"), "number", 2)


def _hr_interval(hr: Mapping[str, Any]) -> str:
    return interval(hr.get("lower"), hr.get("upper"), "number", 2)


def _median_interval(low: float, high: float) -> str:
    """The interval of a median lifetime in months; its upper end may not be reached yet."""
    if not np.isfinite(low):
        return "interval not estimable"
    if not np.isfinite(high):
        return f"{number(low, 0)} or more"
    return interval(low, high, "number", 0)


def _latest_month(row: pd.Series, months: Sequence[float], prefer: float = 12) -> float | None:
    """``prefer`` if estimable for the row, else the longest of ``months`` that is."""
    order = [prefer] + sorted((m for m in months if m != prefer), reverse=True)
    for m in order:
        if np.isfinite(row.get(f"survival_{m:g}m", np.nan)):
            return m
    return None


def headline(result: Result) -> str:
    """The report's first sentence: the onboarding comparison and its adjusted hazard ratio when
    onboarding data exist, otherwise overall survival."""
    if result.cox is None:
        return "Customer lifetimes: " + overall_sentence(result)
    hr = result.fast_hazard_ratio()
    text = outcome_sentence(result)
    if np.isfinite(hr.get("hazard_ratio", np.nan)):
        text = text.rstrip(".") + f"; adjusted hazard ratio {_ratio(hr)}."
    return text


def overall_sentence(result: Result) -> str:
    row = result.overall
    m = _latest_month(row, result.survival_months, 12)
    text = f"{plural(int(row['accounts']), 'account')}, {int(row['churned']):,} churned so far"
    if m is not None:
        key = f"survival_{m:g}m"
        text += (f"; {_share(row, key)} are still paying "
                 f"{m:g} months after their first payment")
    if np.isfinite(row["median_months"]):
        text += (f"; half are gone by {number(row['median_months'], 0)} months "
                 f"({_median_interval(row['median_lower'], row['median_upper'])} months)")
    else:
        text += "; the median lifetime is not reached (more than half are still paying at the longest follow-up)"
    return text + "."


def cohort_sentence(result: Result) -> str:
    lr = result.cohort_logrank
    if not lr or not np.isfinite(lr.get("p_value", np.nan)):
        return "Only one onboarding cohort: nothing to compare."
    verdict = ("Cohorts differ in survival more than chance would explain" if lr["p_value"] < 0.05
               else "Cohorts do not differ in survival more than chance would explain")
    return (f"{verdict} (log-rank test across {lr['groups']} cohorts at equal tenure: chi-square "
            f"{number(lr['test_statistic'])} on {lr['degrees_of_freedom']} df, {p_value(lr['p_value'])}).")


def outcome_sentence(result: Result, month: float = 12) -> str:
    """'Of accounts still paying on day 90, those reaching first value within 30 days keep 88%
    (85–90%) at 12 months vs 71% (68–74%) for those with no value by day 90.'"""
    table = result.survival_of("onboarding").set_index("group")
    fast, slow = result.fast_group, result.slow_group
    if fast not in table.index or slow not in table.index:
        return "Too few accounts in one onboarding group to compare their survival."
    f, s = table.loc[fast], table.loc[slow]
    m = _latest_month(f, result.survival_months, month)
    if m is None or not np.isfinite(s.get(f"survival_{m:g}m", np.nan)):
        return "Follow-up is too short to compare survival by onboarding outcome."
    key = f"survival_{m:g}m"
    edge = result.buckets_days[0]
    return (f"Of accounts still paying on day {result.landmark_days}, those that reached first value within "
            f"{edge} days keep {_share(f, key)} at {m:g} months vs {_share(s, key)} for those with "
            f"{slow.replace('no value', 'no first value')}.")


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
            + (f"The landmark estimate is {_ratio(hr)}." if np.isfinite(hr.get("hazard_ratio", np.nan))
               else "The landmark estimate could not be made (too few accounts in a group)."))


def trend_sentence(result: Result) -> str:
    t = result.trend
    if not t or not np.isfinite(t.get("hazard_ratio", np.nan)):
        return "Too few cohorts to tell whether onboarding is getting faster."
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
        return ""
    hr = result.fast_hazard_ratio()
    if not np.isfinite(hr.get("hazard_ratio", np.nan)):
        return "The Cox model could not estimate the effect of fast onboarding (too few accounts in a group)."
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
    text += (f"Concordance {number(cox.concordance, 2)} "
             f"({interval(cox.concordance_lower, cox.concordance_upper, 'number', 2)}, "
             "bootstrap over accounts with the model fixed): 0.5 is a coin flip, 1 a perfect ranking of who churns first.")
    return text


def ltv_sentence(result: Result) -> str:
    ltv = result.ltv_segment
    if ltv is None or ltv["lifetime_value"].notna().sum() < 1:
        return f"Follow-up is too short for a {result.horizon_months:g}-month lifetime value."
    ltv = ltv.dropna(subset=["lifetime_value"]).sort_values("lifetime_value", ascending=False)
    parts = [f"{r.segment} {money(r.lifetime_value)} ({interval(r.lifetime_value_lower, r.lifetime_value_upper, 'money')}; "
             f"{number(r.rmst_months)} paid months x {money(r.average_mrr)} MRR)" for r in ltv.itertuples()]
    return f"Revenue per account over its first {result.horizon_months:g} months: " + ", ".join(parts) + "."


def missing_onboarding_note(result: Result) -> str:
    return (f"*No usable `onboarding` table (or no account reached the `{result.value_milestone}` milestone): the "
            "time-to-value, onboarding-outcome and Cox sections are skipped.*")


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


def display_survival(table: pd.DataFrame, months: Sequence[float], rmst_months: Sequence[float]) -> pd.DataFrame:
    """The survival table as a reader sees it: 'estimate (low–high)' strings."""
    out = pd.DataFrame({"group": table["group"], "accounts": table["accounts"].map("{:,}".format),
                        "churned": table["churned"].map("{:,}".format)})
    for m in months:
        k = f"survival_{m:g}m"
        out[f"paying at {m:g} mo"] = [_with_interval(v, lo, hi) if np.isfinite(v) else "–"
                                      for v, lo, hi in zip(table[k], table[k + "_lower"], table[k + "_upper"])]
    out["median lifetime (mo)"] = [
        f"{number(v, 0)} ({_median_interval(lo, hi)})" if np.isfinite(v) else "not reached"
        for v, lo, hi in zip(table["median_months"], table["median_lower"], table["median_upper"])]
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


def survival_tables(result: Result) -> list[Table]:
    """The survival table as a reader sees it, one table each for all accounts, segments and cohorts."""
    return [Table(display_survival(result.survival_of(kind), result.survival_months, result.rmst_months), caption=kind)
            for kind in ["all accounts", "segment", "cohort"]]


def outcome_blocks(result: Result) -> list:
    """Under the onboarding-outcome curves: their survival table, the comparison and the landmark caution."""
    return [
        Table(display_survival(result.survival_of("onboarding"), result.survival_months, result.rmst_months),
              caption=f"survival from day {result.landmark_days}, by onboarding outcome"),
        outcome_sentence(result) + " " + outcome_logrank_sentence(result),
        naive_warning(result),
    ]


def cox_blocks(result: Result) -> list:
    """Under the forest plot: the onboarding effect, the model checks and the proportional-hazards tests."""
    if result.cox is None:
        return [missing_onboarding_note(result)]
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
    return [
        ltv_sentence(result),
        Table(display_ltv(result.ltv_cohort, "cohort"),
              caption=f"lifetime value to {result.horizon_months:g} months by onboarding cohort (95% intervals)"),
    ]


# ---- chart titles ---------------------------------------------------------------------------------
def cohort_chart_title(result: Result) -> str:
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
