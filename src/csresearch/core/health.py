"""The health score: a transparent 0-100 score a CSM can explain to a customer.

Weighted components with thresholds, bands and a playbook per trigger, read from the project's
``params/health_score.yml`` (validated with pydantic; a bad file names the component, the field and
the rule). :func:`health_scores` scores point-in-time features; the drivers report validates the
score against realised churn, the postmortem replays it at past checks.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..errors import HealthConfigError
from ..i18n import N_, _
from ..text import format_each, num
from . import features as feat

BANDS = ("green", "yellow", "red")

# The reasons and playbooks shipped in params/health_score.yml (and the built-in default playbook), marked
# for the message catalog: a reason or playbook of a team's file that equals one of these reads from the
# catalog in the run's language; any other text (a team's own, in any language) is shown as written.
# tests/test_drivers.py checks this list against the shipped file.
SHIPPED_TEXTS = (
    N_("Healthy: keep the usual cadence."),
    N_("No health-score trigger: keep the usual cadence."),
    N_("the term contract comes up for renewal within three months"),
    N_("Renewal preparation: open the renewal conversation now; confirm the value delivered, the decision maker and "
       "the budget."),
    N_("low product usage per seat"),
    N_("Value review: show the account what peers get from the product; set up the two workflows they are missing."),
    N_("usage is falling against the 30 days before"),
    N_("Executive check-in within a week: ask what changed (team, budget, a competitor) before renewal talk."),
    N_("nobody has used the product recently"),
    N_("Re-engagement: call the champion; if they left, find the new owner."),
    N_("slow time to first value (or not reached yet)"),
    N_("Onboarding rescue: restart onboarding with a named value milestone and a date."),
    N_("several high-priority tickets in the last 90 days"),
    N_("Support escalation: review the open and recent high-priority tickets with support and product; call with a "
       "fix plan."),
    N_("low NPS answers"),
    N_("Detractor follow-up: call the respondents within two weeks, log the reasons, close the loop."),
)


# ==================================================================================================
# Health-score configuration
# ==================================================================================================
class _Component(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    metric: str
    bad_when: Literal["below", "above"]
    red: float
    green: float
    weight: float = Field(gt=0)
    playbook: str = Field(min_length=1)
    reason: str | None = None
    missing_score: float = Field(default=50.0, ge=0, le=100)

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, metric: str) -> str:
        if not feat.is_known_feature(metric) or metric in feat.CATEGORICAL:
            close = difflib.get_close_matches(metric, [m for m in feat.FEATURES if m not in feat.CATEGORICAL], n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ValueError(f"unknown metric '{metric}'{hint}; metrics are the numeric columns of "
                             "csresearch.features.FEATURES or usage_<event>_per_seat / _per_active_user")
        return metric

    @model_validator(mode="after")
    def _thresholds_in_order(self):
        if self.bad_when == "below" and not self.red < self.green:
            raise ValueError(f"bad_when 'below' needs red < green (got red {self.red}, green {self.green})")
        if self.bad_when == "above" and not self.red > self.green:
            raise ValueError(f"bad_when 'above' needs red > green (got red {self.red}, green {self.green})")
        return self


class _Bands(BaseModel):
    model_config = ConfigDict(extra="forbid")
    green: float = Field(default=70, ge=0, le=100)
    yellow: float = Field(default=40, ge=0, le=100)

    @model_validator(mode="after")
    def _ordered(self):
        if not self.yellow < self.green:
            raise ValueError(f"bands need yellow < green (got yellow {self.yellow}, green {self.green})")
        return self


class _HealthFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    bands: _Bands = _Bands()
    default_playbook: str = "Healthy: keep the usual cadence."
    components: list[_Component] = Field(min_length=1)

    @field_validator("components")
    @classmethod
    def _unique_names(cls, components: list[_Component]) -> list[_Component]:
        names = [c.name for c in components]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"component names must be unique; repeated: {dupes}")
        return components


@dataclass(frozen=True)
class HealthComponent:
    name: str
    metric: str
    bad_when: str
    red: float
    green: float
    weight: float
    playbook: str
    reason: str
    missing_score: float = 50.0

    def score(self, values: pd.Series) -> pd.Series:
        """0 at (or beyond) ``red``, 100 at (or beyond) ``green``, linear between; missing -> missing_score."""
        raw = (values.astype(float) - self.red) / (self.green - self.red)
        return (raw.clip(0, 1) * 100).fillna(self.missing_score)

    def triggered(self, values: pd.Series) -> pd.Series:
        v = values.astype(float)
        return (v <= self.red) if self.bad_when == "below" else (v >= self.red)


@dataclass(frozen=True)
class HealthConfig:
    components: tuple[HealthComponent, ...]
    green_from: float = 70.0
    yellow_from: float = 40.0
    default_playbook: str = "Healthy: keep the usual cadence."
    source: str = "<dict>"

    @property
    def weights(self) -> pd.Series:
        w = pd.Series({c.name: c.weight for c in self.components}, dtype=float)
        return w / w.sum()

    def band(self, score: pd.Series) -> pd.Series:
        return pd.Series(np.select([score >= self.green_from, score >= self.yellow_from], ["green", "yellow"], "red"),
                         index=score.index)


def _config_error(file: str, raw: Any, exc: ValidationError) -> HealthConfigError:
    err = exc.errors()[0]
    loc = list(err["loc"])
    component, field_name = None, None
    if loc and loc[0] == "components" and len(loc) > 1 and isinstance(loc[1], int):
        index = loc[1]
        try:
            component = str(raw["components"][index].get("name") or f"#{index + 1}")
        except (KeyError, IndexError, TypeError, AttributeError):
            component = f"#{index + 1}"
        field_name = str(loc[2]) if len(loc) > 2 else None
    elif loc:
        field_name = ".".join(str(x) for x in loc)
    rule = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        rule = "unknown field (typo?)"
    if field_name is None and component is not None and "red" in rule:
        field_name = "red/green"
    return HealthConfigError(file, component, field_name, rule)


def parse_health_config(raw: Any, source: str = "<dict>") -> HealthConfig:
    """Validate a health-score definition already read into Python (see ``params/health_score.yml``)."""
    if not isinstance(raw, dict):
        raise HealthConfigError(source, None, None, "expected a mapping with 'components' (and 'bands')")
    try:
        parsed = _HealthFile.model_validate(raw)
    except ValidationError as exc:
        raise _config_error(source, raw, exc) from None
    comps = tuple(
        HealthComponent(c.name, c.metric, c.bad_when, c.red, c.green, c.weight, c.playbook,
                        c.reason or feat.describe(c.metric), c.missing_score)
        for c in parsed.components
    )
    return HealthConfig(comps, parsed.bands.green, parsed.bands.yellow, parsed.default_playbook, source)


def load_health_config(path: str | Path) -> HealthConfig:
    """Read and validate a health-score YAML (a project's ``params/health_score.yml``, resolved by the
    notebook session: the package never looks for the project's files itself).

    A bad file raises :class:`HealthConfigError` naming the file, the component, the field and the
    rule, e.g. ``params/health_score.yml: component 'seat_adoption', field 'metric': unknown metric
    'active_user_per_seat' (did you mean 'active_users_per_seat'?)``.
    """
    if path is None:
        raise HealthConfigError("-", None, None, "no health-score file given (health_score_file)")
    path = Path(path)
    if not path.exists():
        raise HealthConfigError(str(path), None, None, "file does not exist")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise HealthConfigError(str(path), None, None, f"not valid YAML: {exc}") from None
    return parse_health_config(raw, str(path))


# ==================================================================================================
# Health score
# ==================================================================================================
def health_scores(features: pd.DataFrame, config: HealthConfig) -> pd.DataFrame:
    """The health score of every row of ``features`` (one row per account and observation date).

    Returns ``account_id``, ``observation_date``, ``health_score`` (0-100, weighted mean of the
    component scores), ``health_band`` (green / yellow / red), ``triggered`` (the components at or
    beyond their red threshold, in plain words with the value), ``playbook`` (the playbook of the
    heaviest triggered component, else the default), then one ``score_<component>`` column each.
    Components whose metric is absent (optional table missing) are skipped and listed in
    ``result.attrs["skipped_components"]``; the remaining weights are re-normalised.
    """
    used = [c for c in config.components if c.metric in features.columns]
    skipped = [c.name for c in config.components if c.metric not in features.columns]
    if not used:
        raise HealthConfigError(config.source, None, "components",
                                "none of the components' metrics is in the data (missing optional tables?)")
    total_weight = sum(c.weight for c in used)
    out = features[["account_id", "observation_date"]].copy()
    scores = pd.DataFrame({c.name: c.score(features[c.metric]) for c in used}, index=features.index)
    weights = np.array([c.weight / total_weight for c in used])
    out["health_score"] = (scores.to_numpy() @ weights).round(1)
    out["health_band"] = config.band(out["health_score"])

    # plain-word triggers, heaviest first; the playbook is the heaviest triggered component's
    fired = pd.DataFrame({c.name: c.triggered(features[c.metric]).to_numpy() for c in used}, index=features.index)
    by_weight = sorted(used, key=lambda c: -c.weight)
    joined = np.full(len(features), "", dtype=object)
    for c in by_weight:  # "; "-joined, heaviest first; each value formatted once, only where it fired
        hit = np.flatnonzero(fired[c.name].to_numpy())
        if not len(hit):
            continue
        values = features[c.metric].iloc[hit].astype(float)
        unit, reason = _short(feat.describe(c.metric)), configured_text(c.reason)
        # "low NPS answers (NPS answer: 4)"; the "; " between triggers stays (the monthly brief splits on it)
        text = format_each(values, lambda v: _("{reason} ({metric}: {value})").format(reason=reason, metric=unit,
                                                                                      value=num(v)))
        before = joined[hit]
        joined[hit] = np.where(before == "", text, before + "; " + text)
    out["triggered"] = joined
    playbook = pd.Series(configured_text(config.default_playbook), index=features.index)
    for c in reversed(by_weight):  # the heaviest triggered component is written last
        playbook = playbook.mask(fired[c.name], configured_text(c.playbook))
    out["playbook"] = playbook
    for c in used:
        out[f"score_{c.name}"] = scores[c.name].round(1)
    out.attrs["skipped_components"] = skipped
    return out.reset_index(drop=True)


def configured_text(text: str) -> str:
    """A reason or playbook of the health-score file as a report shows it: the shipped English defaults
    (:data:`SHIPPED_TEXTS`) in the run's language, anything else (a team's own wording) as written."""
    return _(text) if text else text  # never _(""): gettext's "" is the catalog's header


def _short(label: str) -> str:
    """A metric's label without its parenthetical window: 'events per seat (last 30 days)' -> 'events per seat'
    (full-width brackets too: 'シートあたりイベント数（直近30日）' -> 'シートあたりイベント数')."""
    import re

    return re.sub(r"\s*[(（][^)）]*[)）]", "", label).strip()


def scores_or_none(features: pd.DataFrame, config: HealthConfig) -> pd.DataFrame | None:
    """:func:`health_scores`, or None when none of the components' metrics is in the data."""
    if not any(c.metric in features.columns for c in config.components):
        return None
    return health_scores(features, config)

