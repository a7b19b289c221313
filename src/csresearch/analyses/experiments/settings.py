"""Settings of the experiments report (notebooks/04_uplift_experiments.ipynb).

Each experiment is read with its entry of ``experiments`` laid over ``experiment_defaults``; both are
validated here (an unknown key or outcome, or an intended split not summing to 1, is an error: a typo
must not silently change a readout). The defaults are the ones of params/04_uplift_experiments.yml.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
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
from ...i18n import N_, _
from ..base import Confidence, ReactivationWindowDays, ReportSettings

# the outcomes every experiment can read: name -> (kind, binary?, label template, unit, unit label)
# (marked for the catalog; :func:`builtin_spec` writes the label in the run's language)
BUILTIN_OUTCOMES: dict[str, tuple[bool, str, str, str]] = {
    "retention": (True, N_("{h}-day retention"), "points", ""),
    "usage_change": (False, N_("change in usage over {h} days (events per 30 days)"), "number",
                     N_("events per 30 days")),
    "expansion_mrr": (False, N_("expansion MRR within {h} days (per account)"), "money", N_("MRR per account")),
}
EVENT_KINDS = ("yes_no", "count", "amount")
UpliftModel = Literal["S-learner", "T-learner", "X-learner", "R-learner", "DR-learner", "uplift forest"]
MODELS: tuple[UpliftModel, ...] = ("S-learner", "T-learner", "X-learner", "R-learner", "DR-learner", "uplift forest")


@dataclass(frozen=True)
class OutcomeSpec:
    """What one outcome of one experiment measures and how the report writes it.

    ``kind``: retention, usage_change, expansion_mrr, or an event outcome's yes_no / count / amount;
    ``unit``: how an effect is written (points for a yes/no outcome, number or money);
    ``unit_label`` follows a number ("events per 30 days", "visits", "MRR per account")."""

    name: str
    kind: str
    label: str
    binary: bool
    unit: str
    unit_label: str
    horizon_days: int
    events: tuple[str, ...] = ()

    @property
    def column(self) -> str:
        """Its column in the experiment's frame (an event outcome's is prefixed, so that no name
        can clash with the frame's other columns)."""
        return self.name if self.kind in BUILTIN_OUTCOMES else f"outcome__{self.name}"


class EventOutcome(BaseModel):
    """An outcome counted from ``usage_events`` in the ``horizon_days`` after each account's
    assignment: yes_no (did the account do any of ``events``), count (how many) or amount (the sum of
    their ``quantity``, 1 where it is missing)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["yes_no", "count", "amount"] = Field(description="yes_no, count or amount")
    events: tuple[str, ...] = Field(min_length=1, description="the event_name values counted")
    horizon_days: int | None = Field(None, ge=1, le=3650, description=(
        "days after assignment the events are counted over (None: the experiment's horizon_days)"))
    label: str = Field("", description="how the report names the outcome (empty: generated from the events)")
    unit: str = Field("", description=(
        "a count's or amount's unit as the report writes it ('visits'); 'money' (or '$') writes money in the run's "
        "currency"))

    def spec(self, name: str, experiment_horizon_days: int) -> OutcomeSpec:
        # a label or unit the settings give is the user's own words, shown as written; a generated one
        # is in the run's language
        h = self.horizon_days or experiment_horizon_days
        what = _(" or ").join(e.replace("_", " ") for e in self.events)
        if self.kind == "yes_no":
            label = self.label or _("share of accounts with a {events} within {h} days").format(events=what, h=h)
            return OutcomeSpec(name, "yes_no", label, True, "points", "", h, self.events)
        money = self.unit in ("$", "money")  # either way in the run's currency (text.money): ¥ for JPY
        if self.kind == "count":
            label = self.label or _("{events} events per account within {h} days").format(events=what, h=h)
            unit_label = (_("{unit} per account").format(unit=self.unit) if self.unit
                          else _("{events} events per account").format(events=what))
        else:
            label = self.label or _("{events} amount per account within {h} days").format(events=what, h=h)
            unit_label = _("per account") if money or not self.unit else _("{unit} per account").format(unit=self.unit)
        return OutcomeSpec(name, self.kind, label, False, "money" if money else "number", unit_label, h, self.events)


def builtin_spec(name: str, horizon_days: int) -> OutcomeSpec:
    binary, template, unit, unit_label = BUILTIN_OUTCOMES[name]
    return OutcomeSpec(name, name, _(template).format(h=horizon_days), binary, unit, _(unit_label) if unit_label else "",
                       horizon_days)


class Experiment(BaseModel):
    """How to read one experiment: an entry of ``experiments`` (or ``experiment_defaults``).

    Only the keys an entry sets override the defaults (``model_fields_set``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = Field("", description="the name the report uses (empty: the experiment id)")
    randomized: bool = Field(True, description="true: a randomised experiment; false: users vs non-users")
    control_arm: str = Field("control", min_length=1, description="the arm every other arm is compared with")
    treatment_arm: Union[str, tuple[str, ...], None] = Field(None, description=(
        "the treated arm, or a list of treated arms each compared with the control (None: every arm but "
        "the control)"))
    pooled_contrast: bool = Field(False, description=(
        "also compare all treatment arms together with the control (randomised, several arms)"))
    expected_split: dict[str, NonNegativeFloat] | None = Field(None, description=(
        "arm -> planned share, summing to 1, for the sample-ratio check (None: equal split)"))
    outcomes: tuple[str, ...] = Field(("retention", "usage_change", "expansion_mrr"), min_length=1, description=(
        "outcomes read: retention, usage_change, expansion_mrr or a name of event_outcomes"))
    primary_outcome: str = Field("retention", description="the outcome the headline and the KPI report")
    event_outcomes: dict[str, EventOutcome] = Field(default_factory=dict, description=(
        "outcomes counted from usage_events: name -> {kind: yes_no | count | amount, events, horizon_days, label, "
        "unit}"))
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

    @field_validator("treatment_arm", mode="before")
    @classmethod
    def _arm_list(cls, value: Any) -> Any:
        if isinstance(value, list):
            value = tuple(value)
        if isinstance(value, tuple) and (not value or len(set(value)) < len(value)):
            raise ValueError("treatment_arm: a list of distinct arms, at least one")
        return value

    @field_validator("expected_split")
    @classmethod
    def _split_sums_to_one(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        if value is not None and abs(sum(value.values()) - 1) > 0.01:
            raise ValueError(f"expected_split shares must sum to 1 (they sum to {sum(value.values()):g})")
        return value

    @model_validator(mode="after")
    def _known_outcomes(self) -> "Experiment":
        clash = sorted(set(self.event_outcomes) & set(BUILTIN_OUTCOMES))
        if clash:
            raise ValueError(f"event_outcomes {clash} would hide the built-in outcome of that name; rename them")
        known = set(BUILTIN_OUTCOMES) | set(self.event_outcomes)
        bad = sorted(set(self.outcomes) - known)
        if bad:
            raise ValueError(f"unknown outcome(s) {bad}; known {sorted(known)} (an event outcome is defined in the "
                             "same entry's event_outcomes)")
        if self.primary_outcome not in known:
            raise ValueError(f"unknown outcome {self.primary_outcome!r}; known {sorted(known)}")
        if self.control_arm in self.treatment_arms_listed:
            raise ValueError(f"the control arm {self.control_arm!r} cannot also be a treatment arm")
        return self

    @property
    def treatment_arms_listed(self) -> tuple[str, ...]:
        """The treatment arms the settings name (empty: every arm but the control)."""
        arm = self.treatment_arm
        return () if arm is None else (arm,) if isinstance(arm, str) else tuple(arm)

    @property
    def primary(self) -> str:
        return self.primary_outcome if self.primary_outcome in self.outcomes else self.outcomes[0]

    def outcome(self, name: str) -> OutcomeSpec:
        """What outcome ``name`` measures in this experiment (its label, unit and horizon)."""
        if name in self.event_outcomes:
            return self.event_outcomes[name].spec(name, self.horizon_days)
        return builtin_spec(name, self.horizon_days)


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
EXPERIMENTS["exp_email_campaign"] = {  # the synthetic world's option: build_world(email_experiment=True)
    "description": "E-mail campaign",
    "randomized": True,
    "control_arm": "no_email",
    "outcomes": ["visited", "purchased", "visits", "spend", "retention"],
    "primary_outcome": "visited",
    "event_outcomes": {
        "visited": {"kind": "yes_no", "events": ["visit"], "label": "visit rate within 30 days"},
        "purchased": {"kind": "yes_no", "events": ["purchase"], "label": "purchase rate within 30 days"},
        "visits": {"kind": "count", "events": ["visit"], "unit": "visits", "label": "visits within 30 days"},
        "spend": {"kind": "amount", "events": ["purchase"], "unit": "$", "label": "spend within 30 days"},
    },
    "horizon_days": 30,
    "cuped_pre_days": 90,
    "cost_per_treated_account": 0,
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
        "per-experiment settings: experiment_id -> {description, randomized, control_arm, treatment_arm (one arm or a "
        "list), pooled_contrast, expected_split, outcomes, primary_outcome, event_outcomes, horizon_days, "
        "cuped_pre_days, cost_per_treated_account, control_index_date}"))
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
