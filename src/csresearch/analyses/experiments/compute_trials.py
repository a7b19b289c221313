"""Not randomised, retention: the effect of adopting a feature, with adoption as a time-varying exposure.

Comparing adopters with accounts that "never adopted in the window" defines the control group by the
future: an account that would have adopted in month 7 but churned in month 5 becomes a certain-to-churn
control (immortal time). This module emulates a sequence of trials instead (Hernán & Robins 2016;
Danaei et al. 2013), one per calendar month of the adoption window:

- **treated** of month m: the accounts that adopted in m, from their adoption date;
- **controls** of month m: every account of the study paying on an index date drawn from month m's
  adoption dates that had not adopted by then (a later adopter is a control until it adopts, and is
  censored on its adoption date);
- covariates (MRR, seats, tenure, usage, active users, tickets, account attributes) measured on each
  row's own index date, so nothing after it enters the model;
- controls weighted by the odds of adopting in that month given those covariates (pooled logistic
  propensity with a term per trial month, normalised within each trial: the effect on the adopters),
  times the inverse probability of not having adopted yet during follow-up (a pooled logistic
  hazard of adopting per 30 days of follow-up, given the same covariates and the calendar month);
- retention at the horizon from a weighted life table per arm (30-day intervals, weights updated
  each interval); the difference with a 95% interval from a cluster (account) Poisson bootstrap that
  holds the fitted weights fixed.

The sensitivity statement is the E-value of the churn risk ratio (VanderWeele & Ding 2017): how
strongly an unmeasured confounder would need to be associated with both adoption and churn to
explain the estimate away. The direction of any remaining confounding is not known.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from ...core.revenue import paying_spells
from .compute_effects import Effect

STEP_DAYS = 30
CATEGORICAL = ("segment", "touch_tier", "region", "industry", "acquisition_channel")
NUMERIC = ("tenure_days", "mrr_at_index", "seats_at_index", "usage_pre", "users_pre", "tickets_pre", "nps_before",
           "nps_answers")
MAX_CENSORING_WEIGHT = 20.0  # a control's inverse probability of staying un-adopted is capped here
_NAMES = itertools.count()


@dataclass
class TrialEstimate:
    """The sequential-trial estimate of the effect of adopting on retention at ``horizon_days``."""

    effect: Effect                       # retention difference (adopters minus not-yet-adopters), points as 0-1
    horizon_days: int
    risk_ratio: float                    # churn within the horizon, adopters / not-yet-adopters (weighted)
    risk_ratio_low: float
    risk_ratio_high: float
    e_value: float                       # of the point estimate
    e_value_interval: float              # of the interval limit nearest no effect (1: the interval includes it)
    trials: pd.DataFrame                 # one row per trial month: adopters, controls, later adopters censored
    balance: pd.DataFrame                # standardised differences after weighting (pooled over trials)
    curves: pd.DataFrame                 # weighted retention per arm at each interval end
    segments: pd.DataFrame = field(default_factory=pd.DataFrame)
    adopters: int = 0                    # accounts adopting in a trial month
    control_accounts: int = 0            # distinct accounts serving as a control in some month
    control_rows: int = 0                # (account, month) control rows
    bootstrap: int = 0


def e_value(risk_ratio: float) -> float:
    """VanderWeele & Ding's E-value of a risk ratio: RR + sqrt(RR (RR - 1)) on the side away from 1."""
    if not np.isfinite(risk_ratio) or risk_ratio <= 0:
        return float("nan")
    rr = risk_ratio if risk_ratio >= 1 else 1 / risk_ratio
    return float(rr + math.sqrt(rr * (rr - 1)))


def e_value_of_interval(low: float, high: float) -> float:
    """E-value of the interval limit nearest 1 (1 when the interval includes 1)."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return float("nan")
    if low <= 1 <= high:
        return 1.0
    return e_value(low if low > 1 else high)


# ==================================================================================================
# The trials: who is compared with whom, from when
# ==================================================================================================
def trial_rows(asg: pd.DataFrame, spells: pd.DataFrame, as_of: pd.Timestamp, seed: int = 0) -> pd.DataFrame:
    """One row per (trial month, account) compared: ``treated`` 1 for the month's adopters (index = the
    adoption date), 0 for accounts paying on their index date that had not adopted by it (index drawn
    from the month's adoption dates, so both arms start at the same kind of date).

    ``asg``: account_id, ``adopted_at`` (NaT: never adopted in the data). ``spells``: paying spells
    (``core.revenue.paying_spells``). Columns out: trial (the month), account_id, index_date, treated,
    adopted_at, spell_end, churned.
    """
    as_of = pd.Timestamp(as_of).normalize()
    adopted = asg.dropna(subset=["adopted_at"])
    adopted = adopted[adopted["adopted_at"] <= as_of]
    if adopted.empty:
        return pd.DataFrame(columns=["trial", "account_id", "index_date", "treated", "adopted_at", "spell_end",
                                     "churned"])
    rng = np.random.default_rng(seed)
    months = pd.period_range(adopted["adopted_at"].min().to_period("M"), adopted["adopted_at"].max().to_period("M"))
    parts = []
    for m in months:
        start = m.start_time.normalize()
        dates = adopted.loc[adopted["adopted_at"].dt.to_period("M") == m, "adopted_at"]
        if dates.empty:
            continue
        treated = adopted[adopted["adopted_at"].dt.to_period("M") == m]
        parts.append(pd.DataFrame({"trial": str(m), "account_id": treated["account_id"].to_numpy(),
                                   "index_date": treated["adopted_at"].to_numpy(), "treated": 1,
                                   "adopted_at": treated["adopted_at"].to_numpy()}))
        pool = asg[asg["adopted_at"].isna() | (asg["adopted_at"] >= start)]
        drawn = pd.to_datetime(rng.choice(dates.to_numpy(), size=len(pool)))
        later = pool["adopted_at"].isna().to_numpy() | (pool["adopted_at"].to_numpy() > drawn.to_numpy())
        parts.append(pd.DataFrame({"trial": str(m), "account_id": pool["account_id"].to_numpy()[later],
                                   "index_date": drawn[later], "treated": 0,
                                   "adopted_at": pool["adopted_at"].to_numpy()[later]}))
    rows = pd.concat(parts, ignore_index=True)
    rows["index_date"] = pd.to_datetime(rows["index_date"])
    rows["adopted_at"] = pd.to_datetime(rows["adopted_at"])
    # paying on the index date: the spell that covers it gives the churn date
    cover = rows.reset_index().merge(spells[["account_id", "start_date", "end_date", "churned"]], on="account_id")
    cover = cover[(cover["start_date"] <= cover["index_date"])
                  & (cover["end_date"].isna() | (cover["end_date"] > cover["index_date"]))]
    cover = cover.drop_duplicates("index", keep="last").set_index("index")
    rows = rows.loc[rows.index.isin(cover.index)].copy()
    rows["spell_end"] = pd.to_datetime(cover.loc[rows.index, "end_date"])
    rows["churned"] = cover.loc[rows.index, "churned"].astype(bool).to_numpy()
    return rows.reset_index(drop=True)


def follow_up(rows: pd.DataFrame, as_of: pd.Timestamp, horizon_days: int) -> pd.DataFrame:
    """Days followed and whether the row churned within them: follow-up ends at churn, the report date,
    the horizon or (a control) its own adoption date, whichever comes first."""
    as_of = pd.Timestamp(as_of).normalize()
    out = rows.copy()
    idx = out["index_date"]
    churn_day = ((out["spell_end"] - idx).dt.days).where(out["churned"])
    admin = (as_of - idx).dt.days.clip(lower=0).astype(float)
    adopt_day = ((out["adopted_at"] - idx).dt.days).where(out["treated"] == 0)
    stop = np.fmin(np.fmin(admin, float(horizon_days)), adopt_day.to_numpy(dtype=float))
    churn = churn_day.to_numpy(dtype=float)
    event = ~np.isnan(churn) & (churn <= stop)
    out["duration_days"] = np.where(event, churn, stop)
    out["event"] = event.astype(int)
    out["censored_by_adoption"] = (~event & (adopt_day.to_numpy(dtype=float) <= np.fmin(admin, horizon_days))).astype(int)
    return out


def covariates_at_index(ds, rows: pd.DataFrame, pre_days: int = 90) -> pd.DataFrame:
    """MRR, seats, tenure, usage and active users in the ``pre_days`` before, tickets before, on each
    row's own index date (aggregated in the engine), plus the account attributes."""
    keyed = rows[["account_id", "index_date"]].reset_index(names="row")
    name = f"_trial_rows_{next(_NAMES)}"
    ds.con.register(name, keyed)
    pre = int(pre_days)
    try:
        subs_cols = set(ds.table("subscriptions").columns)
        seats = ("max(s.seats) FILTER (WHERE s.start_date <= r.index_date AND (s.end_date IS NULL "
                 "OR s.end_date > r.index_date))" if "seats" in subs_cols else "CAST(NULL AS DOUBLE)")
        money = ds.sql(
            f"""
            SELECT r.row,
                   coalesce(sum(s.mrr) FILTER (WHERE s.start_date <= r.index_date
                        AND (s.end_date IS NULL OR s.end_date > r.index_date)), 0) AS mrr_at_index,
                   {seats} AS seats_at_index,
                   min(s.start_date) AS first_paid
            FROM {name} r LEFT JOIN subscriptions s ON s.account_id = r.account_id AND s.mrr > 0
            GROUP BY r.row
            """)
        if ds.has("usage_events"):
            usage = ds.sql(
                f"""
                SELECT r.row, count(*) AS events_pre, count(DISTINCT e.user_id) AS users_pre
                FROM {name} r JOIN usage_events e ON e.account_id = r.account_id
                 AND e.event_time >= r.index_date - INTERVAL {pre} DAY AND e.event_time < r.index_date
                GROUP BY r.row
                """)
        else:
            usage = pd.DataFrame(columns=["row", "events_pre", "users_pre"])
        if ds.has("support_tickets"):
            tickets = ds.sql(
                f"""
                SELECT r.row, count(*) AS tickets_pre
                FROM {name} r JOIN support_tickets t ON t.account_id = r.account_id
                 AND t.created_at >= r.index_date - INTERVAL {pre} DAY AND t.created_at < r.index_date
                GROUP BY r.row
                """)
        else:
            tickets = pd.DataFrame(columns=["row", "tickets_pre"])
        if ds.has("surveys"):
            # every NPS answer before the index date: the closest the data comes to engagement itself
            nps = ds.sql(
                f"""
                SELECT r.row, avg(v.score) AS nps_before, count(*) AS nps_answers
                FROM {name} r JOIN surveys v ON v.account_id = r.account_id AND v.survey_type = 'nps'
                 AND v.answered_at < r.index_date
                GROUP BY r.row
                """)
        else:
            nps = pd.DataFrame(columns=["row", "nps_before", "nps_answers"])
    finally:
        ds.con.unregister(name)
    accounts = ds.table("accounts")
    cats = [c for c in CATEGORICAL if c in accounts]
    out = (keyed.merge(money, on="row", how="left").merge(usage, on="row", how="left")
                .merge(tickets, on="row", how="left").merge(nps, on="row", how="left")
                .merge(accounts[["account_id", "created_at", *cats]], on="account_id", how="left"))
    out = out.sort_values("row").set_index("row")
    first_paid = pd.to_datetime(out["first_paid"]).fillna(pd.to_datetime(out["created_at"]))
    tenure = (out["index_date"] - first_paid).dt.days.clip(lower=0)
    window = np.minimum(pre, tenure.fillna(pre)).clip(lower=1)
    cov = pd.DataFrame(index=out.index)
    cov["tenure_days"] = tenure
    cov["mrr_at_index"] = out["mrr_at_index"].astype(float)
    cov["seats_at_index"] = pd.to_numeric(out["seats_at_index"], errors="coerce")
    if ds.has("usage_events"):
        cov["usage_pre"] = out["events_pre"].astype(float).fillna(0) / window * 30
        cov["users_pre"] = out["users_pre"].astype(float).fillna(0)
    if ds.has("support_tickets"):
        cov["tickets_pre"] = out["tickets_pre"].astype(float).fillna(0)
    if ds.has("surveys"):
        cov["nps_before"] = pd.to_numeric(out["nps_before"], errors="coerce")  # missing: filled with the median
        cov["nps_answers"] = out["nps_answers"].astype(float).fillna(0)
    for c in cats:
        cov[c] = out[c]
    return cov.reset_index(drop=True)


def design_matrix(cov: pd.DataFrame) -> pd.DataFrame:
    """Numeric covariates on a log1p scale (heavy-tailed), categoricals one-hot, missing filled."""
    numeric = [c for c in NUMERIC if c in cov and cov[c].notna().any()]
    parts = [np.log1p(cov[numeric].astype(float).clip(lower=0))]
    cats = [c for c in CATEGORICAL if c in cov]
    if cats:
        parts.append(pd.get_dummies(cov[cats].fillna("unknown").astype(str), prefix=cats, dtype=float))
    x = pd.concat(parts, axis=1)
    return x.fillna(x.median(numeric_only=True)).fillna(0.0)


# ==================================================================================================
# Weights
# ==================================================================================================
def _logistic(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if len(np.unique(y)) < 2:
        return np.full(len(y), float(np.mean(y)))
    # nearly unpenalised: a penalty shrinks the odds of adopting towards the average, and weights
    # built from shrunken odds under-correct the selection they exist to remove
    model = make_pipeline(StandardScaler(), LogisticRegression(C=100.0, max_iter=5000))
    return model.fit(x, y).predict_proba(x)[:, 1]


def adoption_weights(x: pd.DataFrame, rows: pd.DataFrame) -> np.ndarray:
    """Effect-on-the-adopters weights: 1 for an adopter; for a control the odds of adopting in its
    trial month given its covariates, normalised so each trial's controls weigh as much as its adopters."""
    trial = pd.get_dummies(rows["trial"], prefix="trial", dtype=float)
    design = np.column_stack([x.to_numpy(dtype=float), trial.to_numpy()])
    t = rows["treated"].to_numpy()
    e = np.clip(_logistic(design, t), 1e-6, 0.99)
    w = np.where(t == 1, 1.0, e / (1 - e))
    for _, idx in rows.groupby("trial").indices.items():
        c = idx[t[idx] == 0]
        n1 = (t[idx] == 1).sum()
        if len(c) and w[c].sum() > 0:
            w[c] *= n1 / w[c].sum()
    return w


def censoring_weights(x: pd.DataFrame, rows: pd.DataFrame, steps: int, last_adoption: pd.Timestamp) -> np.ndarray:
    """Per row and 30-day step of follow-up, 1 / P(a control has not adopted by the step's start)
    (capped at ``MAX_CENSORING_WEIGHT``): controls who adopt later are censored, and the ones left
    stand in for them. Adopters weigh 1. The hazard of adopting in a step is a pooled logistic on the
    row's covariates, the calendar month and the step; no step after the last adoption date carries a hazard."""
    n = len(rows)
    weights = np.ones((n, steps))
    control = np.flatnonzero(rows["treated"].to_numpy() == 0)
    if not len(control):
        return weights
    dur = rows["duration_days"].to_numpy(dtype=float)
    adopt_day = (rows["adopted_at"] - rows["index_date"]).dt.days.to_numpy(dtype=float)
    idx_date = rows["index_date"].to_numpy()
    rr, kk, yy = [], [], []
    for k in range(steps):
        start_day = k * STEP_DAYS
        step_start = idx_date[control] + np.timedelta64(start_day, "D")
        risk = (dur[control] > start_day) & (step_start <= np.datetime64(last_adoption))
        # a row censored by its adoption has duration = adoption day: it is at risk in that step
        risk |= (adopt_day[control] >= start_day) & (adopt_day[control] < start_day + STEP_DAYS) & (dur[control] >= start_day)
        sel = control[risk]
        rr.append(sel)
        kk.append(np.full(len(sel), k))
        ad = adopt_day[sel]
        yy.append((~np.isnan(ad) & (ad >= start_day) & (ad < start_day + STEP_DAYS)).astype(int))
    r_all, k_all, y_all = np.concatenate(rr), np.concatenate(kk), np.concatenate(yy)
    if not len(r_all) or y_all.sum() == 0:
        return weights
    cal = (pd.to_datetime(idx_date[r_all]) + pd.to_timedelta(k_all * STEP_DAYS, unit="D")).to_period("M").astype(str)
    design = np.column_stack([x.to_numpy(dtype=float)[r_all], pd.get_dummies(cal, dtype=float).to_numpy(),
                              pd.get_dummies(k_all, prefix="step", dtype=float).to_numpy()])
    h = np.clip(_logistic(design, y_all), 0.0, 0.95)
    haz = np.zeros((n, steps))
    haz[r_all, k_all] = h
    surv = np.cumprod(1 - haz, axis=1)
    # weight while at risk in step k: 1 / P(no adoption in steps before k)
    before = np.column_stack([np.ones(n), surv[:, :-1]])
    weights[control] = np.minimum(1 / before[control], MAX_CENSORING_WEIGHT)
    return weights


# ==================================================================================================
# The weighted life table and its cluster bootstrap
# ==================================================================================================
def _edges(horizon_days: int) -> np.ndarray:
    return np.unique(np.append(np.arange(0, horizon_days, STEP_DAYS), horizon_days)).astype(float)


def life_table_parts(duration: np.ndarray, event: np.ndarray, weight: np.ndarray, horizon_days: int) -> tuple[
        np.ndarray, np.ndarray]:
    """Per row, its weighted contribution to each interval's at-risk count (entering, minus half if
    censored inside: the actuarial life table) and deaths. ``weight`` is per row and interval."""
    edges = _edges(horizon_days)
    lo, hi = edges[:-1][None, :], edges[1:][None, :]
    d, e = duration[:, None], event.astype(bool)[:, None]
    enters = d > lo
    dies = enters & e & (d <= hi)
    censored_inside = enters & ~e & (d < hi)
    at_risk = np.where(enters, 1.0, 0.0) - 0.5 * censored_inside
    return at_risk * weight, dies * weight


def survival_from(at_risk: np.ndarray, deaths: np.ndarray) -> np.ndarray:
    """Retention at each interval end from summed at-risk and deaths (last axis = intervals)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        q = np.where(at_risk > 0, deaths / at_risk, 0.0)
    return np.cumprod(1 - np.clip(q, 0, 1), axis=-1)


def weighted_retention_difference(rows: pd.DataFrame, weights: np.ndarray, horizon_days: int, alpha: float = 0.05,
                                  n_bootstrap: int = 1000, seed: int = 0, mask: np.ndarray | None = None) -> dict:
    """Retention at the horizon per arm from the weighted life tables, their difference and the churn
    risk ratio, with intervals from a Poisson bootstrap over accounts (an account's rows in every trial
    move together; the weights stay as fitted)."""
    from scipy.stats import norm

    m = np.ones(len(rows), dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    sub = rows[m]
    risk, death = life_table_parts(sub["duration_days"].to_numpy(dtype=float), sub["event"].to_numpy(),
                                   weights[m][:, : len(_edges(horizon_days)) - 1], horizon_days)
    t = sub["treated"].to_numpy() == 1
    codes, accounts = pd.factorize(sub["account_id"])
    k = risk.shape[1]
    by_acc = np.zeros((len(accounts), 4 * k))
    for j, part in enumerate((risk * t[:, None], death * t[:, None], risk * ~t[:, None], death * ~t[:, None])):
        np.add.at(by_acc[:, j * k:(j + 1) * k], codes, part)
    total = by_acc.sum(axis=0)
    s1 = survival_from(total[:k], total[k:2 * k])
    s0 = survival_from(total[2 * k:3 * k], total[3 * k:])
    rng = np.random.default_rng(seed)
    draws = rng.poisson(1.0, size=(n_bootstrap, len(accounts))).astype(float)
    boot = draws @ by_acc
    b1 = survival_from(boot[:, :k], boot[:, k:2 * k])[:, -1]
    b0 = survival_from(boot[:, 2 * k:3 * k], boot[:, 3 * k:])[:, -1]
    diff = float(s1[-1] - s0[-1])
    q = float(norm.ppf(1 - alpha / 2))
    ok = np.isfinite(b1 - b0)
    se = float(np.std((b1 - b0)[ok], ddof=1)) if ok.sum() > 2 else float("nan")
    with np.errstate(divide="ignore", invalid="ignore"):
        rr = (1 - s1[-1]) / (1 - s0[-1]) if s0[-1] < 1 else float("nan")
        log_rr = np.log((1 - b1) / (1 - b0))
    good = np.isfinite(log_rr)
    se_log = float(np.std(log_rr[good], ddof=1)) if good.sum() > 2 else float("nan")
    p = float(2 * norm.sf(abs(diff) / se)) if se > 0 else float("nan")
    return {"estimate": diff, "low": diff - q * se, "high": diff + q * se, "se": se, "p_value": p,
            "retention_treated": float(s1[-1]), "retention_control": float(s0[-1]),
            "risk_ratio": float(rr), "risk_ratio_low": float(rr * math.exp(-q * se_log)) if rr > 0 else float("nan"),
            "risk_ratio_high": float(rr * math.exp(q * se_log)) if rr > 0 else float("nan"),
            "curve_treated": s1, "curve_control": s0, "n_treated": int(t.sum()), "n_control": int((~t).sum()),
            "accounts": len(accounts)}


def weighted_smd(x: pd.DataFrame, treated: np.ndarray, w: np.ndarray) -> pd.DataFrame:
    """Standardised mean differences (pooled unweighted SD) of each design column after weighting."""
    t = np.asarray(treated).astype(bool)
    rows = []
    for c in x.columns:
        v = x[c].to_numpy(dtype=float)
        sd = math.sqrt((v[t].var() + v[~t].var()) / 2)
        m1 = float(np.average(v[t], weights=w[t]))
        m0 = float(np.average(v[~t], weights=w[~t]))
        rows.append({"covariate": c, "mean_treated": m1, "mean_control": m0,
                     "smd": (m1 - m0) / sd if sd > 0 else 0.0})
    out = pd.DataFrame(rows)
    out["imbalanced"] = out["smd"].abs() > 0.1
    return out


# ==================================================================================================
# The one call
# ==================================================================================================
def sequential_trials(ds, experiment_id: str, control_arm: str, treatment_arms: Sequence[str], as_of: pd.Timestamp,
                      horizon_days: int, pre_days: int = 90, reactivation_window_days: int = 0, alpha: float = 0.05,
                      seed: int = 0, n_bootstrap: int = 1000,
                      segment_column: str = "segment") -> TrialEstimate | None:
    """The effect of adopting on retention at ``horizon_days``, estimated from a sequence of monthly
    trials (see the module docstring). None when no account adopted by ``as_of`` or nobody is left to
    compare with."""
    as_of = pd.Timestamp(as_of).normalize()
    asg = ds.sql("SELECT account_id, arm, assigned_at FROM experiments WHERE experiment_id = ?", [experiment_id])
    asg = asg[asg["arm"].isin([control_arm, *treatment_arms])].copy()
    asg["assigned_at"] = pd.to_datetime(asg["assigned_at"])
    asg["adopted_at"] = asg["assigned_at"].where(asg["arm"] != control_arm)
    asg = asg.drop_duplicates("account_id")
    spells = paying_spells(ds.table("subscriptions"), as_of, reactivation_window_days)
    spells = spells[spells["account_id"].isin(asg["account_id"])]
    rows = trial_rows(asg[["account_id", "adopted_at"]], spells, as_of, seed)
    if rows.empty or rows["treated"].nunique() < 2:
        return None
    rows = follow_up(rows, as_of, horizon_days)
    rows = rows[rows["duration_days"] > 0].reset_index(drop=True)
    if rows["treated"].nunique() < 2 or rows["event"].sum() == 0:
        return None
    cov = covariates_at_index(ds, rows, pre_days)
    x = design_matrix(cov)
    w = adoption_weights(x, rows)
    steps = len(_edges(horizon_days)) - 1
    last_adoption = asg["adopted_at"].max()
    ipcw = censoring_weights(x, rows, steps, last_adoption)
    weights = w[:, None] * ipcw
    est = weighted_retention_difference(rows, weights, horizon_days, alpha, n_bootstrap, seed)
    effect = Effect(est["estimate"], est["low"], est["high"], est["p_value"],
                    "sequential trials: adopters vs not-yet-adopters, propensity and censoring weighted", est["se"],
                    est["n_treated"], est["n_control"], est["retention_treated"], est["retention_control"])
    trials = rows.groupby("trial").agg(adopters=("treated", "sum"), rows=("treated", "size"),
                                       later_adopters_censored=("censored_by_adoption", "sum")).reset_index()
    trials["controls"] = trials["rows"] - trials["adopters"]
    trials = trials[["trial", "adopters", "controls", "later_adopters_censored"]]
    edges = _edges(horizon_days)[1:]
    curves = pd.concat([pd.DataFrame({"days": edges, "retention": est["curve_treated"], "arm": "adopted"}),
                        pd.DataFrame({"days": edges, "retention": est["curve_control"], "arm": "not yet adopted"})],
                       ignore_index=True)
    segments = _segments(ds, rows, weights, horizon_days, alpha, n_bootstrap, seed, segment_column)
    rr, rlo, rhi = est["risk_ratio"], est["risk_ratio_low"], est["risk_ratio_high"]
    return TrialEstimate(effect=effect, horizon_days=int(horizon_days), risk_ratio=rr, risk_ratio_low=rlo,
                         risk_ratio_high=rhi, e_value=e_value(rr), e_value_interval=e_value_of_interval(rlo, rhi),
                         trials=trials, balance=weighted_smd(x, rows["treated"].to_numpy(), w), curves=curves,
                         segments=segments, adopters=int(rows["treated"].sum()),
                         control_accounts=int(rows.loc[rows["treated"] == 0, "account_id"].nunique()),
                         control_rows=int((rows["treated"] == 0).sum()), bootstrap=int(n_bootstrap))


def _segments(ds, rows, weights, horizon_days, alpha, n_bootstrap, seed, segment_column) -> pd.DataFrame:
    """The same estimate within each segment (weights as fitted on everyone), Holm-adjusted p-values."""
    from statsmodels.stats.multitest import multipletests

    accounts = ds.table("accounts")
    if segment_column not in accounts:
        return pd.DataFrame()
    seg = rows["account_id"].map(accounts.set_index("account_id")[segment_column]).fillna("unknown").astype(str)
    out = []
    for value in sorted(seg.unique()):
        m = (seg == value).to_numpy()
        t = rows["treated"].to_numpy()[m]
        if (t == 1).sum() < 5 or (t == 0).sum() < 5 or rows["event"].to_numpy()[m].sum() == 0:
            continue
        e = weighted_retention_difference(rows, weights, horizon_days, alpha, n_bootstrap, seed, mask=m)
        if not np.isfinite(e["se"]):
            continue
        out.append({"segment": value, "accounts": e["accounts"], "n_treated": e["n_treated"],
                    "n_control": e["n_control"], "retention_treated": e["retention_treated"],
                    "retention_control": e["retention_control"], "effect": e["estimate"], "low": e["low"],
                    "high": e["high"], "p_value": e["p_value"]})
    table = pd.DataFrame(out)
    if len(table):
        table["p_holm"] = multipletests(table["p_value"].fillna(1.0), method="holm")[1]
    return table
