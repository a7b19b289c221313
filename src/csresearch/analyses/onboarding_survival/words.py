"""Sentences, KPI text, the conventions box and display tables of the onboarding-survival report,
read from its result."""

from __future__ import annotations

import re
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ...core.risk import level_label
from ...i18n import N_, _, get_language, join_sentences, ngettext, pgettext
from ...text import day, format_each, interval, money, number, p_value, pct
from ..base import Kpi, Section, Table, kpi
from .compute_value import bucket_labels
from .result import Result

# the notebook's headings and the paragraphs under them: nb.section(words.section("cohorts"))
SECTIONS = {
    "intro": Section("onboarding-survival", N_("Onboarding survival: does a fast time to value keep customers?"), N_(
        "How long customers stay, whether that is changing across onboarding cohorts, and whether accounts that "
        "reach first value quickly stay longer than those that do not, once segment, plan, billing period, seats "
        "and touch tier are held fixed. Every estimate comes with a 95% interval."), level=1),
    "quality": Section("data-quality", N_("Data quality"), N_(
        "Every row read is either used or rejected with a reason: nothing is dropped silently.")),
    "cohorts": Section("survival-by-cohort", N_("How long customers stay, by onboarding cohort"), N_(
        "Each line is the share of a cohort (accounts whose first payment fell in that period) still paying after "
        "a given number of months, with its 95% band; the table under the chart counts the accounts still followed "
        "at each tenure, so a line resting on a few dozen accounts is read with care. Steps at 12 and 24 months are "
        "annual contracts that did not renew. Up to six cohorts followed for at least six months are drawn; every "
        "cohort is in the table below and in `km_by_cohort.csv`.")),
    "table": Section("survival-table", N_("Survival table"), N_(
        "Share still paying at fixed tenures, median lifetime (the tenure by which half have churned) and "
        "restricted mean survival time: the average number of paid months out of the first 12 or 24 (the "
        "survival-based measure that, unlike the median, always exists). A dash means the group has not been "
        "followed that long: nothing is extrapolated. All accounts and segments include the late entrants (left "
        "truncated); cohorts start inside the window.")),
    "outcome": Section("survival-by-onboarding-outcome", N_("Survival by onboarding outcome"), N_(
        "Accounts still paying on the landmark day, grouped by how fast they reached first value, followed from "
        "that day on. This is the comparison a CS leader asks for, done without letting survival earn the "
        "onboarding credit.")),
    "value": Section("time-to-value", N_("Time to value"), N_(
        "Reaching first value is itself an event in time: the curves show the share of each cohort that reached it "
        "by each day after the first payment (Aalen-Johansen cumulative incidence). An account that churned before "
        "reaching value can no longer reach it, so churn is a *competing risk* rather than censoring (which would "
        "overstate how many get there). The second chart asks whether onboarding is getting faster.")),
    "cox": Section("cox-model", N_("What goes with churn: Cox model after the landmark"), N_(
        "Hazard ratios of churn after the landmark day (below 1: churns less than the reference), each adjusted for "
        "the others. The onboarding groups are fixed on the landmark day, so no account is credited with value it "
        "had not reached yet. Associations, not proof of cause: accounts that onboard fast may differ in ways not "
        "recorded here.")),
    "ltv": Section("lifetime-value", N_("Survival-based lifetime value"), N_(
        "Revenue an account brings in over its first months: the restricted mean number of paid months to the "
        "horizon times the group's average MRR per paying month. Intervals combine both uncertainties (delta "
        "method). Cohorts younger than the horizon have no value here: it would have to be extrapolated.")),
}
TITLE = N_("Onboarding survival")  # Settings.title, shown by the runner


def section(key: str) -> Section:
    return SECTIONS[key]


def _count(n: float) -> str:
    return f"{int(n):,}"


def _accounts(n: float) -> str:
    """'1 account', '1,234 accounts' (ja: 1,234社)."""
    return ngettext("{n} account", "{n} accounts", int(n)).format(n=_count(n))


def paren(text: str) -> str:
    """`` (text)``: a space and round brackets in English, full-width brackets in Japanese."""
    return _(" ({text})").format(text=text)


def group_label(group: str) -> str:
    """A group as a reader names it: 'value in 0-30 days', 'no value by day 90', 'all accounts' in the run's
    language; segments and cohorts are the data's own names."""
    found = re.fullmatch(r"value in (\d+)-(\d+) days", str(group))
    if found:
        return _("value in {low}-{high} days").format(low=found[1], high=found[2])
    found = re.fullmatch(r"no value by day (\d+)", str(group))
    if found:
        return _("no value by day {day}").format(day=found[1])
    if group == "all accounts":
        return _("all accounts")
    if group == "other":  # the model's pool of a covariate's levels too small to stand alone
        return pgettext("model level", "other")
    return str(group)


def level_text(variable: str, level: str) -> str:
    """A model variable's level as a reader names it: an onboarding group through :func:`group_label`, a
    billing period or touch tier through the one mapping :func:`csresearch.core.risk.level_label`
    (``annual`` -> 年次, ``tech`` -> テックタッチ); English and the data's own names unchanged."""
    return level_label(str(variable), group_label(level))


def covariate_label(covariate: str) -> str:
    """A model term as the forest plot and the checks table show it: 'billing_period: annual' (ja:
    請求サイクル：年次), 'seats (per doubling)'; English keeps the model's own names."""
    if get_language() == "en" or not isinstance(covariate, str):
        return covariate
    found = re.fullmatch(r"([a-z_]+): (.*)", covariate)
    if found:
        return _("{term}: {level}").format(term=_term(found[1]), level=level_text(found[1], found[2]))
    found = re.fullmatch(r"([a-z_]+) \(per doubling\)", covariate)
    if found:
        return _("{term} (per doubling)").format(term=_term(found[1]))
    return _term(covariate)


def _slow(result: Result) -> str:
    """The slowest onboarding group in a sentence: 'no first value by day 90'."""
    found = re.fullmatch(r"no value by day (\d+)", result.slow_group)
    return _("no first value by day {day}").format(day=found[1]) if found else group_label(result.slow_group)


def _term(code: str) -> str:
    """A model term in words: ``billing_period`` -> billing period (ja: 請求サイクル)."""
    names = {"segment": pgettext("model term", "segment"), "product": pgettext("model term", "product"),
             "billing_period": pgettext("model term", "billing period"), "seats": pgettext("model term", "seats"),
             "touch_tier": pgettext("model term", "touch tier"), "start_year": pgettext("model term", "start year"),
             "outcome": pgettext("model term", "outcome"), "region": pgettext("model term", "region")}
    return names.get(str(code), str(code).replace("_", " "))


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
                   decimals: int = 0, none: str | None = None, extra: str = "") -> str:
    """'76% (74–79%)', '0.68 (0.58–0.81)', '$1,200 ($1,000–$1,400)': an estimate and its interval
    (``extra`` follows it inside the brackets). A narrow interval gets the digits that keep its bounds
    apart; one of zero width (or not finite) is replaced by ``none``, the words saying why."""
    if not _finite(low, high) or float(low) == float(high):  # type: ignore[arg-type]
        return _shown(value, kind, decimals) + paren((none or _not_estimable()) + extra)
    d = _decimals(float(low), float(high), kind, decimals)  # type: ignore[arg-type]
    return _shown(value, kind, d) + paren(interval(low, high, kind, d) + extra)


def _not_estimable() -> str:
    return _("interval not estimable")


def _share(row: Mapping[str, Any], key: str) -> str:
    """The share still paying at a tenure with its interval, in whole percent: '76% (74–79%)'. Before the
    first churn (100%) or after the last account followed churned (0%) there is no interval: the words
    say which."""
    return _share_of(float(row[key]), row[key + "_lower"], row[key + "_upper"])


def _share_of(value: float, low: float, high: float) -> str:
    none = (_("no churn by then") if value == 1 else _("every account followed that long churned") if value == 0
            else _not_estimable())
    return _with_interval(value, low, high, none=none)


def _ratio(hr: Mapping[str, Any]) -> str:
    """A hazard ratio with its interval: '0.68 (0.58–0.81)'."""
    return _with_interval(hr.get("hazard_ratio"), hr.get("lower"), hr.get("upper"), "number", 2)


def _hr_interval(hr: Mapping[str, Any]) -> str:
    low, high = hr.get("lower"), hr.get("upper")
    if not _finite(low, high) or low == high:
        return _not_estimable()
    return interval(low, high, "number", _decimals(float(low), float(high), "number", 2))  # type: ignore[arg-type]


def months_text(value: float, decimals: int = 0) -> str:
    """'1 month', '1.5 months', '24 months'."""
    shown = number(value, decimals)
    return _("{n} month").format(n=shown) if shown == "1" else _("{n} months").format(n=shown)


def _median_interval(low: float, high: float, unit: str = "") -> str:
    """The interval of a median lifetime in months; its upper end may not be reached yet."""
    if not _finite(low) or (_finite(high) and low == high):
        return _not_estimable()
    if not _finite(high):
        return _("{n} or more{unit}").format(n=number(low, 0), unit=unit)
    return interval(low, high, "number", _decimals(low, high, "number", 0)) + unit


def _median(row: Mapping[str, Any]) -> str:
    """'24 months (24–26 months)', '1.5 months (interval not estimable)': a median lifetime, with one
    decimal below 10 months."""
    value = float(row["median_months"])
    spread = _median_interval(row["median_lower"], row["median_upper"], _(" months"))
    return months_text(value, 0 if value >= 10 else 1) + paren(spread)


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
    return _("Of accounts still paying on day {landmark}, those that reached first value within {edge} days keep "
             "{fast} at {months} months vs {slow} for those with {slow_group}.").format(
        landmark=result.landmark_days, edge=edge, fast=_share(f, key), months=f"{m:g}", slow=_share(s, key),
        slow_group=_slow(result))


def headline(result: Result) -> str:
    """The report's first sentence: the onboarding comparison and its adjusted hazard ratio when
    onboarding data allow it, otherwise overall survival."""
    text = _comparison(result)
    if text is None:
        return _("Customer lifetimes: {sentence}").format(sentence=overall_sentence(result))
    hr = result.fast_hazard_ratio()
    if _finite(hr.get("hazard_ratio")):
        text = _("{sentence}; adjusted hazard ratio {ratio}.").format(sentence=text.rstrip(".。"), ratio=_ratio(hr))
    return text


def overall_sentence(result: Result) -> str:
    row = result.overall
    m = _latest_month(row, result.survival_months, 12)
    end = result.km_overall.ends.get("all accounts") if hasattr(result.km_overall, "ends") else None
    text = _("{accounts}, {churned} churned so far").format(accounts=_accounts(row["accounts"]),
                                                            churned=_count(row["churned"]))
    if m is not None:
        key = f"survival_{m:g}m"
        text += _("; {share} are still paying {months} months after their first payment").format(
            share=_share(row, key), months=f"{m:g}")
    elif end is not None:
        return text + _("; after {tenure} of tenure fewer than {at_risk} accounts remain at risk, so the survival curve "
                        "stops there, before {months} months.").format(
            tenure=months_text(end, 1), at_risk=result.min_at_risk, months=f"{min(result.survival_months):g}")
    if np.isfinite(row["median_months"]):
        text += _("; half are gone by {median}").format(median=_median(row))
    elif end is not None:
        text += _("; more than half are still paying at {tenure}, where the curve stops (fewer than {at_risk} accounts "
                  "remain at risk after it)").format(tenure=months_text(end, 1), at_risk=result.min_at_risk)
    else:
        text += _("; the median lifetime is not reached (more than half are still paying at the longest follow-up)")
    return text + _(".")


def size_rule_sentence(result: Result) -> str:
    """The report's size rules in words, with the groups they left out."""
    left = []
    for kind, curves in (("segment", result.km_segment), ("cohort", result.km_cohort),
                         ("onboarding group", result.km_outcome)):
        small = {**getattr(curves, "too_small", {}), **getattr(curves, "no_curve", {})}
        if small:
            names = _(", ").join(_("{group} ({accounts})").format(group=group_label(g), accounts=_accounts(n))
                                 for g, n in small.items())
            left.append(_kind_names(kind, len(small)).format(names=names))
    text = _("A group needs at least {min_accounts} accounts for a curve, and a curve stops at the first tenure after "
             "which fewer than {at_risk} accounts remain at risk: nothing past it is estimated.").format(
        min_accounts=result.min_accounts, at_risk=result.min_at_risk)
    if left:
        text = join_sentences(text, _("Left out for that reason: {groups}.").format(groups=_("; ").join(left)))
    return text


def _kind_names(kind: str, n: int) -> str:
    if kind == "segment":
        return ngettext("segment {names}", "segments {names}", n)
    if kind == "cohort":
        return ngettext("cohort {names}", "cohorts {names}", n)
    return ngettext("onboarding group {names}", "onboarding groups {names}", n)


def cohort_sentence(result: Result) -> str:
    if "cohorts" in result.unavailable:
        return result.unavailable["cohorts"]
    lr = result.cohort_logrank
    if not lr or not np.isfinite(lr.get("p_value", np.nan)):
        if len(result.km_cohort) < 2:
            return _("Only one onboarding cohort has a curve: nothing to compare.")
        return _("No account of the onboarding cohorts has churned yet: their survival cannot be compared.")
    text = (_("Cohorts differ in survival more than chance would explain (log-rank test across {groups} cohorts at "
              "equal tenure: chi-square {chi2} on {df} df, {p}).") if lr["p_value"] < 0.05 else
            _("Cohorts do not differ in survival more than chance would explain (log-rank test across {groups} cohorts "
              "at equal tenure: chi-square {chi2} on {df} df, {p})."))
    return text.format(groups=lr["groups"], chi2=number(lr["test_statistic"]), df=lr["degrees_of_freedom"],
                       p=p_value(lr["p_value"]))


def outcome_sentence(result: Result, month: float = 12) -> str:
    """'Of accounts still paying on day 90, those reaching first value within 30 days keep 88%
    (85–90%) at 12 months vs 71% (68–74%) for those with no value by day 90.'"""
    if not result.has_onboarding:
        return result.unavailable.get("onboarding", "")
    text = _comparison(result, month)
    return text if text is not None else _(
        "Follow-up from day {landmark} is too short to compare survival by onboarding outcome at {months} months or "
        "more.").format(landmark=result.landmark_days, months=f"{min(result.survival_months):g}")


def outcome_logrank_sentence(result: Result) -> str:
    lr = result.outcome_logrank
    if not lr or not np.isfinite(lr.get("p_value", np.nan)):
        return ""
    text = (_("The onboarding groups differ in survival after day {landmark} (log-rank chi-square {chi2} on {df} df, "
              "{p}; unadjusted).") if lr["p_value"] < 0.05 else
            _("The onboarding groups do not clearly differ in survival after day {landmark} (log-rank chi-square {chi2} "
              "on {df} df, {p}; unadjusted)."))
    return text.format(landmark=result.landmark_days, chi2=number(lr["test_statistic"]), df=lr["degrees_of_freedom"],
                       p=p_value(lr["p_value"]))


def naive_warning(result: Result) -> str:
    """The immortal-time caution, with the naive number next to the landmark one."""
    nv, hr = result.naive, result.fast_hazard_ratio()
    if not nv or not np.isfinite(nv.get("hazard_ratio", np.nan)):
        return ""
    text = _("**Why a landmark.** An account has to stay long enough to reach value, so comparing 'reached value' "
             "with 'did not' from day 1 credits onboarding with survival it did not cause (*immortal-time bias*). "
             "That naive comparison gives a hazard ratio of {naive}. Here every group is fixed on day {landmark} using "
             "only what had happened by then, and accounts that churned or were censored before day {landmark} are "
             "left out of the comparison; 'later' and 'never' are one group, because on day {landmark} nobody can "
             "tell them apart.").format(naive=_ratio(nv), landmark=result.landmark_days)
    if _finite(hr.get("hazard_ratio")):
        return join_sentences(text, _("The landmark estimate is {ratio}.").format(ratio=_ratio(hr)))
    return join_sentences(text, _("The landmark estimate could not be made: {reason}").format(
        reason=_lower_first(result.unavailable.get("cox", _("too few accounts in a group.")))))


def _lower_first(sentence: str) -> str:
    return sentence[:1].lower() + sentence[1:] if sentence[:2] != sentence[:2].upper() else sentence


def trend_sentence(result: Result) -> str:
    t = result.trend
    if not t or not _finite(t.get("hazard_ratio"), t.get("lower"), t.get("upper")):
        return result.unavailable.get("trend", _("Too few cohorts to tell whether onboarding is getting faster."))
    unit = {"quarter": pgettext("cohort frequency", "quarterly"),
            "month": pgettext("cohort frequency", "monthly")}[result.cohort_frequency]
    rate = abs(t["hazard_ratio"] - 1)
    if t["lower"] > 1:
        text = _("Onboarding is getting faster: each {unit} cohort reaches first value at a {rate} higher rate than the "
                 "one before (hazard ratio per cohort {ratio}, {interval}).")
    elif t["upper"] < 1:
        text = _("Onboarding is getting slower: each {unit} cohort reaches first value at a {rate} lower rate than the "
                 "one before (hazard ratio per cohort {ratio}, {interval}).")
    else:
        text = _("No clear trend in onboarding speed across cohorts (hazard ratio per cohort {ratio}, {interval}).")
    return text.format(unit=unit, rate=pct(rate, 0), ratio=number(t["hazard_ratio"], 2), interval=_hr_interval(t))


def cox_sentence(result: Result) -> str:
    """The adjusted hazard ratio of fast onboarding, with what was held fixed and how."""
    if result.cox is None:
        return result.unavailable.get("cox", "")
    hr = result.fast_hazard_ratio()
    if not _finite(hr.get("hazard_ratio"), hr.get("lower"), hr.get("upper")):
        return _("The Cox model could not estimate the effect of fast onboarding (a compared group has no variation "
                 "left).")
    held = [_term(c) for c in result.data.covariates if c not in result.cox.strata]
    strata = [_term(c) for c in result.cox.strata]
    fixed = _(", ").join(held + strata) or _("nothing else")
    change = abs(1 - hr["hazard_ratio"])
    if hr["upper"] < 1:
        text = _("Comparing accounts alike in {fixed}, reaching first value within {days} days goes with a {change} "
                 "lower churn hazard after day {landmark} than {slow_group}: hazard ratio {ratio} ({interval}, {p}).")
    elif hr["lower"] > 1:
        text = _("Comparing accounts alike in {fixed}, reaching first value within {days} days goes with a {change} "
                 "higher churn hazard after day {landmark} than {slow_group}: hazard ratio {ratio} ({interval}, {p}).")
    else:
        text = _("Comparing accounts alike in {fixed}, reaching first value within {days} days goes with no clearly "
                 "different churn hazard after day {landmark} than {slow_group}: hazard ratio {ratio} ({interval}, {p}).")
    return text.format(fixed=fixed, days=result.buckets_days[0], change=pct(change, 0), landmark=result.landmark_days,
                       slow_group=_slow(result), ratio=number(hr["hazard_ratio"], 2), interval=_hr_interval(hr),
                       p=p_value(hr["p_value"]))


def cox_checks_sentence(result: Result) -> str:
    """Proportional-hazards results, strata, concordance and sample, in words."""
    cox = result.cox
    if cox is None:
        return ""
    tests = cox.ph_tests
    bad = tests[tests["violated"]]
    text = _("**Model checks.** {accounts} accounts paying on day {landmark}, {events} churns after it. Proportional "
             "hazards were tested for each of {terms} terms (Schoenfeld residuals against rank of time, Holm-corrected "
             "for the number of tests). ").format(accounts=_count(cox.accounts), landmark=cox.landmark_days,
                                                  events=_count(cox.events), terms=len(tests))
    if len(bad):
        names = _(", ").join(sorted({_term(v) for v in bad["variable"]}))
        text += _("Violated: {terms}. ").format(terms=names)
        if cox.strata:
            text += _("The model is therefore stratified by {terms} (each group gets its own baseline hazard, so no "
                      "hazard ratio is shown for it). ").format(terms=_(", ").join(_term(s) for s in cox.strata))
        if "outcome" in set(bad["variable"]):
            text += _("The onboarding effect itself changes over tenure, so its hazard ratio is an average over "
                      "follow-up. ")
    else:
        text += _("No term violates the assumption. ")
    if result.cox_left_out:
        text += _("Left out of the model for having fewer than {min_accounts} accounts: {groups}. ").format(
            min_accounts=result.min_accounts,
            groups=_(", ").join(_("{group} ({accounts})").format(group=group_label(g), accounts=_accounts(n))
                                for g, n in result.cox_left_out.items()))
    if _finite(cox.concordance_lower, cox.concordance_upper):
        ci = _("{interval}, bootstrap over accounts with the model fixed").format(
            interval=_hr_interval({"lower": cox.concordance_lower, "upper": cox.concordance_upper}))
    else:
        ci = _("no bootstrap interval") if not _finite(cox.concordance_lower) else _not_estimable()
    text += _("Concordance {concordance} ({ci}): 0.5 is a coin flip, 1 a perfect ranking of who churns first.").format(
        concordance=number(cox.concordance, 2), ci=ci)
    return text


def ltv_sentence(result: Result) -> str:
    ltv = result.ltv_segment
    months = f"{result.horizon_months:g}"
    if ltv is None:
        return _("No segment column (or no MRR): no {months}-month lifetime value by segment.").format(months=months)
    small = {**getattr(result.km_segment, "too_small", {})}
    left = ("" if not small else " " + _("Left out for having fewer than {min_accounts} accounts: {groups}.").format(
        min_accounts=result.min_accounts,
        groups=_(", ").join(_("{group} ({accounts})").format(group=g, accounts=_accounts(n)) for g, n in small.items())))
    shown = ltv.dropna(subset=["lifetime_value", "lifetime_value_lower", "lifetime_value_upper"])
    if ltv.empty:
        return _("No segment has {min_accounts} accounts: no {months}-month lifetime value by segment.").format(
            min_accounts=result.min_accounts, months=months) + left
    if shown.empty:
        return _("No segment is followed for {months} months with at least {at_risk} accounts at risk: a {months}-month "
                 "lifetime value would have to be extrapolated.").format(months=months, at_risk=result.min_at_risk) + left
    shown = shown.sort_values("lifetime_value", ascending=False)
    parts = [_("{segment} {value}").format(segment=r.segment, value=_with_interval(
        r.lifetime_value, r.lifetime_value_lower, r.lifetime_value_upper, "money",
        extra=_("; {months} paid months x {mrr} MRR").format(months=number(r.rmst_months), mrr=money(r.average_mrr))))
        for r in shown.itertuples()]
    short = [r.segment for r in ltv.itertuples() if r.segment not in set(shown["segment"])]
    text = _("Revenue per account over its first {months} months: {segments}.").format(
        months=months, segments=_(", ").join(parts))
    if short:
        text += " " + _("Not followed {months} months with {at_risk} accounts at risk (no extrapolation): "
                        "{segments}.").format(months=months, at_risk=result.min_at_risk, segments=_(", ").join(short))
    return text + left


def missing_onboarding_note(result: Result) -> str:
    """Why the onboarding sections are empty (empty text when they are not)."""
    return result.unavailable.get("onboarding", "")


def conventions(result: Result) -> tuple[dict, dict]:
    """The conventions box: values and a note on each."""
    sd = result.data
    cut_off, window, buckets, cohorts, horizon, smallest = (
        _("data cut-off"), _("data window starts"), _("time-to-value buckets"), _("cohorts"),
        _("lifetime value horizon"), _("smallest group"))
    values = {
        cut_off: day(sd.as_of),
        window: day(sd.window_start),
        "reactivation_window_days": result.reactivation_window_days,
        "count_same_month_churn": result.count_same_month_churn,
        "value_milestone": result.value_milestone,
        "landmark": _("day {n}").format(n=result.landmark_days),
        buckets: _(", ").join(group_label(g) for g in bucket_labels(result.buckets_days)),
        cohorts: {"quarter": _("quarter"), "month": pgettext("cohort frequency", "month")}.get(
            result.cohort_frequency, result.cohort_frequency),
        horizon: _("{n} months").format(n=f"{result.horizon_months:g}"),
        smallest: _("{min_accounts} accounts; {at_risk} at risk").format(min_accounts=result.min_accounts,
                                                                          at_risk=result.min_at_risk),
    }
    notes = {
        cut_off: _("accounts still paying are censored here"),
        window: _("accounts paying before this enter late (left truncation)"),
        "reactivation_window_days": _("a zero-MRR gap shorter than this is not a churn (the same rule in every "
                                      "report)"),
        "count_same_month_churn": _("false: accounts that joined and left without paying at a month end are left out"),
        "value_milestone": _("time to value = days from the first paid day to this milestone"),
        "landmark": _("onboarding groups are fixed on this day; survival is compared from it on"),
        cohorts: _("onboarding cohort = period of the first paid day"),
        horizon: _("restricted mean paid months to the horizon x average MRR"),
        smallest: _("a smaller segment, cohort or onboarding group gets no curve; a curve stops where fewer accounts "
                    "remain at risk"),
    }
    return values, notes


def method_note(result: Result) -> str:
    """How lifetimes were built, with the counts: late entry, reactivations, censoring."""
    n = result.data.notes
    text = _("**How a lifetime is measured.** From an account's first paid day to its first churn (MRR to zero, the "
             "definition every report shares), in paid days shown as months. {accounts} accounts: "
             "{churned} churned, the other {paying} are still paying and are *censored* at {cut_off} (counted as at "
             "risk until then, never as churned). {late} accounts were already paying when the data window opened on "
             "{window}: they are *left truncated*, entering the risk set at the tenure they had then, because "
             "customers who churned before the window are missing from the data and counting the survivors from day 0 "
             "would overstate retention. ").format(
        accounts=_count(n["accounts"]), churned=_count(n["churned"]), paying=_count(n["accounts"] - n["churned"]),
        cut_off=day(result.data.as_of), late=_count(n["late_entry"]), window=day(result.data.window_start))
    if n["reactivated"]:
        text += _("{n} accounts churned and later came back: their first churn counts and the return is not a new "
                  "lifetime (onboarding is about the first life). ").format(n=_count(n["reactivated"]))
    if n["provisional_churn"]:
        text += _("{n} churns are provisional (the gap is still shorter than the reactivation window) and may be "
                  "restated next month. ").format(n=_count(n["provisional_churn"]))
    if n["ended_before_window"]:
        text += _("{n} lifetimes ended before the window opened and are left out. ").format(
            n=_count(n["ended_before_window"]))
    text += _("Onboarding sections use the accounts whose first paid day is inside the window, so their onboarding "
              "is observed from its first day.")
    return text


def display_survival(table: pd.DataFrame, months: Sequence[float], rmst_months: Sequence[float],
                     ends: Mapping[str, float] | None = None) -> pd.DataFrame:
    """The survival table as a reader sees it: 'estimate (low–high)' strings. ``ends``: where a
    group's curve stops because too few remain at risk (a median not reached is 'not reached by' it)."""
    ends = ends or {}
    out = pd.DataFrame({_("group"): table["group"].map(group_label), _("accounts"): table["accounts"].map("{:,}".format),
                        _("churned"): table["churned"].map("{:,}".format)})
    for m in months:
        k = f"survival_{m:g}m"
        out[_("paying at {n} mo").format(n=f"{m:g}")] = [
            _share_of(v, lo, hi) if np.isfinite(v) else "–"
            for v, lo, hi in zip(table[k], table[k + "_lower"], table[k + "_upper"])]
    out[_("median lifetime (mo)")] = [
        number(v, 0) + paren(_median_interval(lo, hi)) if np.isfinite(v)
        else _("not reached by {n} mo").format(n=number(ends[g], 1)) if g in ends else _("not reached")
        for g, v, lo, hi in zip(table["group"], table["median_months"], table["median_lower"], table["median_upper"])]
    for h in rmst_months:
        k = f"rmst_{h:g}m"
        out[_("paid months of first {n}").format(n=f"{h:g}")] = [
            _with_interval(v, lo, hi, "number", 1) if np.isfinite(v) else "–"
            for v, lo, hi in zip(table[k], table[k + "_lower"], table[k + "_upper"])]
    return out


def display_ltv(table: pd.DataFrame, by: str) -> pd.DataFrame:
    """Lifetime value as a reader sees it: 'estimate (low–high)' strings, '–' where not estimable."""
    def fmt(column: str, low: str, high: str, kind: str, decimals: int = 0) -> list[str]:
        return [_with_interval(v, lo, hi, kind, decimals) if np.isfinite(v) else "–"
                for v, lo, hi in zip(table[column], table[low], table[high])]

    headers = {"cohort": _("cohort"), "segment": _("segment")}
    return pd.DataFrame({
        headers.get(by, by): table[by], _("accounts"): table["accounts"].map("{:,}".format),
        _("paid months (RMST)"): fmt("rmst_months", "rmst_lower", "rmst_upper", "number", 1),
        _("average MRR"): fmt("average_mrr", "average_mrr_lower", "average_mrr_upper", "money"),
        _("lifetime value"): fmt("lifetime_value", "lifetime_value_lower", "lifetime_value_upper", "money"),
    })


# ---- the report's sections ------------------------------------------------------------------------
def cohort_section(result: Result) -> str:
    """Under the cohort curves: overall survival and whether cohorts differ."""
    return _("{first} {second}").format(first=overall_sentence(result), second=cohort_sentence(result))


def survival_tables(result: Result) -> list:
    """The survival table as a reader sees it, one table each for all accounts, segments and cohorts
    (a sentence instead where a kind has no curve), then the size rules."""
    blocks: list = []
    captions = {"all accounts": _("all accounts"), "segment": pgettext("survival table", "segment"),
                "cohort": pgettext("survival table", "cohort")}
    for kind in ["all accounts", "segment", "cohort"]:
        rows = result.survival_of(kind)
        if len(rows):
            curves = {"all accounts": result.km_overall, "segment": result.km_segment, "cohort": result.km_cohort}[kind]
            blocks.append(Table(display_survival(rows, result.survival_months, result.rmst_months,
                                                 getattr(curves, "ends", {})), caption=captions[kind]))
        elif kind == "cohort":
            blocks.append(result.unavailable.get("cohorts", _("No onboarding cohort has a curve.")))
        elif kind == "segment":
            blocks.append(_("No segment has a curve (at least {min_accounts} accounts each).").format(
                min_accounts=result.min_accounts))
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
              caption=_("survival from day {landmark}, by onboarding outcome").format(landmark=result.landmark_days)),
        _("{first} {second}").format(first=outcome_sentence(result), second=outcome_logrank_sentence(result)),
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
            blocks.append(_("Cohorts with fewer than {min_accounts} accounts get no curve and are left out of the trend: "
                            "{cohorts}.").format(min_accounts=result.min_accounts, cohorts=_(", ").join(
                                _("{group} ({accounts})").format(group=r.cohort, accounts=_accounts(r.accounts))
                                for r in small.itertuples())))
    return blocks


def cox_blocks(result: Result) -> list:
    """Under the forest plot: the onboarding effect, the model checks and the proportional-hazards tests."""
    if result.cox is None:
        return [result.unavailable.get("cox", "")]
    tests = result.cox.ph_tests[["covariate", "test_statistic", "p_value", "p_holm", "violated"]].copy()
    for column in ("p_value", "p_holm"):
        tests[column] = format_each(tests[column], p_value)
    if get_language() != "en":  # the English table keeps the model's own column names
        tests["covariate"] = tests["covariate"].map(covariate_label)
        tests["violated"] = tests["violated"].map(lambda v: _("yes") if bool(v) else _("no"))
        tests = tests.rename(columns={"covariate": _("term"), "test_statistic": _("test statistic"),
                                      "p_value": _("p value"), "p_holm": _("Holm-adjusted p"),
                                      "violated": _("violated")})
    return [
        cox_sentence(result),
        cox_checks_sentence(result),
        Table(tests, caption=_("proportional-hazards test per term (before stratifying)"),
              formats={tests.columns[1]: "{:.2f}"}),
    ]


def ltv_blocks(result: Result) -> list:
    """Under the lifetime-value chart: the segments in words and the table by onboarding cohort."""
    blocks: list = [ltv_sentence(result)]
    cohorts = result.ltv_cohort
    if cohorts is not None and cohorts["lifetime_value"].notna().any():
        blocks.append(Table(display_ltv(cohorts, "cohort"), caption=_(
            "lifetime value to {months} months by onboarding cohort (95% intervals)").format(
                months=f"{result.horizon_months:g}")))
    elif cohorts is not None:
        blocks.append(_("No onboarding cohort of at least {min_accounts} accounts is followed for {months} months with "
                        "{at_risk} accounts at risk: no lifetime value by cohort (it would have to be "
                        "extrapolated).").format(min_accounts=result.min_accounts, months=f"{result.horizon_months:g}",
                                                 at_risk=result.min_at_risk))
    return blocks


# ---- chart titles ---------------------------------------------------------------------------------
def cohort_chart_title(result: Result) -> str:
    if not result.km_cohort:  # the chart shows all accounts and the segments instead
        return _("Share still paying by months since first payment: all accounts and segments (no cohort curve)")
    return _("Share of each onboarding cohort still paying, by months since first payment")


def outcome_chart_title(result: Result) -> str:
    return _("Share still paying by time to first value (accounts paying on day {landmark})").format(
        landmark=result.landmark_days)


def value_incidence_title(result: Result) -> str:
    return _("Share of each cohort that reached first value, by days since first payment")


def value_by_cohort_title(result: Result) -> str:
    return _("Share of each cohort reaching first value within {days} days").format(days=result.buckets_days[0])


def forest_title(result: Result) -> str:
    return _("Hazard ratio of churn after day {landmark}, with 95% intervals").format(landmark=result.landmark_days)


def ltv_segment_title(result: Result) -> str:
    return _("Revenue per account over its first {months} months, by segment").format(
        months=f"{result.horizon_months:g}")



# ---- KPIs for the index page ----------------------------------------------------------------------
def kpis(result: Result) -> list[Kpi]:
    """Share still paying at 12 months (or the longest estimable tenure) and the adjusted hazard ratio
    of reaching value within the first bucket."""
    out = []
    overall = result.overall
    m = _latest_month(overall, result.survival_months, 12)
    if m is not None:
        k = f"survival_{m:g}m"
        out.append(kpi(_("Still paying at {months} months").format(months=f"{m:g}"), float(overall[k]),
                       _share(overall, k)))
    hr = result.fast_hazard_ratio()
    if np.isfinite(hr.get("hazard_ratio", np.nan)):
        out.append(kpi(_("Churn hazard ratio, value within {days} days").format(days=result.buckets_days[0]),
                       hr["hazard_ratio"], _ratio(hr)))
    return out
