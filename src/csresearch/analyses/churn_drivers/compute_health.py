"""Does the health score work? Its discrimination (AUC), churn by band, how early churners turned
red, and the weights a regression on realised churn would give each component."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...core.health import BANDS, HealthConfig
from ...core.stats import _auc, metric_interval, wilson_interval
from .compute_cohorts import independent_rows


@dataclass
class HealthValidation:
    """``auc`` (value, low, high) of 100 - score; ``bands`` (churn rate per band with Wilson
    intervals); ``lead`` (:func:`red_lead_times`); ``weights`` (:func:`suggested_weights`); the share
    of churns red at their last check and the median days red; ``table``: all of it in one long
    table (``health_score_validation.csv``)."""

    auc: tuple[float, float, float]
    bands: pd.DataFrame
    lead: pd.DataFrame
    weights: pd.DataFrame
    red_share: float
    median_days_red: float
    table: pd.DataFrame


def red_lead_times(frame: pd.DataFrame, scores: pd.DataFrame) -> pd.DataFrame:
    """For each churn seen in the observations: how many days before the churn date the account turned
    red and stayed red (the start of the red streak that ran up to its last observation before
    churning). ``days_red_before_churn`` is NaN when it was not red at that last observation."""
    s = scores[["account_id", "observation_date", "health_band"]].merge(
        frame[["account_id", "observation_date", "churn_date"]], on=["account_id", "observation_date"])
    s = s[s["churn_date"].notna() & (s["observation_date"] <= s["churn_date"])]
    s = s.sort_values(["account_id", "churn_date", "observation_date"]).reset_index(drop=True)
    columns = ["account_id", "churn_date", "last_band", "days_red_before_churn"]
    if s.empty:
        return pd.DataFrame(columns=columns)
    # per (account, churn): the red streak that reaches the last row starts after the last non-red row
    group = s.groupby(["account_id", "churn_date"], sort=False).ngroup().to_numpy()
    position = np.arange(len(s))
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    ends = np.r_[starts[1:], len(s)] - 1
    red = (s["health_band"] == "red").to_numpy()
    last_not_red = pd.Series(np.where(red, -1, position)).groupby(group).max().to_numpy()
    streak_start = np.maximum(last_not_red + 1, starts)
    is_red = red[ends]
    first_red = s["observation_date"].to_numpy()[np.minimum(streak_start, ends)]
    churn_date = s["churn_date"].to_numpy()[ends]
    days = ((churn_date - first_red) / np.timedelta64(1, "D")).astype(float)
    days = np.floor(days)  # whole days, as Timedelta.days
    out = pd.DataFrame({"account_id": s["account_id"].to_numpy()[ends], "churn_date": s["churn_date"].iloc[ends].to_numpy(),
                        "last_band": s["health_band"].to_numpy()[ends],
                        "days_red_before_churn": np.where(is_red, days, np.nan)}, columns=columns)
    if is_red.all():
        out["days_red_before_churn"] = out["days_red_before_churn"].astype(np.int64)
    return out


def suggested_weights(frame: pd.DataFrame, scores: pd.DataFrame, config: HealthConfig,
                      target: str = "churned") -> pd.DataFrame:
    """The weights the data suggest beside the configured ones: a logistic regression (statsmodels) of
    churn on the component scores (per 10 points) over :func:`independent_rows`. A component whose
    higher score goes with *less* churn earns weight in proportion to that effect; one with no or the
    wrong effect earns 0. Intervals scale the coefficient's 95% interval the same way."""
    import statsmodels.api as sm

    rows = independent_rows(frame, target)
    data = rows[["account_id", "observation_date", target]].merge(scores, on=["account_id", "observation_date"])
    comps = [c for c in config.components if f"score_{c.name}" in data]
    X = sm.add_constant(data[[f"score_{c.name}" for c in comps]] / 10.0)
    y = data[target].astype(float)
    try:
        fit = sm.Logit(y, X).fit(disp=0, maxiter=200)
        coef, ci = fit.params, fit.conf_int()
    except Exception:  # noqa: BLE001 - separation or a constant column: report no suggestion
        coef = pd.Series(0.0, index=X.columns)
        ci = pd.DataFrame({0: 0.0, 1: 0.0}, index=X.columns)
    protective = (-coef).clip(lower=0).drop("const")
    total = protective.sum()
    scale = 100.0 / total if total > 0 else 0.0
    configured = config.weights * 100
    out = pd.DataFrame({
        "component": [c.name for c in comps],
        "metric": [c.metric for c in comps],
        "configured_weight": [configured[c.name] for c in comps],
        "suggested_weight": [protective[f"score_{c.name}"] * scale for c in comps],
        "suggested_low": [max(0.0, -ci.loc[f"score_{c.name}", 1]) * scale for c in comps],
        "suggested_high": [max(0.0, -ci.loc[f"score_{c.name}", 0]) * scale for c in comps],
        "log_odds_per_10_points": [coef[f"score_{c.name}"] for c in comps],
    })
    return out


def validate_health_score(frame: pd.DataFrame, scores: pd.DataFrame, config: HealthConfig,
                          target: str = "churned", n_resamples: int = 300,
                          bootstrap_max_rows: int | None = None) -> HealthValidation:
    """How well the health score separates accounts that churned from those that did not."""
    rows = independent_rows(frame, target)
    data = rows[["account_id", "observation_date", target]].merge(scores, on=["account_id", "observation_date"])
    y, risk = data[target].to_numpy(float), 100 - data["health_score"].to_numpy(float)
    auc = metric_interval(_auc, y, risk, n_resamples, max_rows=bootstrap_max_rows)
    bands = data.groupby("health_band")[target].agg(["size", "sum"]).reindex(list(BANDS)).fillna(0)
    low, high = wilson_interval(bands["sum"].clip(lower=0), bands["size"].clip(lower=1), alpha=0.05)
    bands = pd.DataFrame({"band": bands.index, "accounts": bands["size"].astype(int).to_numpy(),
                          "churned": bands["sum"].astype(int).to_numpy(),
                          "churn_rate": (bands["sum"] / bands["size"].where(bands["size"] > 0)).to_numpy(),
                          "ci_low": np.where(bands["size"] > 0, low, np.nan),
                          "ci_high": np.where(bands["size"] > 0, high, np.nan)})
    lead = red_lead_times(frame, scores)
    weights = suggested_weights(frame, scores, config, target)
    red_share = float(lead["days_red_before_churn"].notna().mean()) if len(lead) else np.nan
    median_days = float(lead["days_red_before_churn"].median()) if lead["days_red_before_churn"].notna().any() else np.nan
    table = [{"section": "discrimination", "item": "AUC of (100 - health score)", "value": auc[0],
              "ci_low": auc[1], "ci_high": auc[2], "n": len(data)}]
    for _, b in bands.iterrows():
        table.append({"section": "churn rate by band", "item": b["band"], "value": b["churn_rate"],
                      "ci_low": b["ci_low"], "ci_high": b["ci_high"], "n": b["accounts"]})
    table.append({"section": "early warning", "item": "share of churns red at the last observation before churn",
                  "value": red_share, "ci_low": np.nan, "ci_high": np.nan, "n": len(lead)})
    table.append({"section": "early warning", "item": "median days red before churn (those red)",
                  "value": median_days, "ci_low": np.nan, "ci_high": np.nan,
                  "n": int(lead["days_red_before_churn"].notna().sum())})
    for _, w in weights.iterrows():
        table.append({"section": "weights (configured -> suggested)", "item": w["component"],
                      "value": w["suggested_weight"], "ci_low": w["suggested_low"], "ci_high": w["suggested_high"],
                      "n": w["configured_weight"]})
    if red_share == red_share and len(lead):
        w_low, w_high = wilson_interval(int(lead["days_red_before_churn"].notna().sum()), len(lead), alpha=0.05)
        table[-len(weights) - 2].update(ci_low=float(w_low), ci_high=float(w_high))
    return HealthValidation(auc, bands, lead, weights, red_share, median_days, pd.DataFrame(table))
