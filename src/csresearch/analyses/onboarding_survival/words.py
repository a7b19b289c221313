"""Sentences, KPI text, the conventions box and display tables of the onboarding-survival report,
read from its result."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from ..base import Kpi, Table, kpi
from .compute_value import bucket_labels
from .result import Result


# ---- number formats (local for now: csresearch.text.pct differs on infinities and has no interval) ----
def pct(x: float, decimals: int = 0) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{100 * x:.{decimals}f}%"


def interval(lo: float, hi: float, kind: str = "pct", decimals: int = 0) -> str:
    if lo is None or hi is None or not (np.isfinite(lo) and np.isfinite(hi)):
        return "interval n/a"
    if kind == "pct":
        return f"{100 * lo:.{decimals}f}-{100 * hi:.{decimals}f}%"
    if kind == "money":
        return f"${lo:,.0f}-${hi:,.0f}"
    return f"{lo:.{decimals}f}-{hi:.{decimals}f}"


def _p(p: float) -> str:
    if p is None or not np.isfinite(p):
        return "p n/a"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}" if p < 0.01 else f"p = {p:.2f}"


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
        text = text.rstrip(".") + (f"; adjusted hazard ratio {hr['hazard_ratio']:.2f} "
                                   f"({interval(hr['lower'], hr['upper'], 'num', 2)}).")
    return text


def overall_sentence(result: Result) -> str:
    row = result.overall
    m = _latest_month(row, result.survival_months, 12)
    text = f"{int(row['accounts']):,} accounts, {int(row['churned']):,} churned so far"
    if m is not None:
        key = f"survival_{m:g}m"
        text += (f"; {pct(row[key])} ({interval(row[key + '_lower'], row[key + '_upper'])}) are still paying "
                 f"{m:g} months after their first payment")
    if np.isfinite(row["median_months"]):
        text += (f"; half are gone by {row['median_months']:.0f} months "
                 f"({interval(row['median_lower'], row['median_upper'], 'num')} months)")
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
            f"{lr['test_statistic']:.1f} on {lr['degrees_of_freedom']} df, {_p(lr['p_value'])}).")


def outcome_sentence(result: Result, month: float = 12) -> str:
    """'Of accounts still paying on day 90, those reaching first value within 30 days keep 88%
    (85-90%) at 12 months vs 71% (68-74%) for those with no value by day 90.'"""
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
            f"{edge} days keep {pct(f[key])} ({interval(f[key + '_lower'], f[key + '_upper'])}) at {m:g} months "
            f"vs {pct(s[key])} ({interval(s[key + '_lower'], s[key + '_upper'])}) for those with "
            f"{slow.replace('no value', 'no first value')}.")


def outcome_logrank_sentence(result: Result) -> str:
    lr = result.outcome_logrank
    if not lr or not np.isfinite(lr.get("p_value", np.nan)):
        return ""
    verdict = "differ" if lr["p_value"] < 0.05 else "do not clearly differ"
    return (f"The onboarding groups {verdict} in survival after day {result.landmark_days} (log-rank chi-square "
            f"{lr['test_statistic']:.1f} on {lr['degrees_of_freedom']} df, {_p(lr['p_value'])}; unadjusted).")


def naive_warning(result: Result) -> str:
    """The immortal-time caution, with the naive number next to the landmark one."""
    nv, hr = result.naive, result.fast_hazard_ratio()
    if not nv or not np.isfinite(nv.get("hazard_ratio", np.nan)):
        return ""
    return ("**Why a landmark.** An account has to stay long enough to reach value, so comparing 'reached value' "
            "with 'did not' from day 1 credits onboarding with survival it did not cause (*immortal-time bias*). "
            f"That naive comparison gives a hazard ratio of {nv['hazard_ratio']:.2f} "
            f"({interval(nv['lower'], nv['upper'], 'num', 2)}). Here every group is fixed on day "
            f"{result.landmark_days} using only what had happened by then, and accounts that churned or were censored "
            f"before day {result.landmark_days} are left out of the comparison; 'later' and 'never' are one group, "
            f"because on day {result.landmark_days} nobody can tell them apart. The landmark estimate is "
            f"{hr.get('hazard_ratio', np.nan):.2f} ({interval(hr.get('lower'), hr.get('upper'), 'num', 2)}).")


def trend_sentence(result: Result) -> str:
    t = result.trend
    if not t or not np.isfinite(t.get("hazard_ratio", np.nan)):
        return "Too few cohorts to tell whether onboarding is getting faster."
    unit = {"quarter": "quarterly", "month": "monthly"}[result.cohort_frequency]
    rate = abs(t["hazard_ratio"] - 1)
    if t["lower"] > 1:
        head = (f"Onboarding is getting faster: each {unit} cohort reaches first value at a {pct(rate)} higher rate "
                "than the one before")
    elif t["upper"] < 1:
        head = (f"Onboarding is getting slower: each {unit} cohort reaches first value at a {pct(rate)} lower rate "
                "than the one before")
    else:
        head = "No clear trend in onboarding speed across cohorts"
    return f"{head} (hazard ratio per cohort {t['hazard_ratio']:.2f}, {interval(t['lower'], t['upper'], 'num', 2)})."


def cox_sentence(result: Result) -> str:
    """The adjusted hazard ratio of fast onboarding, with what was held fixed and how."""
    if result.cox is None:
        return ""
    hr = result.fast_hazard_ratio()
    if not np.isfinite(hr.get("hazard_ratio", np.nan)):
        return "The Cox model could not estimate the effect of fast onboarding (too few accounts in a group)."
    held = [c.replace("_", " ") for c in result.data.covariates if c not in result.cox.strata]
    strata = [c.replace("_", " ") for c in result.cox.strata]
    fixed = ", ".join(held + strata) or "nothing else"
    direction = ("lower" if hr["upper"] < 1 else "higher" if hr["lower"] > 1 else "no clearly different")
    change = abs(1 - hr["hazard_ratio"])
    what = (f"a {pct(change)} {direction} churn hazard" if direction != "no clearly different"
            else "no clearly different churn hazard")
    return (f"Comparing accounts alike in {fixed}, reaching first value within {result.buckets_days[0]} days goes "
            f"with {what} after day {result.landmark_days} than {result.slow_group.replace('no value', 'no first value')}: "
            f"hazard ratio {hr['hazard_ratio']:.2f} ({interval(hr['lower'], hr['upper'], 'num', 2)}, {_p(hr['p_value'])}).")


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
        names = ", ".join(sorted(set(bad["variable"].str.replace("_", " "))))
        text += f"Violated: {names}. "
        if cox.strata:
            text += (f"The model is therefore stratified by {', '.join(s.replace('_', ' ') for s in cox.strata)} "
                     "(each group gets its own baseline hazard, so no hazard ratio is shown for it). ")
        if "outcome" in set(bad["variable"]):
            text += ("The onboarding effect itself changes over tenure, so its hazard ratio is an average over "
                     "follow-up. ")
    else:
        text += "No term violates the assumption. "
    text += (f"Concordance {cox.concordance:.2f} ({interval(cox.concordance_lower, cox.concordance_upper, 'num', 2)}, "
             "bootstrap over accounts with the model fixed): 0.5 is a coin flip, 1 a perfect ranking of who churns first.")
    return text


def ltv_sentence(result: Result) -> str:
    ltv = result.ltv_segment
    if ltv is None or ltv["lifetime_value"].notna().sum() < 1:
        return f"Follow-up is too short for a {result.horizon_months:g}-month lifetime value."
    ltv = ltv.dropna(subset=["lifetime_value"]).sort_values("lifetime_value", ascending=False)
    parts = [f"{r.segment} ${r.lifetime_value:,.0f} ({interval(r.lifetime_value_lower, r.lifetime_value_upper, 'money')}; "
             f"{r.rmst_months:.1f} paid months x ${r.average_mrr:,.0f} MRR)" for r in ltv.itertuples()]
    return f"Revenue per account over its first {result.horizon_months:g} months: " + ", ".join(parts) + "."


def missing_onboarding_note(result: Result) -> str:
    return (f"*No usable `onboarding` table (or no account reached the `{result.value_milestone}` milestone): the "
            "time-to-value, onboarding-outcome and Cox sections are skipped.*")


def conventions(result: Result) -> tuple[dict, dict]:
    """The conventions box: values and a note on each."""
    sd = result.data
    values = {
        "data cut-off": f"{sd.as_of:%Y-%m-%d}",
        "data window starts": f"{sd.window_start:%Y-%m-%d}",
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
            f"at {result.data.as_of:%d %b %Y} (counted as at risk until then, never as churned). "
            f"{n['late_entry']:,} accounts were already paying when the data window opened on "
            f"{result.data.window_start:%d %b %Y}: they are *left truncated*, entering the risk set at the tenure they "
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
    """The survival table as a reader sees it: 'estimate (low-high)' strings."""
    out = pd.DataFrame({"group": table["group"], "accounts": table["accounts"].map("{:,}".format),
                        "churned": table["churned"].map("{:,}".format)})
    for m in months:
        k = f"survival_{m:g}m"
        out[f"paying at {m:g} mo"] = [f"{pct(v)} ({interval(lo, hi)})" if np.isfinite(v) else "–"
                                      for v, lo, hi in zip(table[k], table[k + "_lower"], table[k + "_upper"])]
    out["median lifetime (mo)"] = [
        (f"{v:.0f} ({lo:.0f}-{hi:.0f})" if np.isfinite(hi) else f"{v:.0f} ({lo:.0f}-not reached)")
        if np.isfinite(v) else "not reached" for v, lo, hi in zip(table["median_months"], table["median_lower"],
                                                                   table["median_upper"])]
    for h in rmst_months:
        k = f"rmst_{h:g}m"
        out[f"paid months of first {h:g}"] = [f"{v:.1f} ({lo:.1f}-{hi:.1f})" if np.isfinite(v) else "–"
                                             for v, lo, hi in zip(table[k], table[k + "_lower"], table[k + "_upper"])]
    return out


def display_ltv(table: pd.DataFrame, by: str) -> pd.DataFrame:
    """Lifetime value as a reader sees it: 'estimate (low-high)' strings, '–' where not estimable."""
    def fmt(values, lows, highs, money_fmt):
        return [f"{money_fmt(v)} ({money_fmt(lo)}-{money_fmt(hi)})" if np.isfinite(v) else "–"
                for v, lo, hi in zip(values, lows, highs)]

    dollars = "${:,.0f}".format
    return pd.DataFrame({
        by: table[by], "accounts": table["accounts"].map("{:,}".format),
        "paid months (RMST)": fmt(table["rmst_months"], table["rmst_lower"], table["rmst_upper"], "{:.1f}".format),
        "average MRR": fmt(table["average_mrr"], table["average_mrr_lower"], table["average_mrr_upper"], dollars),
        "lifetime value": fmt(table["lifetime_value"], table["lifetime_value_lower"], table["lifetime_value_upper"],
                              dollars),
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
    return [
        cox_sentence(result),
        cox_checks_sentence(result),
        Table(result.cox.ph_tests[["covariate", "test_statistic", "p_value", "p_holm", "violated"]],
              caption="proportional-hazards test per term (before stratifying)",
              formats={"test_statistic": "{:.2f}", "p_value": "{:.3f}", "p_holm": "{:.3f}"}),
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
                       f"{pct(overall[k])} ({interval(overall[k + '_lower'], overall[k + '_upper'])})"))
    hr = result.fast_hazard_ratio()
    if np.isfinite(hr.get("hazard_ratio", np.nan)):
        out.append(kpi(f"Churn hazard ratio, value within {result.buckets_days[0]} days", hr["hazard_ratio"],
                       f"{hr['hazard_ratio']:.2f} ({interval(hr['lower'], hr['upper'], 'num', 2)})"))
    return out
