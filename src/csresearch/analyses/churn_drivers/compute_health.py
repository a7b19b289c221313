"""Does the health score work? Its discrimination (AUC), churn by band, how early churners turned
red, and the weights a regression on realised churn would give each component."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...core.health import BANDS, HealthConfig, health_scores
from ...core.stats import _auc, metric_interval, wilson_interval
from ...errors import NotEnoughData
from ...text import plural
from .compute_backtest import MIN_EVENTS_FOR_INTERVAL
from .compute_cohorts import independent_rows

WEIGHT_COLUMNS = ("component", "metric", "configured_weight", "suggested_weight", "suggested_low", "suggested_high",
                  "log_odds_per_10_points")


@dataclass
class HealthValidation:
    """``auc`` (value, low, high) of 100 - score (no interval below :data:`MIN_EVENTS_FOR_INTERVAL`
    churners); ``bands`` (churn rate per band with Wilson intervals); ``lead`` (:func:`red_lead_times`);
    ``weights`` (:func:`suggested_weights`, empty with ``weights_reason`` when they cannot be
    estimated); the share of churns red at their last check and the median days red; ``table``: all of
    it in one long table (``health_score_validation.csv``)."""

    auc: tuple[float, float, float]
    bands: pd.DataFrame
    lead: pd.DataFrame
    weights: pd.DataFrame
    red_share: float
    median_days_red: float
    table: pd.DataFrame
    weights_reason: str | None = None   # why no weights are suggested (None: they are)
    churns: int = 0                     # churned observations behind the AUC
    rows: int = 0                       # observations behind the AUC
    stayers_red_share: float = float("nan")  # share of those that did not churn that were red (false alarms)
    suggested_auc: float = float("nan")      # the AUC on the same rows with the suggested weights (in-sample)


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
    wrong effect earns 0. Intervals scale the coefficient's 95% interval the same way.

    A component whose score does not vary over these rows cannot be weighed: it is left out of the
    regression and its suggestion is missing (``result.attrs["constant"]`` names it). Raises
    :class:`NotEnoughData` when the regression cannot be estimated (too few churns, or a singular or
    perfectly separated design)."""
    import warnings

    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationError

    rows = independent_rows(frame, target)
    data = rows[["account_id", "observation_date", target]].merge(scores, on=["account_id", "observation_date"])
    comps = [c for c in config.components if f"score_{c.name}" in data]
    varying = [c for c in comps if data[f"score_{c.name}"].nunique() > 1]
    y = data[target].astype(float)
    if not varying or y.nunique() < 2:
        raise NotEnoughData("the component scores or the outcomes do not vary over the checked observations")
    X = sm.add_constant(data[[f"score_{c.name}" for c in varying]] / 10.0, has_constant="add")
    try:
        with warnings.catch_warnings():  # non-convergence is checked below and said in words
            warnings.simplefilter("ignore", ConvergenceWarning)
            fit = sm.Logit(y, X).fit(disp=0, maxiter=200)
    except (np.linalg.LinAlgError, PerfectSeparationError) as exc:
        raise NotEnoughData(f"the regression behind the suggested weights cannot be estimated ({exc})") from None
    coef, ci = fit.params, fit.conf_int()
    if not fit.mle_retvals.get("converged", True) or not np.isfinite(coef.to_numpy()).all():
        raise NotEnoughData(f"the regression behind the suggested weights does not converge on "
                            f"{plural(int(y.sum()), 'churn')} among {plural(len(y), 'observation')}")
    protective = (-coef).clip(lower=0).drop("const")
    total = protective.sum()
    scale = 100.0 / total if total > 0 else 0.0
    configured = config.weights * 100

    def get(series, c, default=np.nan):
        return series.get(f"score_{c.name}", default)

    out = pd.DataFrame({
        "component": [c.name for c in comps],
        "metric": [c.metric for c in comps],
        "configured_weight": [configured[c.name] for c in comps],
        "suggested_weight": [get(protective, c) * scale for c in comps],
        "suggested_low": [max(0.0, -get(ci[1], c)) * scale if f"score_{c.name}" in ci.index else np.nan
                          for c in comps],
        "suggested_high": [max(0.0, -get(ci[0], c)) * scale if f"score_{c.name}" in ci.index else np.nan
                           for c in comps],
        "log_odds_per_10_points": [get(coef, c) for c in comps],
    })
    out.attrs["constant"] = [c.name for c in comps if c not in varying]
    return out


def suggested_config(config: HealthConfig, weights: pd.DataFrame) -> HealthConfig | None:
    """``config`` with each component's weight replaced by its suggested weight (whole percent); a
    component whose suggestion rounds to 0 (its score does not go with less churn) or is missing (its
    score did not vary) is dropped. None when no component keeps a weight."""
    from dataclasses import replace

    suggested = weights.set_index("component")["suggested_weight"] if len(weights) else pd.Series(dtype=float)
    kept = []
    for c in config.components:
        w = suggested.get(c.name, np.nan)
        if w == w and round(float(w)) > 0:
            kept.append(replace(c, weight=float(round(float(w)))))
    return replace(config, components=tuple(kept)) if kept else None


def validate_health_score(frame: pd.DataFrame, scores: pd.DataFrame, config: HealthConfig,
                          target: str = "churned", n_resamples: int = 300,
                          bootstrap_max_rows: int | None = None) -> HealthValidation:
    """How well the health score separates accounts that churned from those that did not, on the
    labelled observations spaced one window apart (:func:`independent_rows`). Raises
    :class:`NotEnoughData` when those hold no churn, or nothing but churn."""
    rows = independent_rows(frame, target)
    data = rows[["account_id", "observation_date", target]].merge(scores, on=["account_id", "observation_date"])
    y, risk = data[target].to_numpy(float), 100 - data["health_score"].to_numpy(float)
    churns = int(y.sum())
    horizon = int(frame.attrs.get("horizon_days", 90))
    if not len(y):
        raise NotEnoughData(f"no observation's {horizon}-day churn window has closed yet: the score cannot be "
                            "checked against churn")
    if churns == 0 or churns == len(y):
        raise NotEnoughData(f"{'no' if churns == 0 else 'every'} account churned within {horizon} days of the "
                            f"{plural(len(y), 'observation')} the score can be checked on")
    if min(churns, len(y) - churns) >= MIN_EVENTS_FOR_INTERVAL:
        auc = metric_interval(_auc, y, risk, n_resamples, max_rows=bootstrap_max_rows)
    else:
        auc = (_auc(y, risk), np.nan, np.nan)
    bands = data.groupby("health_band")[target].agg(["size", "sum"]).reindex(list(BANDS)).fillna(0)
    low, high = wilson_interval(bands["sum"].clip(lower=0), bands["size"].clip(lower=1), alpha=0.05)
    bands = pd.DataFrame({"band": bands.index, "accounts": bands["size"].astype(int).to_numpy(),
                          "churned": bands["sum"].astype(int).to_numpy(),
                          "churn_rate": (bands["sum"] / bands["size"].where(bands["size"] > 0)).to_numpy(),
                          "ci_low": np.where(bands["size"] > 0, low, np.nan),
                          "ci_high": np.where(bands["size"] > 0, high, np.nan)})
    lead = red_lead_times(frame, scores)
    try:
        weights = suggested_weights(frame, scores, config, target)
        weights_reason = None
    except NotEnoughData as exc:
        weights, weights_reason = pd.DataFrame(columns=WEIGHT_COLUMNS), str(exc)
    red_share = float(lead["days_red_before_churn"].notna().mean()) if len(lead) else np.nan
    median_days = float(lead["days_red_before_churn"].median()) if lead["days_red_before_churn"].notna().any() else np.nan
    table = [{"section": "discrimination", "item": "AUC of (100 - health score)", "value": auc[0],
              "ci_low": auc[1], "ci_high": auc[2], "n": len(data)}]
    for _, b in bands.iterrows():
        table.append({"section": "churn rate by band", "item": b["band"], "value": b["churn_rate"],
                      "ci_low": b["ci_low"], "ci_high": b["ci_high"], "n": b["accounts"]})
    red_low, red_high = (wilson_interval(int(lead["days_red_before_churn"].notna().sum()), len(lead), alpha=0.05)
                         if len(lead) else (np.nan, np.nan))
    table.append({"section": "early warning", "item": "share of churns red at the last observation before churn",
                  "value": red_share, "ci_low": red_low, "ci_high": red_high, "n": len(lead)})
    table.append({"section": "early warning", "item": "median days red before churn (those red)",
                  "value": median_days, "ci_low": np.nan, "ci_high": np.nan,
                  "n": int(lead["days_red_before_churn"].notna().sum())})
    stayed = y == 0  # the comparator: how often the score is red for accounts that did not churn
    stayers_red = float((data["health_band"].to_numpy()[stayed] == "red").mean())
    s_low, s_high = wilson_interval(int((data["health_band"].to_numpy()[stayed] == "red").sum()), int(stayed.sum()),
                                    alpha=0.05)
    table.append({"section": "early warning", "item": "share of observations that did not churn that were red",
                  "value": stayers_red, "ci_low": s_low, "ci_high": s_high, "n": int(stayed.sum())})
    for _, w in weights.iterrows():
        table.append({"section": "weights (configured -> suggested)", "item": w["component"],
                      "value": w["suggested_weight"], "ci_low": w["suggested_low"], "ci_high": w["suggested_high"],
                      "n": w["configured_weight"]})
    suggested_auc = np.nan
    new = suggested_config(config, weights) if weights_reason is None else None
    if new is not None:
        keys = ["account_id", "observation_date"]
        rescored = health_scores(rows, new).merge(data[[*keys, target]], on=keys)
        suggested_auc = _auc(rescored[target].to_numpy(float), 100 - rescored["health_score"].to_numpy(float))
    return HealthValidation(auc, bands, lead, weights, red_share, median_days, pd.DataFrame(table), weights_reason,
                            churns, len(y), stayers_red, suggested_auc)


def health_list(ds, as_of: pd.Timestamp, frame: pd.DataFrame, config: HealthConfig,
                display_names: pd.Series | None = None) -> pd.DataFrame:
    """The list when no churn model can be fitted: every account paying at ``as_of``, scored by the
    health score alone, lowest score first (then largest ARR). The model's columns (probability, ARR
    at risk, reasons, suggested touch tier) are absent, not guessed. Raises :class:`NotEnoughData`
    when no account is paying then or none of the score's metrics is in the data."""
    from ...core.health import scores_or_none
    from ...core.risk import _account_names

    now = frame[frame["observation_date"] == as_of]
    if now.empty:
        raise NotEnoughData(f"no account paying at {pd.Timestamp(as_of).date()}: there is no one to list")
    scores = scores_or_none(now, config)
    if scores is None:
        raise NotEnoughData("none of the health score's metrics is in the data")
    scores = scores.set_index(now.index)
    out = pd.DataFrame({
        "account_id": now["account_id"],
        "account_name": _account_names(ds, now["account_id"], display_names),
        "segment": now.get("segment", pd.Series("unknown", index=now.index)),
        "observation_date": now["observation_date"], "mrr": now["mrr"], "arr": now["mrr"] * 12,
        "health_score": scores["health_score"], "health_band": scores["health_band"],
        "health_triggers": scores["triggered"].replace("", "none"),
        "touch_tier": now.get("touch_tier", pd.Series("unknown", index=now.index)),
        "playbook": scores["playbook"],
        "playbook_source": np.where(scores["triggered"] != "", "health score", "none (healthy)"),
    })
    out = out.sort_values(["health_score", "arr", "account_id"], ascending=[True, False, True]).reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out
