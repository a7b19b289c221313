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
        coverage=_coverage_table(ds, settings),
        covered_to=ds.data_coverage(settings.data_as_of).last,
        covered_source=ds.data_coverage(settings.data_as_of).source,
        trend=mrr_trend(ds, month, settings.trend_months),
        by_attribute={column: accounts_by(ds, column) for column in ATTRIBUTES},
        rows_read=int(quality["rows_read"].sum()),
        rows_rejected=int(quality["rows_rejected"].sum()),
        tables_read=len(quality),
    )


def _coverage_table(ds: Dataset, settings: Settings) -> pd.DataFrame:
    """Rows and first/last record per table, and whether an activity table stops well before the rest."""
    table = ds.data_coverage(settings.data_as_of).tables.copy()
    for column in ("first", "last"):
        table[column] = pd.to_datetime(table[column]).dt.date
    return table
