"""Churn drivers: which accounts will churn, why, and whom should a CSM call first?

The pieces, in the order the report uses them:

- :func:`observations`: point-in-time rows (features from :mod:`csresearch.features`, data strictly
  before each observation date) labelled with churn within ``horizon_days`` after ``lead_days``, from
  :func:`csresearch.churn.paying_spells` (the one definition of churn). A label whose window is not
  over by the report date is unknown (NaN), never "did not churn": that is how censoring is handled.
- :class:`ChurnModel`: a gradient-boosted model (``gbm``) or a regularised logistic regression on
  scaled, log-transformed features with correlated metrics grouped (``logistic``);
  :func:`backtest` trains on earlier observations and tests on later ones.
- :func:`driver_table`: drivers ranked by grouped permutation importance, with direction and size in
  plain words; :meth:`ChurnModel.contributions`: per-account SHAP contributions.
- :func:`load_health_config` / :func:`health_scores`: the transparent 0-100 health score from
  ``params/health_score.yml``; :func:`validate_health_score` checks it against realised churn.
- :func:`at_risk_list` / :func:`expansion_candidates`: the lists a CS team works from, for any month.
"""

from __future__ import annotations

import difflib
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from sklearn.base import BaseEstimator, TransformerMixin
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .core import features as feat
from .churn import movements, paying_spells
from .data import Dataset
from .errors import HealthConfigError
from .text import money as _money

from .core.health import *  # noqa: F401,F403  (moved)
from .core.health import _short  # noqa: F401
from .core.risk import *  # noqa: F401,F403  (moved)
from .core.risk import _account_names, _as_frame_config, _reason_text, _row_sample, _threads, _weighted_bins, _weighted_median  # noqa: F401
from .core.stats import *  # noqa: F401,F403  (moved)
from .core.stats import _auc, _brier, _pr_auc  # noqa: F401
from .text import count as _count, format_each as _format_each, num as _fmt  # noqa: F401


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


def backtest(frame: pd.DataFrame, kinds: tuple[str, ...] = ("logistic", "gbm"), folds: int = 3,
             model_settings: dict | None = None, target: str = "churned", n_resamples: int = 300,
             min_train_events: int = 20, max_rows: int | None = None,
             groups: dict[str, list[str]] | None = None,
             bootstrap_max_rows: int | None = None) -> Backtest:
    """Train on earlier observations, test on later ones, for each of ``folds`` test dates.

    For test date d the training rows are those whose label window closed by d (observation date +
    lead + horizon <= d), so nothing the model learns comes from after d; the test rows are every
    account observed at d. Metrics: AUC, PR-AUC, top-decile lift, Brier score, each with a 95%
    bootstrap interval over the test accounts (resampling at most ``bootstrap_max_rows`` of them,
    :func:`metric_interval`). The ``pooled`` rows pool every fold's predictions.

    Each fit trains on at most ``max_rows`` rows (:func:`training_sample`: every churned row, a
    stratified weighted sample of the others); test metrics use every test row. The correlated
    feature groups are computed once for the frame (:func:`feature_groups`) unless ``groups`` is given.
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
        raise ValueError("not enough labelled history for a backtest: need earlier observations with "
                         f"at least {min_train_events} events before a test date")
    predictions = pd.concat(preds, ignore_index=True)
    groups = [(str(pd.Timestamp(d).date()), g) for d, g in predictions.groupby("test_date")]
    groups.append(("pooled", predictions))
    for label, part in groups:
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
    from statsmodels.stats.proportion import proportion_confint

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
    low, high = proportion_confint(events, counts, method="wilson")
    return pd.DataFrame({"predicted": predicted, "observed": observed, "accounts": counts.astype(int),
                         "observed_low": low, "observed_high": high})


# ==================================================================================================
# Drivers: grouped permutation importance, direction and size in plain words
# ==================================================================================================
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


def _effect(model: ChurnModel, frame: pd.DataFrame, group: str) -> dict:
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
        hi, lo = max(means, key=means.get), min(means, key=means.get)
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


def _percentile_name(q: float) -> str:
    return {0.0: "lowest", 1.0: "highest"}.get(q, f"{int(round(q * 100))}th percentile")


def driver_statement(label: str, effect: dict, horizon_days: int, target_words: str = "churn") -> tuple[str, str]:
    """(direction, sentence) in plain words for one driver's two-point effect."""
    if not effect:
        return "unclear", f"{label}: no clear direction."
    if effect["kind"] == "categorical":
        return ("by category",
                f"{label}: predicted {target_words} is highest for {effect['worst']} ({effect['p_worst']:.1%} over "
                f"{horizon_days} days) and lowest for {effect['best']} ({effect['p_best']:.1%}).")
    lo, hi = effect["p_low"], effect["p_high"]
    if abs(hi - lo) < 0.002:
        return "flat", f"{label}: little change in predicted {target_words} across its range."
    direction = f"lower means more {target_words}" if lo > hi else f"higher means more {target_words}"
    worse, better = (("low", "high") if lo > hi else ("high", "low"))
    p_w, p_b = (lo, hi) if lo > hi else (hi, lo)
    v_w = effect["value_low"] if lo > hi else effect["value_high"]
    v_b = effect["value_high"] if lo > hi else effect["value_low"]
    q_w = effect["q_low"] if lo > hi else effect["q_high"]
    q_b = effect["q_high"] if lo > hi else effect["q_low"]
    ratio = f", {p_w / p_b:.1f}x" if p_b > 0 else ""
    return direction, (
        f"{worse.capitalize()} {label} means more {target_words}: {p_w:.1%} predicted over {horizon_days} days at "
        f"{_fmt(v_w)} ({_percentile_name(q_w)}) vs {p_b:.1%} at {_fmt(v_b)} ({_percentile_name(q_b)}){ratio}."
    )


def driver_table(model: ChurnModel, test: pd.DataFrame, repeats: int = 20, random_state: int = 0,
                 horizon_days: int = 90, target_words: str = "churn",
                 max_rows: int | None = None) -> pd.DataFrame:
    """Drivers ranked by grouped permutation importance (AUC lost, with a 95% interval), biggest
    first, each with its members, direction and size in plain words. With more than ``max_rows``
    test rows, importance and effects use a random sample of ``max_rows`` stratified by the target;
    ``result.attrs`` holds ``test_rows`` and ``rows_used``."""
    n_test = len(test)
    rows = stratified_rows(test[model.target].to_numpy(dtype=float), max_rows, random_state)
    if rows is not None:
        test = test.iloc[rows]
    imp = grouped_permutation_importance(model, test, repeats, random_state)
    rows = []
    for _, r in imp.iterrows():
        members = model.groups_[r["driver"]]
        label = feat.describe(r["driver"])
        effect = _effect(model, test, r["driver"])
        direction, sentence = driver_statement(label, effect, horizon_days, target_words)
        rows.append({
            "rank": len(rows) + 1, "driver": r["driver"],
            "label": label if r["driver"] in model.categorical_ else group_label(r["driver"], members),
            "members": ", ".join(m for m in members if m != r["driver"]) if r["driver"] not in model.categorical_
            else "", "importance": r["importance"], "importance_low": r["importance_low"],
            "importance_high": r["importance_high"], "direction": direction,
            "risk_at_worse": effect.get("p_low" if direction.startswith("lower") else "p_high", effect.get("p_worst")),
            "risk_at_better": effect.get("p_high" if direction.startswith("lower") else "p_low", effect.get("p_best")),
            "statement": sentence,
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


# ==================================================================================================
# Behavioural cohorts
# ==================================================================================================
def independent_rows(frame: pd.DataFrame, target: str = "churned") -> pd.DataFrame:
    """Labelled rows at observation dates spaced at least one label window apart (newest first), so
    each churn is counted once and an account appears at most once per window."""
    dates = test_dates_for(frame, folds=10_000, target=target)
    return frame[frame["observation_date"].isin(dates) & frame[target].notna()]


def _wilson(events, n):
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(np.asarray(events), np.asarray(n), method="wilson")
    return low, high


def decile_cohorts(frame: pd.DataFrame, metrics: list[str], target: str = "churned", bins: int = 10) -> pd.DataFrame:
    """Churn rate by decile of each metric (ties kept together, so a metric with many zeros gets
    fewer bins), with Wilson 95% intervals. Uses :func:`independent_rows`."""
    rows = independent_rows(frame, target)
    out = []
    for metric in metrics:
        if metric not in rows or rows[metric].notna().sum() < bins * 10:
            continue
        values = rows[metric]
        ok = values.notna()
        cut = pd.qcut(values[ok], bins, duplicates="drop")
        grouped = rows.loc[ok].groupby(cut, observed=True)[target].agg(["size", "sum"])
        low, high = _wilson(grouped["sum"], grouped["size"])
        for i, (interval, g) in enumerate(grouped.iterrows()):
            out.append({"metric": metric, "label": feat.describe(metric), "bin": i + 1,
                        "value_low": float(values[ok][cut == interval].min()),
                        "value_high": float(values[ok][cut == interval].max()),
                        "accounts": int(g["size"]), "churned": int(g["sum"]),
                        "churn_rate": g["sum"] / g["size"], "ci_low": low[i], "ci_high": high[i]})
    return pd.DataFrame(out)


def categorical_cohorts(frame: pd.DataFrame, columns: list[str], target: str = "churned") -> pd.DataFrame:
    """Churn rate by level of each categorical attribute with Wilson 95% intervals, plus a chi-square
    test per attribute whose p-values are Holm-corrected across the attributes (multiple comparisons)."""
    from scipy.stats import chi2_contingency
    from statsmodels.stats.multitest import multipletests

    rows = independent_rows(frame, target)
    out, tests = [], {}
    for col in columns:
        if col not in rows:
            continue
        g = rows.groupby(rows[col].astype(str))[target].agg(["size", "sum"])
        g = g[g["size"] > 0]
        if len(g) < 2:
            continue
        table = np.column_stack([g["sum"], g["size"] - g["sum"]])
        tests[col] = chi2_contingency(table)[1] if (table.sum(axis=0) > 0).all() else 1.0
        low, high = _wilson(g["sum"], g["size"])
        for i, (level, r) in enumerate(g.iterrows()):
            out.append({"attribute": col, "level": level, "accounts": int(r["size"]), "churned": int(r["sum"]),
                        "churn_rate": r["sum"] / r["size"], "ci_low": low[i], "ci_high": high[i]})
    result = pd.DataFrame(out)
    if tests:
        adjusted = dict(zip(tests, multipletests(list(tests.values()), method="holm")[1]))
        result["p_value_holm"] = result["attribute"].map(adjusted)
    return result


def thresholds(frame: pd.DataFrame, metrics: list[str], target: str = "churned", min_share: float = 0.05,
               max_share: float = 0.5) -> pd.DataFrame:
    """The threshold finder: for each metric, the cut ("under X active users per seat") whose accounts
    churn at the highest rate ratio to the rest, **chosen on the earlier two thirds of the
    observation dates and measured on the later third** (choosing and measuring on the same rows would
    overstate the ratio: selection bias over many candidate cuts). The ratio's 95% interval is
    statsmodels' ``confint_proportions_2indep`` (log method)."""
    from statsmodels.stats.proportion import confint_proportions_2indep

    rows = independent_rows(frame, target)
    dates = sorted(rows["observation_date"].unique())
    if len(dates) < 3:
        return pd.DataFrame()
    split = dates[int(np.ceil(len(dates) * 2 / 3))]
    early, late = rows[rows["observation_date"] < split], rows[rows["observation_date"] >= split]
    out = []
    for metric in metrics:
        if metric not in rows or early[metric].notna().sum() < 200:
            continue
        e = early[[metric, target]].dropna()
        rho = e[metric].corr(e[target], method="spearman")
        if np.isnan(rho) or rho == 0:
            continue
        below = rho < 0  # low values are the risky side
        best = None
        for q in np.arange(min_share, max_share + 1e-9, 0.05):
            cut = e[metric].quantile(q if below else 1 - q)
            risky = e[metric] <= cut if below else e[metric] >= cut
            share = risky.mean()
            if not (min_share / 2 <= share <= max_share + 0.1) or risky.all():
                continue
            r1, r0 = e.loc[risky, target].mean(), e.loc[~risky, target].mean()
            if r0 <= 0 or r1 <= r0:
                continue
            low, _ = confint_proportions_2indep(e.loc[risky, target].sum(), risky.sum(), e.loc[~risky, target].sum(),
                                                (~risky).sum(), compare="ratio", method="log")
            if best is None or low > best[0]:
                best = (low, cut)
        if best is None:
            continue
        cut = best[1]
        lt = late[[metric, target]].dropna()
        risky = lt[metric] <= cut if below else lt[metric] >= cut
        n1, n0 = int(risky.sum()), int((~risky).sum())
        if n1 == 0 or n0 == 0:
            continue
        c1, c0 = int(lt.loc[risky, target].sum()), int(lt.loc[~risky, target].sum())
        r1, r0 = c1 / n1, c0 / n0
        if c0 > 0 and c1 > 0:
            low, high = confint_proportions_2indep(c1, n1, c0, n0, compare="ratio", method="log")
        else:
            low, high = np.nan, np.nan
        ratio = r1 / r0 if r0 > 0 else np.nan
        out.append({"metric": metric, "label": feat.describe(metric), "side": "under" if below else "over",
                    "threshold": float(cut), "share_of_accounts": n1 / (n1 + n0), "churn_rate_risky": r1,
                    "churn_rate_rest": r0, "rate_ratio": ratio, "ratio_low": low, "ratio_high": high,
                    "holdout_rows": n1 + n0})
    result = pd.DataFrame(out)
    if not result.empty:
        result = result.sort_values("ratio_low", ascending=False, na_position="last").reset_index(drop=True)
        result["statement"] = result.apply(threshold_statement, axis=1)
    return result


def threshold_statement(r: pd.Series) -> str:
    ci = (f" (95% CI {r['ratio_low']:.1f}-{r['ratio_high']:.1f}x)" if not np.isnan(r["ratio_low"]) else "")
    op = "at or under" if r["side"] == "under" else "at or over"
    return (f"Accounts {op} {_fmt(r['threshold'])} {r['label']} ({r['share_of_accounts']:.0%} of accounts) churned at "
            f"{r['rate_ratio']:.1f}x the rate of the rest{ci}: {r['churn_rate_risky']:.1%} vs {r['churn_rate_rest']:.1%}.")


# ==================================================================================================
# Loyal vs churned profile
# ==================================================================================================
def loyal_vs_churned(ds: Dataset, frame: pd.DataFrame, metrics: list[str], loyal_tenure_days: int = 730,
                     reactivation_window_days: int = 0) -> pd.DataFrame:
    """What long-lived, expanding accounts share compared with churned ones.

    Loyal: paying at the report date, tenure at least ``loyal_tenure_days``, and MRR above the MRR its
    current paying spell started with. Churned: each churn's last observation before it (churned =
    1). Per metric: the two means and medians, and the difference in means with a Welch 95% interval.
    """
    from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

    T = frame.attrs.get("as_of", frame["observation_date"].max())
    spells = paying_spells(ds.table("subscriptions"), T - pd.Timedelta(days=1), reactivation_window_days)
    current = spells[spells["end_date"].isna()].set_index("account_id")
    now = frame[frame["observation_date"] == T]
    start_mrr = now["account_id"].map(current["start_mrr"])
    loyal = now[(now["tenure_days"] >= loyal_tenure_days) & (now["mrr"] > start_mrr)]
    churned = frame[frame["churned"] == 1].sort_values("observation_date").drop_duplicates(
        ["account_id", "churn_date"], keep="last")
    rows = []
    for m in metrics:
        if m not in frame:
            continue
        a, b = loyal[m].dropna().astype(float), churned[m].dropna().astype(float)
        if len(a) < 5 or len(b) < 5:
            continue
        if a.std() == 0 and b.std() == 0:
            low = high = float(a.mean() - b.mean())
        else:
            low, high = CompareMeans(DescrStatsW(a.to_numpy()), DescrStatsW(b.to_numpy())).tconfint_diff(usevar="unequal")
        pooled_sd = np.sqrt((a.var() + b.var()) / 2)
        rows.append({"metric": m, "label": feat.describe(m), "loyal_mean": a.mean(), "churned_mean": b.mean(),
                     "loyal_median": a.median(), "churned_median": b.median(), "difference": a.mean() - b.mean(),
                     "difference_low": low, "difference_high": high,
                     "standardised_difference": (a.mean() - b.mean()) / pooled_sd if pooled_sd > 0 else 0.0})
    out = pd.DataFrame(rows)
    if not out.empty:
        out = out.reindex(out["standardised_difference"].abs().sort_values(ascending=False).index).reset_index(drop=True)
    out.attrs.update(loyal_accounts=len(loyal), churn_events=len(churned))
    return out


# ==================================================================================================
# Health-score validation
# ==================================================================================================
def red_lead_times(frame: pd.DataFrame, scores: pd.DataFrame) -> pd.DataFrame:
    """For each churn seen in the observations: how many days before the churn date the account turned
    red and stayed red (the start of the red streak that ran up to its last observation before
    churning). ``days_red_before_churn`` is NaN when it was not red at that last observation."""
    s = scores[["account_id", "observation_date", "health_band"]].merge(
        frame[["account_id", "observation_date", "churn_date"]], on=["account_id", "observation_date"])
    s = s[s["churn_date"].notna() & (s["observation_date"] <= s["churn_date"])]
    s = s.sort_values(["account_id", "churn_date", "observation_date"]).reset_index(drop=True)
    columns = ["account_id", "churn_date", "last_band", "days_red_before_churn"]
    if s.empty:
        return pd.DataFrame(columns=columns)
    # per (account, churn): the red streak that reaches the last row starts after the last non-red row
    group = s.groupby(["account_id", "churn_date"], sort=False).ngroup().to_numpy()
    position = np.arange(len(s))
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    ends = np.r_[starts[1:], len(s)] - 1
    red = (s["health_band"] == "red").to_numpy()
    last_not_red = pd.Series(np.where(red, -1, position)).groupby(group).max().to_numpy()
    streak_start = np.maximum(last_not_red + 1, starts)
    is_red = red[ends]
    first_red = s["observation_date"].to_numpy()[np.minimum(streak_start, ends)]
    churn_date = s["churn_date"].to_numpy()[ends]
    days = ((churn_date - first_red) / np.timedelta64(1, "D")).astype(float)
    days = np.floor(days)  # whole days, as Timedelta.days
    out = pd.DataFrame({"account_id": s["account_id"].to_numpy()[ends], "churn_date": s["churn_date"].iloc[ends].to_numpy(),
                        "last_band": s["health_band"].to_numpy()[ends],
                        "days_red_before_churn": np.where(is_red, days, np.nan)}, columns=columns)
    if is_red.all():
        out["days_red_before_churn"] = out["days_red_before_churn"].astype(np.int64)
    return out


def suggested_weights(frame: pd.DataFrame, scores: pd.DataFrame, config: HealthConfig,
                      target: str = "churned") -> pd.DataFrame:
    """The weights the data suggest beside the configured ones: a logistic regression (statsmodels) of
    churn on the component scores (per 10 points) over :func:`independent_rows`. A component whose
    higher score goes with *less* churn earns weight in proportion to that effect; one with no or the
    wrong effect earns 0. Intervals scale the coefficient's 95% interval the same way."""
    import statsmodels.api as sm

    rows = independent_rows(frame, target)
    data = rows[["account_id", "observation_date", target]].merge(scores, on=["account_id", "observation_date"])
    comps = [c for c in config.components if f"score_{c.name}" in data]
    X = sm.add_constant(data[[f"score_{c.name}" for c in comps]] / 10.0)
    y = data[target].astype(float)
    try:
        fit = sm.Logit(y, X).fit(disp=0, maxiter=200)
        coef, ci = fit.params, fit.conf_int()
    except Exception:  # noqa: BLE001 - separation or a constant column: report no suggestion
        coef = pd.Series(0.0, index=X.columns)
        ci = pd.DataFrame({0: 0.0, 1: 0.0}, index=X.columns)
    protective = (-coef).clip(lower=0).drop("const")
    total = protective.sum()
    scale = 100.0 / total if total > 0 else 0.0
    configured = config.weights * 100
    out = pd.DataFrame({
        "component": [c.name for c in comps],
        "metric": [c.metric for c in comps],
        "configured_weight": [configured[c.name] for c in comps],
        "suggested_weight": [protective[f"score_{c.name}"] * scale for c in comps],
        "suggested_low": [max(0.0, -ci.loc[f"score_{c.name}", 1]) * scale for c in comps],
        "suggested_high": [max(0.0, -ci.loc[f"score_{c.name}", 0]) * scale for c in comps],
        "log_odds_per_10_points": [coef[f"score_{c.name}"] for c in comps],
    })
    return out


def validate_health_score(frame: pd.DataFrame, scores: pd.DataFrame, config: HealthConfig,
                          target: str = "churned", n_resamples: int = 300,
                          bootstrap_max_rows: int | None = None) -> dict[str, Any]:
    """How well the health score separates accounts that churned from those that did not.

    ``auc`` (of 100 - score, with a bootstrap 95% interval), ``bands`` (churn rate per band with
    Wilson intervals), ``lead`` (:func:`red_lead_times`), ``weights`` (:func:`suggested_weights`) and
    ``table`` (all of it in one long table for ``health_score_validation.csv``).
    """
    rows = independent_rows(frame, target)
    data = rows[["account_id", "observation_date", target]].merge(scores, on=["account_id", "observation_date"])
    y, risk = data[target].to_numpy(float), 100 - data["health_score"].to_numpy(float)
    auc = metric_interval(_auc, y, risk, n_resamples, max_rows=bootstrap_max_rows)
    bands = data.groupby("health_band")[target].agg(["size", "sum"]).reindex(list(BANDS)).fillna(0)
    low, high = _wilson(bands["sum"].clip(lower=0), bands["size"].clip(lower=1))
    bands = pd.DataFrame({"band": bands.index, "accounts": bands["size"].astype(int).to_numpy(),
                          "churned": bands["sum"].astype(int).to_numpy(),
                          "churn_rate": (bands["sum"] / bands["size"].where(bands["size"] > 0)).to_numpy(),
                          "ci_low": np.where(bands["size"] > 0, low, np.nan),
                          "ci_high": np.where(bands["size"] > 0, high, np.nan)})
    lead = red_lead_times(frame, scores)
    weights = suggested_weights(frame, scores, config, target)
    red_share = float(lead["days_red_before_churn"].notna().mean()) if len(lead) else np.nan
    median_days = float(lead["days_red_before_churn"].median()) if lead["days_red_before_churn"].notna().any() else np.nan
    table = [{"section": "discrimination", "item": "AUC of (100 - health score)", "value": auc[0],
              "ci_low": auc[1], "ci_high": auc[2], "n": len(data)}]
    for _, b in bands.iterrows():
        table.append({"section": "churn rate by band", "item": b["band"], "value": b["churn_rate"],
                      "ci_low": b["ci_low"], "ci_high": b["ci_high"], "n": b["accounts"]})
    table.append({"section": "early warning", "item": "share of churns red at the last observation before churn",
                  "value": red_share, "ci_low": np.nan, "ci_high": np.nan, "n": len(lead)})
    table.append({"section": "early warning", "item": "median days red before churn (those red)",
                  "value": median_days, "ci_low": np.nan, "ci_high": np.nan,
                  "n": int(lead["days_red_before_churn"].notna().sum())})
    for _, w in weights.iterrows():
        table.append({"section": "weights (configured -> suggested)", "item": w["component"],
                      "value": w["suggested_weight"], "ci_low": w["suggested_low"], "ci_high": w["suggested_high"],
                      "n": w["configured_weight"]})
    if red_share == red_share and len(lead):
        w_low, w_high = _wilson(int(lead["days_red_before_churn"].notna().sum()), len(lead))
        table[-len(weights) - 2].update(ci_low=float(w_low), ci_high=float(w_high))
    return {"auc": auc, "bands": bands, "lead": lead, "weights": weights, "red_share": red_share,
            "median_days_red": median_days, "table": pd.DataFrame(table)}


# ==================================================================================================
# Expansion candidates
# ==================================================================================================
def _products_held(ds: Dataset, day: pd.Timestamp) -> pd.Series:
    subs = ds.table("subscriptions")
    active = subs[(subs["start_date"] <= day) & (subs["end_date"].isna() | (subs["end_date"] > day)) & (subs["mrr"] > 0)]
    return active.groupby("account_id")["product"].agg(lambda s: sorted(set(s.astype(str))))


def _add_on_products(held: pd.Series) -> list[str]:
    """Products that are mostly bought alongside another product (add-ons), the cross-sell candidates."""
    exploded = held.explode()
    counts = held.map(len)
    out = []
    for product, accounts in exploded.groupby(exploded).groups.items():
        with_other = (counts.loc[accounts] > 1).mean()
        if with_other >= 0.5:
            out.append(str(product))
    return out


def expansion_candidates(ds: Dataset, as_of, frame: pd.DataFrame, health: pd.DataFrame | None = None,
                         model: ChurnModel | None = None, horizon_days: int = 90, lead_days: int = 0,
                         display_names: pd.Series | None = None, full_seats: float = 0.9,
                         max_rows: int | None = DEFAULT_MAX_TRAIN_ROWS,
                         groups: dict[str, list[str]] | None = None) -> pd.DataFrame:
    """The expansion (upsell / cross-sell) priority list for accounts paying at ``as_of``.

    A gradient-boosted model of ``expanded`` (an expansion movement within the horizon, per
    :func:`churn.movements`) gives each account's probability; expected expansion ARR = probability x
    the median expansion ARR of its segment in the training rows. The suggested play: stabilise
    first when health is red; a seat upsell when at least ``full_seats`` of the seats are active;
    otherwise a cross-sell of an add-on product the account lacks; else a plan upgrade conversation.
    The model trains on at most ``max_rows`` rows (every expanded row, a stratified weighted sample of
    the others); ``result.attrs["sampling"]`` says what it kept.
    """
    T = feat.observation_date_for(as_of)
    if model is None:
        closed = (frame["observation_date"] + pd.Timedelta(days=horizon_days + lead_days) <= T).to_numpy()
        model = ChurnModel("gbm", target="expanded").fit(frame, max_rows=max_rows, groups=groups, rows=closed)
    else:
        closed = np.ones(len(frame), dtype=bool)
    now = frame[frame["observation_date"] == T].copy()
    p = model.predict_proba(now)
    gained = frame[closed & (frame["expanded"] == 1).to_numpy()]
    seg = "segment" if "segment" in frame else None
    overall = float(gained["expansion_mrr"].median() * 12) if len(gained) else 0.0
    typical = (gained.groupby(seg)["expansion_mrr"].median() * 12) if seg else pd.Series(dtype=float)
    typical_arr = now[seg].map(typical).fillna(overall) if seg else pd.Series(overall, index=now.index)
    held = _products_held(ds, T - pd.Timedelta(days=1))
    add_ons = _add_on_products(held)
    out = pd.DataFrame({
        "account_id": now["account_id"],
        "account_name": _account_names(ds, now["account_id"], display_names),
        "segment": now.get("segment", pd.Series("unknown", index=now.index)),
        "mrr": now["mrr"], "arr": now["mrr"] * 12,
        "expansion_probability": np.round(p, 4),
        "expected_expansion_arr": np.round(p * typical_arr, 2),
        "seat_utilisation": now.get("active_users_per_seat", pd.Series(np.nan, index=now.index)).round(2),
    })
    out["top_reasons"] = reasons(model, now, 3)
    band = (health.set_index(["account_id", "observation_date"])["health_band"]
            .reindex(pd.MultiIndex.from_frame(now[["account_id", "observation_date"]])).to_numpy()
            if health is not None else np.full(len(now), "unknown"))
    out["health_band"] = band
    lacking = now["account_id"].map(lambda a: [x for x in add_ons if x not in held.get(a, [])])
    play = np.where(out["health_band"] == "red", "Stabilise first: health is red, fix adoption before any upsell.",
                    np.where(out["seat_utilisation"] >= full_seats,
                             "Seat upsell: " + (out["seat_utilisation"] * 100).round().astype("Int64").astype(str)
                             + "% of seats active.",
                             np.where(lacking.map(len) > 0, "Cross-sell: " + lacking.map(lambda x: ", ".join(x)) + ".",
                                      "Plan upgrade conversation at the next business review.")))
    out["suggested_play"] = play
    out["products"] = now["account_id"].map(lambda a: ", ".join(held.get(a, [])))
    out = out.sort_values(["expected_expansion_arr", "account_id"], ascending=[False, True]).reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    out.attrs["sampling"] = model.sampling
    return out


# ==================================================================================================
# Sentences generated from the numbers
# ==================================================================================================


def headline(at_risk: pd.DataFrame, metrics: pd.DataFrame, drivers: pd.DataFrame, horizon_days: int,
             primary_model: str = "gbm", top_n: int = 20) -> str:
    """The report's first sentence: how much ARR is at risk, where, why, and how far to trust it."""
    n = len(at_risk)
    red = int((at_risk["health_band"] == "red").sum())
    red_text = f", and {red:,} accounts are red" if (at_risk["health_band"] != "unscored").any() else ""
    risk = float(at_risk["arr_at_risk"].sum())
    arr = float(at_risk["arr"].sum())
    top = float(at_risk["arr_at_risk"].head(top_n).sum())
    pooled = metrics[(metrics["test_date"] == "pooled") & (metrics["model"] == primary_model)]
    trust = ""
    if len(pooled):
        r = pooled.iloc[0]
        trust = f" Backtest AUC {r['auc']:.2f} (95% CI {r['auc_low']:.2f}-{r['auc_high']:.2f})."
    why = ""
    if len(drivers):
        d = drivers.iloc[0]
        why = f" Strongest driver: {d['label']} ({d['direction']})."
    return (f"{_money(risk)} of {_money(arr)} ARR ({risk / arr:.1%}) is expected to churn in the next {horizon_days} days; "
            f"the top {min(top_n, n)} of {n:,} accounts hold {top / risk:.0%} of it{red_text}."
            f"{why}{trust}") if arr > 0 and risk > 0 else f"No ARR at risk among {n:,} paying accounts."


def backtest_sentence(metrics: pd.DataFrame, primary_model: str = "gbm") -> str:
    pooled = metrics[metrics["test_date"] == "pooled"].set_index("model")
    if primary_model not in pooled.index:
        return "The backtest could not be run."
    r = pooled.loc[primary_model]
    other = [m for m in pooled.index if m != primary_model]
    comp = ""
    if other:
        o = pooled.loc[other[0]]
        comp = f" The {other[0]} model reaches AUC {o['auc']:.2f} ({o['auc_low']:.2f}-{o['auc_high']:.2f})."
    return (f"Trained only on earlier months and tested on {int(r['test_accounts']):,} later account-observations "
            f"({int(r['churners'])} churned), the {primary_model} model ranks a random churner above a random "
            f"stayer {r['auc']:.0%} of the time (AUC {r['auc']:.2f}, 95% CI {r['auc_low']:.2f}-{r['auc_high']:.2f}); "
            f"its top 10% of accounts churn at {r['top_decile_lift']:.1f}x the average rate "
            f"(95% CI {r['top_decile_lift_low']:.1f}-{r['top_decile_lift_high']:.1f}x).{comp}")


def health_sentence(validation: dict, horizon_days: int) -> str:
    auc, bands = validation["auc"], validation["bands"].set_index("band")
    red, green = bands.loc["red"], bands.loc["green"]
    parts = [f"The health score separates churners with AUC {auc[0]:.2f} (95% CI {auc[1]:.2f}-{auc[2]:.2f})."]
    if red["accounts"] and green["accounts"] and green["churn_rate"] > 0:
        parts.append(f"Red accounts churned within {horizon_days} days at {red['churn_rate']:.1%} "
                     f"(95% CI {red['ci_low']:.1%}-{red['ci_high']:.1%}), {red['churn_rate'] / green['churn_rate']:.1f}x "
                     f"green accounts ({green['churn_rate']:.1%}).")
    if validation["red_share"] == validation["red_share"]:
        parts.append(f"{validation['red_share']:.0%} of churned accounts were red at their last check before churning"
                     + (f", typically for {validation['median_days_red']:.0f} days before the churn date."
                        if validation["median_days_red"] == validation["median_days_red"] else "."))
    return " ".join(parts)


def at_risk_sentence(at_risk: pd.DataFrame, top_n: int = 10) -> str:
    top = at_risk.head(top_n)
    if top.empty:
        return "No paying accounts."
    first = top.iloc[0]
    plays = top["playbook"].value_counts()
    return (f"The top {len(top)} accounts carry {_money(top['arr_at_risk'].sum())} of expected ARR loss; the first is "
            f"{first['account_name']} ({_money(first['arr'])} ARR, {first['churn_probability']:.0%} churn probability: "
            f"{first['top_reasons']}). Most common playbook among them: \"{plays.index[0]}\" ({plays.iloc[0]} accounts).")


# ==================================================================================================
# The report: every table the notebook shows, computed once
# ==================================================================================================
COHORT_METRICS = ("active_users_per_seat", "events_per_seat", "usage_trend", "days_since_last_activity",
                  "feature_breadth", "time_to_value_days", "high_priority_tickets_90d", "nps_score",
                  "cs_touches_90d", "tenure_days")
COHORT_ATTRIBUTES = ("segment", "billing_period", "touch_tier", "region", "industry", "acquisition_channel")


@dataclass
class DriversReport:
    as_of: pd.Timestamp
    horizon_days: int
    lead_days: int
    frame: pd.DataFrame
    config: HealthConfig
    scores: pd.DataFrame | None
    backtest: Backtest
    calibration: pd.DataFrame
    drivers: pd.DataFrame
    deciles: pd.DataFrame
    categories: pd.DataFrame
    thresholds: pd.DataFrame
    profile: pd.DataFrame
    validation: dict | None
    at_risk: pd.DataFrame
    expansion: pd.DataFrame
    primary_model: str
    notes: list[str]
    sampling: dict[str, Sampling | None] = field(default_factory=dict)
    importance_rows: tuple[int, int] | None = None
    bootstrap_max_rows: int | None = None

    @property
    def cohorts(self) -> pd.DataFrame:
        """Deciles and categorical cohorts in one table (``cohorts.csv``)."""
        d = self.deciles.assign(kind="decile", cohort=lambda x: x["value_low"].map(_fmt) + " to " + x["value_high"].map(_fmt))
        d = d.rename(columns={"metric": "variable"})
        c = self.categories.assign(kind="category").rename(columns={"attribute": "variable", "level": "cohort"})
        c["label"] = c["variable"].map(feat.describe)
        cols = ["kind", "variable", "label", "cohort", "accounts", "churned", "churn_rate", "ci_low", "ci_high"]
        out = pd.concat([d.reindex(columns=cols + ["bin"]), c.reindex(columns=cols + ["p_value_holm"])],
                        ignore_index=True)
        return out

    @property
    def headline(self) -> str:
        return headline(self.at_risk, self.backtest.metrics, self.drivers, self.horizon_days, self.primary_model)


def drivers_report(ds: Dataset, month, horizon_days: int = 90, lead_days: int = 0, every_months: int = 1,
                   history_months: int = 18, windows_days: tuple[int, int] = (30, 30),
                   reactivation_window_days: int = 0, value_milestone: str = "first_value",
                   health_config: HealthConfig | str | Path | None = None, primary_model: str = "gbm",
                   backtest_folds: int = 3, model_settings: dict | None = None, permutation_repeats: int = 10,
                   bootstrap_resamples: int = 200, cohort_metrics=COHORT_METRICS,
                   cohort_attributes=COHORT_ATTRIBUTES, loyal_tenure_days: int = 730,
                   display_names: pd.Series | None = None, max_train_rows: int | None = DEFAULT_MAX_TRAIN_ROWS,
                   importance_max_rows: int | None = IMPORTANCE_MAX_ROWS,
                   bootstrap_max_rows: int | None = BOOTSTRAP_MAX_ROWS) -> DriversReport:
    """Everything the churn-drivers report shows, as of the report ``month``.

    Scale caps (None: no cap): every model trains on at most ``max_train_rows`` rows (every positive
    row plus a stratified, weighted sample of the others, :func:`training_sample`); the driver
    importance uses at most ``importance_max_rows`` test rows; each bootstrap interval resamples at
    most ``bootstrap_max_rows`` rows. ``report.sampling`` and :func:`method_notes` say what was cut."""
    config = _as_frame_config(health_config)
    frame = observations(ds, month, horizon_days, lead_days, every_months, history_months, windows_days,
                         reactivation_window_days, value_milestone)
    T = frame.attrs["as_of"]
    notes = [f"no `{t}` table: its features (and any health component using them) are left out"
             for t in frame.attrs.get("missing_tables", [])]
    scores = scores_or_none(frame, config)
    if scores is None:
        notes.append("health score skipped: none of its components' metrics is in the data")
    elif scores.attrs.get("skipped_components"):
        notes.append("health components skipped for lack of data: " + ", ".join(scores.attrs["skipped_components"]))
    settings = dict(model_settings or {})
    kinds = tuple(dict.fromkeys([primary_model, "logistic", "gbm"]))
    groups = feature_groups(frame)
    bt = backtest(frame, kinds, backtest_folds, settings, n_resamples=bootstrap_resamples, max_rows=max_train_rows,
                  groups=groups, bootstrap_max_rows=bootstrap_max_rows)
    pooled = bt.predictions[bt.predictions["model"] == primary_model]
    calibration = calibration_table(pooled["observed"], pooled["predicted"])
    table = driver_table(bt.models[primary_model], bt.test, permutation_repeats, horizon_days=horizon_days,
                         max_rows=importance_max_rows)
    if "logistic" in bt.models:
        coef = logistic_directions(bt.models["logistic"])
        table["logistic_log_odds_per_sd"] = table["driver"].map(coef)
    metrics = [m for m in cohort_metrics if m in frame]
    attributes = [a for a in cohort_attributes if a in frame]
    deciles = decile_cohorts(frame, metrics)
    categories = categorical_cohorts(frame, attributes)
    found = thresholds(frame, metrics)
    # tenure defines "loyal", so it is not compared; per-event metrics are summarised by the usage totals
    profile_metrics = [m for m in feat.numeric_features(frame)
                       if m not in (*LABELS, "tenure_days") and not m.startswith("usage_")]
    profile = loyal_vs_churned(ds, frame, profile_metrics, loyal_tenure_days, reactivation_window_days)
    validation = (validate_health_score(frame, scores, config, n_resamples=bootstrap_resamples,
                                        bootstrap_max_rows=bootstrap_max_rows)
                  if scores is not None else None)
    closed = (frame["observation_date"] + pd.Timedelta(days=horizon_days + lead_days) <= T).to_numpy()
    final = ChurnModel(primary_model, **settings.get(primary_model, {}))
    final.fit(frame, max_rows=max_train_rows, groups=groups if final.group_threshold == 0.7 else None, rows=closed)
    at_risk = at_risk_list(ds, T, horizon_days, lead_days, config, final, frame, display_names)
    sampling = {"final": final.sampling, **{f"backtest {k}": m.sampling for k, m in bt.models.items()}}
    try:
        expansion = expansion_candidates(ds, T, frame, scores, None, horizon_days, lead_days, display_names,
                                         max_rows=max_train_rows, groups=groups)
        sampling["expansion"] = expansion.attrs.get("sampling")
    except ValueError as exc:
        expansion = pd.DataFrame()
        notes.append(f"expansion list skipped: {exc}")
    importance_rows = (table.attrs.get("test_rows", len(bt.test)), table.attrs.get("rows_used", len(bt.test)))
    return DriversReport(T, int(horizon_days), int(lead_days), frame, config, scores, bt, calibration, table,
                         deciles, categories, found, profile, validation, at_risk, expansion, primary_model, notes,
                         sampling, importance_rows, bootstrap_max_rows)


def summary_values(report: DriversReport) -> dict:
    """Numbers for summary.json (tests and other notebooks read them)."""
    pooled = report.backtest.metrics[report.backtest.metrics["test_date"] == "pooled"].set_index("model")
    v = report.validation
    return {
        "as_of": str(report.as_of.date()), "horizon_days": report.horizon_days, "lead_days": report.lead_days,
        "observations": int(len(report.frame)), "labelled_observations": int(report.frame["churned"].notna().sum()),
        "paying_accounts": int(len(report.at_risk)),
        "arr": float(report.at_risk["arr"].sum()), "arr_at_risk": float(report.at_risk["arr_at_risk"].sum()),
        "red_accounts": int((report.at_risk["health_band"] == "red").sum()),
        "backtest": {m: {k: float(pooled.loc[m, k]) for k in ("auc", "auc_low", "auc_high", "pr_auc", "top_decile_lift",
                                                                "brier")} for m in pooled.index},
        "backtest_test_dates": [str(d.date()) for d in report.backtest.test_dates],
        "drivers_ranked": report.drivers["driver"].tolist(),
        "driver_groups": {d: report.backtest.models[report.primary_model].groups_[d] for d in report.drivers["driver"]},
        **({"health_auc": list(v["auc"]), "health_red_share_before_churn": v["red_share"],
            "health_median_days_red": v["median_days_red"],
            "health_churn_rate_by_band": dict(zip(v["bands"]["band"], v["bands"]["churn_rate"]))} if v else {}),
        "notes": report.notes,
        "sampling": {k: (None if v is None else {"rows": v.rows, "churned": v.churned, "others": v.others,
                                                 "others_kept": v.others_kept, "weight": v.weight})
                     for k, v in report.sampling.items()},
    }


# ==================================================================================================
# Display tables and notes for the report
# ==================================================================================================
def at_risk_display(at_risk: pd.DataFrame, rows: int = 25) -> pd.DataFrame:
    d = at_risk.head(rows)
    return pd.DataFrame({
        "#": d["rank"], "account": d["account_name"].fillna(d["account_id"]), "segment": d["segment"],
        "ARR": d["arr"], "churn risk": d["churn_probability"], "ARR at risk": d["arr_at_risk"],
        "health": d["health_score"].round(0).astype("Int64").astype(str) + " " + d["health_band"],
        "why (model)": d["top_reasons"], "health triggers": d["health_triggers"],
        "touch tier now → suggested": d["touch_tier"].astype(str) + " → " + d["suggested_touch_tier"],
        "playbook": d["playbook"],
    })


AT_RISK_FORMATS = {"ARR": "${:,.0f}", "churn risk": "{:.0%}", "ARR at risk": "${:,.0f}"}


def drivers_display(drivers: pd.DataFrame, rows: int = 12) -> pd.DataFrame:
    d = drivers.head(rows)
    return pd.DataFrame({
        "#": d["rank"], "driver": d["label"],
        "moves with": d["members"].map(lambda m: ", ".join(_short(feat.describe(x)) for x in m.split(", ")) if m else ""),
        "AUC lost (95% CI)": [f"{i:.3f} ({lo:.3f} to {hi:.3f})" for i, lo, hi in
                              zip(d["importance"], d["importance_low"], d["importance_high"])],
        "what it means": d["statement"],
    })


def backtest_display(metrics: pd.DataFrame) -> pd.DataFrame:
    def ci(r, k, fmt):
        return f"{fmt.format(r[k])} ({fmt.format(r[k + '_low'])}-{fmt.format(r[k + '_high'])})"
    return pd.DataFrame([{
        "test date": r["test_date"], "model": r["model"], "accounts": r["test_accounts"], "churned": r["churners"],
        "churn rate": f"{r['churn_rate']:.1%}", "AUC": ci(r, "auc", "{:.2f}"), "PR-AUC": ci(r, "pr_auc", "{:.2f}"),
        "top-decile lift": ci(r, "top_decile_lift", "{:.1f}x"), "Brier": ci(r, "brier", "{:.3f}"),
    } for _, r in metrics.iterrows()])


def profile_display(profile: pd.DataFrame, rows: int = 15) -> pd.DataFrame:
    d = profile.head(rows)
    return pd.DataFrame({
        "metric": d["label"], "loyal (median)": d["loyal_median"].map(_fmt), "churned (median)": d["churned_median"].map(_fmt),
        "difference in means (95% CI)": [f"{_fmt(x)} ({_fmt(lo)} to {_fmt(hi)})" for x, lo, hi in
                                         zip(d["difference"], d["difference_low"], d["difference_high"])],
        "standardised difference": d["standardised_difference"].round(2),
    })


def expansion_display(expansion: pd.DataFrame, rows: int = 20) -> pd.DataFrame:
    d = expansion.head(rows)
    return pd.DataFrame({
        "#": d["rank"], "account": d["account_name"].fillna(d["account_id"]), "segment": d["segment"],
        "ARR": d["arr"], "expansion chance": d["expansion_probability"], "expected expansion ARR": d["expected_expansion_arr"],
        "seats in use": d["seat_utilisation"], "health": d["health_band"], "why (model)": d["top_reasons"],
        "suggested play": d["suggested_play"],
    })


EXPANSION_FORMATS = {"ARR": "${:,.0f}", "expansion chance": "{:.0%}", "expected expansion ARR": "${:,.0f}",
                     "seats in use": "{:.0%}"}


def profile_sentence(profile: pd.DataFrame) -> str:
    if profile.empty:
        return "Too few loyal or churned accounts to compare."
    top = profile.head(3)
    parts = [f"{r['label']} (median {_fmt(r['loyal_median'])} vs {_fmt(r['churned_median'])})" for _, r in top.iterrows()]
    return (f"Comparing {profile.attrs.get('loyal_accounts', '?'):,} long-lived, expanding accounts with "
            f"{profile.attrs.get('churn_events', '?'):,} churns, the biggest differences are in " + "; ".join(parts) + ".")


def thresholds_markdown(found: pd.DataFrame, rows: int = 5) -> str:
    """The strongest thresholds as a bulleted list (those whose interval excludes 1 first)."""
    if found.empty:
        return "Not enough history to choose thresholds on earlier months and test them on later ones."
    return "\n".join(f"- {s}" for s in found["statement"].head(rows))


def method_notes(report: DriversReport) -> str:
    """How leakage, censoring, multiple comparisons and selection bias are handled, in words."""
    n_dates = report.frame["observation_date"].nunique()
    lines = [
        "**How to read this report.**",
        f"- *Leakage.* Every feature of an observation is computed from data strictly before its observation date "
        f"(the first day after each month), in SQL with the date boundaries fixed in advance; a test moves events "
        f"after the date and checks that no feature changes. The backtest trains only on observations whose "
        f"{report.horizon_days}-day outcome was known before the test date.",
        f"- *Censoring.* An observation whose {report.horizon_days}-day window (after a {report.lead_days}-day lead "
        f"time) is not over at the report date has an unknown outcome: it is scored but never counted as retained. "
        f"Churn is the paying-spell definition of `csresearch.churn` (reactivation window "
        f"{report.frame.attrs.get('reactivation_window_days', 0)} days).",
        f"- *Repeated accounts.* Cohort rates and the health-score validation use observation dates spaced one "
        f"window apart, so each churn counts once; {n_dates} monthly observation dates feed the models.",
        "- *Multiple comparisons.* Attribute cohorts carry Holm-corrected chi-square p-values; thresholds are chosen "
        "on the earlier two thirds of the months and their rate ratios measured on the later third, so the search over "
        "cut points does not inflate them (selection bias).",
        "- *Drivers are predictive, not causal.* Importance is the AUC lost when a driver (a group of correlated "
        "metrics, shuffled together) is scrambled; the direction and size come from setting it to its 25th vs 75th "
        "percentile for every account. An intervention's effect needs an experiment (report 04).",
        "- *Selection.* Only accounts paying at an observation date are scored; accounts that joined and left "
        "between two dates are never seen.",
    ]
    lines.extend(f"- {s}" for s in scale_notes(report))
    if report.notes:
        lines.append("- *Data gaps.* " + "; ".join(report.notes) + ".")
    return "\n".join(lines)


def scale_notes(report: DriversReport) -> list[str]:
    """Generated sentences saying which steps ran on samples (none on a small enough world)."""
    out = []
    final = report.sampling.get("final")
    if final is not None:
        out.append("*Sampling (models).* " + sampling_sentence(final, "The final risk model") + " "
                   + "The backtest models are trained the same way on their own earlier rows"
                   + (f" ({_backtest_sampling_words(report)})" if _backtest_sampling_words(report) else "")
                   + "; every test row is scored and counted in the backtest metrics.")
    else:
        sampled = [k for k, v in report.sampling.items() if v is not None]
        if sampled:
            out.append("*Sampling (models).* " + _backtest_sampling_words(report).capitalize()
                       + "; every test row is scored and counted in the backtest metrics.")
    expansion = report.sampling.get("expansion")
    if expansion is not None:
        out.append("*Sampling (expansion model).* " + sampling_sentence(expansion, "The expansion model"))
    if report.importance_rows and report.importance_rows[1] < report.importance_rows[0]:
        total, used = report.importance_rows
        out.append(f"*Sampling (drivers).* Driver importance and effects use a random {used:,} of the "
                   f"{total:,} test rows, stratified by outcome (the same churn share as all of them).")
    counts = [int(n) for n in report.backtest.metrics.get("test_accounts", [])]
    if report.validation is not None:
        counts.append(int(report.validation["table"]["n"].iloc[0]))  # the health score's AUC rows
    cap = report.bootstrap_max_rows
    if cap is not None and counts and max(counts) > cap:
        out.append(f"*Intervals.* Metrics are computed on every row; where there are more than {cap:,} rows (up to "
                   f"{max(counts):,}) the 95% bootstrap interval resamples a random {cap:,} of them, stratified by "
                   f"outcome, and its width is scaled by the square root of {cap:,} / rows.")
    return out


def _backtest_sampling_words(report: DriversReport) -> str:
    parts = [(k.removeprefix("backtest "), v) for k, v in report.sampling.items()
             if k.startswith("backtest ") and v is not None]
    if not parts:
        return ""
    return "; ".join(f"the last fold's {kind} model: all {v.churned:,} churned and {v.share:.1%} of "
                     f"{_count(v.others)} others" for kind, v in parts)


def _relative(path: str) -> str:
    from .config import project_root

    try:
        return str(Path(path).resolve().relative_to(project_root()))
    except ValueError:
        return path


def conventions(report: DriversReport, parameters: dict) -> tuple[dict, dict]:
    """The conventions box: values and what each means here."""
    values = {
        "horizon_days": report.horizon_days, "lead_days": report.lead_days,
        "observation_date": f"{report.as_of.date()} (first day after the report month)",
        "usage windows (days)": f"{report.frame.attrs.get('windows_days')}",
        "health score": _relative(report.config.source), "primary model": report.primary_model,
        **{k: parameters[k] for k in ("reactivation_window_days", "value_milestone", "count_same_month_churn",
                                      "annualisation", "churn_convention") if k in parameters},
        "model training rows": _training_rows_value(report, parameters.get("max_train_rows")),
    }
    notes = {
        "horizon_days": "label: churn within this many days after the lead time",
        "lead_days": "gap between the observation and the start of the churn window (time to act)",
        "observation_date": "features use data strictly before this date",
        "reactivation_window_days": "a zero-MRR gap shorter than this is not a churn (csresearch.churn)",
        "value_milestone": "onboarding milestone defining time to value",
        "count_same_month_churn": "n/a: only accounts paying at an observation date are scored",
        "annualisation": "n/a: rates here are over the horizon; ARR = 12 x MRR",
        "churn_convention": "labels use day-level paying spells (the contract's month-end rule)",
        "model training rows": "max_train_rows: above it, all churned rows + a stratified, weighted sample of the rest",
    }
    return values, notes


def _training_rows_value(report: DriversReport, cap) -> str:
    final = report.sampling.get("final")
    if final is not None:
        return f"{final.rows:,} of {final.churned + final.others:,} (cap {cap or final.rows:,}; sampled, weighted)"
    return f"all (cap {cap:,} not reached)" if cap else "all (no cap)"
