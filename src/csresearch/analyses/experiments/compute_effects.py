"""Average effects of one experiment and what its sample can detect: treatment-minus-control
differences with their intervals (Newcombe for proportions, Welch for means), CUPED, the effect on
the exposed (assignment as instrument), the minimum detectable effect and power, and churn from
survival curves per arm (Kaplan-Meier, Cox hazard ratio, RMST difference).

Statistics come from statsmodels and lifelines; what is hand-written here (CUPED, the Wald/IV
interval, the RMST variance) is small and tested against hand-computed cases.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd


@dataclass
class Effect:
    """A treatment-minus-control estimate with its interval."""

    estimate: float
    low: float
    high: float
    p_value: float
    method: str
    se: float = float("nan")
    n_treated: int = 0
    n_control: int = 0
    mean_treated: float = float("nan")
    mean_control: float = float("nan")

    @property
    def covers_zero(self) -> bool:
        return self.low <= 0 <= self.high

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _split(y, t) -> tuple[np.ndarray, np.ndarray]:
    y, t = np.asarray(y, dtype=float), np.asarray(t).astype(bool)
    keep = ~np.isnan(y)
    return y[keep & t], y[keep & ~t]


def diff_in_proportions(y, t, alpha: float = 0.05) -> Effect:
    """Difference of two proportions with the Newcombe (hybrid Wilson score) interval; score-test p."""
    from statsmodels.stats.proportion import confint_proportions_2indep, test_proportions_2indep

    y1, y0 = _split(y, t)
    c1, n1, c0, n0 = int(y1.sum()), len(y1), int(y0.sum()), len(y0)
    low, high = confint_proportions_2indep(c1, n1, c0, n0, method="newcomb", compare="diff", alpha=alpha)
    p = test_proportions_2indep(c1, n1, c0, n0, method="score", compare="diff").pvalue
    est = c1 / n1 - c0 / n0
    se = math.sqrt(max(c1 / n1 * (1 - c1 / n1), 1e-12) / n1 + max(c0 / n0 * (1 - c0 / n0), 1e-12) / n0)
    return Effect(est, float(low), float(high), float(p), "difference in proportions (Newcombe)", se,
                  n1, n0, c1 / n1, c0 / n0)


def diff_in_means(y, t, alpha: float = 0.05, method: str = "difference in means (Welch)") -> Effect:
    """Difference of means with the Welch (unequal variances) t interval."""
    from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

    y1, y0 = _split(y, t)
    cm = CompareMeans(DescrStatsW(y1), DescrStatsW(y0))
    low, high = cm.tconfint_diff(alpha=alpha, usevar="unequal")
    _, p, _ = cm.ttest_ind(usevar="unequal")
    se = math.sqrt(y1.var(ddof=1) / len(y1) + y0.var(ddof=1) / len(y0))
    return Effect(float(y1.mean() - y0.mean()), float(low), float(high), float(p), method, se,
                  len(y1), len(y0), float(y1.mean()), float(y0.mean()))


def average_effect(y, t, binary: bool, alpha: float = 0.05) -> Effect:
    return diff_in_proportions(y, t, alpha) if binary else diff_in_means(y, t, alpha)


def cuped(y, covariates, t, alpha: float = 0.05) -> tuple[Effect, float]:
    """CUPED (Deng et al. 2013): subtract the part of the outcome predicted by pre-period covariates,
    then compare arms with Welch. With several covariates theta is the pooled OLS slope vector.

    Returns the adjusted effect and the variance reduction of the estimate
    (1 - var(adjusted estimate) / var(raw estimate); for one covariate about the squared correlation).
    """
    y = np.asarray(y, dtype=float)
    x = np.asarray(covariates, dtype=float)
    x = x.reshape(len(y), -1)
    t = np.asarray(t).astype(bool)
    keep = ~np.isnan(y) & ~np.isnan(x).any(axis=1)
    y, x, t = y[keep], x[keep], t[keep]
    xc = x - x.mean(axis=0)
    theta, *_ = np.linalg.lstsq(xc, y - y.mean(), rcond=None)
    adjusted = y - xc @ theta
    raw = diff_in_means(y, t, alpha)
    eff = diff_in_means(adjusted, t, alpha, method="CUPED-adjusted difference (Welch)")
    eff.mean_treated, eff.mean_control = raw.mean_treated, raw.mean_control
    reduction = 1 - (eff.se ** 2) / (raw.se ** 2) if raw.se > 0 else 0.0
    return eff, float(reduction)


def wald_iv(y, z, d, alpha: float = 0.05) -> Effect:
    """Effect on those actually treated (complier average causal effect) with the assignment ``z`` as
    instrument for exposure ``d``: ITT on the outcome / ITT on exposure (the Wald estimator).

    Its standard error is the delta-method one: the Welch SE of the difference in means of
    ``y - beta * d`` between arms, divided by the first stage (the exposure difference).
    """
    from scipy.stats import norm

    y, z, d = np.asarray(y, dtype=float), np.asarray(z).astype(bool), np.asarray(d, dtype=float)
    keep = ~np.isnan(y) & ~np.isnan(d)
    y, z, d = y[keep], z[keep], d[keep]
    first_stage = d[z].mean() - d[~z].mean()
    itt = y[z].mean() - y[~z].mean()
    if abs(first_stage) < 1e-9:
        return Effect(float("nan"), float("nan"), float("nan"), float("nan"), "IV: no exposure difference")
    beta = itt / first_stage
    r = y - beta * d
    se = math.sqrt(r[z].var(ddof=1) / z.sum() + r[~z].var(ddof=1) / (~z).sum()) / abs(first_stage)
    q = norm.ppf(1 - alpha / 2)
    p = 2 * (1 - norm.cdf(abs(beta) / se)) if se > 0 else float("nan")
    return Effect(float(beta), float(beta - q * se), float(beta + q * se), float(p),
                  "effect on the exposed (assignment as instrument, Wald)", float(se), int(z.sum()), int((~z).sum()))


# ==================================================================================================
# Power and honesty
# ==================================================================================================
def minimum_detectable_effect(se: float, n_treated: int, n_control: int, alpha: float = 0.05,
                              power: float = 0.8) -> float:
    """Smallest true effect (outcome units) detected with ``power`` at two-sided ``alpha``, given the
    estimate's standard error: statsmodels' normal power solved for the standardised effect, scaled
    back by the per-account standard deviation the SE implies."""
    from statsmodels.stats.power import NormalIndPower

    if not (se > 0) or n_treated < 2 or n_control < 2:
        return float("nan")
    d = NormalIndPower().solve_power(effect_size=None, nobs1=n_treated, ratio=n_control / n_treated,
                                     alpha=alpha, power=power, alternative="two-sided")
    sd = se / math.sqrt(1 / n_treated + 1 / n_control)
    return float(d * sd)


def power_at(effect: float, se: float, n_treated: int, n_control: int, alpha: float = 0.05) -> float:
    """Power of a two-sided test at ``alpha`` to detect a true effect of size ``effect``."""
    from statsmodels.stats.power import NormalIndPower

    if not (se > 0) or n_treated < 2 or n_control < 2 or not np.isfinite(effect):
        return float("nan")
    sd = se / math.sqrt(1 / n_treated + 1 / n_control)
    return float(NormalIndPower().power(effect_size=abs(effect) / sd, nobs1=n_treated,
                                        ratio=n_control / n_treated, alpha=alpha, alternative="two-sided"))


# ==================================================================================================
# Survival per arm
# ==================================================================================================
def rmst_with_variance(kmf, tau: float) -> tuple[float, float]:
    """Restricted mean survival time to ``tau`` of a fitted lifelines Kaplan-Meier and the variance of
    that *estimate* (Klein & Moeschberger 4.5: sum over event times t_i <= tau of
    A_i^2 d_i / (Y_i (Y_i - d_i)), A_i the area under the curve from t_i to tau).

    lifelines' ``restricted_mean_survival_time(return_variance=True)`` returns the variance of the
    restricted survival *time* across accounts, not of the estimate, so it cannot give an interval.
    """
    from lifelines.utils import restricted_mean_survival_time

    mean = float(restricted_mean_survival_time(kmf, t=tau))
    table = kmf.event_table
    table = table[(table["observed"] > 0) & (table.index <= tau)]
    var = 0.0
    for t_i, row in table.iterrows():
        y, d = float(row["at_risk"]), float(row["observed"])
        if y <= d:
            continue  # the curve drops to zero here: no area after it, no variance term
        area = _area_between(kmf, t_i, tau)
        var += area ** 2 * d / (y * (y - d))
    return mean, var


def _area_between(kmf, start: float, stop: float) -> float:
    """Area under the Kaplan-Meier step curve between ``start`` and ``stop``."""
    sf = kmf.survival_function_.iloc[:, 0]
    times = np.clip(np.append(sf.index.to_numpy(dtype=float), np.inf), start, stop)
    return float(np.sum(sf.to_numpy() * np.diff(times)))


def survival_by_arm(duration, event, arm, control: str, horizon_days: float, alpha: float = 0.05,
                    weights=None) -> dict:
    """Kaplan-Meier per arm and, for each treatment arm against the control, the Cox hazard ratio, the
    log-rank test and the RMST difference up to ``horizon_days`` (days of paying gained per account
    within the horizon), each fitted on that arm and the control only.

    ``arm`` labels each account; every label but ``control`` is a treatment arm (in order of first
    appearance). Accounts still paying at the report date are censored there (not counted as retained
    forever). ``weights`` (non-randomised studies: 1 for users, e/(1-e) for non-users) gives the curves
    and the hazard ratio of non-users reweighted to look like users; the Cox interval is then the
    robust (sandwich) one and the RMST variance is inflated by Kish's design effect (an approximation).
    A contrast in which either arm has no churn has no hazard ratio (``hazard_ratio`` NaN: the Cox
    estimate would run off to 0 or infinity); its RMST difference still stands.
    """
    duration = np.asarray(duration, dtype=float)
    event = np.asarray(event).astype(bool)
    labels = np.asarray(arm).astype(str)
    w = np.ones(len(duration)) if weights is None else np.asarray(weights, dtype=float)
    arms = [a for a in dict.fromkeys(labels) if a != control]
    fitters, rmst, at_h, events, contrasts = {}, {}, {}, {}, []
    for a in arms:
        m = (labels == a) | (labels == control)
        part = _two_arms(duration[m], event[m], labels[m] == a, horizon_days, (a, control), alpha, w[m],
                         weights is not None)
        fitters.update(part.pop("fitters"))
        rmst.update(part.pop("rmst"))
        at_h.update(part.pop("survival_at_horizon"))
        events.update(part.pop("events"))
        contrasts.append({"arm": a, **part})
    curves = []
    for label, kmf in fitters.items():
        sf = kmf.survival_function_.join(kmf.confidence_interval_)
        sf.columns = ["survival", "low", "high"]
        curves.append(sf.reset_index(names="days").assign(arm=label))
    return {
        "curves": pd.concat(curves, ignore_index=True),
        "fitters": {a: fitters[a] for a in [*arms, control]},
        "weighted": weights is not None,
        "control": control,
        "arms": arms,
        "contrasts": contrasts,
        "rmst": rmst,
        "survival_at_horizon": {a: at_h[a] for a in [*arms, control]},
        "horizon_days": horizon_days,
        "events": {a: events[a] for a in [*arms, control]},
    }


def _two_arms(duration: np.ndarray, event: np.ndarray, treated: np.ndarray, horizon_days: float,
              labels: tuple[str, str], alpha: float, w: np.ndarray, weighted: bool) -> dict:
    """One treatment arm against the control: both Kaplan-Meier curves, Cox, log-rank and RMST."""
    import warnings as _warnings

    from lifelines import CoxPHFitter, KaplanMeierFitter
    from lifelines.statistics import logrank_test
    from scipy.stats import norm

    q = norm.ppf(1 - alpha / 2)
    fitters, rmst = {}, {}
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")  # lifelines warns that weighted KM intervals are approximate
        for flag, label in ((True, labels[0]), (False, labels[1])):
            arm = treated == flag
            kmf = KaplanMeierFitter(alpha=alpha).fit(duration[arm], event[arm], label=label, weights=w[arm])
            fitters[label] = kmf
            mean, var = rmst_with_variance(kmf, horizon_days)
            deff = len(w[arm]) * np.sum(w[arm] ** 2) / np.sum(w[arm]) ** 2
            rmst[label] = (mean, var * deff)
        hr = {"hazard_ratio": float("nan"), "hazard_ratio_low": float("nan"), "hazard_ratio_high": float("nan"),
              "hazard_ratio_p": float("nan"), "logrank_p": float("nan")}
        if event[treated].any() and event[~treated].any():
            frame = pd.DataFrame({"duration": duration, "event": event.astype(int), "treated": treated.astype(int),
                                  "w": w})
            cph = CoxPHFitter(alpha=alpha).fit(frame, "duration", "event", weights_col="w", robust=weighted)
            lr = logrank_test(duration[treated], duration[~treated], event[treated], event[~treated],
                              weights_A=w[treated], weights_B=w[~treated])
            row = cph.summary.loc["treated"]
            hr = {"hazard_ratio": float(row["exp(coef)"]),
                  "hazard_ratio_low": float(row[f"exp(coef) lower {100 * (1 - alpha):.0f}%"]),
                  "hazard_ratio_high": float(row[f"exp(coef) upper {100 * (1 - alpha):.0f}%"]),
                  "hazard_ratio_p": float(row["p"]), "logrank_p": float(lr.p_value)}
    diff = rmst[labels[0]][0] - rmst[labels[1]][0]
    se = math.sqrt(rmst[labels[0]][1] + rmst[labels[1]][1])
    return {
        "fitters": fitters,
        **hr,
        "rmst": {k: v[0] for k, v in rmst.items()},
        "rmst_difference": Effect(diff, diff - q * se, diff + q * se,
                                  float(2 * (1 - norm.cdf(abs(diff) / se))) if se > 0 else float("nan"),
                                  f"RMST difference to {horizon_days:.0f} days", se,
                                  int(treated.sum()), int((~treated).sum())),
        "survival_at_horizon": {label: float(f.survival_function_at_times(horizon_days).iloc[0])
                                for label, f in fitters.items()},
        "events": {labels[0]: int(event[treated].sum()), labels[1]: int(event[~treated].sum())},
    }


def arm_summary(y, binary: bool, alpha: float = 0.05) -> dict:
    """One arm's outcome with its interval: a share with its Wilson interval, or a mean with its t
    interval. ``n`` counts the accounts with the outcome observed."""
    from scipy.stats import t as student_t

    from ...core.stats import wilson_interval

    y = np.asarray(y, dtype=float)
    y = y[~np.isnan(y)]
    n = len(y)
    if n == 0:
        return {"n": 0, "mean": float("nan"), "low": float("nan"), "high": float("nan")}
    mean = float(y.mean())
    if binary:
        low, high = wilson_interval(float(y.sum()), n, alpha=alpha)
    elif n > 1:
        half = float(student_t.ppf(1 - alpha / 2, n - 1) * y.std(ddof=1) / math.sqrt(n))
        low, high = mean - half, mean + half
    else:
        low = high = float("nan")
    return {"n": n, "mean": mean, "low": float(low), "high": float(high)}
