"""The data overview's one call: ``build(ds, month, settings) -> Result``."""

from __future__ import annotations

import pandas as pd

from ...data import Dataset
from .compute import accounts_by, mrr_trend
from .result import ATTRIBUTES, Result
from .settings import Settings

__all__ = ["Settings", "Result", "build"]


def build(ds: Dataset, month: pd.Period, settings: Settings) -> Result:
    quality = ds.quality
    return Result(
        month=month,
        trend_months=settings.trend_months,
        coverage=ds.coverage(),
        trend=mrr_trend(ds, month, settings.trend_months),
        by_attribute={column: accounts_by(ds, column) for column in ATTRIBUTES},
        rows_read=int(quality["rows_read"].sum()),
        rows_rejected=int(quality["rows_rejected"].sum()),
        tables_read=len(quality),
    )
