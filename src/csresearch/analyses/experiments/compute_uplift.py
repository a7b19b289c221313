"""Heterogeneous effects (randomised experiments): for whom does the intervention work, and whom
should we treat?

causalml meta-learners (S, T, X, R, DR) and an uplift forest, cross-fitted so every prediction comes
from a model that never saw the account; Qini curves, AUUC and the uplift among the top k% by
predicted uplift; the observed effect per segment (Holm-adjusted); and the incremental retained ARR
against the cost of treating the top k% by predicted uplift, by churn risk, or a random k%.
"""

from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np
import pandas as pd

from .compute_effects import average_effect, diff_in_proportions
from .settings import MODELS


def _import_causalml() -> None:
    """Import causalml without its side effect: ``causalml.metrics`` switches matplotlib to the
    'fivethirtyeight' style on import, which would restyle every later chart of the report."""
    import matplotlib as mpl

    with mpl.rc_context():
        import causalml.inference.meta  # noqa: F401
        import causalml.inference.tree  # noqa: F401
        from causalml import metrics  # noqa: F401  (the import with the side effect)


def single_threaded():
    """Run model fits on one thread: the report runs two notebooks at once on small machines, and
    OpenMP gradient boosting oversubscribed across them is many times slower (measured: 0.04 s vs
    1.8 s for one fit on 2 busy cores)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


# ==================================================================================================
# Heterogeneous effects
# ==================================================================================================
def _base_learner(n_estimators: int, seed: int):
    """The meta-learners' base model: small gradient-boosted trees from LightGBM (a dependency of
    causalml). Not scikit-learn's HistGradientBoosting: with sample weights (the R-learner's) its
    binning takes ~2 s per fit instead of ~0.07 s."""
    from lightgbm import LGBMRegressor

    return LGBMRegressor(n_estimators=n_estimators, max_depth=3, num_leaves=8, learning_rate=0.08,
                         min_child_samples=40, subsample=1.0, n_jobs=1, verbose=-1, random_state=seed)


def _fit_predict(model: str, x_train, t_train, y_train, x_test, p_train, p_test, binary: bool,
                 n_estimators: int, seed: int) -> np.ndarray:
    _import_causalml()
    from causalml.inference.meta import BaseDRRegressor, BaseRRegressor, BaseSRegressor, BaseTRegressor, BaseXRegressor
    from causalml.inference.tree import CausalRandomForestRegressor, UpliftRandomForestClassifier

    learner = _base_learner(n_estimators, seed)
    if model == "uplift forest":
        min_leaf = int(max(20, len(y_train) // 40))
        if binary:
            forest = UpliftRandomForestClassifier(control_name="control", n_estimators=n_estimators // 2 or 1,
                                                  max_depth=4, min_samples_leaf=min_leaf,
                                                  min_samples_treatment=max(10, min_leaf // 4),
                                                  max_features=min(10, x_train.shape[1]), random_state=seed,
                                                  evaluationFunction="KL", n_jobs=1)
            arms = np.where(t_train == 1, "treatment", "control")
            forest.fit(x_train, treatment=arms, y=y_train.astype(int))
            return np.asarray(forest.predict(x_test)).reshape(len(x_test), -1)[:, 0]
        forest = CausalRandomForestRegressor(n_estimators=n_estimators // 2 or 1, control_name=0, max_depth=6,
                                             min_samples_leaf=min_leaf, random_state=seed, n_jobs=1)
        forest.fit(x_train, treatment=t_train.astype(int), y=y_train)
        return np.asarray(forest.predict(x_test)).reshape(-1)
    if model == "S-learner":
        est = BaseSRegressor(learner=learner, control_name=0)
        est.fit(x_train, treatment=t_train, y=y_train)
        return np.asarray(est.predict(x_test, verbose=False)).reshape(-1)
    if model == "T-learner":
        est = BaseTRegressor(learner=learner, control_name=0)
        est.fit(x_train, treatment=t_train, y=y_train)
        return np.asarray(est.predict(x_test, verbose=False)).reshape(-1)
    if model == "X-learner":
        est = BaseXRegressor(learner=learner, control_name=0)
        est.fit(x_train, treatment=t_train, y=y_train, p=p_train)
        return np.asarray(est.predict(x_test, p=p_test, verbose=False)).reshape(-1)
    if model == "R-learner":
        est = BaseRRegressor(learner=learner, control_name=0, n_fold=3, random_state=seed)
        est.cv_n_jobs = 1  # its default (-1) starts a process pool per fit: slower than the fits themselves
        est.fit(x_train, treatment=t_train, y=y_train, p=p_train, verbose=False)
        return np.asarray(est.predict(x_test, p=p_test)).reshape(-1)
    if model == "DR-learner":
        est = BaseDRRegressor(learner=learner, control_name=0)
        est.fit(x_train, treatment=t_train, y=y_train, p=p_train, seed=seed)
        return np.asarray(est.predict(x_test, p=p_test, verbose=False)).reshape(-1)
    raise ValueError(f"unknown uplift model {model!r}; known {MODELS}")


def cross_fitted_uplift(x, t, y, propensity=None, models: Sequence[str] = MODELS, folds: int = 3,
                        n_estimators: int = 80, binary: bool = True, seed: int = 0) -> pd.DataFrame:
    """Out-of-fold predicted uplift (CATE) per model: each account's prediction comes from models fit
    on the other folds, so curves and choices made on these predictions are held-out.

    ``propensity`` is the known assignment probability in a randomised experiment (passed to the
    learners so they do not estimate it); None estimates it.
    """
    from sklearn.model_selection import StratifiedKFold

    x, t, y = np.asarray(x, dtype=float), np.asarray(t).astype(int), np.asarray(y, dtype=float)
    p = np.full(len(t), t.mean()) if propensity is None else np.asarray(propensity, dtype=float)
    out = pd.DataFrame(index=range(len(t)), columns=list(models), dtype=float)
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    with warnings.catch_warnings(), single_threaded():
        warnings.simplefilter("ignore")
        for train, test in cv.split(x, t):
            for model in models:
                out.loc[test, model] = _fit_predict(model, x[train], t[train], y[train], x[test], p[train],
                                                    p[test], binary, n_estimators, seed)
    return out


def qini_curves(y, t, scores: pd.DataFrame, points: int = 51) -> pd.DataFrame:
    """Qini curve per model (causalml ``get_qini``) sampled at ``points`` shares of accounts targeted,
    plus the random-targeting line. ``qini`` is the incremental outcome count among the targeted
    (Radcliffe); ``uplift`` the treatment-minus-control rate among them (causalml ``get_cumlift``)."""
    _import_causalml()
    from causalml.metrics import get_cumlift, get_qini

    df = pd.DataFrame({"y": np.asarray(y, dtype=float), "w": np.asarray(t).astype(int)})
    df = pd.concat([df, scores.reset_index(drop=True)], axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        q = get_qini(df, "y", "w", treatment_effect_col="__none__")
        lift = get_cumlift(df, "y", "w", treatment_effect_col="__none__")
    n = len(df)
    grid = np.unique(np.round(np.linspace(0, n, points)).astype(int))
    rows = []
    for model in scores.columns:
        for k in grid:
            rows.append({"model": model, "share_targeted": k / n, "qini": float(q[model].iloc[k]),
                         "uplift": float(lift[model].iloc[k - 1]) if k > 0 and k - 1 < len(lift) else np.nan})
    total = float(q[scores.columns[0]].iloc[-1])
    for k in grid:
        rows.append({"model": "random", "share_targeted": k / n, "qini": total * k / n,
                     "uplift": float(lift[scores.columns[0]].iloc[-1]) if k > 0 else np.nan})
    return pd.DataFrame(rows)


def uplift_scores(y, t, scores: pd.DataFrame) -> pd.DataFrame:
    """AUUC (normalised area under the cumulative-gain curve; random about 0.5) and Qini coefficient
    (area between the Qini curve and random; > 0 beats random) per model, from causalml."""
    _import_causalml()
    from causalml.metrics import auuc_score, qini_score

    df = pd.concat([pd.DataFrame({"y": np.asarray(y, dtype=float), "w": np.asarray(t).astype(int)}),
                    scores.reset_index(drop=True)], axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        auuc = auuc_score(df, "y", "w", treatment_effect_col="__none__", normalize=True)
        qini = qini_score(df, "y", "w", treatment_effect_col="__none__", normalize=True)
    return pd.DataFrame({"model": list(scores.columns), "auuc": [float(auuc[m]) for m in scores.columns],
                         "qini": [float(qini[m]) for m in scores.columns]})


def qini_interval(y, t, score, n_bootstrap: int = 200, alpha: float = 0.05, seed: int = 0) -> dict:
    """Bootstrap interval and p-value (against random targeting) of one model's Qini coefficient."""
    _import_causalml()
    from causalml.metrics import qini_score

    df = pd.DataFrame({"y": np.asarray(y, dtype=float), "w": np.asarray(t).astype(int), "model": np.asarray(score)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = qini_score(df, "y", "w", treatment_effect_col="__none__", normalize=True, return_ci=True,
                         n_bootstrap=n_bootstrap, alpha=alpha, random_state=seed)
    row = res.iloc[0] if isinstance(res, pd.DataFrame) else res
    out = {k: float(v) for k, v in dict(row).items() if isinstance(v, (int, float, np.floating))}
    return out


def top_k_uplift(y, t, score, shares: Sequence[float] = (0.1, 0.2, 0.3, 0.5, 1.0), binary: bool = True,
                 alpha: float = 0.05) -> pd.DataFrame:
    """Observed treatment-minus-control difference among the top k% by ``score`` (ties broken by
    order), with its interval: does the model find accounts the intervention helps more?"""
    y, t, score = np.asarray(y, dtype=float), np.asarray(t).astype(bool), np.asarray(score, dtype=float)
    order = np.argsort(-score, kind="stable")
    rows = []
    for share in shares:
        top = order[: max(1, int(round(share * len(y))))]
        if t[top].sum() < 2 or (~t[top]).sum() < 2:
            continue
        e = average_effect(y[top], t[top], binary, alpha)
        rows.append({"share_targeted": share, "accounts": len(top), "uplift": e.estimate, "low": e.low,
                     "high": e.high, "p_value": e.p_value, "n_treated": e.n_treated, "n_control": e.n_control})
    return pd.DataFrame(rows)


def effects_by_segment(frame: pd.DataFrame, outcome: str, segment: str, binary: bool,
                       predicted: np.ndarray | None = None, alpha: float = 0.05) -> pd.DataFrame:
    """Observed effect per segment with its interval and a Holm-adjusted p-value (several segments
    are tested at once), beside the mean predicted uplift of the chosen model."""
    from statsmodels.stats.multitest import multipletests

    rows = []
    seg = frame[segment].fillna("unknown").astype(str) if segment in frame else pd.Series("all", index=frame.index)
    for value in sorted(seg.unique()):
        m = (seg == value).to_numpy() & frame[outcome].notna().to_numpy()
        sub = frame.loc[m]
        if sub["treated"].sum() < 2 or (1 - sub["treated"]).sum() < 2 or sub[outcome].nunique() < 2:
            continue  # too few to compare, or no variation in the segment (nothing to measure)
        e = average_effect(sub[outcome], sub["treated"], binary, alpha)
        rows.append({"segment": value, "accounts": int(m.sum()), "n_treated": e.n_treated, "n_control": e.n_control,
                     "rate_treated": e.mean_treated, "rate_control": e.mean_control,
                     "effect": e.estimate, "low": e.low, "high": e.high, "p_value": e.p_value,
                     "predicted_uplift": float(np.nanmean(predicted[m])) if predicted is not None else np.nan})
    out = pd.DataFrame(rows)
    if len(out):
        out["p_holm"] = multipletests(out["p_value"].fillna(1.0), method="holm")[1]
    return out


# ==================================================================================================
# Targeting and ROI
# ==================================================================================================
def targeting_table(retained, t, arr, uplift_score, risk_score, population: int, cost_per_account: float,
                    shares: Sequence[float] = (0.1, 0.2, 0.3, 0.5, 1.0), alpha: float = 0.05) -> pd.DataFrame:
    """Incremental retained ARR of treating the top k% by predicted uplift, the top k% by churn risk,
    or a random k% (= treating everyone, scaled), against the cost of treating them.

    Measured on held-out accounts: among the accounts a policy selects, the retention uplift is the
    observed treatment-minus-control difference (Newcombe interval) and the ARR at stake is their mean
    ARR at assignment; incremental retained ARR = uplift x mean ARR x accounts treated, where accounts
    treated = share x ``population`` (a rollout to a population like the experiment's). The interval
    carries the uplift's uncertainty; it assumes uplift and ARR are unrelated within the selected group.
    """
    retained, t, arr = np.asarray(retained, dtype=float), np.asarray(t).astype(bool), np.asarray(arr, dtype=float)
    rows = []
    policies = {"top k% by predicted uplift": uplift_score, "top k% by churn risk": risk_score}
    for policy, score in policies.items():
        if score is None:
            continue
        order = np.argsort(-np.asarray(score, dtype=float), kind="stable")
        for share in shares:
            top = order[: max(1, int(round(share * len(retained))))]
            if t[top].sum() < 2 or (~t[top]).sum() < 2:
                continue
            rows.append(_policy_row(policy, share, retained[top], t[top], arr[top], population, cost_per_account, alpha))
    for share in shares:
        rows.append(_policy_row("random k%", share, retained, t, arr, population, cost_per_account, alpha))
    return pd.DataFrame(rows)


def targeting_on_halves(retained, t, arr, uplift_score, risk_score, select, population: int,
                        cost_per_account: float, shares: Sequence[float] = (0.1, 0.2, 0.3, 0.5, 1.0),
                        alpha: float = 0.05) -> pd.DataFrame:
    """The targeting table measured on the evaluation half (``~select``), with the one policy and share
    chosen on the selection half (``select``) marked ``chosen``.

    Reporting the best of ~15 noisy policy x share rows at face value picks the luckiest row: with no
    effect at all its value is positive most of the time. Choosing on one half and reading the chosen
    row's value (and interval) on the other half leaves that value unbiased for the policy chosen.
    ``net_value_selection_half`` is the value the choice was made on (not an estimate to report).
    """
    retained, t, arr = np.asarray(retained, dtype=float), np.asarray(t).astype(bool), np.asarray(arr, dtype=float)
    select = np.asarray(select, dtype=bool)
    uplift_score = None if uplift_score is None else np.asarray(uplift_score, dtype=float)
    risk_score = None if risk_score is None else np.asarray(risk_score, dtype=float)

    def half(m):
        return targeting_table(retained[m], t[m], arr[m], None if uplift_score is None else uplift_score[m],
                               None if risk_score is None else risk_score[m], population, cost_per_account, shares,
                               alpha)

    evaluation, selection = half(~select), half(select)
    keys = ["policy", "share_treated"]
    if evaluation.empty:
        return evaluation.assign(net_value_selection_half=pd.Series(dtype=float), chosen=pd.Series(dtype=bool))
    picked = (selection[keys + ["net_value"]].rename(columns={"net_value": "net_value_selection_half"})
              if len(selection) else pd.DataFrame(columns=[*keys, "net_value_selection_half"]))
    out = evaluation.merge(picked, on=keys, how="left")
    out["chosen"] = False
    candidates = out["net_value_selection_half"].astype(float)
    if candidates.notna().any():
        out.loc[candidates.idxmax(), "chosen"] = True
    return out


def _policy_row(policy, share, retained, t, arr, population, cost, alpha) -> dict:
    e = diff_in_proportions(retained, t, alpha)
    treated = int(round(share * population))
    at_stake = float(np.mean(arr)) * treated
    spend = treated * cost
    return {"policy": policy, "share_treated": share, "accounts_treated": treated,
            "retention_uplift": e.estimate, "retention_uplift_low": e.low, "retention_uplift_high": e.high,
            "arr_at_stake": at_stake, "incremental_arr": e.estimate * at_stake,
            "incremental_arr_low": e.low * at_stake, "incremental_arr_high": e.high * at_stake,
            "cost": spend, "net_value": e.estimate * at_stake - spend,
            "net_value_low": e.low * at_stake - spend, "net_value_high": e.high * at_stake - spend,
            "held_out_accounts": len(retained)}
