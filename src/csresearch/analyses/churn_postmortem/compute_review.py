"""The steps of a review that tie the others together: the review's churns and every churn of the
roll-up window, how far back the checks must reach, the timeline window and its health history, the
audited churns, the usage of comparables, and this month's top risk band."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import pandas as pd

from ...core.revenue import account_month_mrr
from ...data import Dataset
from ...period import month_end
from .compute_alerts import read_previous_list, risk_band
from .compute_audit import stayers, warning_audit
from .compute_checks import Checks, checked_list
from .compute_churns import all_churns, attach_reasons, check_accounts, churn_month, churned_accounts, size_band
from .compute_timelines import account_events, aligned_usage, health_timeline, weekly_activity

OPTIONAL_TABLES = ("churn_reasons", "usage_events", "support_tickets", "surveys", "cs_activities")


def missing_tables(ds: Dataset) -> list[str]:
    """The optional tables this report uses that the data does not have (their sections are off)."""
    return [table for table in OPTIONAL_TABLES if not ds.has(table)]


def review_churns(ds: Dataset, month: pd.Period, account_ids: Sequence[str] | None, settings,
                  names: pd.Series | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(every churn up to the month end with its reason and churn month, the review's churn list)``.

    Unknown ``account_ids`` raise :class:`~csresearch.errors.UnknownAccountError` before anything is
    computed. ``names``: display names by account id (pseudonyms when the report pseudonymises).
    """
    s = settings
    as_of = month_end(month)
    if account_ids is not None:
        check_accounts(ds, account_ids)
    churns = all_churns(ds, as_of, s.reactivation_window_days, s.count_same_month_churn)
    churned = churned_accounts(ds, month, account_ids, s.reactivation_window_days, s.count_same_month_churn,
                               s.reason_match_days, churns=churns, churn_convention=s.churn_convention)
    every = attach_reasons(churns, ds, s.reason_match_days)
    every["churn_month"] = churn_month(every["churn_date"], s.churn_convention)
    if names is not None:
        for frame in (churned, every):
            frame["account_name"] = frame["account_id"].map(names)
    return every, churned


def months_of_checks(month: pd.Period, churned: pd.DataFrame, rollup_months: int, timeline_months: int) -> int:
    """How many months of checks the audit needs: far enough back for every audited churn's look-back
    (the roll-up window's and the reviewed accounts' churns)."""
    first_rollup = month - (rollup_months - 1)
    oldest = first_rollup.to_timestamp()
    reviewed_churns = churned.loc[churned["churn_date"].notna(), "churn_date"]
    if len(reviewed_churns):
        oldest = min(oldest, reviewed_churns.min())
    return (month - (oldest.to_period("M") - timeline_months)).n


def timeline_window(churned: pd.DataFrame, as_of: pd.Timestamp, months: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The dates the timelines show: ``months`` before the earliest churn (or the month end) to two
    weeks after the latest (at most the month end)."""
    lookback = pd.DateOffset(months=months)
    ends = churned["churn_date"].fillna(as_of)
    start = (ends.min() - lookback) if len(churned) else as_of - lookback
    end = min(ends.max() + pd.Timedelta(days=14), as_of) if len(churned) else as_of
    return start, end


def account_timelines(ds: Dataset, account_ids: list[str], start: pd.Timestamp, end: pd.Timestamp,
                      key_events: list[str]) -> tuple[pd.DataFrame, dict, pd.DataFrame]:
    """``(weekly usage, dated touchpoints, month-end MRR)`` of the reviewed accounts in the window."""
    weekly = weekly_activity(ds, account_ids, start, end, key_events)
    events = account_events(ds, account_ids, start, end)
    subs = ds.table("subscriptions")
    mine = subs[subs["account_id"].isin(account_ids)]
    mrr = account_month_mrr(mine, start.to_period("M"), end.to_period("M")) if len(mine) else \
        pd.DataFrame(columns=["account_id", "month", "month_end", "mrr"])
    return weekly, events, mrr


def review_health(ds: Dataset, checks: Checks, account_ids: list[str], start: pd.Timestamp, end: pd.Timestamp,
                  config, every_days: int, value_milestone: str, fine: bool) -> pd.DataFrame:
    """The health history the timelines draw for the reviewed accounts.

    ``fine`` (an account review with ``every_days``): the health score every ``every_days`` days, a
    finer line between the monthly checks. Otherwise the monthly checks' scores. Either way the
    warnings the audit judges are the monthly checks (:attr:`.compute_checks.Checks.scores`), so an
    account review reports the same warning dates as the month review.
    """
    monthly = checks.scores[checks.scores["account_id"].isin(account_ids)].reset_index(drop=True)
    if not fine or not checks.health_scored:
        return monthly
    return health_timeline(ds, account_ids, start, end, config, every_days, value_milestone)


def audited(every: pd.DataFrame, churned: pd.DataFrame, flags: pd.DataFrame, month: pd.Period,
            rollup_months: int, timeline_months: int) -> pd.DataFrame:
    """The early-warning audit of the roll-up window's churns plus the reviewed accounts' churns, each
    searched for flags in the ``timeline_months`` monthly checks before it; ``in_review`` marks the
    review's own."""
    first_rollup = month - (rollup_months - 1)
    in_window = every[(every["churn_month"] >= first_rollup) & (every["churn_month"] <= month)]
    extra = churned[churned["churn_date"].notna()][["account_id", "churn_date"]].merge(
        every, on=["account_id", "churn_date"])
    churns = pd.concat([in_window, extra], ignore_index=True).drop_duplicates(["account_id", "churn_date"])
    churns = churns.assign(size_band=size_band(churns["arr_lost"]))
    audit = warning_audit(churns, flags, lookback_months=timeline_months)
    keys = churned.loc[churned["churn_date"].notna(), ["account_id", "churn_date"]]
    audit["in_review"] = audit.set_index(["account_id", "churn_date"]).index.isin(
        keys.set_index(["account_id", "churn_date"]).index)
    return audit


def review_stayers(flags: pd.DataFrame, every: pd.DataFrame, churned: pd.DataFrame, month: pd.Period,
                   timeline_months: int) -> pd.DataFrame:
    """The accounts that stayed over the same checks as the review's churns (:func:`.compute_audit.stayers`):
    for a month review, the month's; for an account review, those of each reviewed churn's month (the
    report month when no reviewed account churned)."""
    dates = churned.loc[churned["churn_date"].notna(), "churn_date"]
    keys = churned.loc[churned["churn_date"].notna(), ["account_id", "churn_date"]].merge(
        every[["account_id", "churn_date", "churn_month"]], on=["account_id", "churn_date"])
    months = sorted(set(keys["churn_month"])) if len(dates) else [month]
    churns = every[["account_id", "churn_date", "churn_month"]]
    parts = [stayers(flags, churns, m, timeline_months) for m in months]
    parts = [p for p in parts if len(p)]
    return pd.concat(parts, ignore_index=True) if parts else stayers(flags, every.iloc[0:0], month, timeline_months)


def review_rows(audit: pd.DataFrame, churned: pd.DataFrame) -> pd.DataFrame:
    """The audit rows of the review's own churns."""
    keys = churned.loc[churned["churn_date"].notna(), ["account_id", "churn_date"]]
    return audit.merge(keys, on=["account_id", "churn_date"])


def comparable_usage(ds: Dataset, pairs: pd.DataFrame, key_events: list[str], weeks: int = 26) -> pd.DataFrame:
    """Weekly usage of the churned accounts and their look-alikes before each reference day, with
    ``group`` (churned / retained look-alikes)."""
    aligned = pd.DataFrame(columns=["account_id", "ref_date", "week", "events", "active_users", "index", "group"])
    if len(pairs):
        churned_refs = pairs[["account_id", "ref_date"]].drop_duplicates()
        comp_refs = pairs[["comparable_id", "ref_date"]].rename(columns={"comparable_id": "account_id"}).drop_duplicates()
        both = pd.concat([churned_refs.assign(group="churned"), comp_refs.assign(group="retained look-alikes")])
        got = aligned_usage(ds, both, weeks=weeks, events=key_events)
        if len(got):
            aligned = got.merge(both, on=["account_id", "ref_date"])
    return aligned


def check_after(month: pd.Period) -> pd.Timestamp:
    """The check that sees the whole of ``month``: the first day of the next month."""
    return pd.Timestamp(month.to_timestamp(how="start") + pd.offsets.MonthBegin(1))


def band_this_month(checks: Checks, month: pd.Period, top_share: float | None,
                    max_accounts: int | None) -> dict | None:
    """This month's top risk band: paying accounts scored, accounts in the band and the lowest churn
    probability in it (None without a risk model at this month's check or without the band rule)."""
    now = checked_list(checks, check_after(month))
    if now is None or top_share is None:
        return None
    band = risk_band(now, top_share, max_accounts)
    inside = now.loc[band["in_band"], "churn_probability"]
    return {"paying": int(now["churn_probability"].notna().sum()), "band": int(len(inside)),
            "min_probability": float(inside.min()) if len(inside) else float("nan")}


def previous_at_risk_list(path: str | Path | None) -> tuple[pd.DataFrame | None, str | None]:
    """The previous month's at-risk list from an earlier run and its place in the reports
    (``2026-10/03_churn_drivers/at_risk_accounts.csv``); ``(None, None)`` when there is no file or it
    lacks the columns an alert needs (the list is then recomputed as of the previous month)."""
    if path is None:
        return None, None
    path = Path(path)
    frame = read_previous_list(path)
    if frame is None:
        return None, None
    return frame, f"{path.parent.parent.name}/{path.parent.name}/{path.name}"
