"""Onboarding survival: how long do customers stay, and does a fast time to value keep them?

Lifetimes come from :func:`csresearch.revenue.paying_spells` (the project's one definition of churn):
an account's lifetime starts on its first paid day and ends at its first churn (a zero-MRR gap that
covers a month end and, with ``reactivation_window_days``, is at least that long); accounts still
paying are censored at the data cut-off. An account that churned and came back later keeps its
first lifetime (the return is counted, not a new life): onboarding is about the first life.

Accounts already paying when the data window opens are *left truncated*: they are seen only because
they survived until the window, so they enter the risk set late (lifelines ``entry=``) instead of at
day 0. Onboarding analyses use the accounts that started inside the window, whose onboarding is
observed from its first day.

Time to value is measured against *landmarks* to avoid immortal-time bias: an account has to stay
to reach value, so comparing "reached value" with "did not" from day 0 flatters onboarding. At the
landmark day L every account still paying is classified by what it had reached by L, and survival
is followed from L on (Kaplan-Meier with ``entry=L``, Cox on time since L).

Durations are in paid days (``end - start``, end exclusive; censored at ``as_of`` inclusive) and
reported in months of 365.25 / 12 days.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .core import revenue
from .period import DAYS_PER_MONTH, month_end

Z95 = float(stats.norm.ppf(0.975))
NO_VALUE = "no value yet"


# --------------------------------------------------------------------------------------------------
# Lifetimes
# --------------------------------------------------------------------------------------------------
def cut_off(month: pd.Period | str) -> pd.Timestamp:
    """The data cut-off of a report month: its last day (observation runs through it)."""
    return month_end(month)


def data_window_start(ds, override: str | None = None) -> pd.Timestamp:
    """First day of the data window: ``override`` (YYYY-MM or a date) when given, else the first
    month of usage events if the table is present, else the first month of subscriptions.

    Accounts whose first paid day is before it are left truncated (they enter late)."""
    if override:
        return pd.Period(str(override)[:7], "M").to_timestamp()
    if ds.has("usage_events"):
        first = ds.sql("SELECT min(event_time) AS t FROM usage_events")["t"].iloc[0]
        if pd.notna(first):
            return pd.Timestamp(first).to_period("M").to_timestamp()
    first = ds.sql("SELECT min(start_date) AS t FROM subscriptions")["t"].iloc[0]
    return pd.Timestamp(first).to_period("M").to_timestamp()


def cohort_label(start: pd.Series, frequency: str = "quarter") -> pd.Series:
    """Onboarding cohort of each first paid day: ``2025-07`` (month) or ``2025Q3`` (quarter)."""
    freq = {"month": "M", "quarter": "Q"}.get(frequency)
    if freq is None:
        raise ValueError(f"cohort frequency must be 'month' or 'quarter', not {frequency!r}")
    return pd.to_datetime(start).dt.to_period(freq).astype(str)


def lifetimes(subscriptions: pd.DataFrame, as_of: pd.Timestamp | str, window_start: pd.Timestamp | str | None = None,
              reactivation_window_days: int = 0, count_same_month_churn: bool = True,
              cohort_frequency: str = "quarter") -> pd.DataFrame:
    """One row per account: its first paying spell as a lifetime.

    Columns: ``account_id``, ``start_date`` (first paid day), ``end_date`` (churn day, NaT if
    censored), ``churned`` (event flag), ``duration_days`` (paid days to churn or to ``as_of``
    inclusive), ``entry_days`` (days already paid when the window opened; 0 inside the window),
    ``late_entry``, ``duration_months``, ``entry_months``, ``cohort`` (``before YYYY-MM`` for late
    entrants), ``spells`` (paying spells so far), ``reactivated`` (came back after its first churn),
    ``provisional`` (churn still inside the reactivation window), ``start_mrr``, ``same_month_churn``.

    ``count_same_month_churn`` False drops accounts that joined and churned without ever paying at a
    month end (invisible to month-end MRR), as the churn-rate convention of the same name does.
    Spells that ended before ``window_start`` cannot be in a left-truncated sample and are dropped.
    """
    as_of = pd.Timestamp(as_of).normalize()
    spells = revenue.paying_spells(subscriptions, as_of, reactivation_window_days)
    columns = ["account_id", "start_date", "end_date", "churned", "duration_days", "entry_days", "late_entry",
               "duration_months", "entry_months", "cohort", "spells", "reactivated", "provisional",
               "start_mrr", "same_month_churn"]
    if spells.empty:
        return pd.DataFrame(columns=columns)
    counts = spells.groupby("account_id")["spell"].transform("size")
    first = spells[spells["spell"] == spells.groupby("account_id")["spell"].transform("min")].copy()
    first["spells"] = counts.loc[first.index].to_numpy()
    first["reactivated"] = first["spells"] > 1
    first["churned"] = first["churned"].astype(bool)
    stop = first["end_date"].where(first["churned"], as_of + pd.Timedelta(days=1))
    first["duration_days"] = (stop - first["start_date"]).dt.days.astype(int)
    first["same_month_churn"] = first["churned"] & (first["month_ends_paid"] == 0)
    if not count_same_month_churn:
        first = first[~first["same_month_churn"]]
    window = pd.Timestamp(window_start).normalize() if window_start is not None else first["start_date"].min()
    first = first[~(first["churned"] & (first["end_date"] <= window))]
    first["entry_days"] = (window - first["start_date"]).dt.days.clip(lower=0).astype(int)
    first["late_entry"] = first["entry_days"] > 0
    first["duration_months"] = first["duration_days"] / DAYS_PER_MONTH
    first["entry_months"] = first["entry_days"] / DAYS_PER_MONTH
    first["cohort"] = cohort_label(first["start_date"], cohort_frequency)
    first.loc[first["late_entry"], "cohort"] = f"before {window:%Y-%m}"
    return first[columns].reset_index(drop=True)


def time_to_value(ds, life: pd.DataFrame, as_of: pd.Timestamp | str,
                  value_milestone: str = "first_value") -> pd.DataFrame:
    """``life`` plus ``ttv_days``: days from the first paid day to the value milestone (the first
    time it was achieved on or before ``as_of``; NaN if not reached), and ``onboarding_tracked``
    (the account has any row in the onboarding table).

    A milestone reached before the first paid day (during a trial) counts as day 0. A milestone
    reached after the churn stays in ``ttv_days``; analyses treat the churn as having come first.
    """
    out = life.copy()
    if not ds.has("onboarding"):
        out["ttv_days"] = np.nan
        out["onboarding_tracked"] = False
        return out
    got = ds.sql(
        """
        SELECT account_id,
               min(achieved_at) FILTER (WHERE milestone = $milestone AND achieved_at <= $as_of) AS value_at
        FROM onboarding GROUP BY account_id
        """,
        {"milestone": value_milestone, "as_of": pd.Timestamp(as_of).date()},
    )
    got["value_at"] = pd.to_datetime(got["value_at"])
    out = out.merge(got, on="account_id", how="left")
    out["onboarding_tracked"] = out["account_id"].isin(got["account_id"])
    out["ttv_days"] = (out["value_at"] - out["start_date"]).dt.days.clip(lower=0)
    return out.drop(columns="value_at")


def account_covariates(ds, life: pd.DataFrame, covariates: Sequence[str]) -> pd.DataFrame:
    """Account attributes at the first paid day, for the Cox model.

    ``product`` and ``billing_period`` come from the largest subscription (by MRR) active on the first
    paid day, ``seats`` is the sum of seats on that day, ``start_year`` is the calendar year of the
    first paid day (onboarding speed and calendar-time influences such as product changes both move
    with it, so models compare within start year); any other name is an ``accounts`` column
    (segment, touch_tier, region, ...). Names found nowhere are left out (the report says so)."""
    con = ds.con
    con.register("_life_starts", life[["account_id", "start_date"]])
    try:
        at_start = con.execute(
            """
            SELECT l.account_id,
                   arg_max(s.product, s.mrr) AS product,
                   arg_max(s.billing_period, s.mrr) AS billing_period,
                   sum(s.seats) AS seats
            FROM _life_starts l JOIN subscriptions s
              ON s.account_id = l.account_id AND s.start_date <= l.start_date
             AND (s.end_date IS NULL OR s.end_date > l.start_date) AND s.mrr > 0
            GROUP BY l.account_id
            """
        ).df()
    finally:
        con.unregister("_life_starts")
    accounts = ds.table("accounts")
    out = life[["account_id"]].merge(at_start, on="account_id", how="left")
    keep = ["account_id"]
    for name in covariates:
        if name == "start_year":
            out[name] = life["start_date"].dt.year.astype(str).to_numpy()
            keep.append(name)
        elif name in ("product", "billing_period", "seats"):
            if out[name].notna().any():
                keep.append(name)
        elif name in accounts.columns and accounts[name].notna().any():
            out = out.merge(accounts[["account_id", name]], on="account_id", how="left")
            keep.append(name)
    return out[keep]


@dataclass
class SurvivalData:
    """Everything the report needs about lifetimes, built once by :func:`prepare`."""

    lifetimes: pd.DataFrame  # one row per account (all accounts, late entrants included)
    as_of: pd.Timestamp
    window_start: pd.Timestamp
    has_onboarding: bool
    covariates: list[str]
    missing_covariates: list[str]
    notes: dict = field(default_factory=dict)

    @property
    def onboarded(self) -> pd.DataFrame:
        """Accounts that started inside the window: their onboarding is observed from day 0."""
        return self.lifetimes[~self.lifetimes["late_entry"]]


def prepare(ds, month: pd.Period | str, window_start: str | None = None, reactivation_window_days: int = 0,
            count_same_month_churn: bool = True, cohort_frequency: str = "quarter",
            value_milestone: str = "first_value", covariates: Sequence[str] = ()) -> SurvivalData:
    """Lifetimes, time to value and covariates of every account, as of the end of ``month``."""
    as_of = cut_off(month)
    start = data_window_start(ds, window_start)
    life = lifetimes(ds.table("subscriptions"), as_of, start, reactivation_window_days,
                     count_same_month_churn, cohort_frequency)
    life = time_to_value(ds, life, as_of, value_milestone)
    cov = account_covariates(ds, life, covariates)
    found = [c for c in cov.columns if c != "account_id"]
    life = life.merge(cov, on="account_id", how="left")
    spells = revenue.paying_spells(ds.table("subscriptions"), as_of, reactivation_window_days)
    notes = {
        "accounts": int(len(life)),
        "late_entry": int(life["late_entry"].sum()),
        "churned": int(life["churned"].sum()),
        "reactivated": int(life["reactivated"].sum()),
        "provisional_churn": int(life["provisional"].sum()),
        "same_month_churn": int(life["same_month_churn"].sum()),
        "ended_before_window": int((spells.loc[spells["spell"] == 1, "end_date"] <= start).sum()),
        "value_reached": int(life["ttv_days"].notna().sum()),
    }
    return SurvivalData(life, as_of, start, ds.has("onboarding"), found,
                        [c for c in covariates if c not in found], notes)


# --------------------------------------------------------------------------------------------------
# Landmarks: onboarding outcome known at day L
# --------------------------------------------------------------------------------------------------
def bucket_labels(buckets_days: Sequence[int]) -> list[str]:
    """Outcome groups for time-to-value bucket edges, e.g. [30, 90] ->
    ['value in 0-30 days', 'value in 31-90 days', 'no value by day 90']."""
    edges = sorted(int(b) for b in buckets_days)
    labels, low = [], 0
    for edge in edges:
        labels.append(f"value in {low}-{edge} days")
        low = edge + 1
    labels.append(f"no value by day {edges[-1]}")
    return labels


def onboarding_outcome(ttv_days: pd.Series, buckets_days: Sequence[int]) -> pd.Series:
    """The bucket of each time to value, with everything past the last edge (later or never)
    in the last group: at the landmark nobody can tell 'later' from 'never'."""
    edges = sorted(int(b) for b in buckets_days)
    labels = bucket_labels(edges)
    bins = [-np.inf, *edges, np.inf]
    ttv = ttv_days.fillna(np.inf)
    out = pd.cut(ttv, bins=bins, labels=labels, right=True)
    return pd.Categorical(out, categories=labels, ordered=True)


def landmark(frame: pd.DataFrame, landmark_days: int, buckets_days: Sequence[int]) -> pd.DataFrame:
    """Accounts still paying and observed on day ``landmark_days`` (duration beyond it), with
    ``outcome`` (time-to-value bucket, using only what was known by the landmark), ``value_by_landmark``
    and ``time_after`` (months since the landmark, for models that start the clock there).

    Accounts that churned or were censored before the landmark are left out: they could not be
    classified without looking ahead, which is the immortal-time trap."""
    if max(buckets_days) > landmark_days:
        raise ValueError("the landmark must be on or after the last time-to-value bucket edge")
    at_risk = frame[frame["duration_days"] > landmark_days].copy()
    known = at_risk["ttv_days"].where(at_risk["ttv_days"] <= landmark_days)
    at_risk["outcome"] = onboarding_outcome(known, buckets_days)
    at_risk["value_by_landmark"] = known.notna()
    at_risk["time_after"] = (at_risk["duration_days"] - landmark_days) / DAYS_PER_MONTH
    return at_risk.reset_index(drop=True)


# --------------------------------------------------------------------------------------------------
# Kaplan-Meier
# --------------------------------------------------------------------------------------------------
@contextmanager
def _quiet():
    """lifelines warns on ties, convergence and late entry; the report states these conditions."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def fit_km(frame: pd.DataFrame, by: str | None = None, entry: str | float | None = "entry_months",
           order: Iterable[str] | None = None, min_accounts: int = 1) -> dict:
    """Kaplan-Meier fitters (lifelines) on months since the first paid day, one per group of ``by``
    (or one 'all accounts'). ``entry`` is a column of late-entry times or a constant (a landmark)."""
    from lifelines import KaplanMeierFitter

    groups = [("all accounts", frame)] if by is None else [
        (str(k), g) for k, g in frame.groupby(by, observed=True, sort=True)]
    if order is not None:
        rank = {str(k): i for i, k in enumerate(order)}
        groups.sort(key=lambda kg: rank.get(kg[0], len(rank)))
    fitters = {}
    with _quiet():
        for label, g in groups:
            if len(g) < min_accounts:
                continue
            if isinstance(entry, str):
                start = g[entry]
            elif entry is None:
                start = None
            else:
                start = np.full(len(g), float(entry))
            fitters[label] = KaplanMeierFitter().fit(g["duration_months"], g["churned"], entry=start, label=label)
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
        row = {"kind": kind, "group": label, "accounts": int(len(kmf.durations)),
               "churned": int(np.sum(kmf.event_observed))}
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
    if data[group].nunique() < 2:
        return {"test_statistic": np.nan, "degrees_of_freedom": 0, "p_value": np.nan, "groups": int(data[group].nunique())}
    res = multivariate_logrank_test(data[time], data[group].astype(str), data["churned"])
    return {"test_statistic": float(res.test_statistic), "degrees_of_freedom": int(res.degrees_of_freedom),
            "p_value": float(res.p_value), "groups": int(data[group].nunique())}


# --------------------------------------------------------------------------------------------------
# Time to value as a time-to-event with churn as a competing risk
# --------------------------------------------------------------------------------------------------
def value_events(frame: pd.DataFrame) -> pd.DataFrame:
    """Time-to-value data: ``ttv_time`` in days to the first of value, churn or cut-off; ``ttv_event``
    1 = value reached, 2 = churned before value (competing risk), 0 = neither yet (censored)."""
    ttv = frame["ttv_days"]
    reached = ttv.notna() & (ttv < frame["duration_days"])  # value on or after the churn day: churn first
    out = frame.copy()
    out["ttv_time"] = np.where(reached, ttv, frame["duration_days"]).astype(float)
    out["ttv_event"] = np.where(reached, 1, np.where(frame["churned"], 2, 0))
    return out


def fit_value_incidence(frame: pd.DataFrame, by: str | None = "cohort", seed: int = 0) -> dict:
    """Aalen-Johansen cumulative incidence of reaching value (lifelines), churn before value as the
    competing event, per group of ``by``. Tied times are jittered by lifelines with a fixed seed."""
    from lifelines import AalenJohansenFitter

    data = value_events(frame)
    # day-0 value (reached in a trial) would sit at the origin; half a day keeps the order of events
    data["ttv_time"] = data["ttv_time"].clip(lower=0.5)
    groups = [("all accounts", data)] if by is None else [(str(k), g) for k, g in data.groupby(by, sort=True)]
    fitters = {}
    with _quiet():
        for label, g in groups:
            if not (g["ttv_event"] == 1).any():
                continue
            fitters[label] = AalenJohansenFitter(seed=seed).fit(g["ttv_time"], g["ttv_event"], event_of_interest=1,
                                                                 label=label)
    return fitters


def value_by_cohort(frame: pd.DataFrame, fitters: Mapping, days: Sequence[int] = (30, 90)) -> pd.DataFrame:
    """Per cohort: accounts, value reached, churned before value, and the cumulative incidence of
    value by each of ``days`` with its 95% interval (NaN where the cohort's follow-up is shorter),
    plus the day by which half the cohort reached value (NaN if not yet)."""
    data = value_events(frame)
    rows = []
    for label, g in data.groupby("cohort", sort=True):
        row = {"cohort": label, "accounts": int(len(g)), "value_reached": int((g["ttv_event"] == 1).sum()),
               "churned_before_value": int((g["ttv_event"] == 2).sum())}
        ajf = fitters.get(str(label))
        for d in days:
            value = lo = hi = np.nan
            if ajf is not None and g["ttv_time"].max() >= d:
                value = float(_at(ajf.cumulative_density_, d).iloc[0])
                ci = _at(ajf.confidence_interval_, d)
                lo, hi = float(ci.iloc[0]), float(ci.iloc[1])
            row.update({f"value_by_{d}d": value, f"value_by_{d}d_lower": lo, f"value_by_{d}d_upper": hi})
        median = np.nan
        if ajf is not None:
            cif = ajf.cumulative_density_.iloc[:, 0]
            reached = cif[cif >= 0.5]
            median = float(np.ceil(reached.index[0])) if len(reached) else np.nan
        row["median_days_to_value"] = median
        rows.append(row)
    return pd.DataFrame(rows)


def onboarding_trend(frame: pd.DataFrame) -> dict:
    """Is onboarding getting faster? Cause-specific Cox model (lifelines) of reaching value, churn
    before value censored, on the cohort's order (0, 1, 2, ...): a hazard ratio above 1 per cohort
    means each cohort reaches value faster than the one before."""
    from lifelines import CoxPHFitter

    data = value_events(frame)
    cohorts = sorted(data["cohort"].unique())
    if len(cohorts) < 2 or not (data["ttv_event"] == 1).any():
        return {"hazard_ratio": np.nan, "lower": np.nan, "upper": np.nan, "p_value": np.nan, "cohorts": len(cohorts)}
    df = pd.DataFrame({"t": data["ttv_time"].clip(lower=0.5), "e": (data["ttv_event"] == 1).astype(int),
                       "cohort_step": data["cohort"].map({c: i for i, c in enumerate(cohorts)})})
    with _quiet():
        cph = CoxPHFitter().fit(df, "t", "e")
    s = cph.summary.loc["cohort_step"]
    return {"hazard_ratio": float(s["exp(coef)"]), "lower": float(s["exp(coef) lower 95%"]),
            "upper": float(s["exp(coef) upper 95%"]), "p_value": float(s["p"]), "cohorts": len(cohorts)}


# --------------------------------------------------------------------------------------------------
# Cox model on a landmark sample
# --------------------------------------------------------------------------------------------------
NUMERIC = {"seats"}


@dataclass
class CoxResult:
    """A fitted landmark Cox model and the checks the report prints."""

    fitter: object
    summary: pd.DataFrame  # covariate, variable, hazard_ratio, lower, upper, p_value
    ph_tests: pd.DataFrame  # per covariate: test statistic, p, Holm-adjusted p, violated (first fit)
    strata: list[str]
    concordance: float
    concordance_lower: float
    concordance_upper: float
    accounts: int
    events: int
    landmark_days: int
    reference: dict


def design_matrix(frame: pd.DataFrame, exposure: str, covariates: Sequence[str], min_level_accounts: int = 30,
                  exposure_reference: str | None = None) -> tuple[pd.DataFrame, dict, dict]:
    """Dummy-coded covariates: each categorical against its most common level (levels with fewer
    than ``min_level_accounts`` accounts pooled as 'other'); seats as log2(1 + seats) (per doubling).
    Returns the matrix, the reference level of each categorical, and column -> variable name."""
    cols, reference, variable_of = {}, {}, {}
    for name in [exposure, *covariates]:
        if name in NUMERIC:
            cols[f"{name} (per doubling)"] = np.log2(1 + frame[name].fillna(frame[name].median()).clip(lower=0))
            variable_of[f"{name} (per doubling)"] = name
            continue
        values = frame[name].astype(object).where(frame[name].notna(), "unknown").astype(str)
        counts = values.value_counts()
        small = counts[counts < min_level_accounts].index
        values = values.where(~values.isin(small), "other")
        counts = values.value_counts()
        ref = exposure_reference if (name == exposure and exposure_reference in counts.index) else counts.index[0]
        reference[name] = ref
        for level in sorted(counts.index):
            if level == ref:
                continue
            col = f"{name}: {level}"
            cols[col] = (values == level).astype(float)
            variable_of[col] = name
    x = pd.DataFrame(cols, index=frame.index)
    x = x.loc[:, x.std() > 0]
    return x, reference, {c: variable_of[c] for c in x.columns}


def _concordance_interval(time, event, risk, boot: int, seed: int) -> tuple[float, float, float]:
    from lifelines.utils import concordance_index

    time, event, risk = map(np.asarray, (time, event, risk))
    est = concordance_index(time, -risk, event)
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(boot):
        i = rng.integers(0, len(time), len(time))
        if event[i].sum() == 0:
            continue
        draws.append(concordance_index(time[i], -risk[i], event[i]))
    lo, hi = np.percentile(draws, [2.5, 97.5]) if draws else (np.nan, np.nan)
    return float(est), float(lo), float(hi)


def cox_model(sample: pd.DataFrame, covariates: Sequence[str], exposure: str = "outcome",
              exposure_reference: str | None = None, landmark_days: int = 0, alpha: float = 0.05,
              min_level_accounts: int = 30, concordance_boot: int = 200, seed: int = 0,
              strata: Sequence[str] = ()) -> CoxResult:
    """Cox proportional hazards model (lifelines) of churn after the landmark, on ``time_after``.

    Proportional hazards are tested per covariate (lifelines' Schoenfeld-residual test, rank time),
    with Holm's correction across covariates (statsmodels). A violating adjustment variable is moved
    to a stratum (seats: by tertile) and the model refitted; a violating exposure is reported, not
    hidden (its hazard ratio is then an average over follow-up). Concordance has a bootstrap interval
    over accounts, with the model held fixed (optimistic: no refit per resample)."""
    from lifelines import CoxPHFitter
    from lifelines.statistics import proportional_hazard_test
    from statsmodels.stats.multitest import multipletests

    covariates = [c for c in covariates if c not in strata]
    x, reference, variable_of = design_matrix(sample, exposure, covariates, min_level_accounts, exposure_reference)
    base = pd.DataFrame({"time_after": sample["time_after"].clip(lower=1e-3), "churned": sample["churned"].astype(int)})

    def fit(strata: list[str]):
        keep = [c for c in x.columns if variable_of[c] not in strata]
        df = pd.concat([base, x[keep]], axis=1)
        strata_cols = []
        for s in strata:
            col = f"stratum_{s}"
            if s in NUMERIC:
                df[col] = pd.qcut(sample[s].rank(method="first"), 3, labels=False)
            else:
                df[col] = sample[s].astype(str).fillna("unknown")
                df[col] = df[col].astype("category").cat.codes
            strata_cols.append(col)
        cph = CoxPHFitter(alpha=alpha, penalizer=1e-4)
        cph.fit(df, "time_after", "churned", strata=strata_cols or None)
        return cph, df

    with _quiet():
        fixed = list(strata)
        cph, df = fit(fixed)
        test = proportional_hazard_test(cph, df, time_transform="rank")
        tests = test.summary.reset_index().rename(columns={"index": "covariate", "p": "p_value"})
        tests = tests[["covariate", "test_statistic", "p_value"]]
        tests["p_holm"] = multipletests(tests["p_value"], method="holm")[1]
        tests["variable"] = tests["covariate"].map(variable_of)
        tests["violated"] = tests["p_holm"] < alpha
        moved = sorted({v for v in tests.loc[tests["violated"], "variable"] if v != exposure})
        strata = fixed + moved
        if moved:
            cph, df = fit(strata)
    summary = cph.summary
    out = pd.DataFrame({
        "covariate": summary.index,
        "variable": [variable_of[c] for c in summary.index],
        "hazard_ratio": summary["exp(coef)"].to_numpy(),
        "lower": summary[f"exp(coef) lower {100 * (1 - alpha):g}%"].to_numpy(),
        "upper": summary[f"exp(coef) upper {100 * (1 - alpha):g}%"].to_numpy(),
        "p_value": summary["p"].to_numpy(),
    })
    out["reference"] = out["variable"].map(reference).fillna("")
    risk = cph.predict_log_partial_hazard(df)
    c, c_lo, c_hi = _concordance_interval(df["time_after"], df["churned"], risk, concordance_boot, seed)
    return CoxResult(cph, out.reset_index(drop=True), tests, strata, c, c_lo, c_hi, int(len(df)),
                     int(df["churned"].sum()), landmark_days, reference)


def exposure_hazard_ratio(result: CoxResult, level: str, exposure: str = "outcome") -> dict:
    """The hazard ratio of one exposure level against the reference, from :func:`cox_model`."""
    row = result.summary[result.summary["covariate"] == f"{exposure}: {level}"]
    if row.empty:
        return {"hazard_ratio": np.nan, "lower": np.nan, "upper": np.nan, "p_value": np.nan}
    r = row.iloc[0]
    return {"hazard_ratio": float(r["hazard_ratio"]), "lower": float(r["lower"]), "upper": float(r["upper"]),
            "p_value": float(r["p_value"])}


def naive_hazard_ratio(frame: pd.DataFrame, within_days: int | None = None) -> dict:
    """The immortal-time mistake, for contrast: 'reached value' (ever, or within ``within_days``),
    known only by looking ahead, used as a baseline covariate with the clock starting at day 0, so an
    account that reached value on day 200 counts as 'reached' for the 200 days it had to survive to
    get there. Biased towards onboarding looking protective; the report shows it only as a warning."""
    from lifelines import CoxPHFitter

    reached = frame["ttv_days"].notna() if within_days is None else frame["ttv_days"] <= within_days
    df = pd.DataFrame({"t": frame["duration_months"].clip(lower=1e-3), "e": frame["churned"].astype(int),
                       "fast_value": reached.astype(float)})
    with _quiet():
        s = CoxPHFitter().fit(df, "t", "e").summary.loc["fast_value"]
    return {"hazard_ratio": float(s["exp(coef)"]), "lower": float(s["exp(coef) lower 95%"]),
            "upper": float(s["exp(coef) upper 95%"]), "p_value": float(s["p"])}


# --------------------------------------------------------------------------------------------------
# Survival-based lifetime value
# --------------------------------------------------------------------------------------------------
def average_mrr(subscriptions: pd.DataFrame, life: pd.DataFrame, first_month: pd.Period | str,
                last_month: pd.Period | str) -> pd.Series:
    """Each account's average MRR over its paying month ends inside ``first_month``..``last_month``
    (account-month MRR from :func:`csresearch.revenue.account_month_mrr`), indexed by account."""
    months = revenue.account_month_mrr(subscriptions, first_month, last_month)
    paying = months[(months["mrr"] > 0) & months["account_id"].isin(life["account_id"])]
    return paying.groupby("account_id")["mrr"].mean()


def lifetime_value(frame: pd.DataFrame, by: str, horizon_months: float, mrr: pd.Series,
                   min_accounts: int = 30) -> pd.DataFrame:
    """Survival-based lifetime value to a horizon, per group of ``by``: RMST to ``horizon_months``
    (Kaplan-Meier with late entry) times the group's average MRR per account.

    Interval: delta method for a product of two independent estimates,
    var(R*M) = M^2 var(R) + R^2 var(M), with var(M) = sd^2 / n over accounts; normal 95%.
    Groups whose follow-up is shorter than the horizon (or with fewer than ``min_accounts``) get NaN:
    their RMST would have to be extrapolated."""
    fitters = fit_km(frame, by=by, min_accounts=min_accounts)
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
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------------
# The whole analysis, as the report runs it
# --------------------------------------------------------------------------------------------------
@dataclass
class SurvivalReport:
    """Every table and model of the onboarding-survival report (built by :func:`analyse`)."""

    data: SurvivalData
    landmark_days: int
    buckets_days: list[int]
    survival_months: list[float]
    rmst_months: list[float]
    horizon_months: float
    cohort_frequency: str
    km_overall: dict
    km_cohort: dict
    km_by_cohort: pd.DataFrame
    cohort_logrank: dict
    survival: pd.DataFrame
    km_outcome: dict = field(default_factory=dict)
    outcome_logrank: dict = field(default_factory=dict)
    landmark_sample: pd.DataFrame | None = None
    value_fitters: dict = field(default_factory=dict)
    ttv_by_cohort: pd.DataFrame | None = None
    trend: dict = field(default_factory=dict)
    cox: CoxResult | None = None
    naive: dict = field(default_factory=dict)
    ltv_cohort: pd.DataFrame | None = None
    ltv_segment: pd.DataFrame | None = None

    @property
    def has_onboarding(self) -> bool:
        return self.cox is not None

    @property
    def fast_group(self) -> str:
        return bucket_labels(self.buckets_days)[0]

    @property
    def slow_group(self) -> str:
        return bucket_labels(self.buckets_days)[-1]

    def fast_hazard_ratio(self) -> dict:
        return exposure_hazard_ratio(self.cox, self.fast_group) if self.cox is not None else {}


def analyse(sd: SurvivalData, cohort_frequency: str = "quarter", ttv_buckets_days: Sequence[int] = (30, 90),
            landmark_days: int | None = None, survival_months: Sequence[float] = (3, 6, 12, 24),
            rmst_months: Sequence[float] = (12, 24), horizon_months: float = 24, mrr: pd.Series | None = None,
            min_accounts: int = 30, concordance_boot: int = 200, seed: int = 0) -> SurvivalReport:
    """Run every section of the report on :func:`prepare`'s output."""
    buckets = sorted(int(b) for b in ttv_buckets_days)
    landmark_at = int(landmark_days if landmark_days is not None else buckets[-1])
    life, inside = sd.lifetimes, sd.onboarded
    km_overall = fit_km(life)
    cohort_order = sorted(inside["cohort"].unique())
    km_cohort = fit_km(inside, by="cohort", entry=None, order=cohort_order)
    tables = [survival_table(km_overall, survival_months, rmst_months, kind="all accounts"),
              survival_table(fit_km(life, by="segment", min_accounts=min_accounts) if "segment" in life else {},
                             survival_months, rmst_months, kind="segment"),
              survival_table(km_cohort, survival_months, rmst_months, kind="cohort")]
    report = SurvivalReport(
        data=sd, landmark_days=landmark_at, buckets_days=buckets, survival_months=list(survival_months),
        rmst_months=list(rmst_months), horizon_months=horizon_months, cohort_frequency=cohort_frequency,
        km_overall=km_overall, km_cohort=km_cohort, km_by_cohort=km_curves(km_cohort),
        cohort_logrank=logrank(inside, "cohort", time="duration_months"), survival=pd.DataFrame(),
    )
    tracked = inside[inside["onboarding_tracked"]]
    if sd.has_onboarding and len(tracked) and tracked["ttv_days"].notna().any():
        sample = landmark(tracked, landmark_at, buckets)
        report.landmark_sample = sample
        labels = bucket_labels(buckets)
        report.km_outcome = fit_km(sample, by="outcome", entry=landmark_at / DAYS_PER_MONTH, order=labels)
        report.outcome_logrank = logrank(sample, "outcome")
        tables.append(survival_table(report.km_outcome, survival_months, rmst_months,
                                     kind=f"onboarding outcome (accounts paying on day {landmark_at})"))
        report.value_fitters = fit_value_incidence(tracked, by="cohort", seed=seed)
        report.ttv_by_cohort = value_by_cohort(tracked, report.value_fitters, days=buckets)
        report.trend = onboarding_trend(tracked)
        report.cox = cox_model(sample, sd.covariates, exposure="outcome", exposure_reference=labels[-1],
                               landmark_days=landmark_at, min_level_accounts=min_accounts,
                               concordance_boot=concordance_boot, seed=seed)
        report.naive = naive_hazard_ratio(tracked, within_days=None)
    report.survival = pd.concat([t for t in tables if len(t)], ignore_index=True)
    if mrr is not None:
        report.ltv_cohort = lifetime_value(inside, "cohort", horizon_months, mrr, min_accounts)
        if "segment" in life:
            report.ltv_segment = lifetime_value(life, "segment", horizon_months, mrr, min_accounts)
    return report


# --------------------------------------------------------------------------------------------------
# Sentences generated from the numbers
# --------------------------------------------------------------------------------------------------
def pct(x: float, decimals: int = 0) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{100 * x:.{decimals}f}%"


def interval(lo: float, hi: float, kind: str = "pct", decimals: int = 0) -> str:
    if lo is None or hi is None or not (np.isfinite(lo) and np.isfinite(hi)):
        return "interval n/a"
    if kind == "pct":
        return f"{100 * lo:.{decimals}f}-{100 * hi:.{decimals}f}%"
    if kind == "money":
        return f"${lo:,.0f}-${hi:,.0f}"
    return f"{lo:.{decimals}f}-{hi:.{decimals}f}"


def _p(p: float) -> str:
    if p is None or not np.isfinite(p):
        return "p n/a"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}" if p < 0.01 else f"p = {p:.2f}"


def _latest_month(row: pd.Series, months: Sequence[float], prefer: float = 12) -> float | None:
    """``prefer`` if estimable for the row, else the longest of ``months`` that is."""
    order = [prefer] + sorted((m for m in months if m != prefer), reverse=True)
    for m in order:
        if np.isfinite(row.get(f"survival_{m:g}m", np.nan)):
            return m
    return None


def outcome_sentence(report: SurvivalReport, month: float = 12) -> str:
    """'Of accounts still paying on day 90, those reaching first value within 30 days keep 88%
    (85-90%) at 12 months vs 71% (68-74%) for those with no value by day 90.'"""
    table = report.survival[report.survival["kind"].str.startswith("onboarding outcome")].set_index("group")
    fast, slow = report.fast_group, report.slow_group
    if fast not in table.index or slow not in table.index:
        return "Too few accounts in one onboarding group to compare their survival."
    f, s = table.loc[fast], table.loc[slow]
    m = _latest_month(f, report.survival_months, month)
    if m is None or not np.isfinite(s.get(f"survival_{m:g}m", np.nan)):
        return "Follow-up is too short to compare survival by onboarding outcome."
    key = f"survival_{m:g}m"
    edge = report.buckets_days[0]
    return (f"Of accounts still paying on day {report.landmark_days}, those that reached first value within "
            f"{edge} days keep {pct(f[key])} ({interval(f[key + '_lower'], f[key + '_upper'])}) at {m:g} months "
            f"vs {pct(s[key])} ({interval(s[key + '_lower'], s[key + '_upper'])}) for those with "
            f"{slow.replace('no value', 'no first value')}.")


def cox_sentence(report: SurvivalReport) -> str:
    """The adjusted hazard ratio of fast onboarding, with what was held fixed and how."""
    if report.cox is None:
        return ""
    hr = report.fast_hazard_ratio()
    if not np.isfinite(hr.get("hazard_ratio", np.nan)):
        return "The Cox model could not estimate the effect of fast onboarding (too few accounts in a group)."
    held = [c.replace("_", " ") for c in report.data.covariates if c not in report.cox.strata]
    strata = [c.replace("_", " ") for c in report.cox.strata]
    fixed = ", ".join(held + strata) or "nothing else"
    direction = ("lower" if hr["upper"] < 1 else "higher" if hr["lower"] > 1 else "no clearly different")
    change = abs(1 - hr["hazard_ratio"])
    what = (f"a {pct(change)} {direction} churn hazard" if direction != "no clearly different"
            else "no clearly different churn hazard")
    return (f"Comparing accounts alike in {fixed}, reaching first value within {report.buckets_days[0]} days goes "
            f"with {what} after day {report.landmark_days} than {report.slow_group.replace('no value', 'no first value')}: "
            f"hazard ratio {hr['hazard_ratio']:.2f} ({interval(hr['lower'], hr['upper'], 'num', 2)}, {_p(hr['p_value'])}).")


def overall_sentence(report: SurvivalReport) -> str:
    row = report.survival[report.survival["kind"] == "all accounts"].iloc[0]
    m = _latest_month(row, report.survival_months, 12)
    text = f"{int(row['accounts']):,} accounts, {int(row['churned']):,} churned so far"
    if m is not None:
        key = f"survival_{m:g}m"
        text += (f"; {pct(row[key])} ({interval(row[key + '_lower'], row[key + '_upper'])}) are still paying "
                 f"{m:g} months after their first payment")
    if np.isfinite(row["median_months"]):
        text += (f"; half are gone by {row['median_months']:.0f} months "
                 f"({interval(row['median_lower'], row['median_upper'], 'num')} months)")
    else:
        text += "; the median lifetime is not reached (more than half are still paying at the longest follow-up)"
    return text + "."


def trend_sentence(report: SurvivalReport) -> str:
    t = report.trend
    if not t or not np.isfinite(t.get("hazard_ratio", np.nan)):
        return "Too few cohorts to tell whether onboarding is getting faster."
    unit = {"quarter": "quarterly", "month": "monthly"}[report.cohort_frequency]
    rate = abs(t["hazard_ratio"] - 1)
    if t["lower"] > 1:
        head = (f"Onboarding is getting faster: each {unit} cohort reaches first value at a {pct(rate)} higher rate "
                "than the one before")
    elif t["upper"] < 1:
        head = (f"Onboarding is getting slower: each {unit} cohort reaches first value at a {pct(rate)} lower rate "
                "than the one before")
    else:
        head = "No clear trend in onboarding speed across cohorts"
    return f"{head} (hazard ratio per cohort {t['hazard_ratio']:.2f}, {interval(t['lower'], t['upper'], 'num', 2)})."


def ltv_sentence(report: SurvivalReport) -> str:
    ltv = report.ltv_segment
    if ltv is None or ltv["lifetime_value"].notna().sum() < 1:
        return f"Follow-up is too short for a {report.horizon_months:g}-month lifetime value."
    ltv = ltv.dropna(subset=["lifetime_value"]).sort_values("lifetime_value", ascending=False)
    parts = [f"{r.segment} ${r.lifetime_value:,.0f} ({interval(r.lifetime_value_lower, r.lifetime_value_upper, 'money')}; "
             f"{r.rmst_months:.1f} paid months x ${r.average_mrr:,.0f} MRR)" for r in ltv.itertuples()]
    return f"Revenue per account over its first {report.horizon_months:g} months: " + ", ".join(parts) + "."


def headline(report: SurvivalReport) -> str:
    """The report's first sentence: the onboarding comparison and its adjusted hazard ratio when
    onboarding data exist, otherwise overall survival."""
    if report.cox is None:
        return "Customer lifetimes: " + overall_sentence(report)
    hr = report.fast_hazard_ratio()
    text = outcome_sentence(report)
    if np.isfinite(hr.get("hazard_ratio", np.nan)):
        text = text.rstrip(".") + (f"; adjusted hazard ratio {hr['hazard_ratio']:.2f} "
                                   f"({interval(hr['lower'], hr['upper'], 'num', 2)}).")
    return text


def summary_record(report: SurvivalReport) -> dict:
    """Numbers for summary.json (tests and the index read them)."""
    overall = report.survival[report.survival["kind"] == "all accounts"].iloc[0]
    out = {
        "accounts": report.data.notes,
        "window_start": str(report.data.window_start.date()),
        "as_of": str(report.data.as_of.date()),
        "landmark_days": report.landmark_days,
        "ttv_buckets_days": report.buckets_days,
        "overall": {k: (None if pd.isna(v) else float(v)) for k, v in overall.items() if k not in ("kind", "group")},
        "cohort_logrank": report.cohort_logrank,
    }
    if report.cox is not None:
        out.update({
            "fast_value_hazard_ratio": report.fast_hazard_ratio(),
            "fast_group": report.fast_group, "reference_group": report.slow_group,
            "outcome_logrank": report.outcome_logrank,
            "cox": {"accounts": report.cox.accounts, "events": report.cox.events, "strata": report.cox.strata,
                    "concordance": report.cox.concordance, "concordance_lower": report.cox.concordance_lower,
                    "concordance_upper": report.cox.concordance_upper,
                    "ph_violations": report.cox.ph_tests.loc[report.cox.ph_tests["violated"], "covariate"].tolist()},
            "naive_value_hazard_ratio": report.naive,
            "onboarding_trend": report.trend,
        })
    return out


def missing_onboarding_note(value_milestone: str) -> str:
    return (f"*No usable `onboarding` table (or no account reached the `{value_milestone}` milestone): the "
            "time-to-value, onboarding-outcome and Cox sections are skipped.*")


def conventions(report: SurvivalReport, reactivation_window_days: int, count_same_month_churn: bool,
                value_milestone: str) -> tuple[dict, dict]:
    """The conventions box: values and a note on each."""
    sd = report.data
    values = {
        "data cut-off": f"{sd.as_of:%Y-%m-%d}",
        "data window starts": f"{sd.window_start:%Y-%m-%d}",
        "reactivation_window_days": reactivation_window_days,
        "count_same_month_churn": count_same_month_churn,
        "value_milestone": value_milestone,
        "landmark": f"day {report.landmark_days}",
        "time-to-value buckets": ", ".join(bucket_labels(report.buckets_days)),
        "cohorts": report.cohort_frequency,
        "lifetime value horizon": f"{report.horizon_months:g} months",
    }
    notes = {
        "data cut-off": "accounts still paying are censored here",
        "data window starts": "accounts paying before this enter late (left truncation)",
        "reactivation_window_days": "a zero-MRR gap shorter than this is not a churn (csresearch.revenue.paying_spells)",
        "count_same_month_churn": "false: accounts that joined and left without paying at a month end are left out",
        "value_milestone": "time to value = days from the first paid day to this milestone",
        "landmark": "onboarding groups are fixed on this day; survival is compared from it on",
        "cohorts": "onboarding cohort = period of the first paid day",
        "lifetime value horizon": "restricted mean paid months to the horizon x average MRR",
    }
    return values, notes


def method_note(report: SurvivalReport) -> str:
    """How lifetimes were built, with the counts: late entry, reactivations, censoring."""
    n = report.data.notes
    text = (f"**How a lifetime is measured.** From an account's first paid day to its first churn (MRR to zero, the "
            f"shared definition in `csresearch.churn`), in paid days shown as months. {n['accounts']:,} accounts: "
            f"{n['churned']:,} churned, the other {n['accounts'] - n['churned']:,} are still paying and are *censored* "
            f"at {report.data.as_of:%d %b %Y} (counted as at risk until then, never as churned). "
            f"{n['late_entry']:,} accounts were already paying when the data window opened on "
            f"{report.data.window_start:%d %b %Y}: they are *left truncated*, entering the risk set at the tenure they "
            "had then, because customers who churned before the window are missing from the data and counting the "
            "survivors from day 0 would overstate retention. ")
    if n["reactivated"]:
        text += (f"{n['reactivated']:,} accounts churned and later came back: their first churn counts and the return "
                 "is not a new lifetime (onboarding is about the first life). ")
    if n["provisional_churn"]:
        text += (f"{n['provisional_churn']:,} churns are provisional (the gap is still shorter than the reactivation "
                 "window) and may be restated next month. ")
    if n["ended_before_window"]:
        text += f"{n['ended_before_window']:,} lifetimes ended before the window opened and are left out. "
    text += ("Onboarding sections use the accounts whose first paid day is inside the window, so their onboarding "
             "is observed from its first day.")
    return text


def cohort_sentence(report: SurvivalReport) -> str:
    lr = report.cohort_logrank
    if not lr or not np.isfinite(lr.get("p_value", np.nan)):
        return "Only one onboarding cohort: nothing to compare."
    verdict = ("Cohorts differ in survival more than chance would explain" if lr["p_value"] < 0.05
               else "Cohorts do not differ in survival more than chance would explain")
    return (f"{verdict} (log-rank test across {lr['groups']} cohorts at equal tenure: chi-square "
            f"{lr['test_statistic']:.1f} on {lr['degrees_of_freedom']} df, {_p(lr['p_value'])}).")


def outcome_logrank_sentence(report: SurvivalReport) -> str:
    lr = report.outcome_logrank
    if not lr or not np.isfinite(lr.get("p_value", np.nan)):
        return ""
    verdict = "differ" if lr["p_value"] < 0.05 else "do not clearly differ"
    return (f"The onboarding groups {verdict} in survival after day {report.landmark_days} (log-rank chi-square "
            f"{lr['test_statistic']:.1f} on {lr['degrees_of_freedom']} df, {_p(lr['p_value'])}; unadjusted).")


def naive_warning(report: SurvivalReport) -> str:
    """The immortal-time caution, with the naive number next to the landmark one."""
    nv, hr = report.naive, report.fast_hazard_ratio()
    if not nv or not np.isfinite(nv.get("hazard_ratio", np.nan)):
        return ""
    return ("**Why a landmark.** An account has to stay long enough to reach value, so comparing 'reached value' "
            "with 'did not' from day 1 credits onboarding with survival it did not cause (*immortal-time bias*). "
            f"That naive comparison gives a hazard ratio of {nv['hazard_ratio']:.2f} "
            f"({interval(nv['lower'], nv['upper'], 'num', 2)}). Here every group is fixed on day "
            f"{report.landmark_days} using only what had happened by then, and accounts that churned or were censored "
            f"before day {report.landmark_days} are left out of the comparison; 'later' and 'never' are one group, "
            f"because on day {report.landmark_days} nobody can tell them apart. The landmark estimate is "
            f"{hr.get('hazard_ratio', np.nan):.2f} ({interval(hr.get('lower'), hr.get('upper'), 'num', 2)}).")


def cox_checks_sentence(report: SurvivalReport) -> str:
    """Proportional-hazards results, strata, concordance and sample, in words."""
    cox = report.cox
    if cox is None:
        return ""
    tests = cox.ph_tests
    bad = tests[tests["violated"]]
    text = (f"**Model checks.** {cox.accounts:,} accounts paying on day {cox.landmark_days}, {cox.events:,} churns after "
            f"it. Proportional hazards were tested for each of {len(tests)} terms (Schoenfeld residuals against rank of "
            "time, Holm-corrected for the number of tests). ")
    if len(bad):
        names = ", ".join(sorted(set(bad["variable"].str.replace("_", " "))))
        text += f"Violated: {names}. "
        if cox.strata:
            text += (f"The model is therefore stratified by {', '.join(s.replace('_', ' ') for s in cox.strata)} "
                     "(each group gets its own baseline hazard, so no hazard ratio is shown for it). ")
        if "outcome" in set(bad["variable"]):
            text += ("The onboarding effect itself changes over tenure, so its hazard ratio is an average over "
                     "follow-up. ")
    else:
        text += "No term violates the assumption. "
    text += (f"Concordance {cox.concordance:.2f} ({interval(cox.concordance_lower, cox.concordance_upper, 'num', 2)}, "
             "bootstrap over accounts with the model fixed): 0.5 is a coin flip, 1 a perfect ranking of who churns first.")
    return text


def display_survival(table: pd.DataFrame, months: Sequence[float], rmst_months: Sequence[float]) -> pd.DataFrame:
    """The survival table as a reader sees it: 'estimate (low-high)' strings."""
    out = pd.DataFrame({"group": table["group"], "accounts": table["accounts"].map("{:,}".format),
                        "churned": table["churned"].map("{:,}".format)})
    for m in months:
        k = f"survival_{m:g}m"
        out[f"paying at {m:g} mo"] = [f"{pct(v)} ({interval(lo, hi)})" if np.isfinite(v) else "–"
                                      for v, lo, hi in zip(table[k], table[k + "_lower"], table[k + "_upper"])]
    out["median lifetime (mo)"] = [
        (f"{v:.0f} ({lo:.0f}-{hi:.0f})" if np.isfinite(hi) else f"{v:.0f} ({lo:.0f}-not reached)")
        if np.isfinite(v) else "not reached" for v, lo, hi in zip(table["median_months"], table["median_lower"],
                                                                   table["median_upper"])]
    for h in rmst_months:
        k = f"rmst_{h:g}m"
        out[f"paid months of first {h:g}"] = [f"{v:.1f} ({lo:.1f}-{hi:.1f})" if np.isfinite(v) else "–"
                                             for v, lo, hi in zip(table[k], table[k + "_lower"], table[k + "_upper"])]
    return out


OUTPUT_COLUMNS = {
    "ttv_by_cohort": ["cohort", "accounts", "value_reached", "churned_before_value"],
    "cox_summary": ["covariate", "variable", "hazard_ratio", "lower", "upper", "p_value", "reference"],
}


def save_outputs(nb, report: SurvivalReport) -> None:
    """The report's CSVs, KPIs for the index page and numbers for summary.json. Tables of skipped
    sections are written with their header only, so readers of the folder always find them."""
    nb.table(report.km_by_cohort, "km_by_cohort")
    nb.table(report.survival, "survival_table")
    nb.table(report.ttv_by_cohort if report.ttv_by_cohort is not None
             else pd.DataFrame(columns=OUTPUT_COLUMNS["ttv_by_cohort"]), "ttv_by_cohort")
    nb.table(report.cox.summary if report.cox is not None
             else pd.DataFrame(columns=OUTPUT_COLUMNS["cox_summary"]), "cox_summary")
    if report.cox is not None:
        nb.table(report.cox.ph_tests, "ph_tests")
    ltv = [t.rename(columns={c: "group"}).assign(by=c) for t, c in ((report.ltv_segment, "segment"),
                                                                    (report.ltv_cohort, "cohort")) if t is not None]
    if ltv:
        nb.table(pd.concat(ltv, ignore_index=True), "lifetime_value")
    overall = report.survival[report.survival["kind"] == "all accounts"].iloc[0]
    m = _latest_month(overall, report.survival_months, 12)
    if m is not None:
        k = f"survival_{m:g}m"
        nb.kpi(f"Still paying at {m:g} months", float(overall[k]),
               f"{pct(overall[k])} ({interval(overall[k + '_lower'], overall[k + '_upper'])})")
    hr = report.fast_hazard_ratio()
    if np.isfinite(hr.get("hazard_ratio", np.nan)):
        nb.kpi(f"Churn hazard ratio, value within {report.buckets_days[0]} days", hr["hazard_ratio"],
               f"{hr['hazard_ratio']:.2f} ({interval(hr['lower'], hr['upper'], 'num', 2)})")
    nb.record(**summary_record(report))


def display_ltv(table: pd.DataFrame, by: str) -> pd.DataFrame:
    """Lifetime value as a reader sees it: 'estimate (low-high)' strings, '–' where not estimable."""
    def fmt(values, lows, highs, money_fmt):
        return [f"{money_fmt(v)} ({money_fmt(lo)}-{money_fmt(hi)})" if np.isfinite(v) else "–"
                for v, lo, hi in zip(values, lows, highs)]

    dollars = "${:,.0f}".format
    return pd.DataFrame({
        by: table[by], "accounts": table["accounts"].map("{:,}".format),
        "paid months (RMST)": fmt(table["rmst_months"], table["rmst_lower"], table["rmst_upper"], "{:.1f}".format),
        "average MRR": fmt(table["average_mrr"], table["average_mrr_lower"], table["average_mrr_upper"], dollars),
        "lifetime value": fmt(table["lifetime_value"], table["lifetime_value_lower"], table["lifetime_value_upper"],
                              dollars),
    })
