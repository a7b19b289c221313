"""Settings of the churn decomposition (notebooks/01_churn_decomposition.ipynb)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from ..base import Annualisation, ChurnConvention, Confidence, CountSameMonthChurn, ReactivationWindowDays, ReportSettings
from . import compute_frame

DEFAULT_SPLITS: list[str] = ["value_band", "billing_period", "product", "segment", "touch_tier", "region", "acquisition_cohort"]
DEFAULT_VALUE_BANDS: list[float] = list(compute_frame.DEFAULT_VALUE_BANDS)

# statsmodels.stats.multitest.multipletests methods
Correction = Literal["holm", "bonferroni", "fdr_bh", "sidak", "holm-sidak", "simes-hochberg", "hommel",
                     "fdr_by", "fdr_tsbh", "fdr_tsbky"]
ColumnName = Annotated[str, Field(min_length=1)]


def _band_edges(edges: list[float]) -> list[float]:
    """Band edges: at least one above 0 (the first band is below it) and no edge twice."""
    if not any(e > 0 for e in edges):
        raise ValueError("needs at least one edge above 0")
    if len(set(edges)) != len(edges):
        raise ValueError("an edge appears twice")
    return edges


class Settings(ReportSettings):
    notebook = "01_churn_decomposition"
    title = "Churn decomposition"

    # shared conventions (params/defaults.yml)
    reactivation_window_days: ReactivationWindowDays = 0
    count_same_month_churn: CountSameMonthChurn = True
    annualisation: Annualisation = "compounded"
    churn_convention: ChurnConvention = "month_end"
    # this report (params/01_churn_decomposition.yml)
    trend_months: int = Field(24, ge=1, le=240, description=(
        "months shown in the bridge, the rates and the cohorts, up to the report month"))
    window_months: int = Field(3, ge=1, le=60, description=(
        "trailing window for the splits and the change decomposition (1 = month vs month)"))
    split_columns: list[ColumnName] = Field(DEFAULT_SPLITS, min_length=1, description=(
        "where we lose: value_band, billing_period, product, acquisition_cohort are derived; the others are "
        "accounts columns (a missing one is skipped and said so)"))
    value_bands: Annotated[list[Annotated[float, Field(ge=0)]], AfterValidator(_band_edges)] | None = Field(
        None, description=(
            "annual contract value (12 x MRR) band edges in the run's currency (None: 0, 1k, 5k, 20k, 50k; for JPY "
            "0, 120k, 600k, 2.4M, 6M yen)"))
    decomposition_columns: list[ColumnName] = Field(["segment", "billing_period"], description=(
        "the cells of the mix-vs-rate decomposition (none: the whole base as one cell)"))
    confidence: Confidence = Field(0.95, description=(
        "interval level and 1 - the significance level of the segment flags"))
    multiple_comparison_correction: Correction = Field("holm", description=(
        "statsmodels multipletests method for the segment flags: holm, bonferroni, fdr_bh, ..."))
    min_segment_size: int = Field(30, ge=0, description=(
        "smallest segment (account-months at risk) drawn in the split charts; every segment is in the CSV"))
