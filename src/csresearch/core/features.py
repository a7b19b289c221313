"""Point-in-time account features: what did we know about each paying account on a given day?

Every feature of an observation ``(account_id, observation_date)`` is computed from data strictly
before ``observation_date`` (the observation happens at 00:00 of that day), so a model trained on
these rows never sees the future. The heavy part, aggregating usage events, tickets, surveys and CS
touches per account and window, runs as SQL inside the engine (DuckDB by default, ``ds.con``); only
account-level rows come back to pandas, where ratios between them are taken.

The SQL is kept plain (CTEs, CASE, joins on ranges, GROUP BY; no engine-specific date functions):
every date boundary is precomputed into a small ``obs`` table of observation dates, so the same text
can be transpiled (sqlglot) to PostgreSQL or Spark. :func:`feature_queries` returns that text.

An account is *paying at* ``observation_date`` when its subscriptions active on the day before
(``start_date <= day < end_date``) sum to MRR > 0: for the observation date that follows a month
(2026-11-01 for October 2026) this is the contract's month-end MRR of that month. A subscription's
future ``end_date`` is never read beyond "not ended yet". ``seats`` is the largest seat count among
the active lines (an add-on line usually repeats the plan's seats, so a sum would double count).
"""

from __future__ import annotations

import re
from typing import Iterable

import pandas as pd

from ..data import Dataset
from ..i18n import N_, _, get_language

# The priority names that count as "high" (lower-cased); a help desk's own names can be passed in.
HIGH_PRIORITIES = ("high", "urgent", "critical")
# Fixed look-backs for slower signals (tickets, CS touches: 90 days; surveys: 180 days), in days.
SLOW_WINDOW_DAYS = 90
SURVEY_WINDOW_DAYS = 180
MRR_CHANGE_DAYS = 90
# months per billing period, for months to renewal
PERIOD_MONTHS = {"monthly": 1, "quarterly": 3, "semiannual": 6, "annual": 12, "multi_year": 24}
ATTRIBUTES = ("segment", "industry", "region", "acquisition_channel", "touch_tier")
# Far enough back to hold any event: the lower edge of the first "last activity" bucket.
EPOCH = pd.Timestamp("1900-01-01")

# Every feature this module can produce: name -> what it means, in words a CS leader reads.
# Per-event-type features (usage_<event>_per_seat, usage_<event>_per_active_user) are added per data set.
FEATURES: dict[str, str] = {
    "mrr": N_("MRR"),
    "mrr_change_90d": N_("MRR change over the last 90 days"),
    "seats": N_("seats"),
    "products": N_("products subscribed"),
    "billing_period": N_("billing period"),
    "months_to_renewal": N_("months to renewal"),
    "months_to_term_renewal": N_("months to renewal of a term contract"),
    "tenure_days": N_("days since the first paid day"),
    "events_30d": N_("product events in the last 30 days"),
    "events_prior_30d": N_("product events in the 30 days before that"),
    "events_per_seat": N_("events per seat (last 30 days)"),
    "events_per_active_user": N_("events per active user (last 30 days)"),
    "active_users": N_("distinct active users (last 30 days)"),
    "active_users_per_seat": N_("active users per seat"),
    "active_days": N_("days with any activity (last 30 days)"),
    "feature_breadth": N_("distinct features used (last 30 days)"),
    "usage_trend": N_("usage trend (last 30 vs prior 30 days, -1 to +1)"),
    "active_users_trend": N_("active-user trend (last 30 vs prior 30 days, -1 to +1)"),
    "days_since_last_activity": N_("days since the last product activity"),
    "tickets_90d": N_("support tickets (last 90 days)"),
    "high_priority_tickets_90d": N_("high-priority tickets (last 90 days)"),
    "open_high_priority_tickets": N_("open high-priority tickets"),
    "ticket_csat": N_("ticket CSAT (1-5, last 180 days)"),
    "nps_score": N_("NPS answer (0-10, last 180 days)"),
    "csat_score": N_("CSAT survey score (1-5, last 180 days)"),
    "cs_touches_90d": N_("CSM touches (last 90 days)"),
    "days_since_cs_touch": N_("days since the last CSM touch"),
    "onboarding_tracked": N_("onboarding tracked (any row in the onboarding table)"),
    "onboarding_milestones": N_("onboarding milestones reached"),
    "onboarding_complete": N_("onboarding complete (all milestones reached)"),
    "value_reached": N_("reached first value"),
    "time_to_value_days": N_("days to first value (or waiting so far)"),
    **{a: a.replace("_", " ") for a in ATTRIBUTES},
}
CATEGORICAL = ("billing_period", *ATTRIBUTES)
# Restatements of other features for the health score's one-metric rules: a rule reads them, a model
# does not (it sees the features they restate, and a copy would split one driver in two).
SCORE_ONLY = ("months_to_term_renewal",)
EVENT_FEATURE = re.compile(r"^usage_[a-z0-9_]+_per_(seat|active_user)$")


def describe(feature: str) -> str:
    """A feature's meaning in plain words (per-event features included), in the run's language (the
    catalog's; an account attribute's name is translated where the catalog has it)."""
    if feature in FEATURES:
        return _(FEATURES[feature])
    m = re.match(r"^usage_(.+)_per_(seat|active_user)$", feature)
    if m:
        # English names the event in words; another language quotes the data's own event_name, a code
        event = m.group(1).replace("_", " ") if get_language() == "en" else m.group(1)
        return (_("'{event}' events per seat (last 30 days)") if m.group(2) == "seat" else
                _("'{event}' events per active user (last 30 days)")).format(event=event)
    return feature.replace("_", " ")


def is_known_feature(name: str) -> bool:
    return name in FEATURES or bool(EVENT_FEATURE.match(name))


# --------------------------------------------------------------------------------------------------
# Observation dates
# --------------------------------------------------------------------------------------------------
def observation_date_for(as_of) -> pd.Timestamp:
    """The observation date of a report month: the first day after it (``2026-10`` -> 2026-11-01),
    so that every event of the month is "before" it. A Timestamp is used as given (at 00:00)."""
    if isinstance(as_of, pd.Period) or (isinstance(as_of, str) and re.fullmatch(r"\d{4}-\d{2}", as_of)):
        return (pd.Period(as_of, "M") + 1).to_timestamp()
    return pd.Timestamp(as_of).normalize()


def observation_dates(first_month, last_month, every_months: int = 1) -> list[pd.Timestamp]:
    """Observation dates after each ``every_months``-th month, counted back from ``last_month``."""
    first, last = pd.Period(first_month, "M"), pd.Period(last_month, "M")
    months = pd.period_range(first, last, freq="M")[::-1][::every_months][::-1]
    return [(m + 1).to_timestamp() for m in months]


def _obs_frame(observation_dates: Iterable, windows_days: tuple[int, int]) -> pd.DataFrame:
    recent, prior = (int(w) for w in windows_days)
    dates = sorted({pd.Timestamp(d).normalize() for d in observation_dates})
    if not dates:
        raise ValueError("no observation dates given")
    t = pd.Series(dates, dtype="datetime64[us]")
    day = pd.Timedelta(days=1)
    return pd.DataFrame({
        "observation_date": t,
        "observation_day": t.dt.date,
        "state_day": (t - day).dt.date,
        "state_day_before": (t - day - pd.Timedelta(days=MRR_CHANGE_DAYS)).dt.date,
        "recent_start": t - pd.Timedelta(days=recent),
        "prior_start": t - pd.Timedelta(days=recent + prior),
        "slow_start": t - pd.Timedelta(days=SLOW_WINDOW_DAYS),
        "survey_start": t - pd.Timedelta(days=SURVEY_WINDOW_DAYS),
        "previous_observation": t.shift(1).fillna(EPOCH).astype("datetime64[us]"),
    })


# the calendar month of an event as one number (year * 12 + month): the key of the equality join that
# replaces a range join over every event (a range join sorts all events by time; this one streams)
EVENT_MONTH = "(EXTRACT(YEAR FROM e.event_time) * 12 + EXTRACT(MONTH FROM e.event_time))"


def _month_of(column: str) -> str:
    return f"(EXTRACT(YEAR FROM {column}) * 12 + EXTRACT(MONTH FROM {column}))"


def _months_spanned(days: int) -> int:
    """The most calendar months a window of ``days`` days can touch."""
    return -(-int(days) // 28) + 1


def _obs_months(start: str, months: int) -> str:
    """A CTE ``obs_months``: each ``obs`` row once per calendar month from the one holding ``start``
    to the one holding ``state_day`` (the day before the observation), at most ``months`` of them,
    keyed ``event_month``. Built from ``obs`` alone (a UNION ALL of month offsets), so the engine sees
    a small table: joined to the events on :data:`EVENT_MONTH` plus the window's own bounds, it meets
    every event in a window exactly once, by a hash join that streams the events."""
    first, last = _month_of("o." + start), _month_of("o.state_day")
    parts = [f"SELECT o.*, {first} + {k} AS event_month FROM obs o WHERE {first} + {k} <= {last}"
             for k in range(months)]
    return "obs_months AS (\n    " + "\n    UNION ALL\n    ".join(parts) + "\n)"


# --------------------------------------------------------------------------------------------------
# SQL (engine-neutral text)
# --------------------------------------------------------------------------------------------------
def _sql_str(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", str(name).lower()).strip("_")
    return slug or "event"


def feature_queries(event_names: Iterable[str] = (), value_milestone: str = "first_value",
                    high_priorities: Iterable[str] = HIGH_PRIORITIES,
                    tables: Iterable[str] | None = None, window_days: int = 60) -> dict[str, str]:
    """The SQL of each feature block, reading table ``obs`` (one row per observation date with its
    window boundaries precomputed) and the contract tables. Each returns one row per
    ``(observation_date, account_id)`` that has something to count. ``window_days``: the usage
    windows' total length (recent + prior) the ``obs`` rows use, at least."""
    tables = set(tables) if tables is not None else {"subscriptions", "usage_events", "support_tickets",
                                                     "surveys", "cs_activities", "onboarding"}
    priorities = ", ".join(_sql_str(p.lower()) for p in high_priorities)
    queries = {
        # the paying accounts and their subscription state on the day before the observation
        "subscriptions": """
WITH active AS (
    SELECT o.observation_date, s.account_id, s.mrr, s.seats, s.product, s.billing_period, s.start_date,
           row_number() OVER (PARTITION BY o.observation_date, s.account_id
                              ORDER BY s.mrr DESC, s.start_date, s.subscription_id) AS rank_by_mrr
    FROM obs o
    JOIN subscriptions s ON s.start_date <= o.state_day AND (s.end_date IS NULL OR s.end_date > o.state_day)
),
paying AS (
    SELECT observation_date, account_id, sum(mrr) AS mrr, max(seats) AS seats,
           count(DISTINCT product) AS products
    FROM active GROUP BY observation_date, account_id HAVING sum(mrr) > 0
),
main_line AS (
    SELECT observation_date, account_id, billing_period, start_date AS main_start
    FROM active WHERE rank_by_mrr = 1
),
before AS (
    SELECT o.observation_date, s.account_id, sum(s.mrr) AS mrr_before
    FROM obs o
    JOIN subscriptions s ON s.start_date <= o.state_day_before
     AND (s.end_date IS NULL OR s.end_date > o.state_day_before)
    GROUP BY o.observation_date, s.account_id
),
first_paid AS (
    SELECT o.observation_date, s.account_id, min(s.start_date) AS first_paid_day
    FROM obs o JOIN subscriptions s ON s.start_date <= o.state_day AND s.mrr > 0
    GROUP BY o.observation_date, s.account_id
)
SELECT p.observation_date, p.account_id, p.mrr, p.seats, p.products, m.billing_period, m.main_start,
       b.mrr_before, f.first_paid_day
FROM paying p
JOIN main_line m ON m.observation_date = p.observation_date AND m.account_id = p.account_id
JOIN first_paid f ON f.observation_date = p.observation_date AND f.account_id = p.account_id
LEFT JOIN before b ON b.observation_date = p.observation_date AND b.account_id = p.account_id
""",
    }
    if "usage_events" in tables:
        by_slug: dict[str, list[str]] = {}
        for n in event_names:  # names differing only in case or punctuation share one column
            by_slug.setdefault(_slug(n), []).append(n)
        per_event = "".join(
            f",\n       sum(CASE WHEN e.event_time >= o.recent_start AND e.event_name IN "
            f"({', '.join(_sql_str(n) for n in names)}) THEN e.quantity ELSE 0 END) AS \"ev_{slug}\""
            for slug, names in by_slug.items()
        )
        queries["usage"] = f"""
WITH {_obs_months("prior_start", _months_spanned(window_days))}
SELECT o.observation_date, e.account_id,
       sum(CASE WHEN e.event_time >= o.recent_start THEN e.quantity ELSE 0 END) AS events_30d,
       sum(CASE WHEN e.event_time < o.recent_start THEN e.quantity ELSE 0 END) AS events_prior_30d,
       count(DISTINCT CASE WHEN e.event_time >= o.recent_start THEN e.user_id END) AS active_users,
       count(DISTINCT CASE WHEN e.event_time < o.recent_start THEN e.user_id END) AS active_users_prior,
       count(DISTINCT CASE WHEN e.event_time >= o.recent_start THEN CAST(e.event_time AS DATE) END) AS active_days,
       count(DISTINCT CASE WHEN e.event_time >= o.recent_start THEN e.event_name END) AS feature_breadth{per_event}
FROM obs_months o
JOIN usage_events e ON {EVENT_MONTH} = o.event_month
 AND e.event_time >= o.prior_start AND e.event_time < o.observation_date
GROUP BY o.observation_date, e.account_id
"""
        # last activity: the latest event of each account and month, the latest of those before the
        # observation's month, and the observation's own month up to the observation (equality joins
        # on the month: no range join over every event)
        queries["last_activity"] = f"""
WITH monthly AS (
    SELECT e.account_id, {EVENT_MONTH} AS event_month, max(e.event_time) AS last_event_time
    FROM usage_events e
    GROUP BY e.account_id, {EVENT_MONTH}
),
candidates AS (
    SELECT o.observation_date, m.account_id, m.last_event_time
    FROM obs o JOIN monthly m ON m.event_month < {_month_of("o.observation_date")}
    UNION ALL
    SELECT o.observation_date, e.account_id, e.event_time AS last_event_time
    FROM obs o JOIN usage_events e ON {EVENT_MONTH} = {_month_of("o.observation_date")}
     AND e.event_time < o.observation_date
)
SELECT observation_date, account_id, max(last_event_time) AS last_event_time
FROM candidates
GROUP BY observation_date, account_id
"""
    if "support_tickets" in tables:
        queries["tickets"] = f"""
SELECT o.observation_date, t.account_id,
       sum(CASE WHEN t.created_at >= o.slow_start THEN 1 ELSE 0 END) AS tickets_90d,
       sum(CASE WHEN t.created_at >= o.slow_start AND lower(t.priority) IN ({priorities})
                THEN 1 ELSE 0 END) AS high_priority_tickets_90d,
       sum(CASE WHEN lower(t.priority) IN ({priorities})
                 AND (t.resolved_at IS NULL OR t.resolved_at >= o.observation_date)
                THEN 1 ELSE 0 END) AS open_high_priority_tickets,
       avg(CASE WHEN t.created_at >= o.survey_start AND t.resolved_at < o.observation_date
                THEN t.csat END) AS ticket_csat
FROM obs o
JOIN support_tickets t ON t.created_at < o.observation_date
GROUP BY o.observation_date, t.account_id
"""
    if "surveys" in tables:
        queries["surveys"] = """
SELECT o.observation_date, s.account_id,
       avg(CASE WHEN lower(s.survey_type) = 'nps' THEN s.score END) AS nps_score,
       avg(CASE WHEN lower(s.survey_type) = 'csat' THEN s.score END) AS csat_score
FROM obs o
JOIN surveys s ON s.answered_at >= o.survey_start AND s.answered_at < o.observation_date
GROUP BY o.observation_date, s.account_id
"""
    if "cs_activities" in tables:
        queries["cs_touches"] = """
SELECT o.observation_date, a.account_id,
       sum(CASE WHEN a.occurred_at >= o.slow_start THEN 1 ELSE 0 END) AS cs_touches_90d,
       max(a.occurred_at) AS last_cs_touch
FROM obs o
JOIN cs_activities a ON a.occurred_at < o.observation_date
GROUP BY o.observation_date, a.account_id
"""
    if "onboarding" in tables:
        queries["onboarding"] = f"""
SELECT o.observation_date, m.account_id,
       sum(CASE WHEN m.achieved_at < o.observation_day THEN 1 ELSE 0 END) AS onboarding_milestones,
       max(CASE WHEN m.milestone = {_sql_str(value_milestone)} AND m.achieved_at < o.observation_day
                THEN m.achieved_at END) AS value_reached_on
FROM obs o CROSS JOIN onboarding m
GROUP BY o.observation_date, m.account_id
"""
    return {name: q.strip() for name, q in queries.items()}


# --------------------------------------------------------------------------------------------------
# Features
# --------------------------------------------------------------------------------------------------
def _trend(recent: pd.Series, prior: pd.Series) -> pd.Series:
    """(recent - prior) / (recent + prior): -1 stopped, 0 flat, +1 started; 0 when both are 0."""
    total = recent + prior
    return ((recent - prior) / total.where(total > 0)).fillna(0.0)


def _months_to_renewal(state_day: pd.Series, main_start: pd.Series, billing_period: pd.Series) -> pd.Series:
    """Whole months until the main subscription line's next billing anniversary (1..period)."""
    period = billing_period.fillna("monthly").str.lower().map(PERIOD_MONTHS).fillna(1).astype(int)
    elapsed = ((state_day.dt.year - main_start.dt.year) * 12 + state_day.dt.month - main_start.dt.month
               - (state_day.dt.day < main_start.dt.day).astype(int))
    return (period - elapsed.clip(lower=0) % period).astype(float)


def _days(later: pd.Series, earlier: pd.Series) -> pd.Series:
    return (pd.to_datetime(later) - pd.to_datetime(earlier)).dt.total_seconds() / 86400.0


def _date_chunks(obs: pd.DataFrame, ds: Dataset, max_groups: int | None) -> list[pd.DataFrame]:
    """``obs`` split into runs of consecutive observation dates with at most ``max_groups``
    (observation date x account) pairs each (by the number of accounts); one chunk when it fits."""
    if max_groups is None:
        return [obs]
    accounts = max(1, int(ds.con.execute("SELECT count(*) FROM accounts").fetchone()[0]))
    per_chunk = max(1, max_groups // accounts)
    return [obs.iloc[i:i + per_chunk] for i in range(0, len(obs), per_chunk)]


USAGE_MAX_GROUPS = 500_000  # (observation date x account) pairs per run of the usage query


def account_features(ds: Dataset, observation_dates: list[pd.Timestamp],
                     windows_days: tuple[int, int] = (30, 30), value_milestone: str = "first_value",
                     high_priorities: Iterable[str] = HIGH_PRIORITIES,
                     max_groups: int | None = USAGE_MAX_GROUPS) -> pd.DataFrame:
    """One row per ``(account_id, observation_date)`` for every account paying at the observation
    date, with features computed only from data strictly before it (see the module docstring).

    ``windows_days`` = (recent, prior): usage is counted over the last ``recent`` days and compared
    with the ``prior`` days before them. Columns of optional tables that are missing are left out
    (``result.attrs["missing_tables"]`` lists them); per-event-type usage columns are named
    ``usage_<event>_per_seat`` and ``usage_<event>_per_active_user``.

    The usage block runs for at most ``max_groups`` (observation date x account) pairs at a time
    (a few observation dates per run at 100,000 accounts), which bounds the engine's memory; the
    result does not depend on it.
    """
    obs = _obs_frame(observation_dates, windows_days)
    present = [t for t in ("subscriptions", "usage_events", "support_tickets", "surveys", "cs_activities",
                           "onboarding") if ds.has(t)]
    event_names: list[str] = []
    if ds.has("usage_events"):
        event_names = [r[0] for r in ds.con.execute(
            "SELECT DISTINCT event_name FROM usage_events ORDER BY 1").fetchall()]
    queries = feature_queries(event_names, value_milestone, high_priorities, present, window_days=sum(windows_days))

    view, chunk_view = f"obs_{id(obs)}", f"obs_chunk_{id(obs)}"

    def run(query: str, table: str = view) -> pd.DataFrame:
        return ds.con.execute(re.sub(r"\bobs\b", table, query)).df()

    ds.con.register(view, obs)
    blocks = {}
    try:
        for name, q in queries.items():
            if name != "usage":
                blocks[name] = run(q)
                continue
            # the usage block's distinct counts hold state per (observation date, account): run it
            # for a few observation dates at a time so that state stays bounded at any size
            parts = []
            chunks = _date_chunks(obs, ds, max_groups)
            for chunk in chunks:
                if len(chunks) == 1:
                    parts.append(run(q))
                    continue
                ds.con.register(chunk_view, chunk)
                try:
                    parts.append(run(q, chunk_view))
                finally:
                    ds.con.unregister(chunk_view)
            blocks[name] = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
            del parts
    finally:
        ds.con.unregister(view)

    # sorted first: the left merges keep this order, so the result needs no sorted copy at the end
    out = blocks.pop("subscriptions").sort_values(["observation_date", "account_id"]).reset_index(drop=True)
    for name in list(blocks):  # each block is freed once merged
        frame = blocks.pop(name)
        frame["observation_date"] = pd.to_datetime(frame["observation_date"])
        out = out.merge(frame, on=["observation_date", "account_id"], how="left")
        del frame
    out["observation_date"] = pd.to_datetime(out["observation_date"])
    state_day = out["observation_date"] - pd.Timedelta(days=1)

    features = pd.DataFrame({"account_id": out["account_id"], "observation_date": out["observation_date"]})
    features["mrr"] = out["mrr"].astype(float)
    before = out["mrr_before"].astype(float)
    features["mrr_change_90d"] = (out["mrr"] / before.where(before > 0) - 1).astype(float)
    features["seats"] = out["seats"].astype(float)
    features["products"] = out["products"].astype(float)
    features["billing_period"] = out["billing_period"].fillna("unknown").astype(str)
    features["months_to_renewal"] = _months_to_renewal(state_day, pd.to_datetime(out["main_start"]),
                                                       out["billing_period"])
    # a term contract can only be left at its renewal; a monthly plan at any month end (no term: missing)
    monthly = out["billing_period"].fillna("monthly").str.lower() == "monthly"
    features["months_to_term_renewal"] = features["months_to_renewal"].where(~monthly)
    first_paid = pd.to_datetime(out["first_paid_day"])
    features["tenure_days"] = _days(out["observation_date"], first_paid)
    seats = features["seats"].where(features["seats"] > 0)

    missing = [t for t in ("usage_events", "support_tickets", "surveys", "cs_activities", "onboarding")
               if t not in present]
    if "usage_events" in present:
        counts = ["events_30d", "events_prior_30d", "active_users", "active_users_prior", "active_days",
                  "feature_breadth"]
        out[counts] = out[counts].fillna(0).astype(float)
        for col in ("events_30d", "events_prior_30d", "active_users", "active_days", "feature_breadth"):
            features[col] = out[col]
        active = out["active_users"].where(out["active_users"] > 0)
        features["events_per_seat"] = out["events_30d"] / seats
        features["events_per_active_user"] = (out["events_30d"] / active).fillna(0.0)
        features["active_users_per_seat"] = out["active_users"] / seats
        features["usage_trend"] = _trend(out["events_30d"], out["events_prior_30d"])
        features["active_users_trend"] = _trend(out["active_users"], out["active_users_prior"])
        never = features["tenure_days"]  # never active: as long ago as the first paid day
        features["days_since_last_activity"] = _days(out["observation_date"], out["last_event_time"]).fillna(never)
        for slug in dict.fromkeys(_slug(n) for n in event_names):
            col = out[f"ev_{slug}"].fillna(0).astype(float)
            features[f"usage_{slug}_per_seat"] = col / seats
            features[f"usage_{slug}_per_active_user"] = (col / active).fillna(0.0)
    if "support_tickets" in present:
        for col in ("tickets_90d", "high_priority_tickets_90d", "open_high_priority_tickets"):
            features[col] = out[col].fillna(0).astype(float)
        features["ticket_csat"] = out["ticket_csat"].astype(float)
    if "surveys" in present:
        features["nps_score"] = out["nps_score"].astype(float)
        features["csat_score"] = out["csat_score"].astype(float)
    if "cs_activities" in present:
        features["cs_touches_90d"] = out["cs_touches_90d"].fillna(0).astype(float)
        features["days_since_cs_touch"] = _days(out["observation_date"], out["last_cs_touch"]).fillna(
            features["tenure_days"])
    if "onboarding" in present:
        total = ds.con.execute("SELECT count(DISTINCT milestone) FROM onboarding").fetchone()[0] or 1
        reached_on = pd.to_datetime(out["value_reached_on"])
        # tracked: the account has any row in the onboarding table (as the survival report reads it).
        # An account with none is unknown, never "has not reached value": its onboarding columns stay
        # missing and onboarding_tracked = 0 is the missing indicator.
        tracked = out["onboarding_milestones"].notna()
        features["onboarding_tracked"] = tracked.astype(float)
        features["onboarding_milestones"] = out["onboarding_milestones"].astype(float)
        features["onboarding_complete"] = (features["onboarding_milestones"] >= total).astype(float).where(tracked)
        features["value_reached"] = reached_on.notna().astype(float).where(tracked)
        # reached: days from the first paid day to value; not yet: days waiting so far (a lower bound)
        waited = _days(reached_on, first_paid).clip(lower=0).fillna(features["tenure_days"])
        features["time_to_value_days"] = waited.where(tracked)

    del out, state_day, seats
    accounts = ds.table("accounts")
    attributes = [a for a in ATTRIBUTES if a in accounts.columns]
    if attributes:  # one column at a time (a merge would copy every feature column)
        attrs = accounts[["account_id", *attributes]].drop_duplicates("account_id").set_index("account_id")
        for a in attributes:
            features[a] = features["account_id"].map(attrs[a].fillna("unknown").astype(str))
    features = features.reset_index(drop=True)
    features.attrs["missing_tables"] = missing
    features.attrs["event_names"] = event_names
    features.attrs["windows_days"] = tuple(int(w) for w in windows_days)
    return features


def numeric_features(features: pd.DataFrame) -> list[str]:
    """The numeric feature columns of an :func:`account_features` frame (keys and categoricals excluded)."""
    skip = {"account_id", "observation_date", *CATEGORICAL}
    return [c for c in features.columns if c not in skip and pd.api.types.is_numeric_dtype(features[c])]


def categorical_features(features: pd.DataFrame) -> list[str]:
    return [c for c in CATEGORICAL if c in features.columns]
