"""The onboarding-survival report's one call: ``build(ds, month, settings) -> Result``.

A section the data cannot support (no onboarding table, too few accounts for a Cox model, cohorts
too small for a curve) is left empty with its reason in ``result.unavailable``; the rest of the
report runs. :class:`~csresearch.errors.NotEnoughData` leaves ``build`` only when not even the
survival curve of all accounts can be drawn.
"""

from __future__ import annotations

import pandas as pd

from ...data import Dataset
from ...errors import NotEnoughData
from ...i18n import _, ngettext
from ...period import DAYS_PER_MONTH
from ...text import day
from .compute_cox import cox_model, cox_sample, naive_hazard_ratio
from .compute_km import Curves, fit_km, km_curves, lifetime_value, logrank, survival_table
from .compute_lifetimes import SurvivalData, average_mrr, prepare
from .compute_value import bucket_labels, fit_value_incidence, landmark, onboarding_trend, value_by_cohort
from .result import Result
from .settings import Settings

__all__ = ["Settings", "Result", "build", "analyse"]


def build(ds: Dataset, month: pd.Period, settings: Settings, *, min_accounts: int = 30, min_at_risk: int = 10,
          min_events: int = 10, concordance_boot: int = 200, seed: int = 0) -> Result:
    """Lifetimes as of the end of ``month``, every section of the report and the lifetime value.

    Method constants, not report settings (tests lower them for speed): ``min_accounts`` (smallest
    group shown, curve drawn or covariate level modelled), ``min_at_risk`` (a curve stops where fewer
    accounts remain at risk), ``min_events`` (churns after the landmark each compared onboarding group
    needs for a Cox model), ``concordance_boot`` (bootstrap resamples of the concordance interval; 0
    for none) and ``seed``."""
    s = settings
    if ds.sql("SELECT count(*) AS n FROM subscriptions WHERE mrr > 0")["n"].iloc[0] == 0:
        raise NotEnoughData(_("No subscription with a positive MRR: there is no customer lifetime to measure."))
    sd = prepare(ds, month, s.data_window_start, s.reactivation_window_days, s.count_same_month_churn,
                 s.cohort_frequency, s.value_milestone, s.covariates)
    mrr = average_mrr(ds.table("subscriptions"), sd.lifetimes, sd.window_start.to_period("M"), month)
    return analyse(sd, settings, mrr, min_accounts=min_accounts, min_at_risk=min_at_risk, min_events=min_events,
                   concordance_boot=concordance_boot, seed=seed)


def analyse(sd: SurvivalData, settings: Settings, mrr: pd.Series | None = None, *, min_accounts: int = 30,
            min_at_risk: int = 10, min_events: int = 10, concordance_boot: int = 200, seed: int = 0) -> Result:
    """Every section of the report on :func:`~.compute_lifetimes.prepare`'s output (lifetime value
    only with each account's average ``mrr``)."""
    s = settings
    buckets = sorted(int(b) for b in s.ttv_buckets_days)
    landmark_at = int(s.landmark_days if s.landmark_days is not None else buckets[-1])
    survival_months, rmst_months = list(s.survival_months), list(s.rmst_months)
    life, inside = sd.lifetimes, sd.onboarded
    if life.empty:
        raise NotEnoughData(_("No account was paying between {start} and {end}: there is no customer lifetime to "
                              "measure.").format(start=day(sd.window_start), end=day(sd.as_of)))
    km_overall = fit_km(life, min_at_risk=min_at_risk)
    if not km_overall:
        churns = int(life["churned"].sum())
        raise NotEnoughData(_("{accounts}, {churns}: a survival curve needs at least {at_risk} accounts at risk from the "
                              "first paid day on, and fewer are.").format(
            accounts=_accounts(len(life)), at_risk=min_at_risk,
            churns=ngettext("{n} churn", "{n} churns", churns).format(n=f"{churns:,}")))
    km_segment = fit_km(life, by="segment", min_accounts=min_accounts, min_at_risk=min_at_risk) \
        if "segment" in life else Curves()
    km_cohort = fit_km(inside, by="cohort", entry=None, order=sorted(inside["cohort"].unique()),
                       min_accounts=min_accounts, min_at_risk=min_at_risk)
    shown = inside[inside["cohort"].isin(list(km_cohort))]
    tables = [survival_table(km_overall, survival_months, rmst_months, kind="all accounts"),
              survival_table(km_segment, survival_months, rmst_months, kind="segment"),
              survival_table(km_cohort, survival_months, rmst_months, kind="cohort")]
    result = Result(
        month=sd.as_of.to_period("M"), data=sd, landmark_days=landmark_at, buckets_days=buckets,
        survival_months=survival_months, rmst_months=rmst_months, horizon_months=s.horizon_months,
        cohort_frequency=s.cohort_frequency, km_overall=km_overall, km_cohort=km_cohort,
        km_by_cohort=km_curves(km_cohort), cohort_logrank=logrank(shown, "cohort", time="duration_months"),
        survival=pd.DataFrame(), reactivation_window_days=s.reactivation_window_days,
        count_same_month_churn=s.count_same_month_churn, value_milestone=s.value_milestone,
        min_accounts=min_accounts, min_at_risk=min_at_risk, min_events=min_events, km_segment=km_segment,
    )
    if not km_cohort:
        result.unavailable["cohorts"] = _no_cohort_reason(inside, km_cohort, min_accounts, min_at_risk)
    tables += _onboarding(result, sd, landmark_at, buckets, min_accounts, min_at_risk, min_events,
                          concordance_boot, seed)
    result.survival = pd.concat([t for t in tables if len(t)], ignore_index=True)
    if mrr is not None:
        result.ltv_cohort = lifetime_value(inside, "cohort", s.horizon_months, mrr, min_accounts, min_at_risk)
        if "segment" in life:
            result.ltv_segment = lifetime_value(life, "segment", s.horizon_months, mrr, min_accounts, min_at_risk)
    return result


def _no_cohort_reason(inside: pd.DataFrame, curves, min_accounts: int, min_at_risk: int) -> str:
    if inside.empty:
        return _("No account started paying inside the data window: there is no onboarding cohort to follow.")
    largest = int(inside["cohort"].value_counts().max())
    if curves.too_small and not curves.no_curve:
        return _("Every onboarding cohort has fewer than {min_accounts} accounts (the largest has {largest}): too few "
                 "for a survival curve.").format(min_accounts=min_accounts, largest=largest)
    return _("No onboarding cohort keeps {at_risk} accounts at risk from its first paid day on: too few for a survival "
             "curve.").format(at_risk=min_at_risk)


def _onboarding(result: Result, sd: SurvivalData, landmark_at: int, buckets: list[int], min_accounts: int,
                min_at_risk: int, min_events: int, concordance_boot: int, seed: int) -> list[pd.DataFrame]:
    """Time to value, survival by onboarding outcome and the Cox model, each where the data allows;
    returns the survival table of the onboarding outcomes (empty list when there is none)."""
    inside = sd.onboarded
    tracked = inside[inside["onboarding_tracked"]]
    if not sd.has_onboarding:
        reason = _("No onboarding table: time to value cannot be measured.")
    elif inside.empty or tracked.empty:
        reason = _("The onboarding table has no row for any of the {accounts} that started paying inside the data "
                   "window: time to value cannot be measured.").format(accounts=_accounts(len(inside)))
    elif not tracked["ttv_days"].notna().any():
        reason = _("No account in the onboarding table ({accounts} that started paying inside the data window) reached "
                   "the '{milestone}' milestone by {day}: time to value cannot be measured.").format(
            accounts=_accounts(len(tracked)), milestone=result.value_milestone, day=day(sd.as_of))
    else:
        reason = ""
    if reason:
        for section in ("time_to_value", "onboarding", "cox"):
            result.unavailable[section] = reason
        return []
    result.value_fitters = fit_value_incidence(tracked, by="cohort", seed=seed, min_accounts=min_accounts)
    result.ttv_by_cohort = value_by_cohort(tracked, result.value_fitters, days=buckets)
    if not result.value_fitters:
        largest = int(tracked["cohort"].value_counts().max())
        result.unavailable["time_to_value"] = (
            _("Every onboarding cohort has fewer than {min_accounts} accounts in the onboarding table (the largest has "
              "{largest}): too few for a time-to-value curve.") if largest < min_accounts else
            _("No account of an onboarding cohort of at least {min_accounts} accounts reached value yet: no "
              "time-to-value curve.")).format(min_accounts=min_accounts, largest=largest)
    try:
        result.trend = onboarding_trend(tracked, min_accounts=min_accounts, min_events=min_events)
    except NotEnoughData as exc:
        result.unavailable["trend"] = str(exc)
    labels = bucket_labels(buckets)
    sample = landmark(tracked, landmark_at, buckets)
    result.landmark_sample = sample
    result.km_outcome = fit_km(sample, by="outcome", entry=landmark_at / DAYS_PER_MONTH, order=labels,
                               min_accounts=min_accounts, min_at_risk=min_at_risk)
    compared = [labels[0], labels[-1]]
    missing = [g for g in compared if g not in result.km_outcome]
    if missing:
        sizes = sample["outcome"].astype(str).value_counts()
        result.unavailable["onboarding"] = _(
            "Too few accounts paying on day {landmark} to compare onboarding groups: {groups} (a curve needs "
            "{min_accounts} accounts and {at_risk} still at risk from day {landmark} on).").format(
            landmark=landmark_at, min_accounts=min_accounts, at_risk=min_at_risk,
            groups=_("; ").join(_("'{group}' has {accounts}").format(group=g, accounts=_accounts(sizes.get(g, 0)))
                                for g in compared))
        result.unavailable["cox"] = result.unavailable["onboarding"]
        return []
    result.outcome_logrank = logrank(sample[sample["outcome"].astype(str).isin(list(result.km_outcome))], "outcome")
    table = survival_table(result.km_outcome, result.survival_months, result.rmst_months,
                           kind=f"onboarding outcome (accounts paying on day {landmark_at})")
    try:
        model_sample = cox_sample(sample, compared, min_accounts=min_accounts, min_events=min_events)
        result.cox = cox_model(model_sample, sd.covariates, exposure="outcome", exposure_reference=labels[-1],
                               landmark_days=landmark_at, min_level_accounts=min_accounts,
                               concordance_boot=concordance_boot, seed=seed)
        result.cox_left_out = model_sample.attrs["left_out"]
    except NotEnoughData as exc:
        result.unavailable["cox"] = str(exc)
    result.naive = naive_hazard_ratio(tracked, within_days=None)
    return [table]


def _accounts(n: int) -> str:
    return ngettext("{n} account", "{n} accounts", int(n)).format(n=f"{int(n):,}")
