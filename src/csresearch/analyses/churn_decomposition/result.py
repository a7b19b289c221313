"""The churn decomposition's result: numbers and tables, no words."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..base import AnalysisResult
from .compute_change import leading_segment
from .compute_rates import bridge_gap_cents
from .settings import Settings


@dataclass
class Result(AnalysisResult):
    """Every table of the churn decomposition report for one month, and the settings that made it."""

    settings: Settings                                                   # the settings that made it
    frame: pd.DataFrame = field(default_factory=pd.DataFrame)            # account-months (compute_frame)
    bridge: pd.DataFrame = field(default_factory=pd.DataFrame)           # MRR bridge, the trend months
    rates: pd.DataFrame = field(default_factory=pd.DataFrame)            # rates per month and window
    splits: pd.DataFrame = field(default_factory=pd.DataFrame)           # churn by segment, last window
    cohorts: pd.DataFrame = field(default_factory=pd.DataFrame)          # retention by start month
    decomposition: pd.DataFrame = field(default_factory=pd.DataFrame)    # mix vs rate, window vs the one before
    retention_12m: pd.DataFrame = field(default_factory=pd.DataFrame)     # 12-month cohort NRR and GRR
    change_windows: pd.DataFrame = field(default_factory=pd.DataFrame)   # the two windows' totals
    book_comparison: dict = field(default_factory=dict)                  # period_start_rates of the month
    skipped_splits: list[str] = field(default_factory=list)              # split columns not in the data
    logo_change_ci: tuple[float, float] = (np.nan, np.nan)               # change in logo churn (Newcombe)
    revenue_change_ci: tuple[float, float] = (np.nan, np.nan)            # change in gross revenue churn

    def rate(self, column: str, window_months: int = 1, month: pd.Period | None = None) -> float:
        """One value of the rates table (NaN when that month and window are not in it)."""
        month = month or self.month
        row = self.rates[(self.rates["month"] == month) & (self.rates["window_months"] == window_months)]
        return float(row[column].iloc[0]) if len(row) else float("nan")

    def retention(self, column: str, group: str = "all") -> float:
        """One value of the 12-month cohort table (NaN when there is no cohort)."""
        table = self.retention_12m
        if table.empty:
            return float("nan")
        row = table[table["group"] == group]
        return float(row[column].iloc[0]) if len(row) else float("nan")

    def window(self, column: str, which: str = "after") -> float:
        """One total of the change's two windows (``before`` or ``after``)."""
        row = self.change_windows[self.change_windows["window"] == which]
        return float(row[column].iloc[0]) if len(row) else float("nan")

    @property
    def same_month_churns(self) -> int:
        """Accounts that joined and churned inside one month, in the account-months computed."""
        return int(self.frame["same_month"].sum())

    @property
    def net_mrr_change(self) -> float | None:
        """Ending - starting MRR of the report month (None when the month is not in the bridge)."""
        row = self.bridge[self.bridge["month"] == self.month]
        return float(row["ending_mrr"].iloc[0] - row["starting_mrr"].iloc[0]) if len(row) else None

    @property
    def has_trailing_year(self) -> bool:
        """The rates include trailing 12-month windows."""
        return 12 in set(self.rates["window_months"])

    def tables(self) -> dict[str, pd.DataFrame]:
        return {
            "mrr_bridge": self.bridge,
            "churn_rates": self.rates,
            "churn_by_segment": self.splits,
            "cohort_retention": self.cohorts,
            "churn_change_decomposition": self.decomposition,
            "net_retention_12m": self.retention_12m,
        }

    def summary(self) -> dict[str, Any]:
        r = self.rate
        window = self.settings.window_months
        lead = leading_segment(self.decomposition, "logo_churn")
        segment_rates = self.splits[self.splits["split"] == "segment"] if len(self.splits) else self.splits
        return dict(
            logo_churn_rate=r("logo_churn_rate"), logo_churn_ci=[r("logo_churn_low"), r("logo_churn_high")],
            gross_revenue_churn_rate=r("gross_revenue_churn_rate"), net_revenue_churn_rate=r("net_revenue_churn_rate"),
            nrr=r("nrr"), grr=r("grr"), quick_ratio=r("quick_ratio"),
            logo_churn_trailing=r("logo_churn_rate", window), window_months=window,
            bridge_max_gap_cents=int(bridge_gap_cents(self.bridge).abs().max()) if len(self.bridge) else 0,
            bridge_months=len(self.bridge),
            change_driver=None if lead is None else {
                "segment": lead["segment"], "segmented_by": lead.get("segmented_by", "all"),
                "total_effect": lead["total_effect"], "mix_effect": lead["mix_effect"],
                "rate_effect": lead["rate_effect"], "total_change": lead["total_change"],
                "total_ci": [lead["total_low"], lead["total_high"]]},
            nrr_12m=self.retention("nrr"), nrr_12m_ci=[self.retention("nrr_low"), self.retention("nrr_high")],
            grr_12m=self.retention("grr"), grr_12m_ci=[self.retention("grr_low"), self.retention("grr_high")],
            flagged_segments=[f"{s}={v}" for s, v in self.splits.loc[self.splits["flagged"], ["split", "value"]]
                              .itertuples(index=False)] if len(self.splits) else [],
            logo_churn_by_segment={row.value: row.logo_churn_rate for row in segment_rates.itertuples()},
            book_convention=self.book_comparison,
            skipped_splits=self.skipped_splits,
        )
