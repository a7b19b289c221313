"""The experiments report's result: the month's experiments and one readout per experiment read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

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
                "effects_by_segment": _stack(self.readouts, lambda r: r.segments),
                "qini": _stack(self.readouts, lambda r: r.uplift["qini"].assign(half="evaluation") if r.uplift else None),
                "targeting": _stack(self.readouts, lambda r: r.targeting)}

    def summary(self) -> dict[str, Any]:
        return {"experiments": [record(r) for r in self.readouts],
                "experiments_in_data": self.windows["experiment_id"].tolist() if len(self.windows) else []}


def summary_table(readouts: Sequence[Readout], verdicts: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """experiment_summary.csv: every estimate of every experiment with its interval and verdict."""
    rows = []
    for r in readouts:
        base = {"experiment_id": r.experiment_id, "design": "randomised" if r.settings.randomized else "observational",
                "status": r.status, "as_of": r.as_of.date()}
        for (_, e), verdict in zip(r.effects.iterrows(), verdicts[r.experiment_id], strict=True):
            rows.append({**base, **{k: e[k] for k in ("outcome", "estimator", "primary", "estimate", "low", "high",
                                                      "p_value", "p_holm", "mde", "power_at_observed",
                                                      "variance_reduction", "n_treated", "n_control") if k in e},
                         "verdict": verdict})
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
