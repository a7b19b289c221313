"""Settings of the experiments report (notebooks/04_uplift_experiments.ipynb).

Each experiment is read with its entry of ``experiments`` laid over ``experiment_defaults``; both are
validated here (an unknown key or outcome, or an intended split not summing to 1, is an error: a typo
must not silently change a readout). The defaults are the ones of params/04_uplift_experiments.yml.
"""

from __future__ import annotations

import copy
from typing import Any, Literal, Mapping, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    ValidationError,
    field_validator,
    model_validator,
)

from ...errors import SettingsError
from ..base import Confidence, ReactivationWindowDays, ReportSettings

OUTCOME_KINDS = {
    # name: (binary?, label template, unit)
    "retention": (True, "{h}-day retention", "points"),
    "usage_change": (False, "change in usage over {h} days (events per 30 days)", "events/30d"),
    "expansion_mrr": (False, "expansion MRR within {h} days ($ per account)", "$"),
}
Outcome = Literal["retention", "usage_change", "expansion_mrr"]
UpliftModel = Literal["S-learner", "T-learner", "X-learner", "R-learner", "DR-learner", "uplift forest"]
MODELS: tuple[UpliftModel, ...] = ("S-learner", "T-learner", "X-learner", "R-learner", "DR-learner", "uplift forest")


def outcome_label(outcome: str, horizon_days: int) -> str:
    return OUTCOME_KINDS[outcome][1].format(h=horizon_days)


def is_binary(outcome: str) -> bool:
    return OUTCOME_KINDS[outcome][0]


class Experiment(BaseModel):
    """How to read one experiment: an entry of ``experiments`` (or ``experiment_defaults``).

    Only the keys an entry sets override the defaults (``model_fields_set``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = Field("", description="the name the report uses (empty: the experiment id)")
    randomized: bool = Field(True, description="true: a randomised experiment; false: users vs non-users")
    control_arm: str = Field("control", min_length=1, description="the arm every other arm is compared with")
    treatment_arm: str | None = Field(None, description="the treated arm (None: every arm but the control)")
    expected_split: dict[str, NonNegativeFloat] | None = Field(None, description=(
        "arm -> intended share, summing to 1, for the sample-ratio check (None: equal split)"))
    outcomes: tuple[Outcome, ...] = Field(("retention", "usage_change", "expansion_mrr"), min_length=1,
                                          description="outcomes read: retention, usage_change, expansion_mrr")
    primary_outcome: Outcome = Field("retention", description="the outcome the headline and the KPI report")
    horizon_days: int = Field(90, ge=1, le=3650, description="days after assignment the outcomes are measured at")
    cuped_pre_days: int = Field(90, ge=1, le=3650, description="pre-period of the covariates and of CUPED, in days")
    cost_per_treated_account: Union[NonNegativeInt, NonNegativeFloat] = Field(0, description=(
        "cost of treating one account, for targeting and ROI"))
    # non-randomised studies whose control arm shares one index date (e.g. the study start) while the
    # treated arm's is the adoption date: "matched" draws each control's index date from the treated
    # arm's dates (prescription-time-distribution matching) and keeps controls still paying then
    control_index_date: Literal["assigned", "matched"] = Field("assigned", description=(
        "assigned, or matched: non-users get index dates drawn from users' dates"))

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            allowed = set(cls.model_fields)
            unknown = sorted(set(data) - allowed)
            if unknown:
                raise ValueError(f"unknown key(s) {unknown}; allowed {sorted(allowed)}")
        return data

    @field_validator("outcomes", mode="before")
    @classmethod
    def _known_outcomes(cls, value: Any) -> Any:
        if isinstance(value, (list, tuple)):
            bad = sorted(set(value) - set(OUTCOME_KINDS))
            if bad:
                raise ValueError(f"unknown outcome(s) {bad}; known {sorted(OUTCOME_KINDS)}")
        return value

    @field_validator("primary_outcome", mode="before")
    @classmethod
    def _known_primary(cls, value: Any) -> Any:
        if isinstance(value, str) and value not in OUTCOME_KINDS:
            raise ValueError(f"unknown outcome {value!r}; known {sorted(OUTCOME_KINDS)}")
        return value

    @field_validator("expected_split")
    @classmethod
    def _split_sums_to_one(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        if value is not None and abs(sum(value.values()) - 1) > 0.01:
            raise ValueError(f"expected_split shares must sum to 1 (they sum to {sum(value.values()):g})")
        return value

    @property
    def primary(self) -> str:
        return self.primary_outcome if self.primary_outcome in self.outcomes else self.outcomes[0]


class ExperimentSettings(Experiment):
    """One experiment's settings as read: its entry over the defaults, with its id and whether it
    had an entry at all (``configured``; the report says when the defaults were used)."""

    experiment_id: str
    configured: bool = True


def settings_for(experiment_id: str, experiments: Mapping[str, Experiment | Mapping] | None,
                 defaults: Experiment | Mapping[str, Any] | None = None) -> ExperimentSettings:
    """The settings of ``experiment_id``: its entry in ``experiments`` over ``defaults``.

    An experiment with no entry gets the defaults and ``configured=False`` (the report says so).
    Unknown keys and outcomes are errors (:class:`SettingsError`): a typo must not silently change a
    readout.
    """
    experiments = experiments or {}
    merged: dict[str, Any] = {}
    for source, where in ((defaults, "experiment_defaults"), (experiments.get(experiment_id), experiment_id)):
        merged.update(_entry(source, where).model_dump(exclude_unset=True))
    return ExperimentSettings(experiment_id=experiment_id, configured=experiment_id in experiments, **merged)


def _entry(source: Experiment | Mapping | None, where: str) -> Experiment:
    if isinstance(source, Experiment):
        return source
    try:
        return Experiment.model_validate(dict(source or {}))
    except ValidationError as exc:
        reasons = "; ".join(str(e.get("msg", "invalid")).removeprefix("Value error, ") for e in exc.errors())
        raise SettingsError(f"experiments settings '{where}': {reasons}") from None


# params/04_uplift_experiments.yml: how to read the demo world's two studies
EXPERIMENTS: dict[str, dict[str, Any]] = {
    "exp_cs_outreach_2026": {
        "description": "Proactive CSM outreach",
        "randomized": True,
        "control_arm": "control",
        "treatment_arm": "treatment",
        "expected_split": {"control": 0.5, "treatment": 0.5},
        "outcomes": ["retention", "usage_change", "expansion_mrr"],
        "primary_outcome": "retention",
        "horizon_days": 182,
        "cuped_pre_days": 90,
        "cost_per_treated_account": 150,
    },
    "feature_workflow_automation": {
        "description": "Workflow automation feature",
        "randomized": False,
        "control_arm": "non_adopter",
        "treatment_arm": "adopter",
        "control_index_date": "matched",
        "outcomes": ["retention", "usage_change", "expansion_mrr"],
        "primary_outcome": "retention",
        "horizon_days": 365,
        "cuped_pre_days": 90,
        "cost_per_treated_account": 0,
    },
}
EXPERIMENT_DEFAULTS: dict[str, Any] = {
    "randomized": True,
    "control_arm": "control",
    "outcomes": ["retention", "usage_change", "expansion_mrr"],
    "primary_outcome": "retention",
    "horizon_days": 90,
    "cuped_pre_days": 90,
    "cost_per_treated_account": 0,
}


class Settings(ReportSettings):
    notebook = "04_uplift_experiments"
    title = "Experiments"

    reactivation_window_days: ReactivationWindowDays = 0
    experiment_id: str | None = Field(None, description=(
        "None: every experiment running in the month or ended within ended_within_months; "
        "an id: that experiment, whatever its dates"))
    ended_within_months: int = Field(6, ge=0, le=120, description=(
        "experiments whose outcome window (last assignment + horizon_days) closed within this many months "
        "before the report month are read"))
    # the defaults are the params file's plain mappings, validated into Experiment by pydantic
    # (validate_default) and written as they are into the notebook's parameters cell
    experiments: dict[str, Experiment] = Field(default_factory=lambda: copy.deepcopy(EXPERIMENTS),  # type: ignore[arg-type]
                                               description=(
        "per-experiment settings: experiment_id -> {description, randomized, control_arm, treatment_arm, "
        "expected_split, outcomes, primary_outcome, horizon_days, cuped_pre_days, cost_per_treated_account, "
        "control_index_date}"))
    experiment_defaults: Experiment = Field(default_factory=lambda: copy.deepcopy(EXPERIMENT_DEFAULTS),  # type: ignore[assignment]
                                            description=(
        "settings of an experiment found in the data but not listed in experiments (the report says so)"))
    confidence: Confidence = 0.95
    power: float = Field(0.8, gt=0, lt=1, description="power at which the minimum detectable effect is stated")
    srm_alpha: float = Field(0.001, gt=0, lt=0.5, description=(
        "sample-ratio mismatch flagged below this chi-square p-value"))
    segment_column: str = Field("segment", min_length=1, description="accounts column of the effect-by-segment tables")
    targeting_shares: list[float] = Field([0.1, 0.2, 0.3, 0.5, 1.0], min_length=1, description=(
        "shares of accounts treated in the targeting table"))
    uplift_models: list[UpliftModel] = Field(list(MODELS), description=(
        "uplift models compared (empty: no heterogeneous effects)"))
    uplift_folds: int = Field(3, ge=2, le=20, description="cross-fitting folds of the uplift models")
    uplift_n_estimators: int = Field(60, ge=1, le=5000, description=(
        "boosting rounds (and 2x forest trees) per model: speed vs accuracy"))
    event_study_periods: list[int] = Field([6, 6], min_length=2, max_length=2, description=(
        "30-day periods before and after adoption in the event study"))
    random_seed: int = Field(0, ge=0, description="seed of the cross-fitting splits and the matched index dates")

    @field_validator("targeting_shares")
    @classmethod
    def _shares(cls, value: list[float]) -> list[float]:
        if any(not 0 < s <= 1 for s in value):
            raise ValueError("every targeting share must be in (0, 1]")
        return value

    @field_validator("event_study_periods")
    @classmethod
    def _periods(cls, value: list[int]) -> list[int]:
        if any(p < 1 for p in value):
            raise ValueError("the event study needs at least one period before and one after")
        return value
