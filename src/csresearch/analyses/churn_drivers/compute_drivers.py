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
DRIVER_COLUMNS = ("rank", "driver", "lead", "label", "members", "importance", "importance_low", "importance_high",
                  "direction", "risk_at_worse", "risk_at_better", "observed_at_worse", "observed_at_better",
                  "statement", "logistic_log_odds_per_sd")


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


def lead_member(frame: pd.DataFrame, members: list[str], y: np.ndarray) -> str:
    """The member of a correlated group that, on its own, separates the outcome best (largest
    |AUC - 0.5| of its values, missing values at the median): the metric the group is described by."""
    if len(members) == 1:
        return members[0]
    best, lead = -1.0, members[0]
    for m in members:
        v = frame[m].astype(float)
        strength = abs(_auc(y, v.fillna(v.median()).to_numpy()) - 0.5) if v.notna().any() else 0.0
        if strength == strength and strength > best:  # NaN (one outcome only) never leads
            best, lead = strength, m
    return lead


def effect(model: ChurnModel, frame: pd.DataFrame, group: str, lead: str | None = None,
           observed: pd.DataFrame | None = None) -> dict:
    """Mean predicted probability with the group set to a low vs a high value for every row (a
    two-point partial dependence): its direction and size, read on the group's ``lead`` member.

    A numeric group moves together: the lead to its 25th and 75th percentiles (its extremes when those
    are equal), each other member to the same percentile when it rises with the lead and to the
    opposite one when it falls with it (Spearman correlation on these rows), so every point is a
    combination the data holds. Beside each end, the observed rate of the target among the rows of
    ``observed`` (default: ``frame``) at or beyond that end of the lead (``observed_low``,
    ``observed_high``); a categorical driver carries the observed rate of every level."""
    X = model.matrix(frame)
    observed = frame if observed is None else observed
    y = observed[model.target].to_numpy(dtype=float)
    members = [c for c in model.groups_[group] if c in X.columns]
    if group in model.categorical_:
        means, rates = {}, {}
        values = observed[group].astype(str)
        for col in members:
            Xs = X.copy()
            Xs[members] = 0.0
            Xs[col] = 1.0
            level = col.split("=", 1)[1]
            means[level] = float(model.predict_matrix(Xs).mean())
            at = (values == level).to_numpy()
            rates[level] = float(y[at].mean()) if at.any() else np.nan
        if not means:
            return {}
        hi, lo = max(means, key=lambda k: means[k]), min(means, key=lambda k: means[k])
        seen = {k: v for k, v in rates.items() if v == v}
        out = {"kind": "categorical", "worst": hi, "best": lo, "p_worst": means[hi], "p_best": means[lo],
               "observed_worst": rates.get(hi, np.nan), "observed_best": rates.get(lo, np.nan)}
        if seen:
            o_hi, o_lo = max(seen, key=lambda k: seen[k]), min(seen, key=lambda k: seen[k])
            out.update(observed_highest=o_hi, observed_highest_rate=seen[o_hi], observed_lowest=o_lo,
                       observed_lowest_rate=seen[o_lo])
        return out
    lead = lead if lead in members else group
    values = X[lead]
    q_low, q_high = 0.25, 0.75
    if values.quantile(q_low) == values.quantile(q_high):
        q_low, q_high = 0.0, 1.0  # a mostly constant or binary metric: compare its extremes
    rho = X[members].corr(method="spearman")[lead].fillna(1.0)
    lows = pd.Series({m: X[m].quantile(q_low if rho[m] >= 0 else q_high) for m in members})
    highs = pd.Series({m: X[m].quantile(q_high if rho[m] >= 0 else q_low) for m in members})
    Xl, Xh = X.copy(), X.copy()
    Xl[members] = lows[members].to_numpy()
    Xh[members] = highs[members].to_numpy()
    seen = observed[lead].astype(float)
    at_low, at_high = (seen <= lows[lead]).to_numpy(), (seen >= highs[lead]).to_numpy()
    return {"kind": "numeric", "lead": lead, "value_low": float(lows[lead]), "value_high": float(highs[lead]),
            "q_low": q_low, "q_high": q_high,
            "p_low": float(model.predict_matrix(Xl).mean()), "p_high": float(model.predict_matrix(Xh).mean()),
            "observed_low": float(y[at_low].mean()) if at_low.any() else np.nan,
            "observed_high": float(y[at_high].mean()) if at_high.any() else np.nan}


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
    """The driver's worse and better end: predicted risk, the observed rate, and the value and
    percentile (numeric) or the level (categorical) there."""
    if not effect:
        return {"risk_at_worse": None, "risk_at_better": None}
    if effect["kind"] == "categorical":
        keys = ("observed_highest", "observed_highest_rate", "observed_lowest", "observed_lowest_rate")
        return {"risk_at_worse": effect["p_worst"], "risk_at_better": effect["p_best"],
                "level_at_worse": effect["worst"], "level_at_better": effect["best"],
                "observed_at_worse": effect["observed_worst"], "observed_at_better": effect["observed_best"],
                **{k: effect[k] for k in keys if k in effect}}
    worse, better = ("low", "high") if way.startswith("lower") else ("high", "low")
    return {"risk_at_worse": effect[f"p_{worse}"], "risk_at_better": effect[f"p_{better}"],
            "observed_at_worse": effect[f"observed_{worse}"], "observed_at_better": effect[f"observed_{better}"],
            "value_at_worse": effect[f"value_{worse}"], "value_at_better": effect[f"value_{better}"],
            "percentile_at_worse": effect[f"q_{worse}"], "percentile_at_better": effect[f"q_{better}"]}


def driver_table(model: ChurnModel, test: pd.DataFrame, repeats: int = 20, random_state: int = 0,
                 target_words: str = "churn", max_rows: int | None = None,
                 observed: pd.DataFrame | None = None) -> pd.DataFrame:
    """Drivers ranked by grouped permutation importance (AUC lost, with a 95% interval), biggest
    first, each with its members, direction and the predicted risk at its worse and better end (plus
    the values, percentiles or levels there and the observed rates, which
    :func:`.words.driver_statements` puts in words). A group of correlated metrics is described by
    its lead member (:func:`lead_member`): ``driver`` is the model's group key, ``lead`` the member
    named in ``label`` and the statement, ``members`` the others. The observed rates come from
    ``observed`` (the report passes the rows its cohort charts count, so a statement and the chart
    beside it quote the same rates; default: the test rows).

    With more than ``max_rows`` test rows, importance and effects use a random sample of ``max_rows``
    stratified by the target; ``result.attrs`` holds ``test_rows`` and ``rows_used``."""
    n_test = len(test)
    sample = stratified_rows(test[model.target].to_numpy(dtype=float), max_rows, random_state)
    if sample is not None:
        test = test.iloc[sample]
    imp = grouped_permutation_importance(model, test, repeats, random_state)
    y = test[model.target].to_numpy(dtype=float)
    rows: list[dict] = []
    for _, r in imp.iterrows():
        group = r["driver"]
        members = model.groups_[group]
        categorical = group in model.categorical_
        lead = group if categorical else lead_member(test, members, y)
        measured = effect(model, test, group, lead, observed)
        way = direction(measured, target_words)
        others = [m for m in members if m != lead]
        rows.append({
            "rank": len(rows) + 1, "driver": group, "lead": lead,
            "label": feat.describe(group) if categorical else group_label(lead, [lead, *others]),
            "members": "" if categorical else ", ".join(others), "importance": r["importance"],
            "importance_low": r["importance_low"], "importance_high": r["importance_high"], "direction": way,
            **_ends(measured, way),
            "driver_label": feat.describe(lead),  # the lead metric alone (``label`` names its group)
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
