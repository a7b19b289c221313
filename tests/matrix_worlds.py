"""Worlds of every common shape, derived from one synthetic world: the exports nobody prepared for us.

- tables: ``core`` (accounts and subscriptions only), ``events`` (+ usage events) or ``all`` (every
  optional table);
- history: the first 3, 6 or 24 months of the world's data window, cut the way an export is cut
  (nothing after the cut; a subscription running past it is open);
- scenarios: ``no_churn``, ``everyone_churns``, ``single_account``, ``no_expansion`` (one subscription
  per account, never changed) and ``one_churn_date`` (every churn on the same day).

Each world is a folder of Parquet files plus the report month it is read for (the last complete
month before the cut).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

CORE = ("accounts", "subscriptions")
EVENTS = (*CORE, "usage_events")
TABLE_SETS = {"core": CORE, "events": EVENTS, "all": None}
DATE_COLUMNS = {
    "accounts": ["created_at"], "subscriptions": ["start_date", "end_date"], "usage_events": ["event_time"],
    "onboarding": ["achieved_at"], "support_tickets": ["created_at", "resolved_at"],
    "cs_activities": ["occurred_at"], "surveys": ["answered_at"], "experiments": ["assigned_at"],
    "churn_reasons": ["churn_date"],
}


def window_start(tables: dict[str, pd.DataFrame]) -> pd.Timestamp:
    """First day of the world's data window (its first usage event's month)."""
    return pd.Timestamp(tables["usage_events"]["event_time"].min()).to_period("M").to_timestamp()


def cut(tables: dict[str, pd.DataFrame], months: int) -> tuple[dict[str, pd.DataFrame], pd.Period]:
    """The world as an export taken after its first ``months`` months: rows dated after the cut are
    not known yet, and a subscription that ends after it is still open."""
    start = window_start(tables)
    end = (start.to_period("M") + months).to_timestamp()  # the export's day: first day after the window
    out = {}
    for name, frame in tables.items():
        frame = frame.copy()
        if name == "subscriptions":
            frame = frame[pd.to_datetime(frame["start_date"]) < end]
            late = pd.to_datetime(frame["end_date"]) >= end
            frame.loc[late, "end_date"] = pd.NaT
        else:
            for column in DATE_COLUMNS.get(name, []):
                if column in frame:
                    when = pd.to_datetime(frame[column])
                    if column in ("resolved_at",):
                        frame.loc[when >= end, column] = pd.NaT
                    else:
                        frame = frame[when.isna() | (when < end)]
        out[name] = frame.reset_index(drop=True)
    known = set(out["accounts"]["account_id"])  # rows of accounts the export does not hold yet go too
    out = {k: (v[v["account_id"].isin(known)].reset_index(drop=True) if k != "accounts" and "account_id" in v else v)
           for k, v in out.items()}
    return out, end.to_period("M") - 1


def keep_tables(tables: dict[str, pd.DataFrame], which: str) -> dict[str, pd.DataFrame]:
    wanted = TABLE_SETS[which]
    return dict(tables) if wanted is None else {k: v for k, v in tables.items() if k in wanted}


def _last_subscription(subs: pd.DataFrame) -> pd.Series:
    order = subs.sort_values(["account_id", "start_date", "subscription_id"])
    return order.groupby("account_id").tail(1).index.to_series()


def scenario(tables: dict[str, pd.DataFrame], name: str, month: pd.Period) -> dict[str, pd.DataFrame]:
    """One of the awkward shapes, made from a cut world."""
    out = {k: v.copy() for k, v in tables.items()}
    subs = out["subscriptions"]
    month_end = month.to_timestamp(how="end").normalize()
    if name == "no_churn":
        last = _last_subscription(subs)
        subs.loc[last, "end_date"] = pd.NaT
        out.pop("churn_reasons", None)
    elif name == "everyone_churns":
        last = _last_subscription(subs)
        start = pd.to_datetime(subs.loc[last, "start_date"])
        ends = (start + pd.Timedelta(days=45)).clip(upper=month_end - pd.Timedelta(days=3))
        subs.loc[last, "end_date"] = np.maximum(ends.to_numpy(), (start + pd.Timedelta(days=1)).to_numpy())
    elif name == "single_account":
        busiest = subs["account_id"].value_counts().index[0]
        out = {k: v[v["account_id"] == busiest].reset_index(drop=True) if "account_id" in v else v
               for k, v in out.items()}
        return out
    elif name == "no_expansion":
        first = subs.sort_values(["account_id", "start_date"]).groupby("account_id").head(1).copy()
        ended = subs.groupby("account_id")["end_date"].agg(lambda s: pd.NaT if s.isna().any() else s.max())
        first["end_date"] = first["account_id"].map(ended)
        out["subscriptions"] = first.reset_index(drop=True)
        return out
    elif name == "one_churn_date":
        last = _last_subscription(subs)
        ended = subs.loc[last, "end_date"].notna()
        day = month_end - pd.Timedelta(days=40)
        chosen = ended[ended].index
        starts = pd.to_datetime(subs.loc[chosen, "start_date"])
        subs.loc[chosen, "end_date"] = np.where(starts < day, day, starts + pd.Timedelta(days=1))
    out["subscriptions"] = subs.reset_index(drop=True)
    return out


def write(tables: dict[str, pd.DataFrame], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.to_parquet(folder / f"{name}.parquet", index=False)
    return folder
