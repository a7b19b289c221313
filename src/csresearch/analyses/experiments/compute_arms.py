"""Each treatment arm against the control, outcome by outcome: the contrasts an experiment reads,
the effect rows of each (intention to treat, CUPED, the effect on the exposed; or, not randomised,
naive, IPW and doubly robust), the Holm correction across arms, each arm's own outcome with its
interval, and the outcomes that cannot be measured (and why, as codes words.py turns into sentences).

An experiment with k treatment arms is k comparisons with the control (plus the pooled contrast of
all treatment arms when the settings ask for it). Each comparison uses only its two arms' accounts;
p-values are Holm-adjusted across the comparisons of one outcome and estimator (``p_holm``), and the
minimum detectable effect is stated at the Bonferroni level alpha / comparisons, the level the first
step of Holm's procedure tests at.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from .compute_adoption import aipw, cross_fitted_outcome, ipw_att
from .compute_effects import Effect, arm_summary, average_effect, cuped, minimum_detectable_effect, power_at, wald_iv
from .settings import ExperimentSettings, OutcomeSpec

# pre-period covariates CUPED regresses each outcome on (measured before assignment, so the
# adjustment cannot absorb any of the treatment's effect)
CUPED_COVARIATES = ("usage_pre", "mrr_at_assignment", "tenure_days")
POOLED = "all treatment arms (pooled)"
MIN_OBSERVED = 10  # accounts with the outcome observed below which an outcome is not read


def contrasts(frame: pd.DataFrame, control: str, arms: Sequence[str], pooled: bool) -> list[tuple[str, np.ndarray]]:
    """The comparisons read: (name, rows of its two sides) for each treatment arm against the control,
    then the pooled one (every treatment arm against the control) when asked and there are several."""
    arm = frame["arm"].to_numpy()
    out = [(a, (arm == a) | (arm == control)) for a in arms]
    if pooled and len(arms) > 1:
        out.append((POOLED, np.isin(arm, [control, *arms])))
    return out


def _treated(frame: pd.DataFrame, name: str) -> np.ndarray:
    return (frame["treated"] == 1).to_numpy() if name == POOLED else (frame["arm"] == name).to_numpy()


def _unmeasured(spec: OutcomeSpec, arm: str | None, reason: str, **numbers: Any) -> dict:
    return {"outcome": spec.name, "outcome_label": spec.label, "kind": spec.kind, "arm": arm, "reason": reason,
            "horizon_days": spec.horizon_days, "events": ", ".join(spec.events), **numbers}


def _no_variation(spec: OutcomeSpec, y: pd.Series, arm: str | None) -> dict | None:
    """An outcome every observed account has the same value of cannot show a difference between
    arms: 'cannot be measured' (with the value), never 'no detectable effect'."""
    values = y.dropna().unique()
    if len(values) != 1:
        return None
    return _unmeasured(spec, arm, "no variation", accounts=int(y.notna().sum()), value=float(values[0]))


def outcome_effects(frame: pd.DataFrame, settings: ExperimentSettings, spec: OutcomeSpec, x: pd.DataFrame,
                    comparisons: list[tuple[str, np.ndarray]], propensity: np.ndarray | None, alpha: float,
                    power: float, seed: int, has_events: bool, as_of: pd.Timestamp) -> tuple[list[dict], list[dict]]:
    """The effect rows of one outcome for every comparison, and the ones that cannot be measured."""
    y = frame[spec.column]
    needs_events = spec.kind == "usage_change" or bool(spec.events)
    if needs_events and not has_events:
        return [], [_unmeasured(spec, None, "no usage_events")]
    observed = y.notna().to_numpy()
    if observed.sum() < MIN_OBSERVED or frame.loc[observed, "treated"].nunique() < 2:
        first = frame["recorded_assigned_at"].min() + pd.Timedelta(days=spec.horizon_days)
        return [], [_unmeasured(spec, None, "not observed yet", accounts=int(observed.sum()),
                                observable_from=first if first > as_of else pd.NaT)]
    flat = _no_variation(spec, y, None)
    if flat:
        return [], [flat]
    family_alpha = alpha / len(comparisons)
    rows: list[dict] = []
    missing: list[dict] = []
    for name, rows_of in comparisons:
        sel = rows_of & observed
        t = _treated(frame, name)[sel]
        ys = y[sel]
        if t.sum() < 2 or (~t).sum() < 2:
            missing.append(_unmeasured(spec, name, "too few in an arm", accounts=int(sel.sum())))
            continue
        flat = _no_variation(spec, ys, name)
        if flat:
            missing.append(flat)
            continue
        raw = average_effect(ys, t, spec.binary, alpha)
        if not raw.se > 0:  # each arm constant (e.g. 0 in one, 1 in the other): no sampling variation
            missing.append(_unmeasured(spec, name, "no variation within the arms", accounts=int(sel.sum())))
            continue

        def row(estimator: str, e: Effect, primary: bool = False, reduction: float = float("nan")) -> dict:
            return effect_row(settings, spec, name, estimator, e, alpha, family_alpha, power, len(comparisons),
                              primary, reduction)

        if settings.randomized:
            rows.append(row("intention to treat", raw))
            cov = x.loc[sel, [c for c in CUPED_COVARIATES if c in x]]
            if cov.shape[1]:
                adj, reduction = cuped(ys, cov.to_numpy(), t, alpha)
                rows.append(row("CUPED-adjusted intention to treat", adj, primary=True, reduction=reduction))
            else:
                rows[-1]["primary"] = True
            exposed = frame.loc[sel, "exposed"]
            if partial_exposure(exposed, t):
                iv = wald_iv(ys, t, exposed.fillna(0.0).to_numpy(), alpha)
                if np.isfinite(iv.estimate):
                    rows.append(row("effect on the exposed (assignment as instrument)", iv))
            continue
        assert propensity is not None, "a non-randomised study is read with a propensity model"
        rows.append(row("naive users vs non-users", raw))
        rows.append(row("inverse-propensity weighted", ipw_att(ys, t, propensity[sel], alpha)))
        mu0 = cross_fitted_outcome(x.to_numpy(), y.to_numpy(), (frame["treated"] == 0).to_numpy() & observed,
                                   seed=seed, binary=spec.binary)
        rows.append(row("doubly robust (AIPW)", aipw(ys, t, propensity[sel], mu0[sel], alpha=alpha), primary=True))
    return rows, missing


def partial_exposure(exposed: pd.Series, treated: np.ndarray) -> bool:
    """Exposure recorded and partial: some treated accounts not reached, or some controls reached."""
    e = exposed.to_numpy(dtype=float)
    known = ~np.isnan(e)
    if not known.any():
        return False
    reached = np.nanmean(e[treated & known]) if (treated & known).any() else 1.0
    leaked = np.nanmean(e[~treated & known]) if (~treated & known).any() else 0.0
    return bool(reached < 0.98 or leaked > 0.02)


def effect_row(settings: ExperimentSettings, spec: OutcomeSpec, arm: str, estimator: str, e: Effect, alpha: float,
               family_alpha: float, power: float, comparisons: int, primary: bool = False,
               variance_reduction: float = float("nan")) -> dict:
    """One estimate as a row of the effects table (MDE and power at the family's level)."""
    mde = minimum_detectable_effect(e.se, e.n_treated, e.n_control, family_alpha, power)
    return {"experiment_id": settings.experiment_id, "arm": arm, "control_arm": settings.control_arm,
            "outcome": spec.name, "outcome_label": spec.label, "kind": spec.kind, "binary": spec.binary,
            "unit": spec.unit, "unit_label": spec.unit_label, "horizon_days": spec.horizon_days,
            "estimator": estimator, "primary": primary, "estimate": e.estimate, "low": e.low, "high": e.high,
            "p_value": e.p_value, "se": e.se, "n_treated": e.n_treated, "n_control": e.n_control,
            "mean_treated": e.mean_treated, "mean_control": e.mean_control, "comparisons": comparisons,
            "variance_reduction": variance_reduction, "mde": mde,
            "power_at_observed": power_at(e.estimate, e.se, e.n_treated, e.n_control, family_alpha),
            "method": e.method}


def holm_across_arms(effects: pd.DataFrame) -> pd.DataFrame:
    """``p_holm``: each p-value Holm-adjusted across the comparisons (arms) of its outcome and
    estimator; with one comparison it is the p-value itself."""
    from statsmodels.stats.multitest import multipletests

    out = effects.copy()
    out["p_holm"] = np.nan
    for _, idx in out.groupby(["outcome", "estimator"], sort=False).groups.items():
        p = out.loc[idx, "p_value"]
        out.loc[idx, "p_holm"] = multipletests(p.fillna(1.0), method="holm")[1] if len(p) > 1 else p
    return out


def arm_outcomes(frame: pd.DataFrame, specs: Sequence[OutcomeSpec], arms: Sequence[str], alpha: float) -> pd.DataFrame:
    """Each arm's own outcome (a share or a mean) with its interval, for every outcome read."""
    rows = []
    for spec in specs:
        for arm in arms:
            y = frame.loc[frame["arm"] == arm, spec.column]
            if y.notna().sum() == 0:
                continue
            rows.append({"outcome": spec.name, "outcome_label": spec.label, "kind": spec.kind, "binary": spec.binary,
                         "unit": spec.unit, "unit_label": spec.unit_label, "arm": arm,
                         **arm_summary(y, spec.binary, alpha)})
    return pd.DataFrame(rows, columns=["outcome", "outcome_label", "kind", "binary", "unit", "unit_label", "arm", "n",
                                       "mean", "low", "high"])
