"""Statistics shared by every analysis: one Wilson interval, ratio (delta-method) intervals,
annualisation, and the ranking and calibration metrics of a risk score with bootstrap intervals."""

from __future__ import annotations

import numpy as np


def annualise(monthly_rate, annualisation: str = "compounded"):
    """Monthly churn to annual: compounded ``1-(1-c)^12`` (default) or simple ``12c``."""
    if annualisation not in ("compounded", "simple"):
        raise ValueError(f"annualisation must be one of compounded, simple; got {annualisation!r}")
    c = np.asarray(monthly_rate, dtype=float)
    out = 1 - (1 - c) ** 12 if annualisation == "compounded" else 12 * c
    return out if out.ndim else float(out)


def wilson_interval(count, nobs, confidence: float = 0.95, alpha: float | None = None):
    """Wilson score interval for a proportion (statsmodels ``proportion_confint``); NaN when nobs = 0.
    Scalars in, a (low, high) pair of floats out; arrays in, arrays out. ``alpha`` (e.g. exactly 0.05)
    overrides ``1 - confidence``, which is 0.050000000000000044 in floating point."""
    from statsmodels.stats.proportion import proportion_confint

    count, nobs = np.asarray(count, dtype=float), np.asarray(nobs, dtype=float)
    safe = np.where(nobs > 0, nobs, 1)
    low, high = proportion_confint(count, safe, alpha=1 - confidence if alpha is None else alpha, method="wilson")
    low, high = np.where(nobs > 0, low, np.nan), np.where(nobs > 0, high, np.nan)
    return (low, high) if low.ndim else (float(low), float(high))


def share_interval(successes: int, trials: int, confidence: float = 0.95,
                   alpha: float | None = None) -> tuple[float, float, float]:
    """A share and its Wilson interval: (share, low, high); NaNs when there are no trials."""
    if trials == 0:
        return float("nan"), float("nan"), float("nan")
    low, high = wilson_interval(successes, trials, confidence, alpha)
    return successes / trials, float(low), float(high)


def ratio_interval(numerator: np.ndarray, denominator: np.ndarray, confidence: float = 0.95):
    """Ratio sum(y)/sum(x) over accounts with its linearised (delta-method) normal interval:
    se^2 = n/(n-1) * sum((y - R x)^2) / sum(x)^2. Used for revenue churn, where one large account can
    move the rate: the interval widens when losses are concentrated."""
    from scipy.stats import norm

    y, x = np.asarray(numerator, dtype=float), np.asarray(denominator, dtype=float)
    n, total = len(y), x.sum()
    if n < 2 or total <= 0:
        return np.nan, np.nan, np.nan
    ratio = y.sum() / total
    se = np.sqrt(n / (n - 1) * ((y - ratio * x) ** 2).sum()) / total
    z = norm.ppf(0.5 + confidence / 2)
    return ratio, ratio - z * se, ratio + z * se


def _allocate(sizes: np.ndarray, budget: int) -> np.ndarray:
    """Proportional allocation of ``budget`` rows over strata of ``sizes`` (largest remainder, so the
    total is exactly ``budget``), at least one row per non-empty stratum and never more than its size."""
    sizes = np.asarray(sizes, dtype=np.int64)
    total = int(sizes.sum())
    if budget >= total:
        return sizes.copy()
    exact = sizes * (budget / total)
    kept = np.floor(exact).astype(np.int64)
    short = budget - int(kept.sum())
    if short > 0:
        order = np.argsort(-(exact - kept), kind="stable")
        kept[order[:short]] += 1
    kept = np.minimum(np.maximum(kept, (sizes > 0).astype(np.int64)), sizes)
    return kept


def stratified_rows(y, max_rows: int | None, random_state: int = 0) -> np.ndarray | None:
    """Positions of a random sample of at most ``max_rows`` rows, stratified by the value of ``y``
    (each class keeps its share, at least one row), in their original order; None when every row fits."""
    y = np.asarray(y)
    if max_rows is None or len(y) <= max_rows:
        return None
    classes, codes = np.unique(y, return_inverse=True)
    sizes = np.bincount(codes, minlength=len(classes))
    kept = _allocate(sizes, max_rows)
    rng = np.random.default_rng(random_state)
    out = [rng.choice(np.flatnonzero(codes == c), kept[c], replace=False) for c in range(len(classes))]
    return np.sort(np.concatenate(out))




# ==================================================================================================
# Model metrics (ranking, calibration) and their bootstrap intervals
# ==================================================================================================
def _auc(y, p) -> float:
    """ROC AUC by the rank-sum (Mann-Whitney) formula, ties averaged: the same number as scikit-learn's
    roc_auc_score (tested), without its input checks, because the bootstrap and the permutation
    importance call it thousands of times."""
    from scipy.stats import rankdata

    y = np.asarray(y, dtype=bool)
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return np.nan
    ranks = rankdata(p)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _pr_auc(y, p) -> float:
    """Average precision, scikit-learn's definition (sum over thresholds of recall gained x precision),
    computed directly for the same reason as :func:`_auc` (tested against average_precision_score)."""
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    if y.sum() == 0:
        return np.nan
    order = np.argsort(-p, kind="mergesort")
    y, p = y[order], p[order]
    last = np.r_[np.flatnonzero(np.diff(p)), len(p) - 1]  # the last row of each distinct score
    tps = np.cumsum(y)[last]
    precision = tps / (last + 1)
    recall = tps / tps[-1]
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def top_decile_lift(y, p, share: float = 0.1) -> float:
    """Churn rate among the ``share`` highest-scored rows divided by the overall churn rate."""
    y, p = np.asarray(y, float), np.asarray(p, float)
    if len(y) == 0 or y.mean() == 0:
        return np.nan
    k = max(1, int(np.ceil(share * len(y))))
    top = np.argsort(-p, kind="stable")[:k]
    return float(y[top].mean() / y.mean())


def _brier(y, p) -> float:
    return float(np.mean((np.asarray(p, float) - np.asarray(y, float)) ** 2))


METRICS = {"auc": _auc, "pr_auc": _pr_auc, "top_decile_lift": top_decile_lift, "brier": _brier}


def metric_interval(metric, y, p, n_resamples: int = 300, random_state: int = 0,
                    max_rows: int | None = None) -> tuple[float, float, float]:
    """A metric of (y, p) on every row with a 95% percentile-bootstrap interval over rows
    (scipy.stats.bootstrap).

    With more than ``max_rows`` rows the bootstrap resamples a random subsample of ``max_rows`` rows
    stratified by ``y`` (same share of each outcome), and the interval's distances from the
    subsample's own value are scaled by sqrt(max_rows / rows) around the value on every row: the
    metrics here are averages over rows whose sampling error shrinks as 1/sqrt(rows)."""
    from scipy.stats import bootstrap

    y, p = np.asarray(y, float), np.asarray(p, float)
    value = metric(y, p)
    if np.isnan(value) or len(y) < 20:
        return value, np.nan, np.nan
    rows = stratified_rows(y, max_rows, random_state)
    ys, ps = (y, p) if rows is None else (y[rows], p[rows])
    with np.errstate(all="ignore"):
        res = bootstrap((ys, ps), lambda a, b: metric(a, b), paired=True, vectorized=False,
                        n_resamples=n_resamples, method="percentile", random_state=random_state)
    low, high = res.confidence_interval
    if rows is None:
        return value, float(low), float(high)
    centre, scale = metric(ys, ps), np.sqrt(len(rows) / len(y))
    return value, float(value - (centre - low) * scale), float(value + (high - centre) * scale)


