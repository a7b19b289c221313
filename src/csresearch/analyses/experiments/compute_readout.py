"""One readout per experiment, in the order a sceptical reader asks:

1. **Design checks**: sample-ratio mismatch, covariate balance, exposure.
2. **Average effects**: intention to treat with its interval, CUPED-adjusted (the primary estimate),
   the effect on the exposed when exposure is partial; churn from survival curves per arm.
3. **Not randomised** (users vs non-users): the naive difference beside inverse-propensity and doubly
   robust estimates, difference-in-differences with its event study and pre-trend test.
4. **Heterogeneous effects** (randomised): cross-fitted uplift models, the model chosen on one half of
   the held-out predictions and judged on the other; effect by segment.
5. **Targeting and ROI**: incremental retained ARR against the cost of treating.
6. **Power**: the minimum detectable effect and the power for the observed effect.

A section that cannot be computed on the data leaves a note saying why (``Readout.notes``) and the
rest goes on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from .compute_adoption import (
    aipw,
    cross_fitted_outcome,
    cross_fitted_propensity,
    did_relative,
    event_study,
    ipw_att,
    naive_relative,
    pretrend_test,
)
from .compute_design import (
    compliance_table,
    experiment_frame,
    experiments_in_month,
    srm_test,
    standardized_differences,
    usage_panel,
)
from .compute_effects import Effect, average_effect, cuped, minimum_detectable_effect, power_at, survival_by_arm, wald_iv
from .compute_uplift import (
    cross_fitted_uplift,
    effects_by_segment,
    qini_curves,
    qini_interval,
    targeting_table,
    top_k_uplift,
    uplift_scores,
)
from .settings import MODELS, Experiment, ExperimentSettings, is_binary, outcome_label, settings_for

# pre-period covariates CUPED regresses each outcome on (measured before assignment, so the
# adjustment cannot absorb any of the treatment's effect)
CUPED_COVARIATES = ("usage_pre", "mrr_at_assignment", "tenure_days")
NUMERIC_COVARIATES = ("tenure_days", "mrr_at_assignment", "usage_pre", "users_pre", "tickets_pre")


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


def read_experiments(ds, month: pd.Period, experiments: Mapping[str, Experiment | Mapping] | None = None,
                     experiment_defaults: Experiment | Mapping[str, Any] | None = None,
                     experiment_id: str | None = None, ended_within_months: int = 0,
                     **options) -> tuple[pd.DataFrame, list[Readout]]:
    """The month's experiments (``experiments_in_month``) and a readout of each selected one, as of
    the month's last day (outcomes after it are not used, so a rerun of an old month is unchanged)."""
    experiments = dict(experiments or {})
    windows = experiments_in_month(ds, month, experiments, experiment_defaults, experiment_id, ended_within_months)
    as_of = month.end_time.normalize()
    readouts = []
    for _, w in windows[windows["selected"]].iterrows():
        settings = settings_for(w["experiment_id"], experiments, experiment_defaults)
        readouts.append(read_experiment(ds, settings, as_of, status=w["status"], **options))
    return windows, readouts


def _design_matrix(frame: pd.DataFrame, numeric: Sequence[str], categorical: Sequence[str]) -> pd.DataFrame:
    """Model inputs: numeric covariates on a log1p scale (usage, MRR and tenure are heavy-tailed, and
    a logistic propensity on the raw scale gives a few accounts extreme weights), categoricals one-hot."""
    parts = [np.log1p(frame[[c for c in numeric if c in frame]].astype(float).clip(lower=0))]
    cats = [c for c in categorical if c in frame]
    if cats:
        parts.append(pd.get_dummies(frame[cats].fillna("unknown").astype(str), prefix=cats, dtype=float))
    x = pd.concat(parts, axis=1)
    return x.fillna(x.median(numeric_only=True)).fillna(0.0)
