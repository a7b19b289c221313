"""Settings of the data overview (notebooks/00_data_overview.ipynb)."""

from __future__ import annotations

from pydantic import Field

from ..base import ReportSettings


class Settings(ReportSettings):
    notebook = "00_data_overview"
    title = "Data overview"

    trend_months: int = Field(24, ge=1, le=240, description="months of MRR trend shown, up to the report month")
