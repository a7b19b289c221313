"""How far to trust the risk model: a time-ordered backtest (train on earlier months, test on later
ones) with bootstrap intervals, and the calibration of its predictions. When the history is too short
(or its churn too bunched) for a time-ordered backtest, the model is checked across accounts instead
(cross-validation grouped by account), and the result says why."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from ...core.risk import ChurnModel, _threads, feature_groups
from ...core.stats import METRICS, metric_interval, wilson_interval
from ...errors import NotEnoughData
from ...i18n import _, ngettext
from ...text import day as _day

ModelKind = Literal["gbm", "logistic"]
CheckKind = Literal["time-ordered", "cross-sectional"]

# Below this many churners (or stayers) among the rows a metric is computed on, no bootstrap interval
# is drawn: the resamples would often hold no churner at all, and the percentiles of the rest would
# pretend to a precision the data does not have.
MIN_EVENTS_FOR_INTERVAL = 10
# A cross-sectional check needs at least this many churned (and as many retained) labelled rows.
MIN_EVENTS_CROSS_SECTIONAL = 10
# the columns of model_backtest.csv
BACKTEST_COLUMNS = ["test_date", "model", "test_accounts", "churners", "churn_rate",
                    *[f"{m}{x}" for m in METRICS for x in ("", "_low", "_high")]]


@dataclass
class Backtest:
    """How the model was checked: ``metrics`` (one row per fold and model, plus ``pooled``),
    ``predictions`` (every test row's prediction) and the last fold's ``models`` and ``test`` rows.

    ``kind``: ``time-ordered`` (trained on earlier months, tested on later ones) or
    ``cross-sectional`` (trained on some accounts, tested on the others, months mixed), and then
    ``why_not_time_ordered`` holds the sentence saying why no time-ordered backtest was possible."""

    metrics: pd.DataFrame
    predictions: pd.DataFrame
    models: dict[str, ChurnModel]
    test: pd.DataFrame
    test_dates: list[pd.Timestamp]
    groups: dict[str, list[str]] | None = None
    bootstrap_max_rows: int | None = None
    kind: CheckKind = "time-ordered"
    why_not_time_ordered: str | None = None

    def pooled(self, model: str) -> pd.Series | None:
        """The pooled (every fold) metrics row of ``model``; None when it was not backtested."""
        rows = self.metrics[(self.metrics["test_date"] == "pooled") & (self.metrics["model"] == model)]
        return rows.iloc[0] if len(rows) else None


def test_dates_for(frame: pd.DataFrame, folds: int = 3, target: str = "churned") -> list[pd.Timestamp]:
    """The last ``folds`` observation dates with complete labels, spaced so that their label windows
    do not overlap (each fold's test rows are then about different months)."""
    horizon = int(frame.attrs.get("horizon_days", 90)) + int(frame.attrs.get("lead_days", 0))
    labelled = sorted(frame.loc[frame[target].notna(), "observation_date"].unique(), reverse=True)
    chosen: list[pd.Timestamp] = []
    for d in labelled:
        d = pd.Timestamp(d)
        if not chosen or (chosen[-1] - d).days >= horizon:
            chosen.append(d)
        if len(chosen) == folds:
            break
    return sorted(chosen)


def why_no_model(frame: pd.DataFrame, target: str = "churned") -> str | None:
    """Why no model at all can be fitted on ``frame`` (no closed window, no churn, no stayer), or None."""
    horizon = int(frame.attrs.get("horizon_days", 90)) + int(frame.attrs.get("lead_days", 0))
    labelled = frame[frame[target].notna()]
    if labelled.empty:
        first = pd.Timestamp(frame["observation_date"].min()) + pd.Timedelta(days=horizon)
        return _("no observation's {days}-day churn window has closed yet (the first closes on {date})").format(
            days=horizon, date=_day(first))
    churns = int((labelled[target] == 1).sum())
    if churns == 0:
        return _("no account churned within {days} days of any of the {n} labelled observations").format(
            days=horizon, n=f"{len(labelled):,}")
    if churns == len(labelled):
        return _("every one of the {n} labelled observations churned: there is no stayer to compare with").format(
            n=f"{len(labelled):,}")
    return None


def why_no_time_ordered(frame: pd.DataFrame, min_train_events: int = 20, target: str = "churned") -> str:
    """The sentence saying why no time-ordered backtest can run on ``frame``: no model at all
    (:func:`why_no_model`), churn bunched on one date, or too few churns before any test date."""
    basic = why_no_model(frame, target)
    if basic:
        return basic
    horizon = int(frame.attrs.get("horizon_days", 90)) + int(frame.attrs.get("lead_days", 0))
    labelled = frame[frame[target].notna()]
    churned = labelled[labelled[target] == 1]
    best = 0
    for d in test_dates_for(frame, folds=10_000, target=target):
        closed = (labelled["observation_date"] + pd.Timedelta(days=horizon) <= d).to_numpy()
        best = max(best, int((closed & (labelled[target] == 1).to_numpy()).sum()))
    dates = churned["churn_date"].dropna() if "churn_date" in churned else pd.Series(dtype="datetime64[ns]")
    if len(dates):
        top = dates.value_counts()
        if top.iloc[0] >= 0.8 * len(dates):
            text = (_("all {n} churned observations churned on one date ({date}), so no model can be trained on earlier "
                      "months and tested on later ones") if top.iloc[0] == len(dates) else
                    _("{k} of the {n} churned observations churned on one date ({date}), so no model can be trained "
                      "on earlier months and tested on later ones"))
            return text.format(k=f"{top.iloc[0]:,}", n=f"{len(dates):,}", date=_day(top.index[0]))
    if best == 0:
        return _("no churned observation precedes any test month, and a model tested on later months needs {needed} "
                 "before it").format(needed=min_train_events)
    return ngettext("at most {n} churned observation precedes any test month, and a model tested on later months "
                    "needs {needed} before it",
                    "at most {n} churned observations precede any test month, and a model tested on later months "
                    "needs {needed} before it", best).format(n=f"{best:,}", needed=min_train_events)


def _fold_metrics(predictions: pd.DataFrame, n_resamples: int, bootstrap_max_rows: int | None,
                  labels: list[tuple[str, pd.DataFrame]]) -> pd.DataFrame:
    """Metrics (with 95% bootstrap intervals where there are enough churners) per fold label and model."""
    rows = []
    for label, part in [*labels, ("pooled", predictions)]:
        for kind, sub in part.groupby("model", sort=False):
            y, p = sub["observed"].to_numpy(), sub["predicted"].to_numpy()
            churners = int(y.sum())
            row = {"test_date": label, "model": kind, "test_accounts": len(sub), "churners": churners,
                   "churn_rate": float(y.mean())}
            enough = min(churners, len(y) - churners) >= MIN_EVENTS_FOR_INTERVAL
            for name, fn in METRICS.items():
                if enough:
                    value, low, high = metric_interval(fn, y, p, n_resamples, max_rows=bootstrap_max_rows)
                else:
                    value, low, high = fn(y, p), np.nan, np.nan
                row.update({name: value, f"{name}_low": low, f"{name}_high": high})
            rows.append(row)
    return pd.DataFrame(rows)


def backtest(frame: pd.DataFrame, kinds: tuple[ModelKind, ...] = ("logistic", "gbm"), folds: int = 3,
             model_settings: dict | None = None, target: str = "churned", n_resamples: int = 300,
             min_train_events: int = 20, max_rows: int | None = None,
             groups: dict[str, list[str]] | None = None,
             bootstrap_max_rows: int | None = None) -> Backtest:
    """Train on earlier observations, test on later ones, for each of ``folds`` test dates.

    For test date d the training rows are those whose label window closed by d (observation date +
    lead + horizon <= d), so nothing the model learns comes from after d; the test rows are every
    account observed at d. Metrics: AUC, PR-AUC, top-decile lift, Brier score, each with a 95%
    bootstrap interval over the test accounts (resampling at most ``bootstrap_max_rows`` of them,
    :func:`~csresearch.core.stats.metric_interval`) when they hold at least
    :data:`MIN_EVENTS_FOR_INTERVAL` churners and as many stayers. The ``pooled`` rows pool every
    fold's predictions.

    Each fit trains on at most ``max_rows`` rows (:func:`~csresearch.core.risk.training_sample`: every
    churned row, a stratified weighted sample of the others); test metrics use every test row. The
    correlated feature groups are computed once for the frame (:func:`feature_groups`) unless ``groups``
    is given. Raises :class:`NotEnoughData` (:func:`why_no_time_ordered`) when no fold has enough
    labelled history.
    """
    settings = dict(model_settings or {})
    window = pd.Timedelta(days=int(frame.attrs.get("horizon_days", 90)) + int(frame.attrs.get("lead_days", 0)))
    known = frame[target].notna().to_numpy()
    y_all = frame[target].to_numpy(dtype=float)
    obs_date = frame["observation_date"]
    if groups is None:
        groups = feature_groups(frame)
    models: dict[str, ChurnModel] = {}
    preds, test = [], frame.iloc[:0]
    with _threads():
        for d in test_dates_for(frame, folds, target):
            train = known & (obs_date + window <= d).to_numpy()  # masks: no copy of the training rows
            in_test = known & (obs_date == d).to_numpy()
            if y_all[train].sum() < min_train_events or len(np.unique(y_all[in_test])) < 2:
                continue
            test = frame[in_test]
            for kind in kinds:
                model = ChurnModel(kind, target=target, **settings.get(kind, {}))
                shared = groups if model.group_threshold == 0.7 else None  # feature_groups' threshold
                model.fit(frame, max_rows=max_rows, groups=shared, rows=train)
                models[kind] = model
                preds.append(pd.DataFrame({
                    "test_date": d, "model": kind, "account_id": test["account_id"].to_numpy(),
                    "observed": test[target].to_numpy(), "predicted": model.predict_proba(test)}))
    if not preds:
        raise NotEnoughData(why_no_time_ordered(frame, min_train_events, target))
    predictions = pd.concat(preds, ignore_index=True)
    labels = [(str(pd.Timestamp(d).date()), g) for d, g in predictions.groupby("test_date")]
    metrics = _fold_metrics(predictions, n_resamples, bootstrap_max_rows, labels)
    used_dates = sorted(predictions["test_date"].unique())
    return Backtest(metrics, predictions, models, test, [pd.Timestamp(d) for d in used_dates], groups,
                    bootstrap_max_rows)


def cross_validated(frame: pd.DataFrame, kinds: tuple[ModelKind, ...] = ("logistic", "gbm"), folds: int = 3,
                    model_settings: dict | None = None, target: str = "churned", n_resamples: int = 300,
                    min_events: int = MIN_EVENTS_CROSS_SECTIONAL, max_rows: int | None = None,
                    groups: dict[str, list[str]] | None = None, bootstrap_max_rows: int | None = None,
                    why_not_time_ordered: str | None = None) -> Backtest:
    """The check when no time-ordered backtest is possible: every labelled observation is predicted
    by a model trained on the *other accounts'* labelled observations (scikit-learn's
    ``StratifiedGroupKFold``: an account's observations stay in one fold, each fold keeps the churn
    share). It does not test the model on months it has not seen (months are mixed), so it can
    borrow from the future: a weaker claim than a backtest, and the report says so.

    Raises :class:`NotEnoughData` with fewer than ``min_events`` churned or retained labelled rows,
    or fewer than two churned accounts to split."""
    from sklearn.model_selection import StratifiedGroupKFold

    settings = dict(model_settings or {})
    known = frame[target].notna().to_numpy()
    y_all = frame[target].to_numpy(dtype=float)
    labelled = np.flatnonzero(known)
    events = int(y_all[labelled].sum())
    horizon = int(frame.attrs.get("horizon_days", 90))
    if min(events, len(labelled) - events) < min_events:
        few = "churned" if events < min_events else "did not churn"
        raise NotEnoughData(f"only {min(events, len(labelled) - events):,} of the {len(labelled):,} observations whose "
                            f"{horizon}-day window has closed {few}, and a model needs at least {min_events} that "
                            f"churned and {min_events} that did not")
    accounts = frame["account_id"].to_numpy()[labelled]
    churned_accounts = len(np.unique(accounts[y_all[labelled] == 1]))
    k = int(min(max(folds, 2), churned_accounts, 5))
    if k < 2:
        raise NotEnoughData("every churn in the labelled history is one account's: a model checked across accounts "
                            "needs churns of at least two")
    if groups is None:
        groups = feature_groups(frame)
    splits = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=0).split(
        np.zeros((len(labelled), 1)), y_all[labelled], accounts)
    models: dict[str, ChurnModel] = {}
    preds, test = [], frame.iloc[:0]
    with _threads():
        for i, (train_pos, test_pos) in enumerate(splits, start=1):
            train = np.zeros(len(frame), dtype=bool)
            train[labelled[train_pos]] = True
            rows = labelled[test_pos]
            if len(np.unique(y_all[rows])) < 2 or len(np.unique(y_all[train & known])) < 2:
                continue
            test = frame.iloc[rows]
            for kind in kinds:
                model = ChurnModel(kind, target=target, **settings.get(kind, {}))
                shared = groups if model.group_threshold == 0.7 else None
                model.fit(frame, max_rows=max_rows, groups=shared, rows=train)
                models[kind] = model
                preds.append(pd.DataFrame({
                    "test_date": f"fold {i} of {k}", "model": kind, "account_id": test["account_id"].to_numpy(),
                    "observed": test[target].to_numpy(), "predicted": model.predict_proba(test)}))
    if not preds:
        raise NotEnoughData(f"no split of the {churned_accounts} churned accounts leaves churners and stayers on "
                            "both sides")
    predictions = pd.concat(preds, ignore_index=True)
    labels = [(str(label), g) for label, g in predictions.groupby("test_date", sort=False)]
    metrics = _fold_metrics(predictions, n_resamples, bootstrap_max_rows, labels)
    return Backtest(metrics, predictions, models, test, [], groups, bootstrap_max_rows, "cross-sectional",
                    why_not_time_ordered)


def check_model(frame: pd.DataFrame, kinds: tuple[ModelKind, ...], folds: int, model_settings: dict | None,
                n_resamples: int, max_rows: int | None, groups: dict[str, list[str]] | None,
                bootstrap_max_rows: int | None, target: str = "churned") -> Backtest:
    """The time-ordered backtest when the history allows one, else the cross-sectional check (with the
    reason); :class:`NotEnoughData` when no model can be fitted at all."""
    basic = why_no_model(frame, target)
    if basic:
        raise NotEnoughData(basic)
    try:
        return backtest(frame, kinds, folds, model_settings, target, n_resamples, max_rows=max_rows, groups=groups,
                        bootstrap_max_rows=bootstrap_max_rows)
    except NotEnoughData as exc:
        why = str(exc)
    return cross_validated(frame, kinds, folds, model_settings, target, n_resamples, max_rows=max_rows,
                           groups=groups, bootstrap_max_rows=bootstrap_max_rows, why_not_time_ordered=why)


def calibration_table(y, p, bins: int = 10) -> pd.DataFrame:
    """Predicted vs observed churn by bin of predicted probability (equal-count bins, scikit-learn's
    calibration_curve), with Wilson 95% intervals for the observed rate. Fewer bins when there are
    fewer distinct predictions (at least 20 rows per bin)."""
    from sklearn.calibration import calibration_curve

    y, p = np.asarray(y, float), np.asarray(p, float)
    bins = int(max(1, min(bins, len(np.unique(p)), len(p) // 20)))
    observed, predicted = calibration_curve(y, p, n_bins=bins, strategy="quantile")
    # the same bins as calibration_curve (quantile edges, searchsorted on the inner edges), for counts
    edges = np.percentile(p, np.linspace(0, 1, bins + 1) * 100)  # its exact positions (ties sit on edges)
    ids = np.searchsorted(edges[1:-1], p)
    counts = np.bincount(ids, minlength=len(edges) - 1)
    events = np.bincount(ids, weights=y, minlength=len(edges) - 1)
    keep = counts > 0
    counts, events = counts[keep], events[keep]
    if not np.allclose(events / counts, observed):
        raise RuntimeError("calibration bins disagree with scikit-learn's calibration_curve")
    low, high = wilson_interval(events, counts, alpha=0.05)
    return pd.DataFrame({"predicted": predicted, "observed": observed, "accounts": counts.astype(int),
                         "observed_low": low, "observed_high": high})
