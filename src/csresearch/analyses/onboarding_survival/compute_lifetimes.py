"""Lifetimes: when each account's first paying life started and ended, its time to value and its
attributes at the start.

Lifetimes come from :func:`csresearch.core.revenue.paying_spells` (the project's one definition of
churn): an account's lifetime starts on its first paid day and ends at its first churn (a zero-MRR
gap that covers a month end and, with ``reactivation_window_days``, is at least that long); accounts
still paying are censored at the data cut-off. An account that churned and came back later keeps its
first lifetime (the return is counted, not a new life): onboarding is about the first life.

Accounts already paying when the data window opens are *left truncated*: they are seen only because
they survived until the window, so they enter the risk set late (lifelines ``entry=``) instead of at
day 0. Onboarding analyses use the accounts that started inside the window, whose onboarding is
observed from its first day.

Durations are in paid days (``end - start``, end exclusive; censored at ``as_of`` inclusive) and
reported in months of :data:`csresearch.period.DAYS_PER_MONTH` days.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from ...core import revenue
from ...errors import NotEnoughData
from ...period import DAYS_PER_MONTH, month_end
from ...text import day


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
    """Lifetimes, time to value and covariates of every account, as of the end of ``month``
    (:class:`NotEnoughData` when no account has a lifetime by then)."""
    as_of = month_end(month)
    start = data_window_start(ds, window_start)
    life = lifetimes(ds.table("subscriptions"), as_of, start, reactivation_window_days,
                     count_same_month_churn, cohort_frequency)
    if life.empty:
        raise NotEnoughData(
            f"The report month ends on {day(as_of)}, before the data window opens on {day(start)}: there is no "
            "customer lifetime to measure." if as_of < start else
            f"No account was paying between {day(start)} and {day(as_of)}: there is no customer lifetime to measure.")
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


def average_mrr(subscriptions: pd.DataFrame, life: pd.DataFrame, first_month: pd.Period | str,
                last_month: pd.Period | str) -> pd.Series:
    """Each account's average MRR over its paying month ends inside ``first_month``..``last_month``
    (account-month MRR from :func:`csresearch.core.revenue.account_month_mrr`), indexed by account."""
    months = revenue.account_month_mrr(subscriptions, first_month, last_month)
    paying = months[(months["mrr"] > 0) & months["account_id"].isin(life["account_id"])]
    return paying.groupby("account_id")["mrr"].mean()
