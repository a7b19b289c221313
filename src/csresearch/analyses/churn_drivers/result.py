"""The churn-drivers result: every number and table of the report, computed once; no words."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ...core.health import HealthConfig
from ...core.risk import Sampling
from ..base import AnalysisResult
from .compute_backtest import BACKTEST_COLUMNS, Backtest
from .compute_calllist import OWNER_FOLDER
from .compute_drivers import DRIVER_COLUMNS
from .compute_expansion import EXPANSION_COLUMNS
from .compute_health import HealthValidation
from .settings import Settings


@dataclass
class Result(AnalysisResult):
    settings: Settings = field(default_factory=lambda: Settings.model_validate({}))  # the defaults
    as_of: pd.Timestamp | None = None                 # the observation date: first day after the month
    frame: pd.DataFrame = field(default_factory=pd.DataFrame)     # point-in-time observations, labelled
    config: HealthConfig | None = None
    scores: pd.DataFrame | None = None                # health scores of every observation (None: skipped)
    backtest: Backtest | None = None
    calibration: pd.DataFrame = field(default_factory=pd.DataFrame)
    drivers: pd.DataFrame = field(default_factory=pd.DataFrame)
    deciles: pd.DataFrame = field(default_factory=pd.DataFrame)
    categories: pd.DataFrame = field(default_factory=pd.DataFrame)
    cohorts: pd.DataFrame = field(default_factory=pd.DataFrame)   # deciles and categories in one table
    base_rate: float = float("nan")                   # churn rate of the independent rows (cohort charts)
    thresholds: pd.DataFrame = field(default_factory=pd.DataFrame)
    profile: pd.DataFrame = field(default_factory=pd.DataFrame)
    validation: HealthValidation | None = None
    # the call list: every paying account, riskiest ARR first, with owner, renewal and the at_risk flag
    # (compute_calllist); one list per CSM owner (and each owner's file stem); term renewals due soon
    at_risk: pd.DataFrame = field(default_factory=pd.DataFrame)
    owner_lists: dict[str, pd.DataFrame] = field(default_factory=dict)
    owner_files: dict[str, str] = field(default_factory=dict)
    owners: pd.DataFrame = field(default_factory=pd.DataFrame)    # one row per owner (owner_summary)
    renewals: pd.DataFrame = field(default_factory=pd.DataFrame)  # renewals_calendar
    expansion: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: list[str] = field(default_factory=list)   # data gaps and skipped sections, in words
    sampling: dict[str, Sampling | None] = field(default_factory=dict)
    importance_rows: tuple[int, int] | None = None   # (test rows, rows behind the driver importance)
    # why a section could not be computed, in one sentence each: "model" (no model fitted: the list
    # ranks by the health score alone), "health" (no validation), "expansion" (no expansion list)
    reasons: dict[str, str] = field(default_factory=dict)

    @property
    def horizon_days(self) -> int:
        return int(self.settings.horizon_days)

    @property
    def lead_days(self) -> int:
        return int(self.settings.lead_days)

    @property
    def primary_model(self) -> str:
        return self.settings.primary_model

    @property
    def bootstrap_max_rows(self) -> int | None:
        return self.settings.bootstrap_max_rows

    @property
    def pooled(self) -> pd.Series | None:
        """The primary model's pooled backtest metrics (None when it was not backtested)."""
        return self.backtest.pooled(self.primary_model) if self.backtest is not None else None

    @property
    def risk_threshold(self) -> float | None:
        """The churn probability from which an account counts as at risk (None: no model, red band)."""
        value = self.at_risk.attrs.get("risk_threshold")
        return None if value is None else float(value)

    @property
    def renewals_window_days(self) -> int:
        return int(self.settings.renewals_window_days)

    @property
    def renewals_table_name(self) -> str:
        return f"renewals_next_{self.renewals_window_days}_days"

    @property
    def expansion_skipped(self) -> bool:
        return not len(self.expansion)

    @property
    def has_model(self) -> bool:
        """A churn model was fitted (and checked): the list carries probabilities and ARR at risk."""
        return self.backtest is not None

    @property
    def check_kind(self) -> str | None:
        """``time-ordered`` or ``cross-sectional`` (how the model was checked); None without a model."""
        return self.backtest.kind if self.backtest is not None else None

    def tables(self) -> dict[str, pd.DataFrame]:
        """The CSVs; a section that could not be computed writes its header only."""
        drivers = self.drivers[[c for c in DRIVER_COLUMNS if c in self.drivers.columns]]
        expansion = self.expansion.reindex(columns=list(EXPANSION_COLUMNS))
        metrics = self.backtest.metrics if self.backtest is not None else pd.DataFrame(columns=BACKTEST_COLUMNS)
        validation = (self.validation.table if self.validation is not None
                      else pd.DataFrame(columns=["section", "item", "value", "ci_low", "ci_high", "n"]))
        owners = {f"{OWNER_FOLDER}/{self.owner_files[o]}": d for o, d in self.owner_lists.items()}
        return {
            "at_risk_accounts": self.at_risk,
            OWNER_FOLDER: self.owners,
            **owners,
            self.renewals_table_name: self.renewals,
            "drivers": drivers,
            "cohorts": self.cohorts,
            "model_backtest": metrics,
            "health_score_validation": validation,
            "expansion_candidates": expansion,
        }

    def summary(self) -> dict[str, Any]:
        """Numbers for summary.json (tests and other notebooks read them)."""
        bt = self.backtest
        metrics = bt.metrics if bt is not None else pd.DataFrame(columns=["test_date", "model"])
        pooled = metrics[metrics["test_date"] == "pooled"].set_index("model")
        v = self.validation
        at_risk = self.at_risk
        arr_at_risk = float(at_risk["arr_at_risk"].sum()) if "arr_at_risk" in at_risk else None
        return {
            "as_of": str(self.as_of.date()) if self.as_of is not None else None,
            "horizon_days": self.horizon_days, "lead_days": self.lead_days,
            "observations": int(len(self.frame)), "labelled_observations": int(self.frame["churned"].notna().sum()),
            "paying_accounts": int(len(at_risk)),
            "arr": float(at_risk["arr"].sum()), "arr_at_risk": arr_at_risk,
            "red_accounts": int((at_risk["health_band"] == "red").sum()),
            "at_risk_accounts": int(at_risk["at_risk"].sum()) if "at_risk" in at_risk else None,
            "risk_threshold": self.risk_threshold,
            "csm_owners": int(len(self.owners)),
            "owner_files": {o: f"{OWNER_FOLDER}/{f}.csv" for o, f in self.owner_files.items()},
            "renewals": {"days": self.renewals_window_days, "file": f"{self.renewals_table_name}.csv",
                         "contracts": int(len(self.renewals)), "arr": float(self.renewals["arr"].sum())
                         if len(self.renewals) else 0.0,
                         "at_risk": int(self.renewals["at_risk"].sum()) if len(self.renewals) else 0},
            "model_check": self.check_kind,
            "backtest": {m: {k: float(pooled.loc[m, k]) for k in ("auc", "auc_low", "auc_high", "pr_auc",
                                                                    "top_decile_lift", "brier")}
                         for m in pooled.index},
            "backtest_test_dates": [str(d.date()) for d in bt.test_dates] if bt is not None else [],
            "drivers_ranked": self.drivers["driver"].tolist(),
            "driver_groups": ({d: bt.models[self.primary_model].groups_[d] for d in self.drivers["driver"]}
                              if bt is not None else {}),
            **({"health_auc": list(v.auc), "health_red_share_before_churn": v.red_share,
                "health_median_days_red": v.median_days_red,
                "health_churn_rate_by_band": dict(zip(v.bands["band"], v.bands["churn_rate"]))} if v is not None else {}),
            "notes": self.notes,
            "reasons": self.reasons,
            "sampling": {k: (None if s is None else {"rows": s.rows, "churned": s.churned, "others": s.others,
                                                     "others_kept": s.others_kept, "weight": s.weight})
                         for k, s in self.sampling.items()},
        }
