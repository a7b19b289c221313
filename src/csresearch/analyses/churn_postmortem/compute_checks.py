"""Checks: when did the health score or the risk list flag each account? The health score and the
risk model replayed at each past monthly check, each check seeing only data from before its date."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ...core import health, risk
from ...data import Dataset
from ...errors import NotEnoughData
from ...i18n import _
from ...period import DAYS_PER_MONTH


@dataclass
class Checks:
    """Monthly point-in-time checks of every paying account, as the CS team would have seen them.

    ``scores``: one row per account and check date (``observation_date``, the first day after each
    month: data strictly before it) with ``health_score, health_band, triggered, playbook`` (from
    :func:`csresearch.core.health.health_scores`), ``churn_probability`` (the risk model as it stood
    then), ``risk_threshold`` (the list's threshold at that check), ``flagged`` (band red or probability
    at or above the threshold), ``source``, ``trigger``.
    ``frame``: the :func:`csresearch.core.risk.observations` rows behind them (features + labels).
    ``models``: the risk model fitted at each check date, for :func:`csresearch.core.risk.at_risk_list`.
    ``fits``: the check dates at which the model was refitted, each with its
    :class:`csresearch.core.risk.Sampling` (None: fitted on every closed observation).
    ``health_scored``: False when none of the health score's components has its metric in the data
    (e.g. no usage events, tickets or surveys): then only the risk list flags. ``unmodelled``: the
    check dates at which no risk model stood (too little closed history), each with the reason.
    A row whose check had neither a health score nor a risk model has ``scored`` False: it cannot
    flag, so the audit does not count it as a check.
    """

    scores: pd.DataFrame
    frame: pd.DataFrame
    models: dict
    thresholds: dict
    refit_months: int
    fits: dict = field(default_factory=dict)
    max_train_rows: int | None = None
    health_scored: bool = True
    unmodelled: dict = field(default_factory=dict)


def enough_history(labels: pd.Series) -> None:
    """Raise :class:`NotEnoughData` unless ``labels`` (the known outcomes a model would train on) hold
    both classes: the one condition under which :meth:`csresearch.core.risk.ChurnModel.fit` cannot fit."""
    known = labels.dropna().astype(int).to_numpy()
    if not len(known):
        raise NotEnoughData(_("too little history for the risk model: no observation's outcome is known yet"))
    if len(np.unique(known)) < 2:  # the sentence a report shows, in the run's language
        template = (_("too little history for the risk model: the {n} observations whose outcome is known hold no "
                      "churn") if known[0] else
                    _("too little history for the risk model: the {n} observations whose outcome is known hold no "
                      "account that stayed"))
        raise NotEnoughData(template.format(n=f"{len(known):,}"))


def fit_risk_model(frame: pd.DataFrame, rows: np.ndarray, max_rows: int | None) -> risk.ChurnModel:
    """The risk model trained on the ``rows`` of ``frame`` whose outcome is known
    (:class:`NotEnoughData` when they do not hold a churn and a non-churn)."""
    enough_history(frame["churned"][np.asarray(rows, dtype=bool)])
    return risk.ChurnModel("gbm").fit(frame, max_rows=max_rows, rows=rows)


def run_checks(ds: Dataset, month: pd.Period | str, config, months_back: int = 12, horizon_days: int = 90,
               risk_threshold: float | None = None, refit_months: int = 6, training_months: int = 9,
               reactivation_window_days: int = 0, value_milestone: str = "first_value",
               max_train_rows: int | None = None) -> Checks:
    """Health score and risk-model checks at each month's observation date for the last ``months_back``
    months up to ``month``.

    The risk model (:class:`~csresearch.core.risk.ChurnModel`) is refitted at the report month,
    the month before, and every ``refit_months`` before that, each time only on observations whose
    ``horizon_days`` churn window had closed by then, so a past check never uses later outcomes
    (no leakage). ``training_months`` of history feed the earliest fit. ``risk_threshold`` None uses
    the at-risk list's own rule at each check: 1.5 x the churn rate of the observations known by then.
    ``max_train_rows``: a fit with more closed observations trains on all churned ones and a stratified,
    weighted sample of the others (:func:`csresearch.core.risk.training_sample`; ``Checks.fits`` says
    what was kept); None fits on every closed observation.
    """
    month = pd.Period(month, "M")
    horizon_months = int(np.ceil(horizon_days / DAYS_PER_MONTH))
    frame = risk.observations(ds, month, horizon_days=horizon_days,
                                 history_months=months_back + horizon_months + training_months,
                                 reactivation_window_days=reactivation_window_days, value_milestone=value_milestone)
    dates = sorted(frame["observation_date"].unique())
    last = pd.Timestamp(dates[-1])
    check_dates = [pd.Timestamp(d) for d in dates if pd.Timestamp(d) > last - pd.DateOffset(months=months_back + 1)]
    on_check = frame["observation_date"].isin(check_dates).to_numpy()
    # the health score only at the checks (the older observations only train the risk model)
    scores = health.scores_or_none(frame[on_check], config)
    health_scored = scores is not None
    if scores is None:  # no health-score metric in the data (e.g. no usage events): the risk list alone flags
        scores = pd.DataFrame({"health_score": np.nan, "health_band": None, "triggered": "",
                               "playbook": getattr(config, "default_playbook", "")}, index=frame.index[on_check])
    scores.index = frame.index[on_check]
    probability = pd.Series(np.nan, index=frame.index)
    threshold = pd.Series(np.nan, index=frame.index)
    models: dict[pd.Timestamp, object] = {}
    thresholds: dict[pd.Timestamp, float] = {}
    fits: dict[pd.Timestamp, object] = {}
    unmodelled: dict[pd.Timestamp, str] = {}
    model = None
    horizon = pd.Timedelta(days=horizon_days)
    label = frame["churned"]
    for i, when in enumerate(check_dates):
        from_end = len(check_dates) - 1 - i
        closed = (frame["observation_date"] + horizon <= when).to_numpy()
        known = label[closed].dropna()
        thresholds[when] = float(risk_threshold) if risk_threshold is not None else (
            1.5 * float(known.mean()) if len(known) else 0.2)
        threshold[frame["observation_date"] == when] = thresholds[when]
        if model is None or from_end <= 1 or from_end % max(refit_months, 1) == 0:
            # train only on the observations whose window had closed by this check (a row mask: the
            # frame, the largest object of the report, is not copied)
            try:
                model = fit_risk_model(frame, closed, max_train_rows)
                fits[when] = model.sampling
            except NotEnoughData as exc:  # too little closed history yet: no risk score at this check
                model = None
                unmodelled[when] = str(exc)
        if model is not None:
            rows = frame["observation_date"] == when
            probability[rows] = model.predict_proba(frame[rows])
            models[when] = model
    out = frame.loc[on_check, ["account_id", "observation_date"]].copy()
    for col in ("health_score", "health_band", "triggered", "playbook"):
        out[col] = scores[col]
    out["churn_probability"] = probability[on_check]
    out["risk_threshold"] = threshold[on_check]
    red = out["health_band"].eq("red")
    risky = out["churn_probability"].ge(out["risk_threshold"])
    out["flagged"] = red | risky
    out["scored"] = out["health_band"].notna() | out["churn_probability"].notna()
    out["source"] = np.select([red & risky, red, risky], ["health score and risk list", "health score", "risk list"], "")
    risk_text = "churn risk " + (100 * out["churn_probability"]).round(0).astype("Int64").astype(str) + "% (risk model)"
    out["trigger"] = np.where(red & risky, out["triggered"] + "; " + risk_text,
                              np.where(red, out["triggered"], np.where(risky, risk_text, "")))
    return Checks(out.reset_index(drop=True), frame, models, thresholds, refit_months, fits, max_train_rows,
                  health_scored, unmodelled)


def checked_list(checks: Checks, when: pd.Timestamp) -> pd.DataFrame | None:
    """The columns of an at-risk list that an alert compares (``account_id, health_band, health_score,
    churn_probability, risk_threshold``) for every account checked at ``when``, as the check saw them:
    the same numbers :func:`csresearch.core.risk.at_risk_list` gives with that check's model (probability
    rounded as the list rounds it). None when no risk model stood at that check."""
    when = pd.Timestamp(when)
    if when not in checks.models:
        return None
    rows = checks.scores[checks.scores["observation_date"] == when]
    out = rows[["account_id", "health_band", "health_score", "churn_probability", "risk_threshold"]].copy()
    out["churn_probability"] = out["churn_probability"].round(4)
    return out.reset_index(drop=True)
