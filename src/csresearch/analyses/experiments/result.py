"""The experiments report's result: the month's experiments and one readout per experiment read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..base import AnalysisResult
from .compute_readout import Readout


@dataclass
class Result(AnalysisResult):
    windows: pd.DataFrame = field(default_factory=pd.DataFrame)   # every experiment in the data, with status
    readouts: list[Readout] = field(default_factory=list)         # the experiments read this month
    has_experiments: bool = True                                  # the data has an experiments table
    reactivation_window_days: int = 0
    experiment_id: str | None = None
    ended_within_months: int = 6
    confidence: float = 0.95
    power: float = 0.8
    srm_alpha: float = 0.001
    # experiment_id -> the report's sentence for each row of its effects (words.verdicts), so the
    # verdict column of experiment_summary.csv says what the page says
    verdicts: dict[str, list[str]] = field(default_factory=dict)

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"experiment_summary": summary_table(self.readouts, self.verdicts),
                "arm_outcomes": arm_table(self.readouts),
                "effects_by_segment": _stack(self.readouts, lambda r: r.segments),
                "qini": _stack(self.readouts, lambda r: r.uplift["qini"].assign(half="evaluation") if r.uplift else None),
                "targeting": _stack(self.readouts, lambda r: r.targeting),
                "adoption_trials": _stack(self.readouts, lambda r: r.trials.trials if r.trials else None)}

    def summary(self) -> dict[str, Any]:
        return {"experiments": [record(r) for r in self.readouts],
                "experiments_in_data": self.windows["experiment_id"].tolist() if len(self.windows) else []}


SUMMARY_COLUMNS = ("arm", "control_arm", "outcome", "outcome_label", "unit", "estimator", "primary", "comparisons",
                   "estimate", "low", "high", "p_value", "p_holm", "mde", "power_at_observed", "variance_reduction",
                   "n_treated", "n_control", "mean_treated", "mean_control")


def summary_table(readouts: Sequence[Readout], verdicts: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """experiment_summary.csv: every estimate of every comparison of every experiment with its
    interval and verdict, then the outcomes that cannot be measured (no estimate; the verdict says
    why), the churn hazard ratio and RMST difference of each comparison, and the non-randomised
    studies' naive and difference-in-differences rows."""
    rows = []
    for r in readouts:
        base = {"experiment_id": r.experiment_id, "design": "randomised" if r.settings.randomized else "observational",
                "status": r.status, "as_of": r.as_of.date()}
        said = list(verdicts[r.experiment_id])
        for (_, e), verdict in zip(r.effects.iterrows(), said[: len(r.effects)], strict=True):
            rows.append({**base, **{k: e[k] for k in SUMMARY_COLUMNS if k in e}, "verdict": verdict})
        for (_, u), verdict in zip(r.unmeasured.iterrows(), said[len(r.effects):], strict=True):
            rows.append({**base, "arm": u["arm"] if isinstance(u["arm"], str) else "every arm",
                         "control_arm": r.settings.control_arm, "outcome": u["outcome"],
                         "outcome_label": u["outcome_label"], "estimator": "cannot be measured", "primary": False,
                         "verdict": verdict})
        if r.survival:
            sv, h = r.survival, r.settings.horizon_days
            for c in sv["contrasts"]:
                arm = {"arm": c["arm"], "control_arm": sv["control"], "primary": False}
                if np.isfinite(c["hazard_ratio"]):
                    rows.append({**base, **arm, "outcome": "churn hazard ratio", "estimator": "Cox proportional hazards",
                                 "estimate": c["hazard_ratio"], "low": c["hazard_ratio_low"],
                                 "high": c["hazard_ratio_high"], "p_value": c["hazard_ratio_p"]})
                rm = c["rmst_difference"]
                rows.append({**base, **arm, "outcome": f"paying days within {h} days",
                             "estimator": "RMST difference (Kaplan-Meier)", "estimate": rm.estimate, "low": rm.low,
                             "high": rm.high, "p_value": rm.p_value})
        if r.observational is not None:
            for _, o in r.observational.iterrows():
                if o["estimator"].startswith("difference-in-differences") or o["estimator"].startswith("naive: users"):
                    rows.append({**base, "arm": r.comparisons[0] if r.comparisons else None,
                                 "control_arm": r.settings.control_arm, "outcome": o["outcome"],
                                 "estimator": o["estimator"], "primary": False,
                                 "estimate": o["estimate"], "low": o["low"], "high": o["high"],
                                 "relative": o["relative"], "relative_low": o["relative_low"],
                                 "relative_high": o["relative_high"]})
    columns = ["experiment_id", "design", "status", "as_of", *SUMMARY_COLUMNS, "verdict", "relative", "relative_low",
               "relative_high"]
    out = pd.DataFrame(rows, columns=columns)
    for col in ("n_treated", "n_control", "comparisons"):
        if col in out:
            out[col] = out[col].astype("Int64")
    return out


def arm_table(readouts: Sequence[Readout]) -> pd.DataFrame:
    """arm_outcomes.csv: each arm's own value of each outcome read, with its interval."""
    return _stack(readouts, lambda r: r.arm_outcomes)


def _stack(readouts: Sequence[Readout], get: Callable[[Readout], pd.DataFrame | None]) -> pd.DataFrame:
    tables = [(r.experiment_id, get(r)) for r in readouts]
    parts = [table.assign(experiment_id=eid) for eid, table in tables if table is not None and len(table)]
    if not parts:
        return pd.DataFrame(columns=["experiment_id"])
    out = pd.concat(parts, ignore_index=True)
    return out[["experiment_id", *[c for c in out.columns if c != "experiment_id"]]]


def record(r: Readout) -> dict:
    """The numbers of one readout for summary.json (tests and the index page read them)."""
    out: dict[str, Any] = {"experiment_id": r.experiment_id, "randomized": r.settings.randomized, "status": r.status,
                           "accounts": int(len(r.frame)), "control_arm": r.settings.control_arm,
                           "treatment_arms": list(r.arms), "notes": list(r.notes)}
    if r.srm:
        out["srm"] = {k: r.srm[k] for k in ("chi2", "p_value", "flagged")}
    for _, e in r.effects.iterrows():
        out.setdefault("effects", []).append({k: e[k] for k in ("arm", "outcome", "estimator", "primary", "estimate",
                                                                "low", "high", "p_value", "p_holm", "mde")})
    if len(r.unmeasured):
        out["cannot_be_measured"] = [{"outcome": u["outcome"], "arm": u["arm"] if isinstance(u["arm"], str) else None,
                                      "reason": u["reason"]} for _, u in r.unmeasured.iterrows()]
    if r.survival:
        for c in r.survival["contrasts"]:
            rm = c["rmst_difference"]
            out.setdefault("survival", []).append({
                "arm": c["arm"], "hazard_ratio": [c["hazard_ratio"], c["hazard_ratio_low"], c["hazard_ratio_high"]],
                "rmst_difference_days": [rm.estimate, rm.low, rm.high]})
    if r.observational is not None:
        out["observational"] = [_observational_record(row)
                                for row in r.observational.drop(columns="assumption").to_dict(orient="records")]
    if r.pretrend:
        out["pretrend_p"] = r.pretrend["p_value"]
    if r.trials:
        te = r.trials
        out["sequential_trials"] = {
            "horizon_days": te.horizon_days, "adopters": te.adopters, "control_accounts": te.control_accounts,
            "control_rows": te.control_rows, "retention_adopters": te.effect.mean_treated,
            "retention_not_yet_adopters": te.effect.mean_control, "churn_risk_ratio": te.risk_ratio,
            "churn_risk_ratio_interval": [te.risk_ratio_low, te.risk_ratio_high], "e_value": te.e_value,
            "e_value_interval": te.e_value_interval, "bootstrap_replicates": te.bootstrap}
    if r.uplift:
        out["uplift_model"] = r.uplift["chosen"]
        out["qini_evaluation"] = r.uplift["qini_interval"]
    return out


RELATIVE = ("relative", "relative_low", "relative_high")
NO_RELATIVE = ("a change in a share (retention) is stated in percentage points; a relative change is not "
               "reported for it")


def _observational_record(row: dict[str, Any]) -> dict[str, Any]:
    """One observational estimate for summary.json: a relative change only where one is defined, and
    otherwise the reason in words (never NaN)."""
    if all(pd.notna(row.get(k)) for k in RELATIVE):
        return row
    return {**{k: v for k, v in row.items() if k not in RELATIVE}, "relative_not_reported": NO_RELATIVE}
