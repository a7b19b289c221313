"""Kaplan-Meier survival: curves with at-risk counts, the survival table (share still paying,
median lifetime, restricted mean survival time, each with a 95% interval), log-rank tests and the
survival-based lifetime value.

Fitters are lifelines' on months since the first paid day; late entrants (left truncated) enter the
risk set at the tenure they had when the data window opened. Times past a group's follow-up are NaN:
nothing is extrapolated.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

Z95 = float(stats.norm.ppf(0.975))


@contextmanager
def _quiet():
    """lifelines warns on ties, convergence and late entry; the report states these conditions."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


class Curves(dict):
    """Kaplan-Meier fitters by group label (a plain dict of lifelines fitters) and what the fit left out.

    ``accounts`` and ``churned`` count each fitted group whole (also past the end of its curve);
    ``too_small`` holds the groups under the minimum size (label -> accounts), ``no_curve`` the groups
    with fewer than the minimum at risk from their first tenure on (label -> accounts), and ``ends``
    the tenure (months) where a curve stops because fewer accounts remain at risk (absent when it
    runs to the group's last follow-up)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.accounts: dict[str, int] = {}
        self.churned: dict[str, int] = {}
        self.too_small: dict[str, int] = {}
        self.no_curve: dict[str, int] = {}
        self.ends: dict[str, float] = {}


def follow_up_end(durations, events, entry=None, min_at_risk: int = 10) -> tuple[float, bool]:
    """Where a curve must stop: the first tenure after which fewer than ``min_at_risk`` accounts remain
    at risk (lifelines' event table: entered by then, not gone by then), and whether the churns at that
    tenure still count (they do when at least ``min_at_risk`` were at risk at it). ``(inf, True)``
    when the risk set never falls below the minimum.

    With late entry the risk set can thin out early and grow again as older accounts enter; a
    product-limit estimate through a handful of accounts (at worst none: lifelines then refuses, as
    S(t) would stay 0 while accounts keep entering) is not a survival curve, so the curve stops there."""
    from lifelines.utils import survival_table_from_events

    if min_at_risk <= 0:
        return np.inf, True
    table = survival_table_from_events(np.asarray(durations, float), np.asarray(events, bool),
                                       birth_times=None if entry is None else np.asarray(entry, float))
    remaining = (table["at_risk"] - table["removed"]).to_numpy()
    thin = np.flatnonzero(remaining < min_at_risk)
    if not len(thin):
        return np.inf, True
    return float(table.index[thin[0]]), bool(table["at_risk"].iloc[thin[0]] >= min_at_risk)


def fit_km(frame: pd.DataFrame, by: str | None = None, entry: str | float | None = "entry_months",
           order: Iterable[str] | None = None, min_accounts: int = 1, min_at_risk: int = 0) -> Curves:
    """Kaplan-Meier fitters (lifelines) on months since the first paid day, one per group of ``by``
    (or one 'all accounts'). ``entry`` is a column of late-entry times or a constant (a landmark).

    Groups with fewer than ``min_accounts`` accounts get no curve; a curve stops at the first tenure
    after which fewer than ``min_at_risk`` accounts remain at risk (:func:`follow_up_end`): accounts
    still followed then are censored there, and accounts entering later are left out of the fit."""
    from lifelines import KaplanMeierFitter

    groups = [("all accounts", frame)] if by is None else [
        (str(k), g) for k, g in frame.groupby(by, observed=True, sort=True)]
    if order is not None:
        rank = {str(k): i for i, k in enumerate(order)}
        groups.sort(key=lambda kg: rank.get(kg[0], len(rank)))
    fitters = Curves()
    with _quiet():
        for label, g in groups:
            if len(g) < min_accounts or len(g) == 0:
                fitters.too_small[label] = int(len(g))
                continue
            duration = g["duration_months"].to_numpy(dtype=float)
            event = g["churned"].to_numpy(dtype=bool)
            if isinstance(entry, str):
                start = g[entry].to_numpy(dtype=float)
            elif entry is None:
                start = None
            else:
                start = np.full(len(g), float(entry))
            end, churns_at_end_count = follow_up_end(duration, event, start, min_at_risk)
            if np.isfinite(end):
                if end <= (0.0 if start is None else float(start.min())):  # too few from the first tenure on
                    fitters.no_curve[label] = int(len(g))
                    continue
                keep = np.ones(len(g), bool) if start is None else start < end
                counted = (duration[keep] < end) | (churns_at_end_count & (duration[keep] == end))
                event = event[keep] & counted
                duration = np.minimum(duration[keep], end)
                start = None if start is None else start[keep]
                fitters.ends[label] = end
            fitters[label] = KaplanMeierFitter().fit(duration, event, entry=start, label=label)
            fitters.accounts[label] = int(len(g))
            fitters.churned[label] = int(g["churned"].sum())
    return fitters


def _at(frame: pd.DataFrame | pd.Series, t: float):
    """Step-function value at time t (last row at or before t)."""
    idx = frame.index.searchsorted(t, side="right") - 1
    return frame.iloc[max(idx, 0)]


def km_curves(fitters: Mapping, months: Iterable[float] | None = None) -> pd.DataFrame:
    """Long table of each curve on a monthly grid: ``group``, ``months``, ``survival``, ``lower``,
    ``upper`` (95% pointwise, lifelines' exponential Greenwood) and ``at_risk``, up to each group's
    last observed time."""
    rows = []
    for label, kmf in fitters.items():
        last = float(kmf.durations.max())
        grid = months if months is not None else np.arange(0, np.floor(last) + 1)
        table = kmf.event_table
        for t in grid:
            if t > last or t < float(kmf.timeline.min()) - 1e-9 and t != 0:
                continue
            s = float(_at(kmf.survival_function_, t).iloc[0])
            ci = _at(kmf.confidence_interval_survival_function_, t)
            at_risk = int(table.loc[table.index >= t, "at_risk"].iloc[0]) if (table.index >= t).any() else 0
            # at-risk with late entry: entered by t and still followed at t
            rows.append({"group": label, "months": float(t), "survival": s, "lower": float(ci.iloc[0]),
                         "upper": float(ci.iloc[1]), "at_risk": at_risk})
    return pd.DataFrame(rows, columns=["group", "months", "survival", "lower", "upper", "at_risk"])


def restricted_mean(kmf, horizon: float) -> tuple[float, float]:
    """Restricted mean survival time to ``horizon`` (area under the Kaplan-Meier curve) and the
    variance of that estimate (Klein & Moeschberger 4.5: sum over event times t_j <= horizon of
    A_j^2 d_j / (Y_j (Y_j - d_j)), A_j = area under the curve from t_j to the horizon).

    Hand-written because lifelines' ``restricted_mean_survival_time(return_variance=True)`` returns
    the variance of min(T, horizon) across accounts, not of the estimate. With late entry, Y_j are
    lifelines' at-risk counts (entries counted)."""
    sf = kmf.survival_function_.iloc[:, 0]
    times, surv = sf.index.to_numpy(dtype=float), sf.to_numpy(dtype=float)
    if times[0] > 0:
        times, surv = np.r_[0.0, times], np.r_[1.0, surv]
    inside = times < horizon
    grid = np.r_[times[inside], horizon]
    widths = np.diff(grid)
    areas = widths * surv[inside]
    total = float(areas.sum())
    remaining = total - np.r_[0.0, np.cumsum(areas)][:-1]  # area from each grid point to the horizon
    table = kmf.event_table
    d, y = table["observed"].to_numpy(dtype=float), table["at_risk"].to_numpy(dtype=float)
    t = table.index.to_numpy(dtype=float)
    use = (d > 0) & (t <= horizon) & (y > d)
    a = np.interp(t[use], grid[:-1], remaining) if use.any() else np.zeros(0)
    # the interpolation is exact: event times are grid points of the step function
    variance = float(np.sum(a ** 2 * d[use] / (y[use] * (y[use] - d[use]))))
    return total, variance


def _rmst(kmf, horizon: float) -> tuple[float, float, float]:
    """RMST with a normal 95% interval; NaN when follow-up is shorter than the horizon."""
    if kmf.durations.max() < horizon:
        return (np.nan, np.nan, np.nan)
    mean, var = restricted_mean(kmf, horizon)
    se = float(np.sqrt(max(var, 0.0)))
    return float(mean), float(mean - Z95 * se), float(mean + Z95 * se)


def survival_table(fitters: Mapping, months: Sequence[float] = (3, 6, 12, 24),
                   rmst_months: Sequence[float] = (12, 24), kind: str = "") -> pd.DataFrame:
    """Per group: accounts, churns, survival at ``months`` with 95% intervals, median lifetime with
    its interval (lifelines), and restricted mean survival time to ``rmst_months`` with a 95%
    interval (lifelines' variance). Times past a group's follow-up are NaN, never extrapolated."""
    from lifelines.utils import median_survival_times

    rows = []
    for label, kmf in fitters.items():
        last = float(kmf.durations.max())
        accounts, churned = getattr(fitters, "accounts", {}), getattr(fitters, "churned", {})
        row = {"kind": kind, "group": label, "accounts": accounts.get(label, int(len(kmf.durations))),
               "churned": churned.get(label, int(np.sum(kmf.event_observed)))}
        for m in months:
            if m > last:
                row.update({f"survival_{m:g}m": np.nan, f"survival_{m:g}m_lower": np.nan,
                            f"survival_{m:g}m_upper": np.nan})
                continue
            ci = _at(kmf.confidence_interval_survival_function_, m)
            row.update({f"survival_{m:g}m": float(_at(kmf.survival_function_, m).iloc[0]),
                        f"survival_{m:g}m_lower": float(ci.iloc[0]), f"survival_{m:g}m_upper": float(ci.iloc[1])})
        median = float(kmf.median_survival_time_)
        with _quiet():
            med_ci = median_survival_times(kmf.confidence_interval_survival_function_)
        row.update({"median_months": median if np.isfinite(median) else np.nan,
                    "median_lower": float(med_ci.iloc[0, 0]) if np.isfinite(med_ci.iloc[0, 0]) else np.nan,
                    "median_upper": float(med_ci.iloc[0, 1]) if np.isfinite(med_ci.iloc[0, 1]) else np.nan})
        for h in rmst_months:
            mean, lo, hi = _rmst(kmf, h)
            row.update({f"rmst_{h:g}m": mean, f"rmst_{h:g}m_lower": lo, f"rmst_{h:g}m_upper": hi})
        rows.append(row)
    return pd.DataFrame(rows)


def logrank(frame: pd.DataFrame, group: str, time: str = "time_after") -> dict:
    """Multivariate log-rank test (lifelines) of survival across ``group`` on ``time`` (every account
    entering at 0, as in a landmark sample or cohorts that all start inside the window)."""
    from lifelines.statistics import multivariate_logrank_test

    data = frame.dropna(subset=[group])
    if data[group].nunique() < 2 or not data["churned"].any():  # nothing to compare
        return {"test_statistic": np.nan, "degrees_of_freedom": 0, "p_value": np.nan, "groups": int(data[group].nunique())}
    res = multivariate_logrank_test(data[time], data[group].astype(str), data["churned"])
    return {"test_statistic": float(res.test_statistic), "degrees_of_freedom": int(res.degrees_of_freedom),
            "p_value": float(res.p_value), "groups": int(data[group].nunique())}


LTV_COLUMNS = ["accounts", "rmst_months", "rmst_lower", "rmst_upper", "average_mrr", "average_mrr_lower",
               "average_mrr_upper", "lifetime_value", "lifetime_value_lower", "lifetime_value_upper"]


def lifetime_value(frame: pd.DataFrame, by: str, horizon_months: float, mrr: pd.Series,
                   min_accounts: int = 30, min_at_risk: int = 0) -> pd.DataFrame:
    """Survival-based lifetime value to a horizon, per group of ``by``: RMST to ``horizon_months``
    (Kaplan-Meier with late entry) times the group's average MRR per account.

    Interval: delta method for a product of two independent estimates,
    var(R*M) = M^2 var(R) + R^2 var(M), with var(M) = sd^2 / n over accounts; normal 95%.
    Groups whose curve stops before the horizon get NaN (their RMST would have to be extrapolated);
    groups with fewer than ``min_accounts`` accounts or no curve (:func:`fit_km`) have no row."""
    fitters = fit_km(frame, by=by, min_accounts=min_accounts, min_at_risk=min_at_risk)
    rows = []
    for label, kmf in fitters.items():
        g = frame[frame[by].astype(str) == label]
        m = mrr.reindex(g["account_id"]).dropna()
        rmst, r_lo, r_hi = _rmst(kmf, horizon_months)
        r_se = (r_hi - rmst) / Z95 if np.isfinite(rmst) else np.nan
        avg, m_se = float(m.mean()) if len(m) else np.nan, float(m.std(ddof=1) / np.sqrt(len(m))) if len(m) > 1 else np.nan
        ltv = rmst * avg
        se = np.sqrt(avg ** 2 * r_se ** 2 + rmst ** 2 * m_se ** 2)
        rows.append({by: label, "accounts": int(len(g)), "rmst_months": rmst, "rmst_lower": r_lo, "rmst_upper": r_hi,
                     "average_mrr": avg, "average_mrr_lower": avg - Z95 * m_se, "average_mrr_upper": avg + Z95 * m_se,
                     "lifetime_value": ltv, "lifetime_value_lower": ltv - Z95 * se,
                     "lifetime_value_upper": ltv + Z95 * se})
    return pd.DataFrame(rows, columns=[by, *LTV_COLUMNS])
