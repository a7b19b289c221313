"""Why accounts churn: drivers ranked by grouped permutation importance, with the direction and size
of each (a two-point partial dependence). The sentences saying so are in :mod:`.words`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...core import features as feat
from ...core.risk import ChurnModel, _threads, group_label
from ...core.stats import _auc, stratified_rows

# what the report's drivers table (drivers.csv) holds, in order; the effect columns behind the
# statement (value, percentile or level at the worse and better end) stay in the result only
DRIVER_COLUMNS = ("rank", "driver", "label", "members", "importance", "importance_low", "importance_high",
                  "direction", "risk_at_worse", "risk_at_better", "statement", "logistic_log_odds_per_sd")


def grouped_permutation_importance(model: ChurnModel, frame: pd.DataFrame, repeats: int = 20,
                                   random_state: int = 0, bootstrap_rows: bool = True,
                                   max_rows: int | None = None) -> pd.DataFrame:
    """AUC lost when each driver group's columns are shuffled together (jointly, so correlated metrics
    cannot stand in for each other). scikit-learn's permutation_importance shuffles one column at a
    time; this is the same idea over groups. With ``bootstrap_rows`` each repeat also resamples the
    test rows, so the 95% interval reflects sampling as well as shuffling. With more than ``max_rows``
    rows, a random sample of ``max_rows`` stratified by the target is used (:func:`stratified_rows`)."""
    rows = stratified_rows(frame[model.target].to_numpy(dtype=float), max_rows, random_state)
    if rows is not None:
        frame = frame.iloc[rows]
    Xdf = model.matrix(frame)
    X = Xdf.to_numpy(dtype=float)
    position = {c: i for i, c in enumerate(Xdf.columns)}
    y = frame[model.target].to_numpy(dtype=float)
    rng = np.random.default_rng(random_state)
    drops: dict[str, list[float]] = {g: [] for g in model.groups_}
    n = len(X)
    with _threads():
        for _ in range(repeats):
            rows = rng.integers(0, n, n) if bootstrap_rows else np.arange(n)
            Xb, yb = X[rows], y[rows]
            base = _auc(yb, model.predict_matrix(Xb))
            for group, members in model.groups_.items():
                cols = [position[c] for c in members if c in position]
                if not cols:
                    continue
                shuffled = Xb.copy()
                shuffled[:, cols] = Xb[rng.permutation(n)][:, cols]
                drops[group].append(base - _auc(yb, model.predict_matrix(shuffled)))
    out = pd.DataFrame([
        {"driver": g, "importance": float(np.mean(v)), "importance_low": float(np.percentile(v, 2.5)),
         "importance_high": float(np.percentile(v, 97.5))}
        for g, v in drops.items() if v
    ])
    return out.sort_values("importance", ascending=False).reset_index(drop=True)


def effect(model: ChurnModel, frame: pd.DataFrame, group: str) -> dict:
    """Mean predicted probability with the group set to a low vs a high value for every row (a
    two-point partial dependence): its direction and size."""
    X = model.matrix(frame)
    members = [c for c in model.groups_[group] if c in X.columns]
    if group in model.categorical_:
        means = {}
        for col in members:
            Xs = X.copy()
            Xs[members] = 0.0
            Xs[col] = 1.0
            means[col.split("=", 1)[1]] = float(model.predict_matrix(Xs).mean())
        if not means:
            return {}
        hi, lo = max(means, key=lambda k: means[k]), min(means, key=lambda k: means[k])
        return {"kind": "categorical", "worst": hi, "best": lo, "p_worst": means[hi], "p_best": means[lo]}
    lead = X[group]
    q_low, q_high = 0.25, 0.75
    if lead.quantile(q_low) == lead.quantile(q_high):
        q_low, q_high = 0.0, 1.0  # a mostly constant or binary metric: compare its extremes
    lows, highs = X[members].quantile(q_low), X[members].quantile(q_high)
    Xl, Xh = X.copy(), X.copy()
    Xl[members] = lows.to_numpy()
    Xh[members] = highs.to_numpy()
    return {"kind": "numeric", "value_low": float(lows[group]), "value_high": float(highs[group]),
            "q_low": q_low, "q_high": q_high,
            "p_low": float(model.predict_matrix(Xl).mean()), "p_high": float(model.predict_matrix(Xh).mean())}


def direction(effect: dict, target_words: str = "churn") -> str:
    """Which way a driver points: ``lower means more churn``, ``higher means more churn``, ``flat``
    (under 0.2 points between its ends), ``by category`` or ``unclear`` (no effect measured)."""
    if not effect:
        return "unclear"
    if effect["kind"] == "categorical":
        return "by category"
    lo, hi = effect["p_low"], effect["p_high"]
    if abs(hi - lo) < 0.002:
        return "flat"
    return f"lower means more {target_words}" if lo > hi else f"higher means more {target_words}"


def _ends(effect: dict, way: str) -> dict:
    """The driver's worse and better end: predicted risk, and the value and percentile (numeric) or
    the level (categorical) there."""
    if not effect:
        return {"risk_at_worse": None, "risk_at_better": None}
    if effect["kind"] == "categorical":
        return {"risk_at_worse": effect["p_worst"], "risk_at_better": effect["p_best"],
                "level_at_worse": effect["worst"], "level_at_better": effect["best"]}
    worse, better = ("low", "high") if way.startswith("lower") else ("high", "low")
    return {"risk_at_worse": effect[f"p_{worse}"], "risk_at_better": effect[f"p_{better}"],
            "value_at_worse": effect[f"value_{worse}"], "value_at_better": effect[f"value_{better}"],
            "percentile_at_worse": effect[f"q_{worse}"], "percentile_at_better": effect[f"q_{better}"]}


def driver_table(model: ChurnModel, test: pd.DataFrame, repeats: int = 20, random_state: int = 0,
                 target_words: str = "churn", max_rows: int | None = None) -> pd.DataFrame:
    """Drivers ranked by grouped permutation importance (AUC lost, with a 95% interval), biggest
    first, each with its members, direction and the predicted risk at its worse and better end (plus
    the values, percentiles or levels there, which :func:`.words.driver_statements` puts in words).
    With more than ``max_rows`` test rows, importance and effects use a random sample of ``max_rows``
    stratified by the target; ``result.attrs`` holds ``test_rows`` and ``rows_used``."""
    n_test = len(test)
    sample = stratified_rows(test[model.target].to_numpy(dtype=float), max_rows, random_state)
    if sample is not None:
        test = test.iloc[sample]
    imp = grouped_permutation_importance(model, test, repeats, random_state)
    rows: list[dict] = []
    for _, r in imp.iterrows():
        members = model.groups_[r["driver"]]
        label = feat.describe(r["driver"])
        measured = effect(model, test, r["driver"])
        way = direction(measured, target_words)
        rows.append({
            "rank": len(rows) + 1, "driver": r["driver"],
            "label": label if r["driver"] in model.categorical_ else group_label(r["driver"], members),
            "members": ", ".join(m for m in members if m != r["driver"]) if r["driver"] not in model.categorical_
            else "", "importance": r["importance"], "importance_low": r["importance_low"],
            "importance_high": r["importance_high"], "direction": way,
            **_ends(measured, way),
            "driver_label": label,  # the lead metric alone (``label`` names its group)
        })
    out = pd.DataFrame(rows)
    out.attrs.update(test_rows=n_test, rows_used=len(test))
    return out


def logistic_directions(model: ChurnModel) -> pd.Series:
    """The logistic model's coefficient (log-odds per SD) of each numeric driver group."""
    if model.kind != "logistic":
        raise ValueError("logistic_directions needs a logistic ChurnModel")
    Z_cols = model.estimator_.named_steps["model"].feature_names_in_
    coef = pd.Series(model.estimator_.named_steps["model"].coef_[0], index=Z_cols)
    return coef[[c for c in coef.index if c in model.groups_]]
