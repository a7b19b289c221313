"""Experiments and uplift: did a CS or product intervention work, for whom, and whom should we treat?

One readout per experiment in the ``experiments`` table, in the order a sceptical reader asks:

1. **Design checks** — is the assignment what we think it is? Sample-ratio mismatch (chi-square),
   covariate balance (standardised mean differences), exposure/compliance.
2. **Average effects** — intention-to-treat on each outcome with its interval (Newcombe for
   proportions, Welch for means), CUPED-adjusted with the variance reduction reported; the effect on
   the treated with the assignment as instrument when exposure is partial; churn from survival
   curves per arm (Kaplan-Meier, Cox hazard ratio, RMST difference).
3. **Not randomised** (users vs non-users) — the naive difference beside difference-in-differences
   (event study with its pre-trend) and inverse-propensity / doubly-robust estimates, with the
   assumptions each needs.
4. **Heterogeneous effects** — causalml meta-learners (S, T, X, R, DR) and an uplift forest,
   cross-fitted; the model chosen on one half of the held-out predictions and judged on the other
   (Qini, AUUC, uplift in the top k% with intervals); effect by segment.
5. **Targeting and ROI** — incremental retained ARR against the cost of treating, for treating the
   top k% by predicted uplift, the top k% by churn risk, or everyone.
6. **Power and honesty** — the minimum detectable effect and the power for the observed effect; an
   interval covering zero reads "no detectable effect at this sample size", never "no effect".

Churn comes from :func:`csresearch.churn.paying_spells` (the project's one definition); usage is
aggregated in DuckDB. Statistics come from statsmodels, lifelines, scikit-learn and causalml; what is
hand-written here (CUPED, the Wald/IV interval, SMDs, DiD by account differences, AIPW) is small and
tested against hand-computed cases.
"""

from __future__ import annotations

import itertools
import logging
import math
import warnings
from dataclasses import dataclass, field, fields
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from .core.revenue import paying_spells
from .errors import SettingsError

OUTCOME_KINDS = {
    # name: (binary?, label template, unit)
    "retention": (True, "{h}-day retention", "points"),
    "usage_change": (False, "change in usage over {h} days (events per 30 days)", "events/30d"),
    "expansion_mrr": (False, "expansion MRR within {h} days ($ per account)", "$"),
}
# pre-period covariates CUPED regresses each outcome on (measured before assignment, so the
# adjustment cannot absorb any of the treatment's effect)
CUPED_COVARIATES = ("usage_pre", "mrr_at_assignment", "tenure_days")
NUMERIC_COVARIATES = ("tenure_days", "mrr_at_assignment", "usage_pre", "users_pre", "tickets_pre")
MODELS = ("S-learner", "T-learner", "X-learner", "R-learner", "DR-learner", "uplift forest")

log = logging.getLogger(__name__)
_NAMES = itertools.count()  # unique names for frames registered on a shared DuckDB connection


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
# Settings
# ==================================================================================================
@dataclass
class ExperimentSettings:
    """How to read one experiment (one entry of ``experiments:`` in params/04_uplift_experiments.yml)."""

    experiment_id: str
    randomized: bool = True
    control_arm: str = "control"
    treatment_arm: str | None = None
    outcomes: tuple[str, ...] = ("retention", "usage_change", "expansion_mrr")
    primary_outcome: str = "retention"
    horizon_days: int = 90
    cuped_pre_days: int = 90
    cost_per_treated_account: float = 0.0
    expected_split: Mapping[str, float] | None = None
    # non-randomised studies whose control arm shares one index date (e.g. the study start) while the
    # treated arm's is the adoption date: "matched" draws each control's index date from the treated
    # arm's dates (prescription-time-distribution matching) and keeps controls still paying then
    control_index_date: str = "assigned"
    description: str = ""
    configured: bool = True

    @property
    def primary(self) -> str:
        return self.primary_outcome if self.primary_outcome in self.outcomes else self.outcomes[0]


def settings_for(experiment_id: str, experiments: Mapping[str, Mapping] | None,
                 defaults: Mapping[str, Any] | None = None) -> ExperimentSettings:
    """The settings of ``experiment_id``: its entry in ``experiments`` over ``defaults``.

    An experiment with no entry gets the defaults and ``configured=False`` (the report says so).
    Unknown keys and outcomes are errors: a typo must not silently change a readout.
    """
    experiments = experiments or {}
    allowed = {f.name for f in fields(ExperimentSettings)} - {"experiment_id", "configured"}
    merged: dict[str, Any] = {}
    for source, where in ((defaults or {}, "experiment_defaults"), (experiments.get(experiment_id) or {}, experiment_id)):
        unknown = sorted(set(source) - allowed)
        if unknown:
            raise SettingsError(f"experiments settings '{where}': unknown key(s) {unknown}; allowed {sorted(allowed)}")
        merged.update(source)
    if merged.get("control_index_date", "assigned") not in ("assigned", "matched"):
        raise SettingsError(f"experiment '{experiment_id}': control_index_date must be 'assigned' or 'matched'")
    if "outcomes" in merged:
        merged["outcomes"] = tuple(merged["outcomes"])
        bad = sorted(set(merged["outcomes"]) - set(OUTCOME_KINDS))
        if bad:
            raise SettingsError(f"experiment '{experiment_id}': unknown outcome(s) {bad}; known {sorted(OUTCOME_KINDS)}")
    return ExperimentSettings(experiment_id=experiment_id, configured=experiment_id in experiments, **merged)


def outcome_label(outcome: str, horizon_days: int) -> str:
    return OUTCOME_KINDS[outcome][1].format(h=horizon_days)


def is_binary(outcome: str) -> bool:
    return OUTCOME_KINDS[outcome][0]


# ==================================================================================================
# Design checks
# ==================================================================================================
def srm_test(counts: Mapping[str, int], expected_split: Mapping[str, float] | None = None,
             alpha: float = 0.001) -> dict:
    """Sample-ratio mismatch: chi-square goodness of fit of the arm counts to the intended split.

    ``expected_split`` maps arm -> intended share (normalised; equal split if None). ``alpha`` is
    strict (0.001 by convention) because SRM is checked on every experiment and a flag stops the read.
    """
    from scipy.stats import chisquare

    arms = list(counts)
    observed = np.array([counts[a] for a in arms], dtype=float)
    shares = np.array([(expected_split or {}).get(a, 1.0) if expected_split else 1.0 for a in arms], dtype=float)
    shares = shares / shares.sum()
    expected = shares * observed.sum()
    stat, p = chisquare(observed, expected)
    return {"arms": arms, "observed": observed.astype(int).tolist(), "expected_share": shares.tolist(),
            "chi2": float(stat), "p_value": float(p), "alpha": alpha, "flagged": bool(p < alpha)}


def standardized_differences(frame: pd.DataFrame, treated: str, covariates: Sequence[str],
                             weights: np.ndarray | None = None, threshold: float = 0.1) -> pd.DataFrame:
    """Standardised mean difference per covariate (categoricals: per level), treated minus control.

    SMD = (mean_t - mean_c) / sqrt((var_t + var_c) / 2), with the *unweighted* variances in the
    denominator, so weighting changes only the numerator (Austin 2009). |SMD| > ``threshold`` flags
    imbalance. ``weights`` (e.g. inverse-propensity) gives the balance after weighting.
    """
    t = frame[treated].to_numpy().astype(bool)
    w = np.ones(len(frame)) if weights is None else np.asarray(weights, dtype=float)
    rows = []
    for col in covariates:
        if col not in frame:
            continue
        values = frame[col]
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            levels = values.fillna("unknown").astype(str)
            columns = {f"{col} = {lvl}": (levels == lvl).astype(float).to_numpy() for lvl in sorted(levels.unique())}
        else:
            x = values.astype(float).to_numpy()
            if np.isnan(x).all():
                continue
            columns = {col: np.where(np.isnan(x), np.nanmean(x), x)}
        for name, x in columns.items():
            mt, mc = np.average(x[t], weights=w[t]), np.average(x[~t], weights=w[~t])
            vt, vc = x[t].var(ddof=1), x[~t].var(ddof=1)
            sd = math.sqrt((vt + vc) / 2)
            smd = (mt - mc) / sd if sd > 0 else 0.0
            rows.append({"covariate": name, "mean_treated": mt, "mean_control": mc, "smd": smd,
                         "imbalanced": abs(smd) > threshold})
    return pd.DataFrame(rows, columns=["covariate", "mean_treated", "mean_control", "smd", "imbalanced"])


def compliance_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Accounts and exposure per arm (``exposed`` may be missing: then unknown)."""
    out = frame.groupby("arm", sort=False).agg(accounts=("account_id", "size"),
                                               exposed=("exposed", lambda s: s.fillna(False).astype(bool).sum()),
                                               exposure_known=("exposed", lambda s: s.notna().sum()))
    out["share_exposed"] = np.where(out["exposure_known"] > 0, out["exposed"] / out["exposure_known"].clip(lower=1), np.nan)
    return out.reset_index()


# ==================================================================================================
# Average effects
# ==================================================================================================
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


def survival_by_arm(duration, event, treated, horizon_days: float, labels: tuple[str, str] = ("treatment", "control"),
                    alpha: float = 0.05, weights=None) -> dict:
    """Kaplan-Meier per arm, Cox hazard ratio (treated vs control), log-rank test and the RMST
    difference up to ``horizon_days`` (days of paying gained per account within the horizon).

    Accounts still paying at the report date are censored there (not counted as retained forever).
    ``weights`` (non-randomised studies: 1 for users, e/(1-e) for non-users) gives the curves and the
    hazard ratio of non-users reweighted to look like users; the Cox interval is then the robust
    (sandwich) one and the RMST variance is inflated by Kish's design effect (an approximation).
    """
    import warnings as _warnings

    from lifelines import CoxPHFitter, KaplanMeierFitter
    from lifelines.statistics import logrank_test
    from scipy.stats import norm

    duration = np.asarray(duration, dtype=float)
    event = np.asarray(event).astype(bool)
    treated = np.asarray(treated).astype(bool)
    w = np.ones(len(duration)) if weights is None else np.asarray(weights, dtype=float)
    q = norm.ppf(1 - alpha / 2)
    curves, fitters, rmst = [], {}, {}
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")  # lifelines warns that weighted KM intervals are approximate
        for flag, label in ((True, labels[0]), (False, labels[1])):
            arm = treated == flag
            kmf = KaplanMeierFitter(alpha=alpha).fit(duration[arm], event[arm], label=label, weights=w[arm])
            fitters[label] = kmf
            sf = kmf.survival_function_.join(kmf.confidence_interval_)
            sf.columns = ["survival", "low", "high"]
            curves.append(sf.reset_index(names="days").assign(arm=label))
            mean, var = rmst_with_variance(kmf, horizon_days)
            deff = len(w[arm]) * np.sum(w[arm] ** 2) / np.sum(w[arm]) ** 2
            rmst[label] = (mean, var * deff)
        frame = pd.DataFrame({"duration": duration, "event": event.astype(int), "treated": treated.astype(int), "w": w})
        cph = CoxPHFitter(alpha=alpha).fit(frame, "duration", "event", weights_col="w", robust=weights is not None)
        lr = logrank_test(duration[treated], duration[~treated], event[treated], event[~treated],
                          weights_A=w[treated], weights_B=w[~treated])
    diff = rmst[labels[0]][0] - rmst[labels[1]][0]
    se = math.sqrt(rmst[labels[0]][1] + rmst[labels[1]][1])
    row = cph.summary.loc["treated"]
    at_h = {label: float(f.survival_function_at_times(horizon_days).iloc[0]) for label, f in fitters.items()}
    return {
        "curves": pd.concat(curves, ignore_index=True),
        "fitters": fitters,
        "weighted": weights is not None,
        "hazard_ratio": float(row["exp(coef)"]),
        "hazard_ratio_low": float(row[f"exp(coef) lower {100 * (1 - alpha):.0f}%"]),
        "hazard_ratio_high": float(row[f"exp(coef) upper {100 * (1 - alpha):.0f}%"]),
        "hazard_ratio_p": float(row["p"]),
        "logrank_p": float(lr.p_value),
        "rmst": {k: v[0] for k, v in rmst.items()},
        "rmst_difference": Effect(diff, diff - q * se, diff + q * se,
                                  float(2 * (1 - norm.cdf(abs(diff) / se))) if se > 0 else float("nan"),
                                  f"RMST difference to {horizon_days:.0f} days", se,
                                  int(treated.sum()), int((~treated).sum())),
        "survival_at_horizon": at_h,
        "horizon_days": horizon_days,
        "events": {labels[0]: int(event[treated].sum()), labels[1]: int(event[~treated].sum())},
    }


# ==================================================================================================
# Not randomised: DiD, IPW, doubly robust
# ==================================================================================================
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


def _design_matrix(frame: pd.DataFrame, numeric: Sequence[str], categorical: Sequence[str]) -> pd.DataFrame:
    """Model inputs: numeric covariates on a log1p scale (usage, MRR and tenure are heavy-tailed, and
    a logistic propensity on the raw scale gives a few accounts extreme weights), categoricals one-hot."""
    parts = [np.log1p(frame[[c for c in numeric if c in frame]].astype(float).clip(lower=0))]
    cats = [c for c in categorical if c in frame]
    if cats:
        parts.append(pd.get_dummies(frame[cats].fillna("unknown").astype(str), prefix=cats, dtype=float))
    x = pd.concat(parts, axis=1)
    return x.fillna(x.median(numeric_only=True)).fillna(0.0)


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
    from causalml.inference.meta import (BaseDRRegressor, BaseRRegressor, BaseSRegressor, BaseTRegressor,
                                         BaseXRegressor)
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
        if sub["treated"].sum() < 2 or (1 - sub["treated"]).sum() < 2:
            continue
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


# ==================================================================================================
# Data: experiments in the month, one frame per experiment
# ==================================================================================================
def experiment_windows(ds, experiments: Mapping[str, Mapping] | None = None,
                       defaults: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Every experiment in the ``experiments`` table with its arms, accounts, assignment dates and
    outcome window end (last assignment + the experiment's horizon)."""
    if not ds.has("experiments"):
        empty = pd.DataFrame({"experiment_id": pd.Series(dtype=object), "accounts": pd.Series(dtype=int),
                              "arms": pd.Series(dtype=object), "configured": pd.Series(dtype=bool)})
        for col in ("first_assigned", "last_assigned", "window_end"):
            empty[col] = pd.Series(dtype="datetime64[ns]")
        return empty
    frame = ds.sql(
        """
        SELECT experiment_id, count(*) AS accounts, string_agg(DISTINCT arm, ', ' ORDER BY arm) AS arms,
               min(assigned_at) AS first_assigned, max(assigned_at) AS last_assigned,
               avg(CAST(exposed AS DOUBLE)) AS share_exposed
        FROM experiments GROUP BY experiment_id ORDER BY experiment_id
        """
    )
    horizons = [settings_for(e, experiments, defaults).horizon_days for e in frame["experiment_id"]]
    frame["first_assigned"] = pd.to_datetime(frame["first_assigned"])
    frame["last_assigned"] = pd.to_datetime(frame["last_assigned"])
    frame["window_end"] = frame["last_assigned"] + pd.to_timedelta(horizons, unit="D")
    frame["configured"] = [e in (experiments or {}) for e in frame["experiment_id"]]
    return frame


def experiments_in_month(ds, month: pd.Period, experiments: Mapping[str, Mapping] | None = None,
                         defaults: Mapping[str, Any] | None = None, experiment_id: str | None = None,
                         lookback_months: int = 0) -> pd.DataFrame:
    """Experiments to report for ``month``, with a ``status`` and whether they are ``selected``.

    Selected: running in the month (assigned by its end, outcome window still open), or ended (outcome
    window closed) in the month or the ``lookback_months`` months before it, so a final readout stays
    in the monthly report long enough for a quarterly review to use it. ``experiment_id`` selects
    that experiment whatever its dates (and nothing else).
    """
    windows = experiment_windows(ds, experiments, defaults)
    start, end = month.start_time.normalize(), month.end_time.normalize()
    earliest = (month - int(lookback_months)).start_time.normalize()
    ended_month = windows["window_end"].dt.to_period("M").astype(str)
    windows["status"] = np.select(
        [windows["first_assigned"] > end, windows["window_end"] > end, windows["window_end"] >= start,
         windows["window_end"] >= earliest],
        ["not started by the month end", "running (outcome window open)", "ended in the month",
         "ended " + ended_month],
        default="ended " + ended_month + " (before the look-back)")
    if experiment_id is not None:
        windows["selected"] = windows["experiment_id"] == experiment_id
    else:
        windows["selected"] = (windows["first_assigned"] <= end) & (windows["window_end"] >= earliest)
    return windows


def experiment_frame(ds, settings: ExperimentSettings, as_of: pd.Timestamp,
                     reactivation_window_days: int = 0, segment_column: str = "segment",
                     categorical: Sequence[str] = ("segment", "touch_tier", "region", "industry"),
                     seed: int = 0) -> pd.DataFrame:
    """One row per assigned account: arm, ``treated`` (0/1), exposure, pre-period covariates and the
    outcomes at the horizon. Outcomes are NaN for accounts whose horizon ends after ``as_of`` (not
    yet observable) and retention is NaN for accounts not paying when assigned.

    - retention: still in the paying spell that covered the assignment date ``horizon_days`` later
      (churn from :func:`csresearch.churn.paying_spells`, so the reactivation window applies);
    - usage_change: events per 30 days in [assigned, +horizon) minus in [assigned - pre, assigned);
    - expansion_mrr: MRR increase from assignment to the horizon, floored at 0 (a churned account
      expanded by 0; the loss is the retention outcome's);
    - survival: days from assignment to churn, censored at ``as_of``.

    With ``control_index_date="matched"`` the control arm's index dates are drawn from the treated
    arm's (see :class:`ExperimentSettings`); ``recorded_assigned_at`` keeps the table's date.
    """
    as_of = pd.Timestamp(as_of).normalize()
    h, pre = int(settings.horizon_days), int(settings.cuped_pre_days)
    asg = ds.sql("SELECT account_id, arm, assigned_at, exposed FROM experiments WHERE experiment_id = ?",
                 [settings.experiment_id])
    asg["assigned_at"] = pd.to_datetime(asg["assigned_at"])
    asg = asg[asg["assigned_at"] <= as_of].reset_index(drop=True)
    treatment_arm = settings.treatment_arm
    asg["treated"] = (asg["arm"] == treatment_arm).astype(int) if treatment_arm else (asg["arm"] != settings.control_arm).astype(int)
    asg = asg[(asg["arm"] == settings.control_arm) | (asg["treated"] == 1)].reset_index(drop=True)
    asg["recorded_assigned_at"] = asg["assigned_at"]
    if settings.control_index_date == "matched" and asg["treated"].any():
        # immortal time: a user had to stay a customer until adopting, so compare from the same kind
        # of date: each non-user gets an index date drawn from the users' dates (Zhou et al. 2005)
        control = asg["treated"] == 0
        dates = asg.loc[~control, "assigned_at"].to_numpy()
        drawn = np.random.default_rng(seed).choice(dates, size=int(control.sum()))
        asg.loc[control, "assigned_at"] = np.maximum(pd.to_datetime(drawn), asg.loc[control, "assigned_at"])
    name = f"_uplift_assignments_{next(_NAMES)}"
    ds.con.register(name, asg[["account_id", "assigned_at"]])
    try:
        mrr = ds.sql(
            f"""
            SELECT a.account_id,
                   coalesce(sum(s.mrr) FILTER (WHERE s.start_date <= a.assigned_at
                        AND (s.end_date IS NULL OR s.end_date > a.assigned_at)), 0) AS mrr_at_assignment,
                   coalesce(sum(s.mrr) FILTER (WHERE s.start_date <= a.assigned_at + INTERVAL {h} DAY
                        AND (s.end_date IS NULL OR s.end_date > a.assigned_at + INTERVAL {h} DAY)), 0) AS mrr_at_horizon,
                   coalesce(sum(s.mrr) FILTER (WHERE s.start_date <= a.assigned_at - INTERVAL {pre} DAY
                        AND (s.end_date IS NULL OR s.end_date > a.assigned_at - INTERVAL {pre} DAY)), 0) AS mrr_pre,
                   min(s.start_date) AS first_paid
            FROM {name} a LEFT JOIN subscriptions s ON s.account_id = a.account_id AND s.mrr > 0
            GROUP BY a.account_id
            """
        )
        if ds.has("usage_events"):
            usage = ds.sql(
                f"""
                SELECT a.account_id,
                       count(*) FILTER (WHERE e.event_time < a.assigned_at) AS events_pre,
                       count(*) FILTER (WHERE e.event_time >= a.assigned_at) AS events_post,
                       count(DISTINCT e.user_id) FILTER (WHERE e.event_time < a.assigned_at) AS users_pre
                FROM {name} a JOIN usage_events e ON e.account_id = a.account_id
                 AND e.event_time >= a.assigned_at - INTERVAL {pre} DAY
                 AND e.event_time < a.assigned_at + INTERVAL {h} DAY
                GROUP BY a.account_id
                """
            )
        else:
            usage = pd.DataFrame(columns=["account_id", "events_pre", "events_post", "users_pre"])
        if ds.has("support_tickets"):
            tickets = ds.sql(
                f"""
                SELECT a.account_id, count(*) AS tickets_pre
                FROM {name} a JOIN support_tickets t ON t.account_id = a.account_id
                 AND t.created_at >= a.assigned_at - INTERVAL {pre} DAY AND t.created_at < a.assigned_at
                GROUP BY a.account_id
                """
            )
        else:
            tickets = pd.DataFrame(columns=["account_id", "tickets_pre"])
    finally:
        ds.con.unregister(name)

    accounts = ds.table("accounts")
    keep_cols = ["account_id", "created_at"] + [c for c in categorical if c in accounts and c != "account_id"]
    if segment_column in accounts and segment_column not in keep_cols:
        keep_cols.append(segment_column)
    frame = (asg.merge(accounts[keep_cols], on="account_id", how="left")
                .merge(mrr, on="account_id", how="left")
                .merge(usage, on="account_id", how="left")
                .merge(tickets, on="account_id", how="left"))
    first_paid = pd.to_datetime(frame["first_paid"]).fillna(pd.to_datetime(frame["created_at"]))
    frame["tenure_days"] = (frame["assigned_at"] - first_paid).dt.days.clip(lower=0)
    frame["tickets_pre"] = frame["tickets_pre"].fillna(0) if ds.has("support_tickets") else np.nan
    frame["arr_at_assignment"] = 12 * frame["mrr_at_assignment"]
    mature = (frame["assigned_at"] + pd.Timedelta(days=h)) <= as_of
    frame["mature"] = mature

    # churn from the one definition: the paying spell covering the assignment date
    spells = paying_spells(ds.table("subscriptions"), as_of, reactivation_window_days)
    spells = spells[spells["account_id"].isin(frame["account_id"])]
    cover = frame[["account_id", "assigned_at"]].merge(spells, on="account_id", how="inner")
    cover = cover[(cover["start_date"] <= cover["assigned_at"])
                  & (cover["end_date"].isna() | (cover["end_date"] > cover["assigned_at"]))]
    cover = cover.drop_duplicates("account_id", keep="last").set_index("account_id")
    paying = frame["account_id"].isin(cover.index)
    end = frame["account_id"].map(cover["end_date"])
    churned = frame["account_id"].map(cover["churned"].astype(bool)).eq(True)
    frame["paying_at_assignment"] = paying
    frame["churn_date"] = end.where(churned)
    frame["duration_days"] = np.where(paying, ((end.where(churned).fillna(as_of)) - frame["assigned_at"]).dt.days, np.nan)
    frame["churn_event"] = np.where(paying, churned.astype(int), np.nan)
    horizon_date = frame["assigned_at"] + pd.Timedelta(days=h)
    retained = ~(churned & (end <= horizon_date))
    frame["retention"] = np.where(paying & mature, retained.astype(float), np.nan)
    frame["retained_arr"] = frame["retention"] * frame["arr_at_assignment"]
    frame["expansion_mrr"] = np.where(mature & paying, (frame["mrr_at_horizon"] - frame["mrr_at_assignment"]).clip(lower=0), np.nan)

    if ds.has("usage_events"):
        # usage is a rate per paying day: the pre window is cut at the account's first payment and
        # the post window at its churn, so usage does not double-count churn (retention's job)
        pre_days = np.minimum(pre, frame["tenure_days"].fillna(pre)).clip(lower=1)
        stop = pd.concat([frame["churn_date"].fillna(horizon_date), horizon_date], axis=1).min(axis=1)
        post_days = (stop - frame["assigned_at"]).dt.days
        frame["usage_pre"] = frame["events_pre"].fillna(0) / pre_days * 30
        frame["users_pre"] = frame["users_pre"].fillna(0)
        frame["usage_post"] = np.where(post_days >= 1, frame["events_post"].fillna(0) / post_days.clip(lower=1) * 30, np.nan)
        frame["usage_change"] = np.where(mature & paying, frame["usage_post"] - frame["usage_pre"], np.nan)
    else:
        frame["usage_pre"] = frame["users_pre"] = frame["usage_post"] = frame["usage_change"] = np.nan
    if segment_column in frame:
        frame["segment_for_report"] = frame[segment_column].fillna("unknown").astype(str)
    else:
        frame["segment_for_report"] = "all"
    return frame.drop(columns=["events_pre", "events_post", "first_paid"])


def usage_panel(ds, frame: pd.DataFrame, as_of: pd.Timestamp, periods_before: int = 6, periods_after: int = 6,
                period_days: int = 30) -> pd.DataFrame:
    """Events per account in ``period_days`` bins relative to assignment (period 0 = the first bin
    after it), aggregated in DuckDB. A bin is NaN (unobserved, not zero) when it starts before the
    account's first payment, ends after its churn or ends after ``as_of``: the panel measures usage
    while a customer, so churn (a different outcome) does not masquerade as a usage drop."""
    as_of = pd.Timestamp(as_of).normalize()
    asg = frame[["account_id", "assigned_at", "treated", "tenure_days", "churn_date"]].copy()
    name = f"_uplift_panel_{next(_NAMES)}"
    ds.con.register(name, asg[["account_id", "assigned_at"]])
    try:
        counts = ds.sql(
            f"""
            SELECT a.account_id,
                   CAST(floor(date_diff('second', CAST(a.assigned_at AS TIMESTAMP), e.event_time)
                        / ({period_days} * 86400.0)) AS INTEGER) AS period,
                   count(*) AS y
            FROM {name} a JOIN usage_events e ON e.account_id = a.account_id
             AND e.event_time >= a.assigned_at - INTERVAL {period_days * periods_before} DAY
             AND e.event_time < a.assigned_at + INTERVAL {period_days * periods_after} DAY
            GROUP BY 1, 2
            """
        )
    finally:
        ds.con.unregister(name)
    grid = pd.MultiIndex.from_product([asg["account_id"], range(-periods_before, periods_after)],
                                      names=["account_id", "period"]).to_frame(index=False)
    panel = grid.merge(asg, on="account_id").merge(counts, on=["account_id", "period"], how="left")
    panel["y"] = panel["y"].fillna(0.0).astype(float)
    bin_start_days = panel["period"] * period_days
    bin_end = panel["assigned_at"] + pd.to_timedelta(bin_start_days + period_days, unit="D")
    unobserved = ((bin_start_days < -panel["tenure_days"].fillna(0)) | (bin_end > as_of)
                  | (panel["churn_date"].notna() & (bin_end > panel["churn_date"])))
    panel.loc[unobserved, "y"] = np.nan
    return panel[["account_id", "treated", "period", "y"]]


# ==================================================================================================
# The readout
# ==================================================================================================
@dataclass
class Readout:
    """Everything the report shows for one experiment (computed by :func:`read_experiment`)."""

    settings: ExperimentSettings
    frame: pd.DataFrame
    as_of: pd.Timestamp
    alpha: float
    power: float
    status: str = ""
    srm: dict = field(default_factory=dict)
    balance: pd.DataFrame = field(default_factory=pd.DataFrame)
    balance_weighted: pd.DataFrame | None = None
    compliance: pd.DataFrame = field(default_factory=pd.DataFrame)
    effects: pd.DataFrame = field(default_factory=pd.DataFrame)
    survival: dict | None = None
    observational: pd.DataFrame | None = None
    event_study: pd.DataFrame | None = None
    pretrend: dict | None = None
    uplift: dict | None = None
    segments: pd.DataFrame = field(default_factory=pd.DataFrame)
    targeting: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def experiment_id(self) -> str:
        return self.settings.experiment_id

    def primary_effect(self) -> pd.Series | None:
        if self.effects.empty:
            return None
        rows = self.effects[(self.effects["outcome"] == self.settings.primary) & self.effects["primary"]]
        return rows.iloc[0] if len(rows) else None


def read_experiment(ds, settings: ExperimentSettings, as_of: pd.Timestamp, reactivation_window_days: int = 0,
                    segment_column: str = "segment", alpha: float = 0.05, power: float = 0.8,
                    srm_alpha: float = 0.001, targeting_shares: Sequence[float] = (0.1, 0.2, 0.3, 0.5, 1.0),
                    uplift_models: Sequence[str] = MODELS, uplift_folds: int = 3, uplift_n_estimators: int = 60,
                    event_study_periods: tuple[int, int] = (6, 6), seed: int = 0, status: str = "") -> Readout:
    """Compute every section of one experiment's report (see the module docstring for the order)."""
    frame = experiment_frame(ds, settings, as_of, reactivation_window_days, segment_column, seed=seed)
    if not settings.randomized:
        # an observational comparison starts from accounts that were customers on their index date
        dropped = int((~frame["paying_at_assignment"]).sum())
        frame = frame[frame["paying_at_assignment"]].reset_index(drop=True)
        if dropped:
            notes = [f"{dropped:,} accounts were not paying on their index date and are left out of this study."]
        else:
            notes = []
    else:
        notes = []
    r = Readout(settings=settings, frame=frame, as_of=pd.Timestamp(as_of), alpha=alpha, power=power, status=status,
                notes=notes)
    arms = frame["arm"].value_counts()
    if settings.control_arm not in arms or len(arms) < 2:
        r.notes.append(f"The control arm '{settings.control_arm}' or a treatment arm is missing "
                       f"(arms found: {', '.join(arms.index) or 'none'}); nothing can be estimated.")
        return r
    if settings.randomized:
        r.srm = srm_test({a: int(arms.get(a, 0)) for a in arms.index}, settings.expected_split, srm_alpha)
    categorical = [c for c in ("segment", "touch_tier", "region", "industry") if c in frame]
    numeric = [c for c in NUMERIC_COVARIATES if c in frame and frame[c].notna().any()]
    r.balance = standardized_differences(frame, "treated", [*numeric, *categorical])
    r.compliance = compliance_table(frame)
    x = _design_matrix(frame, numeric, categorical)

    propensity = None
    if not settings.randomized:
        propensity = cross_fitted_propensity(x, frame["treated"], seed=seed)
        w = np.where(frame["treated"] == 1, 1.0, propensity / (1 - propensity))
        r.balance_weighted = standardized_differences(frame, "treated", [*numeric, *categorical], weights=w)
        frame["propensity"] = propensity
    rows = []
    for outcome in settings.outcomes:
        rows += _outcome_effects(r, outcome, x, propensity, seed)
    r.effects = pd.DataFrame(rows)
    if len(r.effects):
        from statsmodels.stats.multitest import multipletests

        prim = r.effects["primary"]
        r.effects["p_holm"] = np.nan
        r.effects.loc[prim, "p_holm"] = multipletests(r.effects.loc[prim, "p_value"].fillna(1.0), method="holm")[1]

    paying = frame["paying_at_assignment"] & (frame["duration_days"] > 0)
    if paying.sum() > 10 and frame.loc[paying, "churn_event"].sum() >= 5:
        sub = frame[paying]
        weights = None
        if propensity is not None:
            e = sub["propensity"].to_numpy()
            weights = np.where(sub["treated"] == 1, 1.0, e / (1 - e))
        # the RMST and "still paying after" are read at the horizon, or at the longest follow-up both
        # arms reach if the report date comes first (a KM curve is not extrapolated past its data)
        followed = int(min(sub.loc[sub["treated"] == 1, "duration_days"].max(),
                           sub.loc[sub["treated"] == 0, "duration_days"].max()))
        r.survival = survival_by_arm(sub["duration_days"], sub["churn_event"], sub["treated"],
                                     min(settings.horizon_days, followed),
                                     (_arm_label(settings, frame), settings.control_arm), alpha, weights)
    else:
        r.notes.append("Fewer than 5 churns among the assigned accounts: no survival curves.")

    if not settings.randomized:
        r.observational = _observational(r, ds, event_study_periods)
        r.segments = _observational_segments(frame, settings.primary, propensity, x, seed, alpha)
    elif uplift_models:
        r.uplift = _heterogeneity(r, x, uplift_models, uplift_folds, uplift_n_estimators, alpha, seed,
                                  targeting_shares)
    return r


def _outcome_effects(r: Readout, outcome: str, x: pd.DataFrame, propensity, seed: int) -> list[dict]:
    s, frame, alpha, power = r.settings, r.frame, r.alpha, r.power
    y = frame[outcome]
    observed = y.notna()
    if outcome == "usage_change" and frame["usage_pre"].isna().all():
        r.notes.append("No `usage_events` table: the usage outcome is skipped.")
        return []
    if observed.sum() < 10 or frame.loc[observed, "treated"].nunique() < 2:
        r.notes.append(f"{outcome_label(outcome, s.horizon_days)}: too few accounts with the outcome observed "
                       f"by {r.as_of.date()} to estimate.")
        return []
    binary = is_binary(outcome)
    raw = average_effect(y, frame["treated"], binary, alpha)
    rows = []
    if s.randomized:
        rows.append(_effect_row(outcome, "intention to treat", raw, s, alpha, power))
        cov = x[[c for c in CUPED_COVARIATES if c in x]]
        if cov.shape[1]:
            adj, reduction = cuped(y, cov.to_numpy(), frame["treated"], alpha)
            rows.append(_effect_row(outcome, "CUPED-adjusted intention to treat", adj, s, alpha, power,
                                    primary=True, variance_reduction=reduction))
        else:
            rows[-1]["primary"] = True
        if _partial_exposure(frame):
            iv = wald_iv(y, frame["treated"], frame["exposed"].fillna(False).astype(float), alpha)
            rows.append(_effect_row(outcome, "effect on the exposed (assignment as instrument)", iv, s, alpha, power))
        return rows
    rows.append(_effect_row(outcome, "naive users vs non-users", raw, s, alpha, power))
    rows.append(_effect_row(outcome, "inverse-propensity weighted", ipw_att(y, frame["treated"], propensity, alpha),
                            s, alpha, power))
    mu0 = cross_fitted_outcome(x.to_numpy(), y.to_numpy(), (frame["treated"] == 0).to_numpy() & observed.to_numpy(),
                               seed=seed, binary=binary)
    rows.append(_effect_row(outcome, "doubly robust (AIPW)", aipw(y, frame["treated"], propensity, mu0, alpha=alpha),
                            s, alpha, power, primary=True))
    return rows


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


def _observational(r: Readout, ds, periods: tuple[int, int]) -> pd.DataFrame:
    """Naive vs adjusted estimates side by side, with the assumption each one needs."""
    s, frame = r.settings, r.frame
    rows = []
    if ds.has("usage_events") and frame["usage_post"].notna().sum() > 10:
        before, after = periods
        panel = usage_panel(ds, frame, r.as_of, before, after)
        r.event_study = event_study(panel, -1, r.alpha)
        r.pretrend = pretrend_test(panel, -1)
        post = range(0, max(1, min(after, math.ceil(s.horizon_days / 30))))
        naive, naive_rel = naive_relative(frame[frame["mature"]], "usage_post", r.alpha)
        did, did_rel = did_relative(panel, range(-before, 0), post, r.alpha)
        label = "usage (events per 30 paying days)"
        rows.append({"outcome": label, "estimator": "naive: users vs non-users after", "estimate": naive.estimate,
                     "low": naive.low, "high": naive.high, "relative": naive_rel["estimate"],
                     "relative_low": naive_rel["low"], "relative_high": naive_rel["high"],
                     "assumption": "users and non-users would use the product equally without the feature "
                                   "(rarely true: engaged accounts adopt)"})
        rows.append({"outcome": label, "estimator": "difference-in-differences", "estimate": did.estimate,
                     "low": did.low, "high": did.high, "relative": did_rel["estimate"],
                     "relative_low": did_rel["low"], "relative_high": did_rel["high"],
                     "assumption": "parallel trends: without the feature, users' usage would have changed like "
                                   "non-users' (checked by the pre-period coefficients)"})
        if "propensity" in frame:
            wdid, wrel = did_relative(panel, range(-before, 0), post, r.alpha,
                                      propensity=frame.set_index("account_id")["propensity"])
            rows.append({"outcome": label, "estimator": "difference-in-differences, propensity-weighted",
                         "estimate": wdid.estimate, "low": wdid.low, "high": wdid.high, "relative": wrel["estimate"],
                         "relative_low": wrel["low"], "relative_high": wrel["high"],
                         "assumption": "parallel trends among accounts alike on the pre-period covariates "
                                       "(Abadie 2005): non-users reweighted to look like users"})
    for _, e in r.effects.iterrows():
        if e["outcome"] != "retention":
            continue
        assumption = {
            "naive users vs non-users": "users and non-users have the same churn risk otherwise (they do not: "
                                        "engaged accounts adopt)",
            "inverse-propensity weighted": "no unmeasured confounding given the pre-period covariates, and "
                                           "every account could have adopted (overlap)",
            "doubly robust (AIPW)": "as IPW, but consistent if either the propensity or the outcome model is right",
        }.get(e["estimator"], "")
        rows.append({"outcome": e["outcome_label"], "estimator": e["estimator"], "estimate": e["estimate"],
                     "low": e["low"], "high": e["high"], "relative": np.nan, "relative_low": np.nan,
                     "relative_high": np.nan, "assumption": assumption})
    return pd.DataFrame(rows)


def _arm_label(settings: ExperimentSettings, frame: pd.DataFrame) -> str:
    if settings.treatment_arm:
        return settings.treatment_arm
    arms = [a for a in frame["arm"].unique() if a != settings.control_arm]
    return arms[0] if len(arms) == 1 else "treatment"


def _partial_exposure(frame: pd.DataFrame) -> bool:
    if "exposed" not in frame or frame["exposed"].isna().all():
        return False
    share = frame.groupby("treated")["exposed"].apply(lambda s: s.fillna(False).astype(float).mean())
    return bool(share.get(1, 1.0) < 0.98 or share.get(0, 0.0) > 0.02)


def _effect_row(outcome: str, estimator: str, e: Effect, settings: ExperimentSettings, alpha: float,
                power: float, primary: bool = False, variance_reduction: float = float("nan")) -> dict:
    mde = minimum_detectable_effect(e.se, e.n_treated, e.n_control, alpha, power)
    return {"experiment_id": settings.experiment_id, "outcome": outcome,
            "outcome_label": outcome_label(outcome, settings.horizon_days), "estimator": estimator,
            "primary": primary, "estimate": e.estimate, "low": e.low, "high": e.high, "p_value": e.p_value,
            "se": e.se, "n_treated": e.n_treated, "n_control": e.n_control, "mean_treated": e.mean_treated,
            "mean_control": e.mean_control, "variance_reduction": variance_reduction, "mde": mde,
            "power_at_observed": power_at(e.estimate, e.se, e.n_treated, e.n_control, alpha),
            "method": e.method}


def _heterogeneity(r: Readout, x: pd.DataFrame, models, folds, n_estimators, alpha, seed, shares) -> dict | None:
    s, frame = r.settings, r.frame
    outcome = s.primary
    binary = is_binary(outcome)
    m = frame[outcome].notna().to_numpy()
    if m.sum() < 200 or frame.loc[m, "treated"].nunique() < 2:
        r.notes.append("Fewer than 200 accounts with the outcome observed: heterogeneous effects not estimated.")
        return None
    sub = frame.loc[m].reset_index(drop=True)
    xs, t, y = x.loc[m].reset_index(drop=True), sub["treated"].to_numpy(), sub[outcome].to_numpy()
    share_treated = t.mean()
    scores = cross_fitted_uplift(xs, t, y, np.full(len(t), share_treated), models, folds, n_estimators, binary, seed)
    # model choice on one random half of the held-out predictions, judged on the other half
    rng = np.random.default_rng(seed)
    select = rng.random(len(t)) < 0.5
    choice = uplift_scores(y[select], t[select], scores[select])
    chosen = str(choice.sort_values("qini", ascending=False)["model"].iloc[0])
    ev = ~select
    evaluation = uplift_scores(y[ev], t[ev], scores[ev])
    curves = qini_curves(y[ev], t[ev], scores[ev].reset_index(drop=True))
    interval = qini_interval(y[ev], t[ev], scores.loc[ev, chosen].to_numpy(), seed=seed)
    top = top_k_uplift(y[ev], t[ev], scores.loc[ev, chosen].to_numpy(), shares, binary, alpha)
    sub["predicted_uplift"] = scores[chosen].to_numpy()
    r.segments = effects_by_segment(sub, outcome, "segment_for_report", binary, sub["predicted_uplift"].to_numpy(), alpha)
    risk = None
    targeting = None
    if outcome == "retention":
        risk = 1 - cross_fitted_outcome(xs.to_numpy(), y, t == 0, seed=seed, binary=True)
        arr = sub["arr_at_assignment"].to_numpy()
        population = int(frame["paying_at_assignment"].sum())
        targeting = targeting_table(y[ev], t[ev], arr[ev], scores.loc[ev, chosen].to_numpy(), risk[ev], population,
                                    s.cost_per_treated_account, shares, alpha)
        r.targeting = targeting
    else:
        r.notes.append(f"Targeting and ROI need retention as the primary outcome (it is {outcome}).")
    planted = sub[["account_id"]].assign(predicted_uplift=sub["predicted_uplift"], churn_risk=risk,
                                         evaluation_half=ev)
    return {"outcome": outcome, "scores": scores, "selection": choice, "evaluation": evaluation, "chosen": chosen,
            "qini": curves, "qini_interval": interval, "top_k": top, "predictions": planted}


def _observational_segments(frame, outcome, propensity, x, seed, alpha) -> pd.DataFrame:
    """Doubly robust effect on the treated per segment (non-randomised studies)."""
    from statsmodels.stats.multitest import multipletests

    y = frame[outcome]
    m = y.notna().to_numpy()
    if m.sum() < 50:
        return pd.DataFrame()
    mu0 = cross_fitted_outcome(x.to_numpy(), y.to_numpy(), (frame["treated"] == 0).to_numpy() & m, seed=seed,
                               binary=is_binary(outcome))
    rows = []
    for value, idx in frame.groupby("segment_for_report").groups.items():
        sel = frame.index.isin(idx) & m
        t = frame.loc[sel, "treated"]
        if t.sum() < 5 or (1 - t).sum() < 5:
            continue
        naive = average_effect(y[sel], t, is_binary(outcome), alpha)
        dr = aipw(y[sel], t, propensity[sel], mu0[sel], target="att", alpha=alpha)
        rows.append({"segment": value, "accounts": int(sel.sum()), "n_treated": dr.n_treated,
                     "n_control": dr.n_control, "naive": naive.estimate, "effect": dr.estimate, "low": dr.low,
                     "high": dr.high, "p_value": dr.p_value})
    out = pd.DataFrame(rows)
    if len(out):
        out["p_holm"] = multipletests(out["p_value"].fillna(1.0), method="holm")[1]
    return out


# ==================================================================================================
# Many experiments: the month's selection
# ==================================================================================================
PARAMS_FILE = "04_uplift_experiments.yml"


def configured_experiments(experiments: Mapping | None, experiment_defaults: Mapping | None) -> tuple[dict, dict]:
    """The ``experiments`` and ``experiment_defaults`` settings; None reads them from
    params/04_uplift_experiments.yml (so the notebook run by hand uses the same settings as the run)."""
    if experiments is None or experiment_defaults is None:
        from .config import project_root, read_yaml

        own = read_yaml(project_root() / "params" / PARAMS_FILE)
        experiments = own.get("experiments") or {} if experiments is None else experiments
        experiment_defaults = own.get("experiment_defaults") or {} if experiment_defaults is None else experiment_defaults
    return dict(experiments), dict(experiment_defaults)


def read_experiments(ds, month: pd.Period, experiments: Mapping[str, Mapping] | None = None,
                     experiment_defaults: Mapping[str, Any] | None = None, experiment_id: str | None = None,
                     lookback_months: int = 0, **options) -> tuple[pd.DataFrame, list[Readout]]:
    """The month's experiments (``experiments_in_month``) and a readout of each selected one, as of
    the month's last day (outcomes after it are not used, so a rerun of an old month is unchanged)."""
    experiments, experiment_defaults = configured_experiments(experiments, experiment_defaults)
    windows = experiments_in_month(ds, month, experiments, experiment_defaults, experiment_id, lookback_months)
    as_of = month.end_time.normalize()
    readouts = []
    for _, w in windows[windows["selected"]].iterrows():
        settings = settings_for(w["experiment_id"], experiments, experiment_defaults)
        readouts.append(read_experiment(ds, settings, as_of, status=w["status"], **options))
    return windows, readouts


# ==================================================================================================
# Words: sentences generated from the numbers
# ==================================================================================================
def fmt_value(outcome: str, value: float, signed: bool = False) -> str:
    """An effect in its outcome's unit: retention in percentage points, usage in events, money in $."""
    if value is None or not np.isfinite(value):
        return "n/a"
    sign = "+" if signed and value > 0 else ("-" if value < 0 else "")
    v = abs(value)
    if outcome == "retention":
        return f"{sign}{v * 100:.1f} points"
    if outcome == "expansion_mrr":
        return f"{sign}${v:,.2f} MRR per account"
    return f"{sign}{v:,.1f} events per 30 days"


def fmt_interval(outcome: str, low: float, high: float, level: float = 0.95) -> str:
    def one(v):
        return fmt_value(outcome, v, signed=True).split(" ")[0]

    unit = {"retention": " points", "expansion_mrr": " MRR per account"}.get(outcome, " events per 30 days")
    return f"{level:.0%} CI {one(low)} to {one(high)}{unit}"


def display_name(settings: ExperimentSettings) -> str:
    return settings.description or settings.experiment_id


def effect_sentence(row: Mapping, name: str, alpha: float = 0.05, power: float = 0.8, randomized: bool = True) -> str:
    """The honest sentence for one estimate: a direction only when the interval excludes zero;
    otherwise 'no detectable effect at this sample size' with the minimum detectable effect. A
    non-randomised estimate is worded as a difference between comparable accounts, not as an effect."""
    outcome, label = row["outcome"], row["outcome_label"]
    ci = fmt_interval(outcome, row["low"], row["high"], 1 - alpha)
    if not np.isfinite(row["estimate"]):
        return f"{name}: {label} could not be estimated."
    detected = row["low"] > 0 or row["high"] < 0
    if not randomized:
        if detected:
            more = "higher" if row["estimate"] > 0 else "lower"
            return (f"After adjusting for measured differences, users of {name} had {label} "
                    f"{fmt_value(outcome, row['estimate'])} {more} than comparable non-users ({ci}). Not randomised: "
                    "unmeasured differences such as engagement may remain and usually inflate this.")
        return (f"No detectable difference in {label} between users of {name} and comparable non-users at this "
                f"sample size: {fmt_value(outcome, row['estimate'], signed=True)} ({ci}); the smallest difference it "
                f"could reliably detect ({power:.0%} power) is {fmt_value(outcome, row['mde'])}.")
    if detected:
        verb = "raised" if row["estimate"] > 0 else "lowered"
        among = ("Among the accounts it actually reached, " if str(row.get("estimator", "")).startswith("effect on the exposed")
                 else "")
        return f"{among}{name} {verb} {label} by {fmt_value(outcome, row['estimate'])} ({ci})."
    mde = fmt_value(outcome, row["mde"])
    return (f"No detectable effect of {name} on {label} at this sample size: the estimate is "
            f"{fmt_value(outcome, row['estimate'], signed=True)} ({ci}), and the smallest effect this "
            f"sample could reliably detect ({power:.0%} power) is {mde}. This is not evidence of no effect.")


def fmt_p(p: float) -> str:
    if p is None or not np.isfinite(p):
        return "–"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def srm_sentence(srm: Mapping) -> str:
    if not srm:
        return "Not randomised: no sample-ratio check applies (arms chose themselves)."
    counts = ", ".join(f"{a} {n:,}" for a, n in zip(srm["arms"], srm["observed"]))
    shares = ", ".join(f"{s:.0%}" for s in srm["expected_share"])
    if srm["flagged"]:
        return (f"**Sample-ratio mismatch**: {counts} is not the intended {shares} split (chi-square p = "
                f"{srm['p_value']:.1g} < {srm['alpha']}). Assignment or logging is broken somewhere; treat every "
                "estimate below as suspect until the cause is found.")
    return (f"Arm sizes ({counts}) match the intended {shares} split (chi-square p = {srm['p_value']:.2f}; "
            f"flagged below {srm['alpha']}).")


def balance_sentence(balance: pd.DataFrame, weighted: pd.DataFrame | None = None, randomized: bool = True) -> str:
    if balance.empty:
        return "No covariates to compare."
    n, bad = len(balance), int(balance["imbalanced"].sum())
    worst = balance.loc[balance["smd"].abs().idxmax()]
    text = (f"{bad} of {n} covariate levels differ by more than 0.1 standard deviations between arms "
            f"(largest: {worst['covariate']}, SMD {worst['smd']:+.2f}).")
    if randomized:
        text += (" With random assignment such gaps are chance; CUPED below adjusts for the pre-period ones."
                 if bad else " The arms look alike before treatment, as randomisation should make them.")
    elif weighted is not None:
        wbad = int(weighted["imbalanced"].sum())
        text += (f" Users differ from non-users before adopting, which is why the naive comparison is biased. "
                 f"After propensity weighting {wbad} of {n} still differ by more than 0.1.")
    return text


def compliance_sentence(compliance: pd.DataFrame, settings: ExperimentSettings) -> str:
    if compliance.empty or compliance["exposure_known"].sum() == 0:
        return "Exposure was not recorded: the report estimates the effect of being assigned (intention to treat)."
    parts = [f"{r.arm}: {r.share_exposed:.0%} exposed" for r in compliance.itertuples()]
    treated = compliance[compliance["arm"] != settings.control_arm]["share_exposed"]
    if settings.randomized and len(treated) and treated.min() < 0.98:
        return ("; ".join(parts) + ". Exposure is partial, so the intention-to-treat effect (what assigning the "
                "programme achieves) is smaller than the effect on accounts actually reached; the latter is "
                "estimated with the assignment as an instrument.")
    return "; ".join(parts) + "."


def survival_sentence(result: Mapping, settings: ExperimentSettings) -> str:
    hr, lo, hi = result["hazard_ratio"], result["hazard_ratio_low"], result["hazard_ratio_high"]
    rm = result["rmst_difference"]
    treat, ctrl = list(result["survival_at_horizon"])
    h = int(result.get("horizon_days", settings.horizon_days))
    weighted = result.get("weighted")
    text = (f"After {h} days {result['survival_at_horizon'][treat]:.1%} of {treat} accounts and "
            f"{result['survival_at_horizon'][ctrl]:.1%} of {ctrl} accounts "
            f"{'(reweighted to look like ' + treat + ' accounts) ' if weighted else ''}were still paying "
            "(Kaplan-Meier). ")
    if lo > 1 or hi < 1:
        text += (f"The churn hazard of {treat} accounts was {hr:.2f} times the {ctrl} arm's "
                 f"(95% CI {lo:.2f} to {hi:.2f}, Cox)")
    else:
        text += f"No detectable difference in churn hazard (hazard ratio {hr:.2f}, 95% CI {lo:.2f} to {hi:.2f}, Cox)"
    text += (f"; over the {h} days an account in {treat} paid for {rm.estimate:+.1f} days more on average "
             f"(restricted mean survival time, 95% CI {rm.low:+.1f} to {rm.high:+.1f}).")
    return text


def cuped_sentence(effects: pd.DataFrame) -> str:
    rows = effects[effects["estimator"].str.startswith("CUPED")]
    if rows.empty:
        return ""
    parts = [f"{r.outcome_label} {r.variance_reduction:.0%}" for r in rows.itertuples()]
    return ("CUPED subtracts the part of each outcome predicted by pre-assignment usage, MRR and tenure, which "
            "narrows the interval without biasing it; variance of the estimate reduced by: " + "; ".join(parts) + ".")


def pretrend_sentence(pretrend: Mapping | None) -> str:
    if not pretrend or not pretrend.get("periods"):
        return "Not enough pre-period data to check parallel trends."
    p = pretrend["p_value"]
    if p < 0.05:
        return (f"Warning: before adopting, users' usage already moved differently from non-users' (joint test of the "
                f"{pretrend['df']} pre-period coefficients, p = {p:.3f}); the difference-in-differences estimate may "
                "be biased.")
    return (f"Before adopting, users' and non-users' usage moved in parallel (joint test of the {pretrend['df']} "
            f"pre-period coefficients, p = {p:.2f}): consistent with, though not proof of, the parallel-trends "
            "assumption.")


def observational_sentence(table: pd.DataFrame) -> str:
    parts = []
    for outcome, rows in table.groupby("outcome", sort=False):
        naive = rows[rows["estimator"].str.startswith("naive")]
        adjusted = rows[~rows["estimator"].str.startswith("naive")]
        if naive.empty or adjusted.empty:
            continue
        relative = naive["relative"].notna().all()
        col = "relative" if relative else "estimate"

        def show(v):
            return f"{v:+.0%}" if relative else f"{v * 100:+.1f} points"

        n, a = naive.iloc[0], adjusted.iloc[-1]
        parts.append(f"on {outcome}, the naive comparison says {show(n[col])} but the {a['estimator']} estimate is "
                     f"{show(a[col])} (95% CI {show(a[col + '_low' if relative else 'low'])} to "
                     f"{show(a[col + '_high' if relative else 'high'])})")
    if not parts:
        return ""
    return ("Users are not a random group: " + "; ".join(parts) + ". The adjusted estimates remove the measured "
            "differences only; anything unmeasured that drives both adoption and the outcome still biases them, "
            "usually upwards.")


def uplift_sentence(u: Mapping, binary: bool = True) -> str:
    ev = u["evaluation"].set_index("model")
    chosen = u["chosen"]
    qi = u["qini_interval"]
    top = u["top_k"]
    first = top.iloc[0] if len(top) else None
    text = (f"{chosen} was chosen (highest Qini on one random half of the held-out predictions). On the other half "
            f"its Qini coefficient is {ev.loc[chosen, 'qini']:.3f} (95% CI {qi.get('ci_lower', np.nan):.3f} to "
            f"{qi.get('ci_upper', np.nan):.3f}; 0 = no better than random) and its AUUC {ev.loc[chosen, 'auuc']:.2f}.")
    if first is not None:
        unit = (lambda v: f"{v * 100:+.1f} points") if binary else (lambda v: f"{v:+,.1f}")
        text += (f" Among the top {first['share_targeted']:.0%} by predicted uplift the observed uplift is "
                 f"{unit(first['uplift'])} (95% CI {unit(first['low'])} to {unit(first['high'])}).")
    if qi.get("ci_lower", -1) <= 0:
        text += (" The ranking's advantage over random targeting is not detectable at this sample size: use the "
                 "segment table, not individual scores, to decide whom to prioritise.")
    return text


def segment_sentence(segments: pd.DataFrame, outcome: str) -> str:
    if segments.empty:
        return "Too few accounts per segment to compare."
    sig = segments[segments["p_holm"] < 0.05]
    best = segments.loc[segments["effect"].idxmax()]
    text = (f"The largest effect is in {best['segment']} ({fmt_value(outcome, best['effect'], True)}, "
            f"{fmt_interval(outcome, best['low'], best['high'])}).")
    if len(sig):
        text += (" Detectable after Holm correction for testing "
                 f"{len(segments)} segments: {', '.join(sig['segment'])}.")
    else:
        text += f" No segment's effect is detectable after Holm correction for testing {len(segments)} segments."
    return text


def targeting_sentence(table: pd.DataFrame, cost: float) -> str:
    if table is None or table.empty:
        return ""
    everyone = table[(table["policy"] == "random k%") & (table["share_treated"] == 1.0)]
    best = table.loc[table["net_value"].idxmax()]
    text = ""
    if len(everyone):
        e = everyone.iloc[0]
        text += (f"Treating everyone ({e['accounts_treated']:,} accounts at {money_text(cost)} each) is expected to "
                 f"keep {money_text(e['incremental_arr'])} of ARR (95% CI {money_text(e['incremental_arr_low'])} to "
                 f"{money_text(e['incremental_arr_high'])}) for {money_text(e['cost'])}. ")
    how = ("treating everyone" if best["share_treated"] >= 1 else
           f"treating the {best['policy'].replace('k%', format(best['share_treated'], '.0%'))}")
    text += (f"The best net value measured is {how}: {money_text(best['net_value'])} (95% CI "
             f"{money_text(best['net_value_low'])} to {money_text(best['net_value_high'])}).")
    if best["net_value_low"] <= 0:
        text += " Its interval includes a loss, so treat it as a lead to test, not a settled rule."
    return text


def power_sentence(row: Mapping, power: float = 0.8) -> str:
    o = row["outcome"]
    return (f"With {row['n_treated']:,} treated and {row['n_control']:,} control accounts, the smallest effect on "
            f"{row['outcome_label']} this sample detects with {power:.0%} power is {fmt_value(o, row['mde'])}; "
            f"its power for an effect the size of the estimate ({fmt_value(o, row['estimate'])}) is "
            f"{row['power_at_observed']:.0%} (power for the observed effect only restates the p-value; the MDE is "
            "the number to plan with).")


def headline(readouts: Sequence[Readout], month: pd.Period, has_experiments: bool = True) -> str:
    """The report's first sentence: one clause per experiment, about its primary outcome."""
    when = month.strftime("%B %Y")
    if not has_experiments:
        return f"No experiments table in the data: no experiment to read out for {when}."
    if not readouts:
        return f"No experiment was running or recently ended in {when}: nothing to read out."
    parts = []
    for r in readouts:
        row = r.primary_effect()
        name = display_name(r.settings)
        if row is None:
            parts.append(f"{name}: not estimable yet")
            continue
        o = row["outcome"]
        ci = fmt_interval(o, row["low"], row["high"])
        detected = row["low"] > 0 or row["high"] < 0
        if not r.settings.randomized:
            if detected:
                parts.append(f"{name} users had {row['outcome_label']} {fmt_value(o, row['estimate'])} "
                             f"{'higher' if row['estimate'] > 0 else 'lower'} than comparable non-users ({ci}; not "
                             "randomised, so an upper bound more than a proof)")
            else:
                parts.append(f"{name}: no detectable difference in {row['outcome_label']} between users and "
                             f"comparable non-users at this sample size")
        elif detected:
            parts.append(f"{name} {'raised' if row['estimate'] > 0 else 'lowered'} {row['outcome_label']} by "
                         f"{fmt_value(o, row['estimate'])} ({ci})")
        else:
            parts.append(f"{name}: no detectable effect on {row['outcome_label']} at this sample size "
                         f"(MDE {fmt_value(o, row['mde'])})")
    srm = [display_name(r.settings) for r in readouts if r.srm.get("flagged")]
    tail = f" Sample-ratio mismatch in {', '.join(srm)}: check assignment first." if srm else ""
    return f"{len(readouts)} experiment(s) read out for {when}: " + "; ".join(parts) + "." + tail


def qbr_summary(r: Readout) -> str:
    """One page a CSM can paste into a quarterly business review (markdown)."""
    s, f = r.settings, r.frame
    name = display_name(s)
    arms = ", ".join(f"{a} {n:,}" for a, n in f["arm"].value_counts().items())
    design = "a randomised experiment" if s.randomized else "an observational comparison (not randomised)"
    lines = [f"**What was tested.** {name} (`{s.experiment_id}`), {design}: {arms} accounts, assigned "
             f"{f['recorded_assigned_at'].min().date()} to {f['recorded_assigned_at'].max().date()}; status: {r.status}. "
             f"Outcomes measured {s.horizon_days} days after assignment, as of {r.as_of.date()}."]
    if r.effects.empty:
        lines.append("**Result.** " + maturity_note(r))
        if s.randomized and r.srm:
            lines.append("**Can we trust it so far?** " + srm_sentence(r.srm))
        return "\n\n".join(lines)
    prim = r.effects[r.effects["primary"]]
    main = prim[prim["outcome"] == s.primary]
    if len(main):
        lines.append("**Result.** " + effect_sentence(main.iloc[0], name, r.alpha, r.power, s.randomized))
    others = [effect_sentence(row, name, r.alpha, r.power, s.randomized) for _, row in prim.iterrows()
              if row["outcome"] != s.primary]
    if others:
        lines.append("**Other outcomes.** " + " ".join(others))
    if s.randomized:
        lines.append("**Can we trust it?** " + srm_sentence(r.srm))
    else:
        lines.append("**Can we trust it?** Users chose to adopt, so this is not a controlled experiment. "
                     + observational_sentence(r.observational if r.observational is not None else pd.DataFrame(
                         columns=["outcome", "estimator"])))
    if len(r.segments):
        lines.append("**Who benefits.** " + segment_sentence(r.segments, s.primary))
    if r.targeting is not None and len(r.targeting):
        lines.append("**What it is worth.** " + targeting_sentence(r.targeting, s.cost_per_treated_account))
    return "\n\n".join(lines)


def maturity_note(r: Readout) -> str:
    """Why there is no estimate yet: outcomes not observable by the report date, or no comparison."""
    f, h = r.frame, r.settings.horizon_days
    if f.empty or f["treated"].nunique() < 2:
        return "Not estimable: " + " ".join(r.notes)
    mature = int(f["mature"].sum())
    first = (f["recorded_assigned_at"].min() + pd.Timedelta(days=h)).date()
    last = (f["recorded_assigned_at"].max() + pd.Timedelta(days=h)).date()
    if mature == 0:
        return (f"Too early to read: the {h}-day outcomes become observable from {first} (all by {last}); until "
                "then this section shows the design checks and churn so far.")
    return (f"Too few outcomes observed yet ({mature:,} of {len(f):,} accounts past the {h}-day horizon; all by "
            f"{last}).")


def method_notes(r: Readout) -> str:
    """How censoring, leakage, multiple comparisons and selection bias are handled (markdown)."""
    s = r.settings
    notes = [
        f"- **Censoring**: outcomes at {s.horizon_days} days use only accounts assigned at least {s.horizon_days} days "
        f"before {r.as_of.date()}; survival curves keep every account and censor those still paying at that date.",
        "- **Churn** is the project's one definition (`csresearch.churn.paying_spells`: MRR to zero across a month "
        "end, with the reactivation window in the conventions box). Usage is counted per paying day and expansion "
        "is floored at zero, so a churn is counted once, in retention, not again as lost usage or MRR.",
        "- **Leakage**: covariates and CUPED use only data from before each account's assignment; uplift models are "
        "cross-fitted (every prediction from a model that never saw the account), the model is chosen on one half "
        "of those predictions and judged on the other.",
        "- **Multiple comparisons**: p-values of the primary estimator across outcomes and across segments are "
        "Holm-adjusted (`p_holm` in the tables).",
    ]
    if s.randomized:
        notes.append("- **Selection**: assignment was random; partial exposure is handled by reporting intention to "
                     "treat and the effect on the exposed (assignment as instrument; assumes assignment changes the "
                     "outcome only through exposure).")
    else:
        notes.append("- **Selection bias**: users chose to adopt. Non-users get index dates drawn from the users' "
                     "adoption dates (so neither group gets 'immortal' time), and the estimates adjust for pre-period "
                     "usage, MRR, tenure, tickets and account attributes only; unmeasured engagement still biases them.")
    return "\n".join(notes)


# ==================================================================================================
# Tables for the CSV outputs
# ==================================================================================================
def summary_table(readouts: Sequence[Readout]) -> pd.DataFrame:
    """experiment_summary.csv: every estimate of every experiment with its interval and verdict."""
    rows = []
    for r in readouts:
        name = display_name(r.settings)
        base = {"experiment_id": r.experiment_id, "design": "randomised" if r.settings.randomized else "observational",
                "status": r.status, "as_of": r.as_of.date()}
        for _, e in r.effects.iterrows():
            rows.append({**base, **{k: e[k] for k in ("outcome", "estimator", "primary", "estimate", "low", "high",
                                                      "p_value", "p_holm", "mde", "power_at_observed",
                                                      "variance_reduction", "n_treated", "n_control") if k in e},
                         "verdict": effect_sentence(e, name, r.alpha, r.power, r.settings.randomized)})
        if r.survival:
            sv = r.survival
            rows.append({**base, "outcome": "churn hazard ratio", "estimator": "Cox proportional hazards",
                         "primary": False, "estimate": sv["hazard_ratio"], "low": sv["hazard_ratio_low"],
                         "high": sv["hazard_ratio_high"], "p_value": sv["hazard_ratio_p"]})
            rm = sv["rmst_difference"]
            rows.append({**base, "outcome": f"paying days within {r.settings.horizon_days} days",
                         "estimator": "RMST difference (Kaplan-Meier)", "primary": False, "estimate": rm.estimate,
                         "low": rm.low, "high": rm.high, "p_value": rm.p_value})
        if r.observational is not None:
            for _, o in r.observational.iterrows():
                if o["estimator"].startswith("difference-in-differences") or o["estimator"].startswith("naive: users"):
                    rows.append({**base, "outcome": o["outcome"], "estimator": o["estimator"], "primary": False,
                                 "estimate": o["estimate"], "low": o["low"], "high": o["high"],
                                 "relative": o["relative"], "relative_low": o["relative_low"],
                                 "relative_high": o["relative_high"]})
    out = pd.DataFrame(rows)
    for col in ("n_treated", "n_control"):
        if col in out:
            out[col] = out[col].astype("Int64")
    return out


def _stack(readouts: Sequence[Readout], get) -> pd.DataFrame:
    parts = [get(r).assign(experiment_id=r.experiment_id) for r in readouts if get(r) is not None and len(get(r))]
    if not parts:
        return pd.DataFrame(columns=["experiment_id"])
    out = pd.concat(parts, ignore_index=True)
    return out[["experiment_id", *[c for c in out.columns if c != "experiment_id"]]]


def segments_table(readouts: Sequence[Readout]) -> pd.DataFrame:
    return _stack(readouts, lambda r: r.segments)


def qini_table(readouts: Sequence[Readout]) -> pd.DataFrame:
    return _stack(readouts, lambda r: r.uplift["qini"].assign(half="evaluation") if r.uplift else None)


def targeting_output(readouts: Sequence[Readout]) -> pd.DataFrame:
    return _stack(readouts, lambda r: r.targeting)


def record(r: Readout) -> dict:
    """The numbers of one readout for summary.json (tests and the index page read them)."""
    out: dict[str, Any] = {"experiment_id": r.experiment_id, "randomized": r.settings.randomized, "status": r.status,
                           "accounts": int(len(r.frame)), "notes": list(r.notes)}
    if r.srm:
        out["srm"] = {k: r.srm[k] for k in ("chi2", "p_value", "flagged")}
    for _, e in r.effects.iterrows():
        out.setdefault("effects", []).append({k: e[k] for k in ("outcome", "estimator", "primary", "estimate", "low",
                                                                "high", "p_value", "mde")})
    if r.survival:
        out["hazard_ratio"] = [r.survival["hazard_ratio"], r.survival["hazard_ratio_low"], r.survival["hazard_ratio_high"]]
        rm = r.survival["rmst_difference"]
        out["rmst_difference_days"] = [rm.estimate, rm.low, rm.high]
    if r.observational is not None:
        out["observational"] = r.observational.drop(columns="assumption").to_dict(orient="records")
    if r.pretrend:
        out["pretrend_p"] = r.pretrend["p_value"]
    if r.uplift:
        out["uplift_model"] = r.uplift["chosen"]
        out["qini_evaluation"] = r.uplift["qini_interval"]
    return out


# ==================================================================================================
# The report: one section per experiment
# ==================================================================================================
EXPLAIN = {
    "design": ("Before reading any effect, check the experiment is what we think it is. **Sample-ratio mismatch**: "
               "if the arms are not the sizes the design intended, assignment or tracking is broken and no estimate "
               "can be trusted. **Balance**: the chart compares the arms before treatment on usage, MRR, tenure, "
               "tickets and account attributes (dots inside the dashed lines are alike). **Exposure**: who in each "
               "arm actually received the intervention."),
    "effects": ("Each dot is an estimate of the difference the intervention made (treated minus control), with its "
                "95% interval. A bar crossing zero means the data cannot tell the effect from zero at this sample "
                "size. Intention to treat answers 'what does assigning the programme achieve'; CUPED is the same "
                "question answered more precisely; the effect on the exposed answers 'what does it do for accounts "
                "it actually reached'."),
    "effects_observational": (
        "Each dot is an estimate of the difference between users and non-users (users minus non-users), with its "
        "95% interval. The naive comparison takes the groups as they are; inverse-propensity weighting reweights "
        "non-users to look like users on everything measured before adoption; the doubly robust estimate also "
        "models the outcome, and is right if either model is. Only the blue (doubly robust) one is used in the "
        "summary."),
    "survival": ("The share of accounts still paying, day by day after assignment, per arm. A gap that opens and "
                 "stays open is retained revenue; the numbers under the chart are the accounts still being followed."),
    "observational": ("Users of a feature are not a random group: engaged accounts adopt more and churn less anyway, "
                      "so comparing users with non-users overstates the feature's value. The table sets the naive "
                      "comparison beside estimates that adjust for it, each with the assumption it needs."),
    "event_study": ("Usage of users minus non-users, each period compared with the period just before adoption. "
                    "Before adoption (grey) the points should sit around zero: if they trend, users were already "
                    "diverging and the difference-in-differences after adoption (blue) is suspect."),
    "uplift": ("Does the effect differ between accounts, and can a model find the accounts that benefit most? "
               "Several causal machine-learning models predict each account's uplift; each prediction comes from a "
               "model that never saw that account. The Qini curve counts the extra retained accounts as we target "
               "more accounts in the model's order: above the dashed random line means the ranking helps."),
    "segments": ("The observed effect within each segment (treated minus control inside the segment), with 95% "
                 "intervals and p-values corrected for testing several segments."),
    "targeting": ("If we roll the programme out to part of the base, whom should we treat? Net value is the retained "
                  "ARR the programme adds minus its cost, measured on held-out accounts, for three policies: the "
                  "accounts the model expects to gain most, the accounts most likely to churn, or a random share "
                  "(the same per account as treating everyone)."),
    "power": ("How big an effect could this experiment have seen? The curve is the chance of detecting a true effect "
              "of each size with this many accounts; the minimum detectable effect is where it crosses 80%."),
}


def money_text(v: float) -> str:
    return "–" if not np.isfinite(v) else f"{'-' if v < 0 else ''}${abs(v):,.0f}"


_POLICY_SHORT = {"top k% by predicted uplift": "highest predicted uplift", "top k% by churn risk": "highest churn risk",
                 "random k%": "random"}


def targeting_display(table: pd.DataFrame) -> pd.DataFrame:
    """The targeting table for reading: one interval per cell, money as money."""
    return pd.DataFrame({
        "policy": [_POLICY_SHORT.get(p, p) if s < 1 else "everyone" for p, s in zip(table["policy"], table["share_treated"])],
        "share treated": [f"{s:.0%}" for s in table["share_treated"]],
        "accounts": [f"{n:,}" for n in table["accounts_treated"]],
        "retention uplift (95% CI)": [f"{e * 100:+.1f} pt ({lo * 100:+.1f} to {hi * 100:+.1f})" for e, lo, hi in
                                      zip(table["retention_uplift"], table["retention_uplift_low"],
                                          table["retention_uplift_high"])],
        "retained ARR added": [money_text(v) for v in table["incremental_arr"]],
        "cost": [money_text(v) for v in table["cost"]],
        "net value (95% CI)": [f"{money_text(v)} ({money_text(lo)} to {money_text(hi)})" for v, lo, hi in
                               zip(table["net_value"], table["net_value_low"], table["net_value_high"])],
    }).drop_duplicates(subset=["policy", "share treated"])


def _show(ax) -> None:
    import matplotlib.pyplot as plt
    from IPython.display import display

    fig = ax.figure
    display(fig)
    plt.close(fig)


_FMT_EFFECTS = {"estimate": "{:+.4f}", "low": "{:+.4f}", "high": "{:+.4f}", "p_value": fmt_p, "p_holm": fmt_p,
                "mde": "{:.4f}", "power_at_observed": "{:.0%}", "variance_reduction": "{:.1%}", "n_treated": "{:,}",
                "n_control": "{:,}"}


def show_readout(r: Readout) -> None:
    """Render one experiment's section: QBR summary, design, effects, survival, observational or
    heterogeneity, targeting, power and method notes."""
    from .plots import uplift as charts
    from .report.notebook import md, show_table

    s = r.settings
    name = display_name(s)
    design = "randomised" if s.randomized else "not randomised"
    configured = "" if s.configured else " · *no settings in params/04_uplift_experiments.yml: defaults used*"
    md(f"## {name}\n`{s.experiment_id}` · {design} · {r.status}{configured}")
    md("### Summary for the quarterly business review\n" + qbr_summary(r))
    if r.compliance.empty:  # no arms to compare: nothing else to show
        md("**Notes.** " + " ".join(r.notes))
        return

    md("### Design checks\n" + EXPLAIN["design"])
    md(srm_sentence(r.srm))
    show_table(r.compliance[["arm", "accounts", "exposed", "share_exposed"]], "Accounts and exposure by arm",
               {"accounts": "{:,}", "exposed": "{:,}", "share_exposed": "{:.1%}"})
    md(compliance_sentence(r.compliance, s))
    _show(charts.balance(r.balance, r.balance_weighted, f"Were the arms alike before treatment? ({name})"))
    md(balance_sentence(r.balance, r.balance_weighted, s.randomized))

    if r.effects.empty:  # still running: design checks and churn so far only
        if r.survival:
            md("### Churn so far\n" + EXPLAIN["survival"])
            _show(charts.survival(r.survival, s.horizon_days, f"Still paying after assignment, by arm ({name})"))
            md(survival_sentence(r.survival, s) + f" These are interim curves, read at the {r.survival['horizon_days']:.0f} "
               f"days of follow-up so far: the {s.horizon_days}-day outcome window is still open. Stopping or deciding on an "
               "interim look raises the chance of a false positive: decide at the planned horizon.")
        md("**Notes.** " + " ".join(r.notes))
        return

    md("### Average effects\n" + (EXPLAIN["effects"] if s.randomized else EXPLAIN["effects_observational"]))
    _show(charts.effects(r.effects, f"What {name} changed, per outcome (95% intervals)"))
    prim = r.effects[r.effects["primary"]]
    md("\n\n".join(effect_sentence(row, name, r.alpha, r.power, s.randomized) for _, row in prim.iterrows()))
    if s.randomized:
        md(cuped_sentence(r.effects))
    shown = r.effects[["outcome_label", "estimator", "estimate", "low", "high", "p_value", "p_holm", "mde",
                       "variance_reduction", "n_treated", "n_control"]]
    show_table(shown, "Every estimate (retention as a proportion; p_holm: Holm-adjusted across outcomes)", _FMT_EFFECTS)
    if r.survival:
        md("#### Churn over time\n" + EXPLAIN["survival"]
           + ("" if s.randomized else " The non-users are reweighted to look like the users."))
        _show(charts.survival(r.survival, s.horizon_days, f"Still paying after assignment, by arm ({name})"))
        md(survival_sentence(r.survival, s))

    if not s.randomized:
        md("### Not randomised: naive vs adjusted\n" + EXPLAIN["observational"])
        if r.observational is not None and len(r.observational):
            _show(charts.observational(r.observational, f"Users vs non-users of {name}: naive and adjusted"))
            md(observational_sentence(r.observational))
            show_table(r.observational, "Estimates and the assumption each needs",
                       {"estimate": "{:+.3f}", "low": "{:+.3f}", "high": "{:+.3f}", "relative": "{:+.1%}",
                        "relative_low": "{:+.1%}", "relative_high": "{:+.1%}"})
        if r.event_study is not None and len(r.event_study):
            md("#### Event study\n" + EXPLAIN["event_study"])
            _show(charts.event_study(r.event_study, f"Usage of users minus non-users around adoption ({name})"))
            md(pretrend_sentence(r.pretrend))
        if len(r.segments):
            md("#### Effect by segment (doubly robust)\n" + EXPLAIN["segments"])
            show_table(r.segments, "Effect on the treated by segment (p_holm: Holm-adjusted)",
                       {"naive": "{:+.3f}", "effect": "{:+.3f}", "low": "{:+.3f}", "high": "{:+.3f}",
                        "p_value": fmt_p, "p_holm": fmt_p, "accounts": "{:,}"})
            md(segment_sentence(r.segments, s.primary))
        md("Heterogeneous-effect models and targeting need a randomised comparison: on self-selected users their "
           "rankings would mostly rank engagement, so they are not shown for this study.")
    elif r.uplift:
        u = r.uplift
        md("### Heterogeneous effects\n" + EXPLAIN["uplift"])
        both = u["selection"].merge(u["evaluation"], on="model", suffixes=("_selection_half", "_evaluation_half"))
        show_table(both, "Uplift models on held-out predictions (AUUC: random about 0.5; Qini: random = 0)",
                   {c: "{:.3f}" for c in both.columns if c != "model"})
        _show(charts.qini(u["qini"], u["chosen"], f"Qini curves on the evaluation half ({name})",
                          is_binary(u["outcome"])))
        overall = prim[prim["outcome"] == u["outcome"]]["estimate"]
        _show(charts.top_k(u["top_k"], float(overall.iloc[0]) if len(overall) else None, is_binary(u["outcome"]),
                           f"Observed uplift among the top k% by {u['chosen']} prediction"))
        md(uplift_sentence(u, is_binary(u["outcome"])))
        if len(r.segments):
            md("#### Effect by segment\n" + EXPLAIN["segments"])
            _show(charts.segments(r.segments, is_binary(u["outcome"]), f"Effect of {name} by segment"))
            show_table(r.segments, "Effect by segment (p_holm: Holm-adjusted; predicted_uplift: chosen model's mean)",
                       {"rate_treated": "{:.1%}", "rate_control": "{:.1%}", "effect": "{:+.3f}", "low": "{:+.3f}",
                        "high": "{:+.3f}", "p_value": fmt_p, "p_holm": fmt_p, "predicted_uplift": "{:+.3f}",
                        "accounts": "{:,}", "n_treated": "{:,}", "n_control": "{:,}"})
            md(segment_sentence(r.segments, u["outcome"]))
        if r.targeting is not None and len(r.targeting):
            md("### Targeting and ROI\n" + EXPLAIN["targeting"]
               + f" Cost per treated account: ${s.cost_per_treated_account:,.0f} (params).")
            _show(charts.targeting(r.targeting, f"Net value of {name} by share treated and policy"))
            md(targeting_sentence(r.targeting, s.cost_per_treated_account))
            show_table(targeting_display(r.targeting),
                       "Targeting policies, measured on held-out accounts (every column in targeting.csv)")

    md("### Power and what this sample can detect\n" + EXPLAIN["power"])
    main = prim[prim["outcome"] == s.primary]
    if len(main):
        row = main.iloc[0]
        _show(charts.power_curve(row["se"], int(row["n_treated"]), int(row["n_control"]), row["estimate"], row["mde"],
                                 r.alpha, r.power, is_binary(s.primary),
                                 f"Power to detect an effect on {row['outcome_label']} ({name})"))
        md(power_sentence(row, r.power))
    if r.notes:
        md("**Notes.** " + " ".join(r.notes))
    md("#### How this readout handles censoring, leakage, multiple comparisons and selection\n" + method_notes(r))


# ==================================================================================================
# Notebook glue: conventions box, the month's experiments table, outputs
# ==================================================================================================
def conventions(reactivation_window_days: int, confidence: float, power: float, srm_alpha: float,
                lookback_months: int, experiment_id: str | None) -> tuple[dict, dict]:
    """The conventions box: values and what each means."""
    values = {
        "reactivation_window_days": reactivation_window_days,
        "experiment_id": experiment_id or "every experiment running or recently ended",
        "lookback_months": lookback_months,
        "confidence": confidence,
        "power": power,
        "srm_alpha": srm_alpha,
    }
    notes = {
        "reactivation_window_days": "a zero-MRR gap shorter than this is not a churn (churn.paying_spells)",
        "experiment_id": "which experiment(s) this report reads out",
        "lookback_months": "an ended experiment stays in the report this many months after its outcome window closes",
        "confidence": "interval level; 1 - confidence is the significance level",
        "power": "power at which the minimum detectable effect is stated",
        "srm_alpha": "a sample-ratio mismatch is flagged below this chi-square p-value",
    }
    return values, notes


def windows_display(windows: pd.DataFrame) -> pd.DataFrame:
    """The month's experiments as a readable table."""
    if windows.empty:
        return pd.DataFrame(columns=["experiment", "arms", "accounts", "assigned", "outcome window ends", "status",
                                     "in this report"])
    return pd.DataFrame({
        "experiment": windows["experiment_id"],
        "arms": windows["arms"],
        "accounts": windows["accounts"],
        "assigned": [f"{a.date()} to {b.date()}" if a != b else str(a.date())
                     for a, b in zip(windows["first_assigned"], windows["last_assigned"])],
        "outcome window ends": windows["window_end"].dt.date,
        "status": windows["status"],
        "in this report": np.where(windows["selected"], "yes", "no"),
    })


def windows_sentence(ds, windows: pd.DataFrame, readouts: Sequence[Readout]) -> str:
    if not ds.has("experiments"):
        return ("No `experiments` table in the data: there is nothing to read out. Add one (experiment_id, "
                "account_id, arm, assigned_at, exposed) to get this report.")
    unconfigured = [r.experiment_id for r in readouts if not r.settings.configured]
    text = f"{len(windows)} experiment(s) in the data; {len(readouts)} read out below."
    if unconfigured:
        text += (f" No settings for {', '.join(unconfigured)} in params/04_uplift_experiments.yml: read with the "
                 "`experiment_defaults` (check the control arm, outcomes and horizon).")
    return text


def save_outputs(nb, readouts: Sequence[Readout], windows: pd.DataFrame) -> None:
    """Write experiment_summary.csv, effects_by_segment.csv, qini.csv, targeting.csv, the KPIs and
    the per-experiment numbers into summary.json."""
    summary = summary_table(readouts)
    nb.table(summary, "experiment_summary")
    nb.table(segments_table(readouts), "effects_by_segment")
    nb.table(qini_table(readouts), "qini")
    nb.table(targeting_output(readouts), "targeting")
    for r in readouts:
        row = r.primary_effect()
        if row is None:
            continue
        o = row["outcome"]
        kind = "" if r.settings.randomized else " (not randomised, adjusted)"
        nb.kpi(f"{display_name(r.settings)}: {row['outcome_label']}{kind}", float(row["estimate"]),
               f"{fmt_value(o, row['estimate'], signed=True)} ({fmt_interval(o, row['low'], row['high'])})",
               low=float(row["low"]), high=float(row["high"]), experiment_id=r.experiment_id)
    nb.record(experiments=[record(r) for r in readouts],
              experiments_in_data=windows["experiment_id"].tolist() if len(windows) else [])
