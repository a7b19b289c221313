"""The data overview's result: numbers and tables, no words."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..base import AnalysisResult

ATTRIBUTES = ("segment", "touch_tier", "region")


@dataclass
class Result(AnalysisResult):
    trend_months: int = 24
    coverage: pd.DataFrame = field(default_factory=pd.DataFrame)
    trend: pd.DataFrame = field(default_factory=pd.DataFrame)
    by_attribute: dict[str, pd.DataFrame] = field(default_factory=dict)
    rows_read: int = 0
    rows_rejected: int = 0
    tables_read: int = 0
    covered_to: pd.Timestamp | None = None
    covered_source: str = ""

    @property
    def stops_early(self) -> list[str]:
        """Activity tables whose last record is a month or more before the data's coverage date."""
        if self.coverage.empty or "stops_early" not in self.coverage:
            return []
        return self.coverage.loc[self.coverage["stops_early"].astype(bool), "table"].tolist()

    @property
    def now(self) -> pd.DataFrame:
        """The report month's row of the MRR trend (empty when nothing is active)."""
        return self.trend.loc[self.trend["month"] == self.month]

    @property
    def mrr(self) -> float:
        return float(self.now["mrr"].sum())

    @property
    def paying_accounts(self) -> int:
        return int(self.now["paying_accounts"].sum())

    @property
    def year_on_year_growth(self) -> float | None:
        """MRR growth on the same month a year earlier; None when there was no MRR then."""
        year_ago = self.trend.loc[self.trend["month"] == self.month - 12]
        if self.now.empty or year_ago.empty or not year_ago["mrr"].iloc[0] > 0:
            return None
        return float(self.now["mrr"].iloc[0]) / float(year_ago["mrr"].iloc[0]) - 1

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"table_coverage": self.coverage, "mrr_trend": self.trend.drop(columns="month_end")}

    def summary(self) -> dict[str, Any]:
        return {}
