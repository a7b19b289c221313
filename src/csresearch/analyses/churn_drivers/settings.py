"""Settings of the churn-drivers report (notebooks/03_churn_drivers.ipynb, params/03_churn_drivers.yml)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..base import (
    Annualisation,
    ChurnConvention,
    CountSameMonthChurn,
    HealthScoreFile,
    ReactivationWindowDays,
    ReportSettings,
    ValueMilestone,
)


class Settings(ReportSettings):
    notebook = "03_churn_drivers"
    title = "Churn drivers"

    # shared conventions (params/defaults.yml)
    reactivation_window_days: ReactivationWindowDays = 0
    count_same_month_churn: CountSameMonthChurn = True
    annualisation: Annualisation = "compounded"
    churn_convention: ChurnConvention = "month_end"
    value_milestone: ValueMilestone = "first_value"

    # this report
    horizon_days: int = Field(90, ge=1, le=3650, description=(
        "label: churn within this many days after the lead time"))
    lead_days: int = Field(0, ge=0, le=3650, description=(
        "days between an observation and the start of its churn window (time to act)"))
    observation_every_months: int = Field(1, ge=1, le=12, description=(
        "one observation date after every Nth month"))
    history_months: int = Field(18, ge=1, le=240, description=(
        "how far back observations go (training data for the models)"))
    usage_window_days: int = Field(30, ge=1, le=365, description="recent usage window")
    prior_window_days: int = Field(30, ge=1, le=365, description="the window before it, for usage trends")
    health_score_file: HealthScoreFile = "params/health_score.yml"
    primary_model: Literal["gbm", "logistic"] = Field("gbm", description=(
        "gbm (gradient boosting, explained with SHAP) or logistic: ranks the lists"))
    backtest_folds: int = Field(3, ge=1, le=24, description="later test dates, spaced one window apart")
    logistic_C: float = Field(0.1, gt=0, description="inverse L2 regularisation strength of the logistic model")
    gbm_max_iter: int = Field(100, ge=1, le=10_000, description=(
        "boosting iterations (100 at 0.1 matches 200 at 0.05 on the demo world, AUC 0.849 vs 0.850, in half "
        "the time)"))
    gbm_learning_rate: float = Field(0.1, gt=0, le=1, description="learning rate of the gradient boosting")
    permutation_repeats: int = Field(10, ge=1, le=1000, description=(
        "shuffles (each on a bootstrap resample) per driver for its importance interval"))
    bootstrap_resamples: int = Field(200, ge=1, le=100_000, description=(
        "resamples behind the AUC / lift / Brier intervals"))
    loyal_tenure_days: int = Field(730, ge=0, le=36_500, description=(
        "\"long-lived\" in the loyal vs churned profile"))
    at_risk_rows_shown: int = Field(25, ge=1, le=10_000, description=(
        "rows of the at-risk list shown in the report (the CSV holds every account)"))
    owner_rows_shown: int = Field(5, ge=1, le=10_000, description=(
        "rows of each CSM owner's list shown in the report (at_risk_by_owner/<owner>.csv holds all)"))
    renewals_window_days: int = Field(90, ge=1, le=366, description=(
        "the renewals calendar: term contracts renewing within this many days of the observation date"))
    renewal_rows_shown: int = Field(40, ge=1, le=10_000, description=(
        "at-risk renewals listed in the report (the calendar's CSV holds every renewal)"))
    # scale caps (None: no cap); a step that hits one says so in the report
    max_train_rows: int | None = Field(100_000, ge=100, description=(
        "scale cap (None: no cap): every model trains on at most this many rows, all churned rows plus a "
        "stratified (segment x observation date) sample of the others, weighted so probabilities stay "
        "calibrated"))
    importance_max_rows: int | None = Field(10_000, ge=100, description=(
        "scale cap (None: no cap): test rows behind the driver importance and effects (a sample stratified "
        "by outcome)"))
    bootstrap_max_rows: int | None = Field(20_000, ge=100, description=(
        "scale cap (None: no cap): rows each bootstrap interval resamples (stratified by outcome; the width "
        "is rescaled to all rows)"))

    @property
    def windows_days(self) -> tuple[int, int]:
        """The (recent, prior) usage windows of the features."""
        return (self.usage_window_days, self.prior_window_days)

    @property
    def model_settings(self) -> dict[str, dict]:
        """Constructor settings of each model kind (:class:`csresearch.core.risk.ChurnModel`)."""
        return {"logistic": {"C": self.logistic_C},
                "gbm": {"max_iter": self.gbm_max_iter, "learning_rate": self.gbm_learning_rate}}
