"""Timelines of the reviewed accounts: weekly usage of the key events, dated touchpoints (tickets,
NPS, CSM activities), the health score at a fine cadence, and usage aligned on a reference day.
Event aggregation runs in the engine (DuckDB SQL); only per-account weekly rows come back."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from ...core import features, health
from ...data import Dataset


def key_events(ds: Dataset, n: int = 3, as_of: pd.Timestamp | None = None) -> list[str]:
    """The ``n`` most used event names (by summed quantity) up to ``as_of``: the default key events."""
    if not ds.has("usage_events"):
        return []
    where = "WHERE event_time < ?" if as_of is not None else ""
    params = [pd.Timestamp(as_of) + pd.Timedelta(days=1)] if as_of is not None else None
    top = ds.sql(f"SELECT event_name, sum(quantity) AS q FROM usage_events {where} "
                 f"GROUP BY 1 ORDER BY q DESC, event_name LIMIT {int(n)}", params)
    return top["event_name"].tolist()


def weekly_activity(ds: Dataset, account_ids: Sequence[str], start: pd.Timestamp, end: pd.Timestamp,
                    events: Sequence[str] | None = None) -> pd.DataFrame:
    """Weekly usage per account in long form, zeros included: ``account_id, week, metric, value``.

    ``metric`` is each key event's name (summed quantity that week) plus ``active users`` (distinct
    users with any event that week). Weeks start on Monday; ``[start, end]`` is inclusive. Aggregated
    in DuckDB so the events never come into pandas. No ``usage_events`` table: an empty frame.
    """
    columns = ["account_id", "week", "metric", "value"]
    if not ds.has("usage_events") or not len(account_ids):
        return pd.DataFrame(columns=columns)
    events = list(events or [])
    frame = ds.sql(
        """
        WITH ids AS (SELECT unnest($ids) AS account_id),
        weeks AS (
            SELECT unnest(generate_series(date_trunc('week', $start::DATE), date_trunc('week', $end::DATE),
                                          INTERVAL 7 DAY))::DATE AS week
        ),
        metrics AS (SELECT unnest($events) AS metric UNION ALL SELECT 'active users'),
        ev AS (
            SELECT account_id, date_trunc('week', event_time)::DATE AS week, event_name, quantity, user_id
            FROM usage_events
            WHERE account_id IN (SELECT account_id FROM ids)
              AND event_time >= date_trunc('week', $start::DATE) AND event_time < $end::DATE + INTERVAL 1 DAY
        ),
        counted AS (
            SELECT account_id, week, event_name AS metric, sum(quantity) AS value
            FROM ev WHERE event_name IN (SELECT unnest($events)) GROUP BY ALL
            UNION ALL
            SELECT account_id, week, 'active users', count(DISTINCT user_id) FROM ev GROUP BY ALL
        )
        SELECT i.account_id, w.week, m.metric, coalesce(c.value, 0)::DOUBLE AS value
        FROM ids i CROSS JOIN weeks w CROSS JOIN metrics m
        LEFT JOIN counted c ON c.account_id = i.account_id AND c.week = w.week AND c.metric = m.metric
        ORDER BY 1, 2, 3
        """,
        {"ids": list(account_ids), "start": pd.Timestamp(start).date(), "end": pd.Timestamp(end).date(),
         "events": events},
    )
    frame["week"] = pd.to_datetime(frame["week"])
    return frame[columns]


def account_events(ds: Dataset, account_ids: Sequence[str], start: pd.Timestamp,
                   end: pd.Timestamp) -> dict[str, pd.DataFrame | None]:
    """Dated touchpoints of the accounts between ``start`` and ``end`` (inclusive), one frame each:

    - ``tickets``: ``account_id, month, priority, tickets`` (monthly counts by priority);
    - ``nps``: ``account_id, answered_at, score`` (NPS answers);
    - ``activities``: ``account_id, occurred_at, activity_type``.

    A table the data does not have maps to None (the report says so); no rows is an empty frame.
    """
    params = {"ids": list(account_ids), "start": pd.Timestamp(start).date(), "end": pd.Timestamp(end).date()}
    window = "account_id IN (SELECT unnest($ids)) AND {col} >= $start::DATE AND {col} < $end::DATE + INTERVAL 1 DAY"
    out: dict[str, pd.DataFrame | None] = {"tickets": None, "nps": None, "activities": None}
    if ds.has("support_tickets"):
        out["tickets"] = ds.sql(
            "SELECT account_id, date_trunc('month', created_at)::DATE AS month, "
            "coalesce(priority, 'unknown') AS priority, count(*) AS tickets FROM support_tickets "
            f"WHERE {window.format(col='created_at')} GROUP BY ALL ORDER BY 1, 2, 3", params)
    if ds.has("surveys"):
        out["nps"] = ds.sql(
            "SELECT account_id, answered_at, score FROM surveys "
            f"WHERE survey_type = 'nps' AND {window.format(col='answered_at')} ORDER BY 1, 2", params)
    if ds.has("cs_activities"):
        out["activities"] = ds.sql(
            "SELECT account_id, occurred_at, coalesce(activity_type, 'other') AS activity_type FROM cs_activities "
            f"WHERE {window.format(col='occurred_at')} ORDER BY 1, 2", params)
    for key, frame in out.items():
        if frame is not None:
            for col in ("month", "answered_at", "occurred_at"):
                if col in frame:
                    frame[col] = pd.to_datetime(frame[col])
    return out


def health_timeline(ds: Dataset, account_ids: Sequence[str], start: pd.Timestamp, end: pd.Timestamp, config,
                    every_days: int = 7, value_milestone: str = "first_value") -> pd.DataFrame:
    """Health score of a few accounts every ``every_days`` days (for a single-account page): the same
    :func:`csresearch.core.health.health_scores` on :func:`csresearch.core.features.account_features`, finer."""
    dates = list(pd.date_range(pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize(), freq=f"{every_days}D"))
    if not dates:
        return pd.DataFrame(columns=["account_id", "observation_date", "health_score", "health_band", "triggered",
                                     "playbook"])
    feats = features.account_features(ds, dates, value_milestone=value_milestone)
    feats = feats[feats["account_id"].isin(account_ids)]
    if feats.empty:
        return pd.DataFrame(columns=["account_id", "observation_date", "health_score", "health_band", "triggered",
                                     "playbook"])
    return health.health_scores(feats.reset_index(drop=True), config)


def aligned_usage(ds: Dataset, pairs: pd.DataFrame, weeks: int = 26,
                  events: Sequence[str] | None = None) -> pd.DataFrame:
    """Weekly usage of each ``(account_id, ref_date)`` in the ``weeks`` weeks before ``ref_date``, aligned
    so that week -1 ends on the reference day: ``account_id, ref_date, week (-weeks..-1), events,
    active_users, index`` where ``index`` is events relative to the account's first-half mean (100 =
    as busy as it used to be; NaN when the account had no events in the first half).
    Only ``events`` count when given (active users always count every event). Aggregated in DuckDB.
    """
    cols = ["account_id", "ref_date", "week", "events", "active_users", "index"]
    if not ds.has("usage_events") or pairs.empty:
        return pd.DataFrame(columns=cols)
    keys = pairs[["account_id", "ref_date"]].drop_duplicates().copy()
    keys["ref_date"] = pd.to_datetime(keys["ref_date"]).dt.date
    ds.con.register("_pm_pairs", keys)
    try:
        frame = ds.sql(
            """
            WITH grid AS (
                SELECT p.account_id, p.ref_date, unnest(generate_series(-$weeks, -1)) AS week FROM _pm_pairs p
            ),
            ev AS (
                SELECT p.account_id, p.ref_date,
                       -1 - floor(date_diff('day', e.event_time::DATE, p.ref_date) / 7)::INT AS week,
                       e.user_id, CASE WHEN len($events) = 0 OR list_contains($events, e.event_name)
                                       THEN e.quantity ELSE 0 END AS q
                FROM usage_events e JOIN _pm_pairs p ON e.account_id = p.account_id
                WHERE e.event_time < p.ref_date + INTERVAL 1 DAY
                  AND e.event_time >= p.ref_date + INTERVAL 1 DAY - to_days(7 * $weeks)
            ),
            agg AS (SELECT account_id, ref_date, week, sum(q) AS events, count(DISTINCT user_id) AS active_users
                    FROM ev GROUP BY ALL)
            SELECT g.account_id, g.ref_date, g.week, coalesce(a.events, 0)::DOUBLE AS events,
                   coalesce(a.active_users, 0)::DOUBLE AS active_users
            FROM grid g LEFT JOIN agg a USING (account_id, ref_date, week)
            ORDER BY 1, 2, 3
            """,
            {"weeks": int(weeks), "events": list(events or [])},
        )
    finally:
        ds.con.unregister("_pm_pairs")
    frame["ref_date"] = pd.to_datetime(frame["ref_date"])
    first_half = frame[frame["week"] < -weeks // 2].groupby(["account_id", "ref_date"])["events"].mean()
    base = frame.set_index(["account_id", "ref_date"]).index.map(first_half)
    frame["index"] = 100 * frame["events"] / np.where(np.asarray(base, dtype=float) > 0, base, np.nan)
    return frame[cols]
