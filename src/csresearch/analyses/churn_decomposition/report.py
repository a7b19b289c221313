"""The churn decomposition's one call: ``build(ds, month, settings) -> Result``."""

from __future__ import annotations

import pandas as pd

from ...data import Dataset
from ...errors import NotEnoughData
from ...text import month_label
from . import compute_change, compute_frame, compute_rates, compute_retention, compute_segments
from .result import Result
from .settings import Settings

__all__ = ["Settings", "Result", "build", "churn_report"]


def build(ds: Dataset, month: pd.Period, settings: Settings) -> Result:
    """Every number of the churn decomposition report for ``month`` from the contract tables."""
    return churn_report(ds.table("subscriptions"), ds.table("accounts"), month, settings)


def churn_report(subscriptions: pd.DataFrame, accounts: pd.DataFrame | None, month: pd.Period | str,
                 settings: Settings) -> Result:
    """The report from the two tables it reads: account-month table, MRR bridge and rates over
    ``trend_months``, splits and the mix-vs-rate decomposition over trailing ``window_months``
    windows, cohorts started in the trend months, the intervals of the change, and the 12-month
    cohort NRR and GRR. NotEnoughData when no account ever paid by the end of ``month``."""
    s = settings
    month = pd.Period(month, "M")
    month_end = (month + 1).to_timestamp()
    paid = subscriptions[(subscriptions["mrr"] > 0) & (subscriptions["start_date"] < month_end)]
    if paid.empty:
        raise NotEnoughData(f"no subscription with MRR above zero started by the end of {month_label(month)}, "
                            "so there is no revenue or churn to decompose")
    window_months = s.window_months
    shown = [month - k for k in range(s.trend_months - 1, -1, -1)]
    # a year before the first month shown (trailing 12-month rates) and two windows (the change)
    first = min(shown[0] - 11, month - (2 * window_months - 1))
    frame = compute_frame.account_month_churn(
        subscriptions, accounts, first, month, convention=s.churn_convention,
        reactivation_window_days=s.reactivation_window_days, count_same_month_churn=s.count_same_month_churn,
        value_bands=s.value_bands or compute_frame.default_value_bands(s.currency))
    if not ((frame["prev_mrr"] > 0) | (frame["mrr"] > 0) | frame["same_month"]).any():
        raise NotEnoughData(f"no account paid at any month end from {month_label(first)} to {month_label(month)}, "
                            "so there is no revenue or churn to decompose")
    bridge = compute_rates.mrr_bridge(frame[frame["month"] >= shown[0]])
    windows = sorted({1, 3, 12, window_months})
    rates = compute_rates.churn_rates(frame, shown, windows=windows, annualisation=s.annualisation,
                                      confidence=s.confidence)
    known = compute_frame.known_columns(frame)
    present = [c for c in s.split_columns if c in known]
    skipped = [c for c in s.split_columns if c not in known]
    splits = compute_segments.churn_by_segment(frame, present, month, window_months, s.confidence,
                                               s.multiple_comparison_correction, s.annualisation)
    cohorts = compute_segments.cohort_retention(subscriptions, shown[0], month, s.reactivation_window_days,
                                                s.churn_convention, s.confidence)
    decomposition = compute_change.churn_change_decomposition(
        frame, [c for c in s.decomposition_columns if c in known], month, window_months, s.confidence)
    book = compute_rates.period_start_rates(subscriptions, month.to_timestamp(how="start"),
                                            (month + 1).to_timestamp(how="start"))
    return Result(
        month=month, settings=s, frame=frame, bridge=bridge, rates=rates, splits=splits, cohorts=cohorts,
        decomposition=decomposition, book_comparison=book, skipped_splits=skipped,
        change_windows=compute_change.window_totals(frame, month, window_months),
        retention_12m=compute_retention.cohort_retention_12m(frame, month, confidence=s.confidence),
        logo_change_ci=compute_change.change_interval(decomposition, s.confidence),
        revenue_change_ci=compute_change.revenue_change_interval(frame, month, window_months, s.confidence),
    )
