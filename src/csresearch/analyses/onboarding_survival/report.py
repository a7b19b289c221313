"""The onboarding-survival report's one call: ``build(ds, month, settings) -> Result``."""

from __future__ import annotations

import pandas as pd

from ...data import Dataset
from ...period import DAYS_PER_MONTH
from .compute_cox import cox_model, naive_hazard_ratio
from .compute_km import fit_km, km_curves, lifetime_value, logrank, survival_table
from .compute_lifetimes import SurvivalData, average_mrr, prepare
from .compute_value import bucket_labels, fit_value_incidence, landmark, onboarding_trend, value_by_cohort
from .result import Result
from .settings import Settings

__all__ = ["Settings", "Result", "build", "analyse"]


def build(ds: Dataset, month: pd.Period, settings: Settings, *, min_accounts: int = 30,
          concordance_boot: int = 200, seed: int = 0) -> Result:
    """Lifetimes as of the end of ``month``, every section of the report and the lifetime value.

    ``min_accounts`` (smallest group shown and smallest covariate level modelled), ``concordance_boot``
    (bootstrap resamples of the concordance interval; 0 for none) and ``seed`` are method constants,
    not report settings; tests lower them for speed."""
    s = settings
    sd = prepare(ds, month, s.data_window_start, s.reactivation_window_days, s.count_same_month_churn,
                 s.cohort_frequency, s.value_milestone, s.covariates)
    mrr = average_mrr(ds.table("subscriptions"), sd.lifetimes, sd.window_start.to_period("M"), month)
    return analyse(sd, settings, mrr, min_accounts=min_accounts, concordance_boot=concordance_boot, seed=seed)


def analyse(sd: SurvivalData, settings: Settings, mrr: pd.Series | None = None, *, min_accounts: int = 30,
            concordance_boot: int = 200, seed: int = 0) -> Result:
    """Every section of the report on :func:`~.compute_lifetimes.prepare`'s output (lifetime value
    only with each account's average ``mrr``)."""
    s = settings
    buckets = sorted(int(b) for b in s.ttv_buckets_days)
    landmark_at = int(s.landmark_days if s.landmark_days is not None else buckets[-1])
    survival_months, rmst_months = list(s.survival_months), list(s.rmst_months)
    life, inside = sd.lifetimes, sd.onboarded
    km_overall = fit_km(life)
    cohort_order = sorted(inside["cohort"].unique())
    km_cohort = fit_km(inside, by="cohort", entry=None, order=cohort_order)
    tables = [survival_table(km_overall, survival_months, rmst_months, kind="all accounts"),
              survival_table(fit_km(life, by="segment", min_accounts=min_accounts) if "segment" in life else {},
                             survival_months, rmst_months, kind="segment"),
              survival_table(km_cohort, survival_months, rmst_months, kind="cohort")]
    result = Result(
        month=sd.as_of.to_period("M"), data=sd, landmark_days=landmark_at, buckets_days=buckets,
        survival_months=survival_months, rmst_months=rmst_months, horizon_months=s.horizon_months,
        cohort_frequency=s.cohort_frequency, km_overall=km_overall, km_cohort=km_cohort,
        km_by_cohort=km_curves(km_cohort), cohort_logrank=logrank(inside, "cohort", time="duration_months"),
        survival=pd.DataFrame(), reactivation_window_days=s.reactivation_window_days,
        count_same_month_churn=s.count_same_month_churn, value_milestone=s.value_milestone,
    )
    tracked = inside[inside["onboarding_tracked"]]
    if sd.has_onboarding and len(tracked) and tracked["ttv_days"].notna().any():
        sample = landmark(tracked, landmark_at, buckets)
        result.landmark_sample = sample
        labels = bucket_labels(buckets)
        result.km_outcome = fit_km(sample, by="outcome", entry=landmark_at / DAYS_PER_MONTH, order=labels)
        result.outcome_logrank = logrank(sample, "outcome")
        tables.append(survival_table(result.km_outcome, survival_months, rmst_months,
                                     kind=f"onboarding outcome (accounts paying on day {landmark_at})"))
        result.value_fitters = fit_value_incidence(tracked, by="cohort", seed=seed)
        result.ttv_by_cohort = value_by_cohort(tracked, result.value_fitters, days=buckets)
        result.trend = onboarding_trend(tracked)
        result.cox = cox_model(sample, sd.covariates, exposure="outcome", exposure_reference=labels[-1],
                               landmark_days=landmark_at, min_level_accounts=min_accounts,
                               concordance_boot=concordance_boot, seed=seed)
        result.naive = naive_hazard_ratio(tracked, within_days=None)
    result.survival = pd.concat([t for t in tables if len(t)], ignore_index=True)
    if mrr is not None:
        result.ltv_cohort = lifetime_value(inside, "cohort", s.horizon_months, mrr, min_accounts)
        if "segment" in life:
            result.ltv_segment = lifetime_value(life, "segment", s.horizon_months, mrr, min_accounts)
    return result
