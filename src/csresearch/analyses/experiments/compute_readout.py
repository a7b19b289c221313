"""One readout per experiment, in the order a sceptical reader asks:

1. **Design checks**: sample-ratio mismatch against the planned split, covariate balance of each
   treatment arm against the control, exposure.
2. **Average effects**, each treatment arm against the control (``compute_arms``): intention to treat
   with its interval, CUPED-adjusted (the primary estimate), the effect on the exposed when exposure is
   recorded and partial; Holm-adjusted across arms; each arm's own outcome; the outcomes that cannot
   be measured and why; churn from survival curves per arm.
3. **Not randomised** (users vs non-users): retention from sequential trials (adoption as a time-varying
   exposure) beside the naive difference; usage per seat by difference-in-differences with its event study
   and pre-trend test; other outcomes are said, not compared with never-adopters.
4. **Heterogeneous effects** (randomised, one comparison): cross-fitted uplift models, the model chosen on one half of
   the held-out predictions and judged on the other; effect by segment.
5. **Targeting and ROI**: incremental retained ARR against the cost of treating; the policy and share
   are chosen on the selection half and valued on the evaluation half.
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

from ...i18n import _, ngettext
from .compute_adoption import (
    cross_fitted_outcome,
    cross_fitted_propensity,
    did_relative,
    event_study,
    naive_relative,
    pretrend_test,
)
from .compute_arms import POOLED, _unmeasured, arm_outcomes, contrasts, holm_across_arms, outcome_effects
from .compute_design import (
    assigned_arms,
    compliance_table,
    experiment_frame,
    experiments_in_month,
    srm_test,
    standardized_differences,
    treatment_arms,
    usage_panel,
)
from .compute_effects import survival_by_arm
from .compute_trials import TrialEstimate, sequential_trials
from .compute_uplift import (
    cross_fitted_uplift,
    effects_by_segment,
    qini_curves,
    qini_interval,
    targeting_on_halves,
    top_k_uplift,
    uplift_scores,
)
from .settings import MODELS, Experiment, ExperimentSettings, OutcomeSpec, settings_for

NUMERIC_COVARIATES = ("tenure_days", "mrr_at_assignment", "usage_pre", "users_pre", "tickets_pre")
UNMEASURED_COLUMNS = ["outcome", "outcome_label", "kind", "arm", "reason", "horizon_days", "events", "accounts",
                      "value", "observable_from"]


@dataclass
class Readout:
    """Everything the report shows for one experiment (computed by :func:`read_experiment`).

    ``arms`` are the treatment arms compared with the control, in order; ``effects`` holds one row
    per comparison (``arm``: a treatment arm, or ``compute_arms.POOLED``), outcome and estimator;
    ``arm_outcomes`` each arm's own outcome; ``unmeasured`` the outcomes (or comparisons) that
    cannot be measured, with a reason code (words.py says it in words)."""

    settings: ExperimentSettings
    frame: pd.DataFrame
    as_of: pd.Timestamp
    alpha: float
    power: float
    status: str = ""
    arms: list[str] = field(default_factory=list)
    srm: dict = field(default_factory=dict)
    balance: pd.DataFrame = field(default_factory=pd.DataFrame)
    balance_weighted: pd.DataFrame | None = None
    compliance: pd.DataFrame = field(default_factory=pd.DataFrame)
    effects: pd.DataFrame = field(default_factory=pd.DataFrame)
    arm_outcomes: pd.DataFrame = field(default_factory=pd.DataFrame)
    unmeasured: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=UNMEASURED_COLUMNS))
    survival: dict | None = None
    observational: pd.DataFrame | None = None
    event_study: pd.DataFrame | None = None
    pretrend: dict | None = None
    uplift: dict | None = None
    segments: pd.DataFrame = field(default_factory=pd.DataFrame)
    targeting: pd.DataFrame | None = None
    trials: TrialEstimate | None = None   # not randomised: adoption as a time-varying exposure (retention)
    notes: list[str] = field(default_factory=list)

    @property
    def experiment_id(self) -> str:
        return self.settings.experiment_id

    @property
    def comparisons(self) -> list[str]:
        """The comparisons with the control, in the order the report shows them."""
        if self.effects.empty:
            return list(self.arms)
        return list(dict.fromkeys(self.effects["arm"]))

    def primary_effects(self) -> pd.DataFrame:
        """The primary estimate of the primary outcome, one row per comparison."""
        if self.effects.empty:
            return self.effects
        return self.effects[(self.effects["outcome"] == self.settings.primary) & self.effects["primary"]]

    def primary_effect(self) -> pd.Series | None:
        """The primary estimate of the primary outcome for the first comparison (None if none)."""
        rows = self.primary_effects()
        return rows.iloc[0] if len(rows) else None

    def primary_unmeasured(self) -> pd.Series | None:
        """Why the primary outcome cannot be measured, when it cannot (for the whole experiment)."""
        u = self.unmeasured
        rows = u[(u["outcome"] == self.settings.primary) & u["arm"].isna()] if len(u) else u
        return rows.iloc[0] if len(rows) else None


def read_experiment(ds, settings: ExperimentSettings, as_of: pd.Timestamp, reactivation_window_days: int = 0,
                    segment_column: str = "segment", alpha: float = 0.05, power: float = 0.8,
                    srm_alpha: float = 0.001, targeting_shares: Sequence[float] = (0.1, 0.2, 0.3, 0.5, 1.0),
                    uplift_models: Sequence[str] = MODELS, uplift_folds: int = 3, uplift_n_estimators: int = 60,
                    event_study_periods: tuple[int, int] = (6, 6), seed: int = 0, status: str = "") -> Readout:
    """Compute every section of one experiment's report (see the module docstring for the order)."""
    frame = experiment_frame(ds, settings, as_of, reactivation_window_days, segment_column, seed=seed)
    notes = []
    found = assigned_arms(ds, settings.experiment_id, as_of)
    arms = treatment_arms(settings, list(found.index))
    if not settings.randomized:
        # an observational comparison starts from accounts that were customers on their index date
        dropped = int((~frame["paying_at_assignment"]).sum())
        frame = frame[frame["paying_at_assignment"]].reset_index(drop=True)
        if dropped:
            notes.append(ngettext("{n} account was not paying on its index date and is left out of this study.",
                                  "{n} accounts were not paying on their index date and are left out of this study.",
                                  dropped).format(n=f"{dropped:,}"))
        if len(arms) > 1:
            notes.append(_("Not randomised: the users of {arms} are compared together with {control}.").format(
                arms=", ".join(arms), control=settings.control_arm))
    skipped = [a for a in found.index if a != settings.control_arm and a not in arms]
    if skipped:
        notes.append(_("Arms not read (not the control or a listed treatment arm): {arms}.").format(
            arms=", ".join(ngettext("{arm} ({n} account)", "{arm} ({n} accounts)", int(found[a])).format(
                arm=a, n=f"{found[a]:,}") for a in skipped)))
    r = Readout(settings=settings, frame=frame, as_of=pd.Timestamp(as_of), alpha=alpha, power=power, status=status,
                arms=arms, notes=notes)
    counts = frame["arm"].value_counts()
    if settings.control_arm not in counts or not any(a in counts for a in arms):
        r.notes.append(_("The control arm '{control}' or a treatment arm is missing (arms found: {arms}); nothing can "
                         "be estimated.").format(control=settings.control_arm,
                                                 arms=", ".join(found.index) or _("none")))
        r.arms = [a for a in arms if a in counts]
        return r
    r.arms = arms = [a for a in arms if a in counts]
    order = [settings.control_arm, *arms]
    if settings.randomized:
        # every arm assigned counts, read or not: a mismatch is about the assignment
        shown = [*order, *(a for a in found.index if a not in order)]  # the control first, then the arms read
        r.srm = srm_test({a: int(found[a]) for a in shown}, settings.expected_split, srm_alpha)
    categorical = [c for c in ("segment", "touch_tier", "region", "industry") if c in frame]
    numeric = [c for c in NUMERIC_COVARIATES if c in frame and frame[c].notna().any()]
    r.balance = _balance(frame, settings.control_arm, arms, [*numeric, *categorical])
    r.compliance = compliance_table(frame, order)
    x = _design_matrix(frame, numeric, categorical)

    propensity = None
    if not settings.randomized:
        propensity = cross_fitted_propensity(x, frame["treated"], seed=seed)
        w = np.where(frame["treated"] == 1, 1.0, propensity / (1 - propensity))
        r.balance_weighted = standardized_differences(frame, "treated", [*numeric, *categorical], weights=w)
        frame["propensity"] = propensity
        comparisons = [(arms[0] if len(arms) == 1 else POOLED, np.ones(len(frame), dtype=bool))]
    else:
        comparisons = contrasts(frame, settings.control_arm, arms, settings.pooled_contrast)
    specs = [settings.outcome(o) for o in settings.outcomes]
    rows, missing = [], []
    for spec in specs:
        if not settings.randomized and spec.kind != "retention":
            # measured over the horizon after each index date and compared with accounts that never
            # adopted: a group defined by the future (an account that would have adopted but churned
            # first counts as a never-adopter), so the weighted and doubly robust estimates inherit the
            # immortal-time bias the sequential trials remove for retention. Said, not estimated;
            # usage is read per seat by the difference-in-differences of the observational table.
            missing.append(_unmeasured(spec, None, "never-adopter comparison"))
            continue
        got, lost = outcome_effects(frame, settings, spec, x, comparisons, propensity, alpha, power, seed,
                                    ds.has("usage_events"), r.as_of)
        rows += got
        missing += lost
    if not settings.randomized and "retention" in settings.outcomes:
        rows = _with_trials(r, ds, rows, alpha, power, seed, reactivation_window_days, segment_column)
    if rows:
        r.effects = holm_across_arms(pd.DataFrame(rows))
    if missing:
        r.unmeasured = pd.DataFrame(missing).reindex(columns=UNMEASURED_COLUMNS)
    r.arm_outcomes = arm_outcomes(frame, [sp for sp in specs if sp.name in set(r.effects.get("outcome", []))],
                                  order, alpha)

    paying = frame["paying_at_assignment"] & (frame["duration_days"] > 0)
    if not settings.randomized:
        pass  # churn curves of users vs never-users would carry the immortal time: the trials' curves instead
    elif paying.sum() > 10 and frame.loc[paying, "churn_event"].sum() >= 5:
        sub = frame[paying]
        weights = None
        if propensity is not None:
            e = sub["propensity"].to_numpy()
            weights = np.where(sub["treated"] == 1, 1.0, e / (1 - e))
        # the RMST and "still paying after" are read at the horizon, or at the longest follow-up every
        # arm reaches if the report date comes first (a KM curve is not extrapolated past its data)
        labels = np.where(sub["treated"] == 1, sub["arm"] if settings.randomized else comparisons[0][0],
                          settings.control_arm)
        followed = int(sub.groupby(labels)["duration_days"].max().min())
        r.survival = survival_by_arm(sub["duration_days"], sub["churn_event"], labels, settings.control_arm,
                                     min(settings.horizon_days, followed), alpha, weights)
    else:
        r.notes.append(_("Fewer than 5 churns among the assigned accounts: no survival curves."))

    primary = settings.outcome(settings.primary)
    if not settings.randomized:
        r.observational = _observational(r, ds, event_study_periods)
        # only retention has an estimate here (the sequential trials); other outcomes are not compared
        # with never-adopters, by segment either
        r.segments = r.trials.segments if primary.kind == "retention" and r.trials is not None else pd.DataFrame()
    elif uplift_models and len(comparisons) == 1:
        r.uplift = _heterogeneity(r, primary, x, uplift_models, uplift_folds, uplift_n_estimators, alpha, seed,
                                  targeting_shares)
    elif uplift_models:
        r.notes.append(_("Heterogeneous effects and targeting are estimated for a single comparison with the control; "
                         "with {k} comparisons each arm's average effect is read above instead (uplift models per arm "
                         "would split the sample too thinly to rank accounts).").format(k=len(comparisons)))
    return r


TRIALS = "sequential trials (adopters vs not-yet-adopters)"


def _with_trials(r: Readout, ds, rows: list[dict], alpha: float, power: float, seed: int,
                 reactivation_window_days: int, segment_column: str) -> list[dict]:
    """Retention of a non-randomised study: the sequential-trial estimate (adoption as a time-varying
    exposure) replaces the propensity-weighted and doubly robust comparisons with accounts that never
    adopted (a group defined by the future); the naive comparison stays, labelled as such."""
    from .compute_arms import effect_row

    s = r.settings
    spec = s.outcome("retention")
    te = sequential_trials(ds, s.experiment_id, s.control_arm, r.arms, r.as_of, s.horizon_days, s.cuped_pre_days,
                           reactivation_window_days, alpha, seed, segment_column=segment_column)
    kept = [row for row in rows if row["outcome"] != "retention" or row["estimator"].startswith("naive")]
    for row in kept:
        if row["outcome"] == "retention":
            row["primary"] = False
    if te is None:
        r.notes.append(_("No account adopted by the report date with anyone left to compare it with: the effect on "
                         "retention cannot be estimated."))
        return kept
    r.trials = te
    r.balance_weighted = te.balance
    name = r.comparisons[0] if r.comparisons else r.arms[0]
    comparisons = len({row["arm"] for row in rows}) or 1
    row = effect_row(s, spec, name, TRIALS, te.effect, alpha, alpha / comparisons, power, comparisons,
                     primary=s.primary == "retention")
    return [*kept, row]


def _balance(frame: pd.DataFrame, control: str, arms: Sequence[str], covariates: Sequence[str]) -> pd.DataFrame:
    """Standardised differences of each treatment arm against the control (column ``arm``)."""
    parts = []
    for arm in arms:
        sub = frame[frame["arm"].isin([arm, control])]
        parts.append(standardized_differences(sub, "treated", covariates).assign(arm=arm))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["covariate", "mean_treated", "mean_control", "smd", "imbalanced", "arm"])


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
        # both rows in the panel's unit: events per seat (or per active user) per 30 days, since adopters
        # also add seats and raw counts would credit the feature with that growth
        after_levels = (panel[panel["period"].isin(post)].groupby(["account_id", "treated"])["y"].mean()
                        .reset_index(name="usage_after").dropna())
        naive, naive_rel = naive_relative(after_levels, "usage_after", r.alpha)
        did, did_rel = did_relative(panel, range(-before, 0), post, r.alpha)
        per = panel.attrs.get("per", "")
        label = f"usage (events per {per} per 30 days)" if per else "usage (events per account per 30 days)"
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
    for _i, e in r.effects.iterrows():
        if e["outcome"] != "retention":
            continue
        assumption = {
            "naive users vs non-users": "users and non-users have the same churn risk otherwise (they do not: "
                                        "engaged accounts adopt)",
            TRIALS: "no unmeasured confounding given the covariates on each index date, and later adopters' "
                    "adoption explained by the same covariates (censoring weights)",
        }.get(e["estimator"], "")
        rows.append({"outcome": e["outcome_label"], "estimator": e["estimator"], "estimate": e["estimate"],
                     "low": e["low"], "high": e["high"], "relative": np.nan, "relative_low": np.nan,
                     "relative_high": np.nan, "assumption": assumption})
    return pd.DataFrame(rows)


def _heterogeneity(r: Readout, spec: OutcomeSpec, x: pd.DataFrame, models, folds, n_estimators, alpha, seed,
                   shares) -> dict | None:
    s, frame = r.settings, r.frame
    outcome, binary = spec.name, spec.binary
    if r.primary_effect() is None:
        return None  # the primary outcome cannot be measured (said with its reason)
    m = frame[spec.column].notna().to_numpy()
    if m.sum() < 200 or frame.loc[m, "treated"].nunique() < 2:
        r.notes.append(_("Fewer than 200 accounts with the outcome observed: heterogeneous effects not estimated."))
        return None
    sub = frame.loc[m].reset_index(drop=True)
    xs, t, y = x.loc[m].reset_index(drop=True), sub["treated"].to_numpy(), sub[spec.column].to_numpy()
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
    r.segments = effects_by_segment(sub, spec.column, "segment_for_report", binary, sub["predicted_uplift"].to_numpy(),
                                    alpha)
    risk = None
    targeting = None
    if spec.kind == "retention":
        risk = 1 - cross_fitted_outcome(xs.to_numpy(), y, t == 0, seed=seed, binary=True)
        arr = sub["arr_at_assignment"].to_numpy()
        population = int(frame["paying_at_assignment"].sum())
        # the policy and share are chosen on the selection half and valued on the evaluation half
        targeting = targeting_on_halves(y, t, arr, scores[chosen].to_numpy(), risk, select, population,
                                        s.cost_per_treated_account, shares, alpha)
        r.targeting = targeting
    else:
        r.notes.append(_("Targeting and ROI need retention as the primary outcome (it is {label}).").format(
            label=spec.label))
    planted = sub[["account_id"]].assign(predicted_uplift=sub["predicted_uplift"], churn_risk=risk,
                                         evaluation_half=ev)
    return {"outcome": outcome, "binary": binary, "unit": spec.unit, "unit_label": spec.unit_label, "scores": scores,
            "selection": choice, "evaluation": evaluation, "chosen": chosen,
            "qini": curves, "qini_interval": interval, "top_k": top, "predictions": planted}


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
    for _i, w in windows[windows["selected"]].iterrows():
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
