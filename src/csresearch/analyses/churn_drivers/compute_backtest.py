"""How far to trust the risk model: a time-ordered backtest (train on earlier months, test on later
ones) with bootstrap intervals, and the calibration of its predictions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from ...core.risk import ChurnModel, _threads, feature_groups
from ...core.stats import METRICS, metric_interval, wilson_interval
from ...errors import NotEnoughData

ModelKind = Literal["gbm", "logistic"]


@dataclass
class Backtest:
    """Time-ordered backtest: ``metrics`` (one row per fold and model, plus ``pooled``),
    ``predictions`` (every test row's prediction) and the last fold's ``models`` and ``test`` rows."""

    metrics: pd.DataFrame
    predictions: pd.DataFrame
    models: dict[str, ChurnModel]
    test: pd.DataFrame
    test_dates: list[pd.Timestamp]
    groups: dict[str, list[str]] | None = None
    bootstrap_max_rows: int | None = None

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
    :func:`~csresearch.core.stats.metric_interval`). The ``pooled`` rows pool every fold's predictions.

    Each fit trains on at most ``max_rows`` rows (:func:`~csresearch.core.risk.training_sample`: every
    churned row, a stratified weighted sample of the others); test metrics use every test row. The
    correlated feature groups are computed once for the frame (:func:`feature_groups`) unless ``groups``
    is given. Raises :class:`NotEnoughData` when no fold has enough labelled history.
    """
    settings = dict(model_settings or {})
    window = pd.Timedelta(days=int(frame.attrs.get("horizon_days", 90)) + int(frame.attrs.get("lead_days", 0)))
    known = frame[target].notna().to_numpy()
    y_all = frame[target].to_numpy(dtype=float)
    obs_date = frame["observation_date"]
    dates = test_dates_for(frame, folds, target)
    if groups is None:
        groups = feature_groups(frame)
    models: dict[str, ChurnModel] = {}
    preds, test = [], frame.iloc[:0]
    with _threads():
        for d in dates:
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
    rows = []
    if not preds:
        raise NotEnoughData("not enough labelled history for a backtest: need earlier observations with "
                            f"at least {min_train_events} events before a test date")
    predictions = pd.concat(preds, ignore_index=True)
    parts = [(str(pd.Timestamp(d).date()), g) for d, g in predictions.groupby("test_date")]
    parts.append(("pooled", predictions))
    for label, part in parts:
        for kind, sub in part.groupby("model", sort=False):
            y, p = sub["observed"].to_numpy(), sub["predicted"].to_numpy()
            row = {"test_date": label, "model": kind, "test_accounts": len(sub), "churners": int(y.sum()),
                   "churn_rate": float(y.mean())}
            for name, fn in METRICS.items():
                value, low, high = metric_interval(fn, y, p, n_resamples, max_rows=bootstrap_max_rows)
                row.update({name: value, f"{name}_low": low, f"{name}_high": high})
            rows.append(row)
    used_dates = sorted(predictions["test_date"].unique())
    return Backtest(pd.DataFrame(rows), predictions, models, test, [pd.Timestamp(d) for d in used_dates], groups,
                    bootstrap_max_rows)


def calibration_table(y, p, bins: int = 10) -> pd.DataFrame:
    """Predicted vs observed churn by bin of predicted probability (equal-count bins, scikit-learn's
    calibration_curve), with Wilson 95% intervals for the observed rate."""
    from sklearn.calibration import calibration_curve

    y, p = np.asarray(y, float), np.asarray(p, float)
    observed, predicted = calibration_curve(y, p, n_bins=bins, strategy="quantile")
    # the same bins as calibration_curve (quantile edges, searchsorted on the inner edges), for counts
    edges = np.percentile(p, np.linspace(0, 100, bins + 1))
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
