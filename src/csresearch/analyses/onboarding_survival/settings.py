"""Settings of the onboarding-survival report (notebooks/02_onboarding_survival.ipynb)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

import pandas as pd
from pydantic import BeforeValidator, Field, model_validator

from ..base import CountSameMonthChurn, ReactivationWindowDays, ReportSettings, ValueMilestone


def _window_start(value: object) -> str | None:
    """``YYYY-MM`` or a date ``YYYY-MM-DD`` (a YAML date is taken as its ISO text); None stays None."""
    if value is None:
        return None
    if isinstance(value, dt.date):
        value = value.isoformat()
    text = str(value)
    match = re.fullmatch(r"(\d{4})-(\d{2})(-\d{2})?", text)
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValueError(f"{text!r} is not a month like 2025-03 (or a date like 2025-03-01)")
    pd.Timestamp(text if match.group(3) else f"{text}-01")  # a real date, or this raises
    return text


WindowStart = Annotated[str | None, BeforeValidator(_window_start)]
Months = Annotated[float, Field(gt=0, le=600)]
Days = Annotated[int, Field(ge=0, le=3650)]


class Settings(ReportSettings):
    notebook = "02_onboarding_survival"
    title = "Onboarding survival"

    reactivation_window_days: ReactivationWindowDays = 0
    count_same_month_churn: CountSameMonthChurn = True
    value_milestone: ValueMilestone = "first_value"
    cohort_frequency: Literal["month", "quarter"] = Field(
        "quarter", description="onboarding cohorts by month or quarter of the first paid day")
    horizon_months: Months = Field(24, description="lifetime value = paid months to this horizon x average MRR")
    survival_months: list[Months] = Field(
        [3, 6, 12, 24], min_length=1, description="share still paying reported at these tenures (months)")
    rmst_months: list[Months] = Field(
        [12, 24], description="restricted mean paid months reported to these tenures (months)")
    ttv_buckets_days: list[Days] = Field(
        [30, 90], min_length=1, description=(
            "time-to-value groups by their edges in days: [30, 90] is value in 0-30, 31-90 days, none by day 90"))
    landmark_days: Days | None = Field(None, description=(
        "day the onboarding groups are fixed, on or after the last bucket edge (None: the last bucket edge)"))
    covariates: list[Annotated[str, Field(min_length=1)]] = Field(
        ["segment", "product", "billing_period", "seats", "touch_tier", "start_year"], description=(
            "Cox adjustment: product, billing_period, seats (at the first paid day), start_year, or any "
            "accounts column"))
    data_window_start: WindowStart = Field(None, description=(
        "YYYY-MM where the data begins (None: the first month of usage events)"))

    @model_validator(mode="after")
    def _buckets_and_landmark(self) -> Settings:
        if len(set(self.ttv_buckets_days)) != len(self.ttv_buckets_days):
            raise ValueError(f"ttv_buckets_days {self.ttv_buckets_days} repeats an edge")
        if self.landmark_days is not None and self.landmark_days < max(self.ttv_buckets_days):
            raise ValueError(f"landmark_days {self.landmark_days} is before the last time-to-value bucket edge "
                             f"({max(self.ttv_buckets_days)}): the landmark must be on or after it")
        return self
