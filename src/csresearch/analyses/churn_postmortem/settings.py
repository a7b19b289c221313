"""Settings of the churn postmortem (notebooks/05_churn_postmortem.ipynb)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StringConstraints, field_validator

from ...i18n import N_
from ..base import ChurnConvention, CountSameMonthChurn, HealthScoreFile, ReactivationWindowDays, ReportSettings, ValueMilestone

AccountId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Probability = Annotated[float, Field(gt=0, le=1)]
Reason = Annotated[str, StringConstraints(min_length=1)]
Playbook = Annotated[str, StringConstraints(min_length=1)]

REASON_PLAYBOOKS = {
    "low_usage": "usage_depth",
    "onboarding_failure": "time_to_value",
    "support": "support_burden",
    "competitor": "usage_decline",
    # playbooks written here are marked for the catalog (a report shows them in its language); a playbook a
    # team writes in params reads as written
    "budget": N_("Renewal prep 90 days out: rebuild the ROI case with the champion and the budget owner; offer a "
                 "smaller plan before a cancellation."),
    "product_gaps": N_("Product gap review: log the gap with product, share the roadmap or a workaround, revisit "
                       "before renewal."),
    "company_closed": N_("Not preventable: track apart from controllable churn; no playbook."),
}


class Settings(ReportSettings):
    notebook = "05_churn_postmortem"
    title = "Churn postmortem"

    # shared conventions (params/defaults.yml)
    reactivation_window_days: ReactivationWindowDays = 0
    count_same_month_churn: CountSameMonthChurn = True
    churn_convention: ChurnConvention = "month_end"
    value_milestone: ValueMilestone = "first_value"

    account_ids: list[AccountId] | str | None = Field(None, description=(
        'review these accounts instead of the month: a list or "A00012,A00013" (None: every churn of the month)'))
    timeline_months: int = Field(6, ge=1, le=60, description=(
        "history before each churn shown in timelines and searched for warnings"))
    rollup_months: int = Field(6, ge=1, le=60, description=(
        "months of churns in the early-warning audit and the roll-up"))
    horizon_days: int = Field(90, ge=1, le=730, description="the risk model predicts churn within this many days")
    risk_threshold: Probability | None = Field(None, description=(
        "churn probability that flags an account (None: the at-risk list's rule, 1.5 x the churn rate known at "
        "each check)"))
    refit_months: int = Field(6, ge=1, le=60, description=(
        "the audit refits the risk model this often (and for the last two months)"))
    training_months: int = Field(9, ge=0, le=120, description=(
        "history before the earliest check that the first risk model learns from"))
    max_train_rows: int | None = Field(100_000, ge=2, description=(
        "a refit with more closed observations trains on all churned ones and a stratified, weighted sample of "
        "the others, at most this many rows (None: never sample)"))
    alert_top_share: Probability | None = Field(0.02, description=(
        "alert when an account enters this top share of paying accounts by churn probability (None: the previous "
        "rule: turned red, dropped green to yellow, crossed the risk threshold)"))
    alert_max_accounts: int | None = Field(None, ge=1, description=(
        "at most this many accounts in that band (None: no cap)"))
    health_score_file: HealthScoreFile = "params/health_score.yml"
    comparables_per_account: int = Field(3, ge=1, le=50, description="retained look-alikes per churned account")
    retained_days: int = Field(90, ge=0, le=3650, description=(
        "a look-alike kept paying at least this long after the churn"))
    comment_themes: int = Field(5, ge=1, le=50, description="themes sought in the free-text churn comments")
    key_event_count: int = Field(3, ge=1, le=20, description="the most used events shown in timelines")
    reason_match_days: int = Field(45, ge=0, le=3650, description=(
        "a cancellation form counts for a churn within this many days of it"))
    account_health_every_days: int = Field(7, ge=0, le=366, description=(
        "account review: health score history at this cadence (0: monthly)"))
    small_multiples_max: int = Field(24, ge=1, le=500, description=(
        "month review: timelines drawn for the largest churns, at most this many"))
    reason_playbooks: dict[Reason, Playbook] = Field(default_factory=lambda: dict(REASON_PLAYBOOKS), description=(
        "a churn reason -> the health-score component whose playbook answers it, or a playbook in words"))

    @field_validator("account_ids")
    @classmethod
    def _some_ids(cls, value: Any) -> Any:
        """A list of ids or a comma-separated string; an empty list or string means the month review."""
        if isinstance(value, str) and not value.replace(",", "").strip():
            return None
        if isinstance(value, list) and not value:
            return None
        return value
