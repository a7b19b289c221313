"""The churn-drivers report's one call: ``build(ds, month, settings, health_config=..., display_names=...)``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ...core import features as feat
from ...core.health import HealthConfig, load_health_config, scores_or_none
from ...core.risk import LABELS, ChurnModel, Sampling, at_risk_list, feature_groups, observations
from ...data import Dataset
from ...errors import NotEnoughData
from ...i18n import _, get_language
from . import words
from .compute_backtest import Backtest, calibration_table, check_model
from .compute_calllist import call_list, owner_files, owner_lists, owner_summary, renewals_calendar
from .compute_cohorts import (
    COHORT_ATTRIBUTES,
    COHORT_METRICS,
    categorical_cohorts,
    cohorts_table,
    decile_cohorts,
    independent_rows,
    loyal_vs_churned,
    thresholds,
)
from .compute_drivers import DRIVER_COLUMNS, driver_table, logistic_directions
from .compute_expansion import EXPANSION_COLUMNS, expansion_candidates
from .compute_health import health_list, validate_health_score
from .result import Result
from .settings import Settings

__all__ = ["Settings", "Result", "build"]


def build(ds: Dataset, month, settings: Settings, *, health_config: HealthConfig | str | Path,
          display_names: pd.Series | None = None) -> Result:
    """Everything the churn-drivers report shows, as of the report ``month``.

    ``health_config``: the health-score definition, loaded (:func:`load_health_config`) or the path of
    its YAML (the notebook resolves ``settings.health_score_file`` against the project).
    ``display_names``: account names as the report shows them (pseudonyms), indexed by account id.

    Each section degrades on its own: the model is checked by a time-ordered backtest when the history
    allows one, else across accounts (:func:`.compute_backtest.check_model`), else it is not fitted and
    the list ranks by the health score alone; a section that cannot be computed leaves its sentence in
    ``result.reasons``. Raises :class:`NotEnoughData` only when neither a model nor the health score
    can be computed.

    Scale caps (None: no cap): every model trains on at most ``max_train_rows`` rows (every positive
    row plus a stratified, weighted sample of the others); the driver importance uses at most
    ``importance_max_rows`` test rows; each bootstrap interval resamples at most ``bootstrap_max_rows``
    rows. ``result.sampling`` and :func:`.words.method_notes` say what was cut."""
    s = settings
    config = health_config if isinstance(health_config, HealthConfig) else load_health_config(health_config)
    horizon_days, lead_days, primary_model = s.horizon_days, s.lead_days, s.primary_model
    frame = observations(ds, month, horizon_days, lead_days, s.observation_every_months, s.history_months,
                         s.windows_days, s.reactivation_window_days, s.value_milestone)
    T = frame.attrs["as_of"]
    notes = [_("no `{table}` table: its features (and any health component using them) are left out").format(table=t)
             for t in frame.attrs.get("missing_tables", [])]
    reasons: dict[str, str] = {}
    scores = scores_or_none(frame, config)
    if scores is None:
        notes.append(_("health score skipped: none of its components' metrics is in the data"))
        reasons["health"] = _("none of its components' metrics is in the data")
    elif scores.attrs.get("skipped_components"):
        notes.append(_("health components skipped for lack of data: {components}").format(
            components=_(", ").join(c if get_language() == "en" else words.component_label(c)  # en: as before
                                    for c in scores.attrs["skipped_components"])))
    model_settings = s.model_settings
    kinds = tuple(dict.fromkeys([primary_model, "logistic", "gbm"]))
    groups = feature_groups(frame)
    bt: Backtest | None = None
    try:
        bt = check_model(frame, kinds, s.backtest_folds, model_settings, s.bootstrap_resamples, s.max_train_rows,
                         groups, s.bootstrap_max_rows)
    except NotEnoughData as exc:
        reasons["model"] = str(exc)
    calibration, table = pd.DataFrame(), pd.DataFrame(columns=list(DRIVER_COLUMNS))
    if bt is not None:
        pooled = bt.predictions[bt.predictions["model"] == primary_model]
        calibration = calibration_table(pooled["observed"], pooled["predicted"])
        table = driver_table(bt.models[primary_model], bt.test, s.permutation_repeats, max_rows=s.importance_max_rows,
                             observed=independent_rows(frame))
        table.insert(table.columns.get_loc("risk_at_better") + 1, "statement",
                     words.driver_statements(table, horizon_days))
        if "logistic" in bt.models:
            coef = logistic_directions(bt.models["logistic"])
            table["logistic_log_odds_per_sd"] = table["driver"].map(coef)
    metrics = [m for m in COHORT_METRICS if m in frame]
    attributes = [a for a in COHORT_ATTRIBUTES if a in frame]
    deciles = decile_cohorts(frame, metrics)
    categories = categorical_cohorts(frame, attributes)
    found = thresholds(frame, metrics)
    # tenure defines "loyal", so it is not compared; per-event metrics are summarised by the usage totals
    profile_metrics = [m for m in feat.numeric_features(frame)
                       if m not in (*LABELS, *feat.SCORE_ONLY, "tenure_days") and not m.startswith("usage_")]
    profile = loyal_vs_churned(ds, frame, profile_metrics, s.loyal_tenure_days, s.reactivation_window_days)
    validation = None
    if scores is not None:
        try:
            validation = validate_health_score(frame, scores, config, n_resamples=s.bootstrap_resamples,
                                               bootstrap_max_rows=s.bootstrap_max_rows)
        except NotEnoughData as exc:
            reasons["health"] = str(exc)
    sampling: dict[str, Sampling | None] = {}
    if bt is not None:
        closed = (frame["observation_date"] + pd.Timedelta(days=horizon_days + lead_days) <= T).to_numpy()
        final = ChurnModel(primary_model, **model_settings.get(primary_model, {}))
        final.fit(frame, max_rows=s.max_train_rows, groups=groups if final.group_threshold == 0.7 else None,
                  rows=closed)
        at_risk = at_risk_list(ds, T, horizon_days, lead_days, config, final, frame, display_names)
        sampling = {"final": final.sampling, **{f"backtest {k}": m.sampling for k, m in bt.models.items()}}
    elif scores is not None:
        at_risk = health_list(ds, T, frame, config, display_names)
    else:
        raise NotEnoughData(f"No churn model ({reasons['model']}) and no health score (none of its metrics is in "
                            "the data): nothing to rank the accounts by.")
    at_risk = call_list(at_risk, ds, T)
    lists = owner_lists(at_risk)
    files = owner_files(lists)
    renewals = renewals_calendar(at_risk, T, s.renewals_window_days)
    try:
        expansion = expansion_candidates(ds, T, frame, scores, None, horizon_days, lead_days, display_names,
                                         max_rows=s.max_train_rows, groups=groups)
        expansion.insert(expansion.columns.get_loc("products"), "suggested_play", words.suggested_plays(expansion))
        sampling["expansion"] = expansion.attrs.get("sampling")
    except NotEnoughData as exc:
        expansion = pd.DataFrame(columns=list(EXPANSION_COLUMNS))
        reasons["expansion"] = str(exc)
        notes.append(_("expansion list skipped: {why}").format(why=exc))
    importance_rows = ((table.attrs.get("test_rows", len(bt.test)), table.attrs.get("rows_used", len(bt.test)))
                       if bt is not None else None)
    independent = independent_rows(frame)
    return Result(
        month=pd.Period(month, freq="M"), settings=s, as_of=T, frame=frame, config=config, scores=scores,
        backtest=bt, calibration=calibration, drivers=table, deciles=deciles, categories=categories,
        cohorts=cohorts_table(deciles, categories),
        base_rate=float(independent["churned"].mean()) if len(independent) else float("nan"),
        thresholds=found, profile=profile, validation=validation, at_risk=at_risk, owner_lists=lists,
        owner_files=files, owners=owner_summary(lists, files, renewals), renewals=renewals, expansion=expansion,
        notes=notes, sampling=sampling, importance_rows=importance_rows, reasons=reasons,
    )
