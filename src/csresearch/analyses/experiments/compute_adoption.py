"""Not randomised (users vs non-users of a feature): estimates that adjust for who chose to adopt.

Difference-in-differences on per-account usage changes with an event study and a joint pre-trend
test; inverse-propensity weighting and the doubly robust AIPW estimate of the effect on the
treated, with cross-fitted propensity and outcome models (every prediction from a model that never
saw the account). Each needs an assumption, which the report states beside the estimate.
"""

from __future__ import annotations

import math
from typing import Iterable

import numpy as np
import pandas as pd

from .compute_effects import Effect, diff_in_means
from .compute_uplift import single_threaded


def event_study(panel: pd.DataFrame, base_period: int = -1, alpha: float = 0.05) -> pd.DataFrame:
    """Event-study coefficients: for each period k relative to assignment, the difference between arms
    of the within-account change y_k - y_base (a 2x2 difference-in-differences per k), Welch interval.

    ``panel``: one row per account and relative period with ``account_id``, ``treated``, ``period``
    and ``y`` (NaN where not observed). Working with per-account differences keeps the standard
    errors honest about repeated measures of the same account (one number per account per k).
    """
    wide = panel.pivot_table(index=["account_id", "treated"], columns="period", values="y", dropna=False)
    if base_period not in wide.columns:
        return pd.DataFrame(columns=["period", "estimate", "low", "high", "p_value", "n_treated", "n_control"])
    treated = wide.index.get_level_values("treated").to_numpy().astype(bool)
    rows = []
    for k in wide.columns:
        change = (wide[k] - wide[base_period]).to_numpy()
        if k == base_period:
            rows.append({"period": k, "estimate": 0.0, "low": 0.0, "high": 0.0, "p_value": np.nan,
                         "n_treated": int((~np.isnan(change) & treated).sum()),
                         "n_control": int((~np.isnan(change) & ~treated).sum())})
            continue
        ok = ~np.isnan(change)
        if (ok & treated).sum() < 2 or (ok & ~treated).sum() < 2:
            continue
        e = diff_in_means(change, treated, alpha)
        rows.append({"period": k, "estimate": e.estimate, "low": e.low, "high": e.high, "p_value": e.p_value,
                     "n_treated": e.n_treated, "n_control": e.n_control})
    return pd.DataFrame(rows)


def pretrend_test(panel: pd.DataFrame, base_period: int = -1) -> dict:
    """Joint Wald test that every pre-period event-study coefficient is zero (parallel pre-trends).

    Uses the covariance of the per-account change vectors in each arm (accounts with every pre
    period observed), so correlation between the coefficients is accounted for.
    """
    from scipy.stats import chi2

    wide = panel.pivot_table(index=["account_id", "treated"], columns="period", values="y", dropna=False)
    pre = [k for k in wide.columns if k < 0 and k != base_period]
    if not pre or base_period not in wide.columns:
        return {"periods": [], "chi2": float("nan"), "df": 0, "p_value": float("nan")}
    changes = wide[pre].sub(wide[base_period], axis=0).dropna()
    t = changes.index.get_level_values("treated").to_numpy().astype(bool)
    a, b = changes.to_numpy()[t], changes.to_numpy()[~t]
    diff = a.mean(axis=0) - b.mean(axis=0)
    cov = np.atleast_2d(np.cov(a, rowvar=False)) / len(a) + np.atleast_2d(np.cov(b, rowvar=False)) / len(b)
    stat = float(diff @ np.linalg.pinv(cov) @ diff)
    return {"periods": pre, "chi2": stat, "df": len(pre), "p_value": float(chi2.sf(stat, len(pre)))}


def difference_in_differences(panel: pd.DataFrame, pre_periods: Iterable[int], post_periods: Iterable[int],
                              alpha: float = 0.05) -> Effect:
    """Classic DiD on account averages: (mean post - mean pre) per account, compared across arms with
    Welch. Identifies the effect on the treated if, absent treatment, both arms would have moved in
    parallel (checked, not proven, by the event study's pre-period coefficients)."""
    pre, post = list(pre_periods), list(post_periods)
    wide = panel.pivot_table(index=["account_id", "treated"], columns="period", values="y", dropna=False)
    pre, post = [k for k in pre if k in wide.columns], [k for k in post if k in wide.columns]
    change = (wide[post].mean(axis=1, skipna=True) - wide[pre].mean(axis=1, skipna=True)).to_numpy()
    treated = wide.index.get_level_values("treated").to_numpy().astype(bool)
    return diff_in_means(change, treated, alpha, method="difference-in-differences (account changes, Welch)")


def cross_fitted_propensity(x: pd.DataFrame | np.ndarray, t, folds: int = 5, seed: int = 0,
                            clip: float = 0.01) -> np.ndarray:
    """Out-of-fold P(treated | covariates) from a standardised logistic regression, clipped to
    [clip, 1 - clip] so that a few extreme weights cannot dominate."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    t = np.asarray(t).astype(int)
    model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    p = cross_val_predict(model, np.asarray(x, dtype=float), t, cv=cv, method="predict_proba")[:, 1]
    return np.clip(p, clip, 1 - clip)


def ipw_att(y, t, propensity, alpha: float = 0.05) -> Effect:
    """Inverse-propensity (Hajek) effect on the treated: treated mean minus the control mean
    reweighted by e/(1-e) to look like the treated. Sandwich SE treating the propensity as known
    (the usual slight over-statement of uncertainty for ATT weighting is accepted)."""
    from scipy.stats import norm

    y, t, e = np.asarray(y, dtype=float), np.asarray(t).astype(bool), np.asarray(propensity, dtype=float)
    keep = ~np.isnan(y)
    y, t, e = y[keep], t[keep], e[keep]
    w = e / (1 - e)
    mu1 = y[t].mean()
    mu0 = np.sum(w[~t] * y[~t]) / np.sum(w[~t])
    est = mu1 - mu0
    n, pt = len(y), t.mean()
    psi = np.where(t, (y - mu1) / pt, -w * (y - mu0) / np.mean(np.where(t, 0.0, w)))
    se = float(np.std(psi, ddof=1) / math.sqrt(n))
    q = norm.ppf(1 - alpha / 2)
    return Effect(float(est), est - q * se, est + q * se, float(2 * norm.sf(abs(est) / se)),
                  "inverse-propensity weighting (effect on the treated)", se, int(t.sum()), int((~t).sum()),
                  float(mu1), float(mu0))


def aipw(y, t, propensity, mu0, mu1=None, target: str = "att", alpha: float = 0.05) -> Effect:
    """Augmented IPW (doubly robust): consistent if either the propensity or the outcome model is
    right. ``target`` 'att' (effect on the treated; needs only the control outcome model ``mu0``) or
    'ate' (needs ``mu1`` too). Influence-function standard error; nuisances should be cross-fitted."""
    from scipy.stats import norm

    y, t, e = np.asarray(y, dtype=float), np.asarray(t).astype(bool), np.asarray(propensity, dtype=float)
    mu0 = np.asarray(mu0, dtype=float)
    keep = ~np.isnan(y)
    y, t, e, mu0 = y[keep], t[keep], e[keep], mu0[keep]
    n = len(y)
    if target == "att":
        pt = t.mean()
        resid = y - mu0
        contrib = np.where(t, resid, -e / (1 - e) * resid)
        est = contrib.sum() / t.sum()
        psi = (contrib - t * est) / pt
        method = "doubly robust AIPW (effect on the treated)"
    else:
        mu1 = np.asarray(mu1, dtype=float)[keep]
        psi_raw = mu1 - mu0 + t * (y - mu1) / e - (~t) * (y - mu0) / (1 - e)
        est = psi_raw.mean()
        psi = psi_raw - est
        method = "doubly robust AIPW (average effect)"
    se = float(np.std(psi, ddof=1) / math.sqrt(n))
    q = norm.ppf(1 - alpha / 2)
    return Effect(float(est), est - q * se, est + q * se, float(2 * norm.sf(abs(est) / se)) if se > 0 else float("nan"),
                  method, se, int(t.sum()), int((~t).sum()))


def cross_fitted_outcome(x, y, fit_mask, folds: int = 5, seed: int = 0, binary: bool = False) -> np.ndarray:
    """Out-of-fold predictions of ``y`` from gradient-boosted trees (LightGBM) trained only on rows in
    ``fit_mask`` (e.g. the control arm for mu0): every row is predicted by a model that never saw it."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    fit_mask = np.asarray(fit_mask).astype(bool) & ~np.isnan(y)
    pred = np.full(len(y), np.nan)
    with single_threaded():
        return _cross_fitted_outcome(x, y, fit_mask, pred, folds, seed, binary)


def _cross_fitted_outcome(x, y, fit_mask, pred, folds, seed, binary):
    from lightgbm import LGBMClassifier, LGBMRegressor
    from sklearn.model_selection import KFold

    settings = dict(n_estimators=100, max_depth=3, num_leaves=8, learning_rate=0.08, min_child_samples=30,
                    n_jobs=1, verbose=-1, random_state=seed)
    for train, test in KFold(n_splits=folds, shuffle=True, random_state=seed).split(x):
        rows = train[fit_mask[train]]
        if binary and len(np.unique(y[rows])) > 1:
            pred[test] = LGBMClassifier(**settings).fit(x[rows], y[rows].astype(int)).predict_proba(x[test])[:, 1]
        elif binary:
            pred[test] = y[rows].mean()
        else:
            pred[test] = LGBMRegressor(**settings).fit(x[rows], y[rows]).predict(x[test])
    return pred


def did_relative(panel: pd.DataFrame, pre_periods: Iterable[int], post_periods: Iterable[int],
                 alpha: float = 0.05, propensity: pd.Series | None = None) -> tuple[Effect, dict]:
    """Difference-in-differences in events, and as a share of the treated arm's counterfactual level
    (its post-period mean minus the DiD): the interval is the DiD interval over that level.

    With ``propensity`` (indexed by account_id) the control accounts' changes are weighted by
    e/(1-e), the inverse-propensity DiD of Abadie (2005): parallel trends need only hold among
    accounts alike on the covariates."""
    pre, post = list(pre_periods), list(post_periods)
    if propensity is None:
        did = difference_in_differences(panel, pre, post, alpha)
    else:
        wide = panel.pivot_table(index=["account_id", "treated"], columns="period", values="y", dropna=False)
        pre_c, post_c = [k for k in pre if k in wide.columns], [k for k in post if k in wide.columns]
        change = (wide[post_c].mean(axis=1) - wide[pre_c].mean(axis=1)).reset_index(name="change")
        change = change.dropna()
        e = change["account_id"].map(propensity).to_numpy(dtype=float)
        did = ipw_att(change["change"], change["treated"], e, alpha)
        did.method = "difference-in-differences, inverse-propensity weighted (Abadie 2005)"
    post_level = panel[(panel["treated"] == 1) & panel["period"].isin(post)].groupby("account_id")["y"].mean().mean()
    base = post_level - did.estimate
    rel = {"estimate": did.estimate / base, "low": did.low / base, "high": did.high / base, "counterfactual": base,
           "post_level": post_level}
    return did, rel


def naive_relative(frame: pd.DataFrame, column: str, alpha: float = 0.05) -> tuple[Effect, dict]:
    """Users vs non-users after assignment, as a share of the non-users' level (the naive comparison)."""
    e = diff_in_means(frame[column], frame["treated"], alpha, method="naive users vs non-users (Welch)")
    base = e.mean_control
    return e, {"estimate": e.estimate / base, "low": e.low / base, "high": e.high / base, "counterfactual": base,
               "post_level": e.mean_treated}
