"""The onboarding-survival report's result: lifetimes, fitted curves, tables and models, no words."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..base import AnalysisResult
from .compute_cox import CoxResult, exposure_hazard_ratio
from .compute_km import LTV_COLUMNS, Curves
from .compute_lifetimes import SurvivalData
from .compute_value import bucket_labels

# Tables of skipped sections are written with their header only, so readers of the folder always find them.
OUTPUT_COLUMNS = {
    "ttv_by_cohort": ["cohort", "accounts", "value_reached", "churned_before_value"],
    "cox_summary": ["covariate", "variable", "hazard_ratio", "lower", "upper", "p_value", "reference"],
}


@dataclass
class Result(AnalysisResult):
    """Every table and model of the onboarding-survival report (built by :func:`report.build`)."""

    data: SurvivalData
    landmark_days: int
    buckets_days: list[int]
    survival_months: list[float]
    rmst_months: list[float]
    horizon_months: float
    cohort_frequency: str
    km_overall: dict
    km_cohort: dict
    km_by_cohort: pd.DataFrame
    cohort_logrank: dict
    survival: pd.DataFrame
    # the conventions the lifetimes were built with (shown at the top of the report)
    reactivation_window_days: int = 0
    count_same_month_churn: bool = True
    value_milestone: str = "first_value"
    km_outcome: dict = field(default_factory=dict)
    outcome_logrank: dict = field(default_factory=dict)
    landmark_sample: pd.DataFrame | None = None
    value_fitters: dict = field(default_factory=dict)
    ttv_by_cohort: pd.DataFrame | None = None
    trend: dict = field(default_factory=dict)
    cox: CoxResult | None = None
    naive: dict = field(default_factory=dict)
    ltv_cohort: pd.DataFrame | None = None
    ltv_segment: pd.DataFrame | None = None
    # the report's size rules (report.build's method constants) and what they left out
    min_accounts: int = 30
    min_at_risk: int = 10
    min_events: int = 10
    km_segment: dict = field(default_factory=Curves)
    cox_left_out: dict = field(default_factory=dict)  # exposure level -> accounts left out of the Cox model
    # section -> the sentence saying why it could not be computed (time_to_value, trend, onboarding, cox, cohorts)
    unavailable: dict = field(default_factory=dict)

    @property
    def has_onboarding(self) -> bool:
        """The onboarding groups could be compared (the Cox model may still be missing: see ``unavailable``)."""
        return "onboarding" not in self.unavailable and bool(self.km_outcome)

    @property
    def fast_group(self) -> str:
        return bucket_labels(self.buckets_days)[0]

    @property
    def slow_group(self) -> str:
        return bucket_labels(self.buckets_days)[-1]

    def fast_hazard_ratio(self) -> dict:
        return exposure_hazard_ratio(self.cox, self.fast_group) if self.cox is not None else {}

    def survival_of(self, kind: str) -> pd.DataFrame:
        """Rows of the survival table of one kind ('all accounts', 'segment', 'cohort') or, for
        'onboarding', of the landmark comparison by onboarding outcome."""
        if kind == "onboarding":
            return self.survival[self.survival["kind"].str.startswith("onboarding")]
        return self.survival[self.survival["kind"] == kind]

    @property
    def overall(self) -> pd.Series:
        """The survival-table row of all accounts."""
        return self.survival_of("all accounts").iloc[0]

    @property
    def lifetime_value(self) -> pd.DataFrame | None:
        """Lifetime value by segment and by cohort in one table (``by`` names the grouping)."""
        ltv = [t.rename(columns={c: "group"}).assign(by=c) for t, c in ((self.ltv_segment, "segment"),
                                                                        (self.ltv_cohort, "cohort")) if t is not None]
        if not ltv:
            return None
        if all(t.empty for t in ltv):
            return pd.DataFrame(columns=["group", *LTV_COLUMNS, "by"])
        return pd.concat([t for t in ltv if not t.empty], ignore_index=True)

    def tables(self) -> dict[str, pd.DataFrame]:
        out = {
            "km_by_cohort": self.km_by_cohort,
            "survival_table": self.survival,
            "ttv_by_cohort": self.ttv_by_cohort if self.ttv_by_cohort is not None
            else pd.DataFrame(columns=OUTPUT_COLUMNS["ttv_by_cohort"]),
            "cox_summary": self.cox.summary if self.cox is not None
            else pd.DataFrame(columns=OUTPUT_COLUMNS["cox_summary"]),
        }
        if self.cox is not None:
            out["ph_tests"] = self.cox.ph_tests
        ltv = self.lifetime_value
        if ltv is not None:
            out["lifetime_value"] = ltv
        return out

    def summary(self) -> dict[str, Any]:
        """Numbers for summary.json (tests and the index read them)."""
        overall = self.overall
        out = {
            "accounts": self.data.notes,
            "window_start": str(self.data.window_start.date()),
            "as_of": str(self.data.as_of.date()),
            "landmark_days": self.landmark_days,
            "ttv_buckets_days": self.buckets_days,
            "overall": {k: (None if pd.isna(v) else float(v)) for k, v in overall.items() if k not in ("kind", "group")},
            "cohort_logrank": self.cohort_logrank,
        }
        if self.has_onboarding:
            out.update({"fast_group": self.fast_group, "reference_group": self.slow_group,
                        "outcome_logrank": self.outcome_logrank})
        if self.cox is not None:
            out.update({
                "fast_value_hazard_ratio": self.fast_hazard_ratio(),
                "cox": {"accounts": self.cox.accounts, "events": self.cox.events, "strata": self.cox.strata,
                        "concordance": self.cox.concordance, "concordance_lower": self.cox.concordance_lower,
                        "concordance_upper": self.cox.concordance_upper,
                        "ph_violations": self.cox.ph_tests.loc[self.cox.ph_tests["violated"], "covariate"].tolist()},
                "naive_value_hazard_ratio": self.naive,
            })
        if self.trend:
            out["onboarding_trend"] = self.trend
        if self.unavailable:  # section -> why it could not be computed
            out["unavailable"] = dict(self.unavailable)
        return out
