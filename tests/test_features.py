"""Point-in-time features: hand-computed values on a tiny world, and the leak test (nothing at or after
the observation date changes any feature of that observation)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from conftest import write_tables
from csresearch.core import features as feat
from csresearch.core.health import health_scores, parse_health_config
from csresearch.data import open_dataset

d = pd.Timestamp


def hand_world() -> dict:
    """Two accounts, every optional table, dates chosen so each feature can be worked out by hand."""
    return {
        "accounts": pd.DataFrame({
            "account_id": ["A1", "A2"], "created_at": [d("2024-01-01"), d("2024-01-01")],
            "account_name": ["Acme", "Globex"], "segment": ["SMB", "Enterprise"], "touch_tier": ["tech", "high"],
        }),
        "subscriptions": pd.DataFrame({
            "subscription_id": ["S1", "S2", "S3", "S4"],
            "account_id": ["A1", "A1", "A2", "A2"],
            "product": ["Starter", "Add-on", "Enterprise", "Enterprise"],
            # A1: plan since Jan 10 (10 seats), add-on from Mar 1 repeating the 10 seats
            # A2: annual from Feb 15 at 1,000, a price change on Apr 15 to 1,200 (ends after the observation)
            "start_date": [d("2024-01-10"), d("2024-03-01"), d("2024-02-15"), d("2024-04-15")],
            "end_date": [pd.NaT, pd.NaT, d("2024-04-15"), d("2024-09-01")],
            "mrr": [100.0, 20.0, 1000.0, 1200.0],
            "billing_period": ["monthly", "monthly", "annual", "annual"],
            "seats": [10, 10, 50, 50],
            "currency": ["USD"] * 4,
        }),
        "usage_events": pd.DataFrame({
            "account_id": ["A1"] * 6 + ["A2"],
            "user_id": ["u1", "u1", "u2", "u3", "u1", "u9"] + ["v1"],
            "event_time": [d("2024-05-02 10:00"), d("2024-05-20 12:00"), d("2024-05-25 08:00"),  # recent 30 days
                           d("2024-04-10 09:00"),                                               # prior 30 days
                           d("2024-06-01 00:00"),                                               # on the date: excluded
                           d("2024-07-01 00:00"),                                               # after: excluded
                           d("2024-03-01 12:00")],                                              # A2, long ago
            "event_name": ["login", "export", "login", "login", "login", "login", "login"],
            "quantity": [1.0, 3.0, 2.0, 4.0, 100.0, 100.0, 1.0],
        }),
        "support_tickets": pd.DataFrame({
            "ticket_id": ["T1", "T2", "T3", "T4"], "account_id": ["A1", "A1", "A1", "A2"],
            "created_at": [d("2024-05-10"), d("2024-01-05"), d("2024-05-31 23:00"), d("2024-06-02")],
            # T1 high, still open at the observation (resolved after it); T2 urgent but old and resolved;
            # T3 normal, resolved before the date with CSAT 2; T4 after the date
            "resolved_at": [d("2024-06-10"), d("2024-01-06"), d("2024-05-31 23:30"), pd.NaT],
            "priority": ["high", "Urgent", "normal", "high"], "category": ["bug"] * 4,
            "csat": [5.0, 1.0, 2.0, 4.0],
        }),
        "surveys": pd.DataFrame({
            "account_id": ["A1", "A1", "A1"], "user_id": ["u1", "u2", "u1"],
            "answered_at": [d("2024-04-01"), d("2024-05-15"), d("2024-06-15")],
            "survey_type": ["nps", "nps", "nps"], "score": [6.0, 9.0, 0.0],
        }),
        "cs_activities": pd.DataFrame({
            "activity_id": ["C1", "C2", "C3"], "account_id": ["A1", "A1", "A2"],
            "occurred_at": [d("2024-01-20"), d("2024-05-11"), d("2024-06-03")],
            "activity_type": ["call", "qbr", "call"], "owner": ["x", "x", "y"],
        }),
        "onboarding": pd.DataFrame({
            "account_id": ["A1", "A1", "A2", "A2"], "milestone": ["kickoff", "first_value", "kickoff", "first_value"],
            "achieved_at": [d("2024-01-12"), d("2024-02-09"), d("2024-02-20"), d("2024-06-20")],
        }),
    }


@pytest.fixture(scope="module")
def hand_features(tmp_path_factory):
    path = write_tables(hand_world(), tmp_path_factory.mktemp("hand") / "w.duckdb", "duckdb")
    ds = open_dataset(path)
    return feat.account_features(ds, [d("2024-06-01")]).set_index("account_id")


def test_hand_computed_usage_features(hand_features):
    a1 = hand_features.loc["A1"]
    # recent window [May 2, Jun 1): 1 + 3 + 2 events by u1, u2; prior [Apr 2, May 2): 4 by u3
    assert a1["events_30d"] == 6 and a1["events_prior_30d"] == 4
    assert a1["active_users"] == 2 and a1["feature_breadth"] == 2 and a1["active_days"] == 3
    assert a1["seats"] == 10  # the add-on repeats the plan's 10 seats: not 20
    assert a1["events_per_seat"] == pytest.approx(0.6)
    assert a1["events_per_active_user"] == pytest.approx(3.0)
    assert a1["active_users_per_seat"] == pytest.approx(0.2)
    assert a1["usage_trend"] == pytest.approx((6 - 4) / (6 + 4))
    assert a1["active_users_trend"] == pytest.approx((2 - 1) / (2 + 1))
    assert a1["usage_login_per_seat"] == pytest.approx(0.3) and a1["usage_export_per_seat"] == pytest.approx(0.3)
    # last event May 25 08:00 -> 6 days 16 hours before Jun 1
    assert a1["days_since_last_activity"] == pytest.approx(6 + 16 / 24)
    a2 = hand_features.loc["A2"]
    assert a2["events_30d"] == 0 and a2["usage_trend"] == 0  # nothing in either window: flat, not NaN
    assert a2["days_since_last_activity"] == pytest.approx(92 - 0.5)  # Mar 1 noon to Jun 1: 31 + 30 + 31 days less half a day


def test_hand_computed_subscription_features(hand_features):
    a1, a2 = hand_features.loc["A1"], hand_features.loc["A2"]
    assert a1["mrr"] == 120 and a1["products"] == 2
    # 90 days before May 31 is Mar 2: plan + add-on already -> no change
    assert a1["mrr_change_90d"] == pytest.approx(0.0)
    assert a1["tenure_days"] == (d("2024-06-01") - d("2024-01-10")).days
    assert a2["mrr"] == 1200 and a2["billing_period"] == "annual"
    assert a2["mrr_change_90d"] == pytest.approx(0.2)  # Mar 2: 1,000 -> May 31: 1,200
    # the current line started Apr 15; on May 31 one whole month has passed -> 11 months to its anniversary
    assert a2["months_to_renewal"] == 11
    assert a1["months_to_renewal"] == 1


def test_hand_computed_support_survey_cs_onboarding(hand_features):
    a1, a2 = hand_features.loc["A1"], hand_features.loc["A2"]
    assert a1["tickets_90d"] == 2  # T1 and T3 (T2 is older than 90 days)
    assert a1["high_priority_tickets_90d"] == 1
    assert a1["open_high_priority_tickets"] == 1  # T1 resolved only after the date
    # ticket CSAT over 180 days of resolved tickets: T2 (1) and T3 (2); T1 is resolved only after the date
    assert a1["ticket_csat"] == 1.5
    assert a1["nps_score"] == pytest.approx(7.5)  # 6 and 9; the 0 is after the date
    assert np.isnan(a2["nps_score"])
    assert a1["cs_touches_90d"] == 1 and a1["days_since_cs_touch"] == 21
    assert a1["value_reached"] == 1 and a1["time_to_value_days"] == 30  # Jan 10 -> Feb 9
    assert a1["onboarding_milestones"] == 2 and a1["onboarding_complete"] == 1
    # A2 reaches value only after the date: waiting since Feb 15
    assert a2["value_reached"] == 0 and a2["time_to_value_days"] == (d("2024-06-01") - d("2024-02-15")).days
    assert a2["tickets_90d"] == 0 and a2["cs_touches_90d"] == 0


def test_term_renewal_is_missing_on_monthly_plans(hand_features):
    """months_to_term_renewal restates months to renewal for term contracts only: a monthly plan has no
    term (missing), so the health score's renewal rule gives it its missing score instead of 'renews now'."""
    a1, a2 = hand_features.loc["A1"], hand_features.loc["A2"]
    assert np.isnan(a1["months_to_term_renewal"]) and a1["months_to_renewal"] == 1
    assert a2["months_to_term_renewal"] == a2["months_to_renewal"] == 11
    assert "months_to_term_renewal" in feat.SCORE_ONLY  # never a model feature (it restates another)


def test_an_account_without_onboarding_rows_has_unknown_time_to_value(tmp_path):
    """Issue 16.5: no onboarding row is 'not tracked' (unknown), never 'has not reached value'. A3 pays
    since Jan 2024 and has no onboarding row: its onboarding columns are missing and onboarding_tracked
    (the missing indicator) is 0; A2 is tracked and still waiting, so it keeps its days waited so far."""
    world = hand_world()
    world["accounts"] = pd.concat([world["accounts"], pd.DataFrame({
        "account_id": ["A3"], "created_at": [d("2024-01-01")], "account_name": ["Initech"], "segment": ["SMB"],
        "touch_tier": ["tech"]})], ignore_index=True)
    world["subscriptions"] = pd.concat([world["subscriptions"], pd.DataFrame({
        "subscription_id": ["S5"], "account_id": ["A3"], "product": ["Starter"], "start_date": [d("2024-01-05")],
        "end_date": [pd.NaT], "mrr": [50.0], "billing_period": ["monthly"], "seats": [2], "currency": ["USD"]})],
        ignore_index=True)
    ds = open_dataset(write_tables(world, tmp_path / "w.duckdb", "duckdb"))
    f = feat.account_features(ds, [d("2024-06-01")]).set_index("account_id")
    a3 = f.loc["A3"]
    assert a3["onboarding_tracked"] == 0
    for column in ("time_to_value_days", "value_reached", "onboarding_milestones", "onboarding_complete"):
        assert np.isnan(a3[column]), column
    assert f.loc["A2", "onboarding_tracked"] == 1 and f.loc["A2", "value_reached"] == 0
    assert f.loc["A2", "time_to_value_days"] == (d("2024-06-01") - d("2024-02-15")).days
    assert f.loc["A1", "time_to_value_days"] == 30
    # the health score reads the unknown as its missing score and never triggers "slow time to value" on it
    config = parse_health_config({"components": [
        {"name": "time_to_value", "metric": "time_to_value_days", "bad_when": "above", "red": 60, "green": 30,
         "weight": 1, "playbook": "onboard", "missing_score": 50}]})
    s = health_scores(f.reset_index(), config).set_index("account_id")
    assert s.loc["A3", "health_score"] == 50 and s.loc["A3", "triggered"] == ""
    assert s.loc["A2", "health_score"] == 0 and s.loc["A2", "triggered"] != ""
    assert s.loc["A1", "health_score"] == 100


def test_accounts_not_paying_are_not_observed(tmp_path):
    ds = open_dataset(write_tables(hand_world(), tmp_path / "w.duckdb", "duckdb"))
    f = feat.account_features(ds, [d("2024-01-10"), d("2024-01-11"), d("2024-02-16")])
    # A1 starts paying Jan 10: observed from Jan 11 (the day before must be paid), A2 from Feb 16
    assert set(f.loc[f["observation_date"] == d("2024-01-10"), "account_id"]) == set()
    assert set(f.loc[f["observation_date"] == d("2024-01-11"), "account_id"]) == {"A1"}
    assert set(f.loc[f["observation_date"] == d("2024-02-16"), "account_id"]) == {"A1", "A2"}


def test_missing_optional_tables_leave_their_features_out(tmp_path):
    world = {k: v for k, v in hand_world().items() if k in ("accounts", "subscriptions", "usage_events")}
    ds = open_dataset(write_tables(world, tmp_path / "w.duckdb", "duckdb"))
    f = feat.account_features(ds, [d("2024-06-01")])
    assert "events_per_seat" in f and "tickets_90d" not in f and "nps_score" not in f
    assert set(f.attrs["missing_tables"]) == {"support_tickets", "surveys", "cs_activities", "onboarding"}


# --------------------------------------------------------------------------------------------------
# The leak test
# --------------------------------------------------------------------------------------------------
TIME_COLUMNS = {"usage_events": ["event_time"], "support_tickets": ["created_at", "resolved_at"],
                "surveys": ["answered_at"], "cs_activities": ["occurred_at"], "onboarding": ["achieved_at"]}


def _move_later(frame: pd.DataFrame, columns: list[str], cutoff: pd.Timestamp, rng) -> pd.DataFrame:
    """Push every value at or after the cutoff later by a random 0-365 days (one offset per row, so a
    ticket's resolution stays after its creation)."""
    frame = frame.copy()
    offsets = pd.to_timedelta(rng.integers(0, 365 * 24 * 3600, len(frame)), unit="s")
    for col in columns:
        late = frame[col] >= cutoff
        shift = offsets[late.to_numpy()]
        if col == "achieved_at":  # a date column: whole days
            shift = shift.floor("D")
        frame.loc[late, col] = frame.loc[late, col] + shift
    return frame


@pytest.mark.slow
def test_leak_events_after_the_observation_date_change_no_feature(small_dataset, tmp_path):
    """Push every event, ticket, survey, touch and milestone dated at or after the observation date
    later, add events after it, and give subscriptions that end after it another end
    after it: every feature of every observation at that date must be identical."""
    cutoff = d("2026-03-01")
    rng = np.random.default_rng(5)
    tables = {name: small_dataset.table(name).copy() for name in small_dataset.tables}
    changed = {}
    for name, cols in TIME_COLUMNS.items():
        changed[name] = _move_later(tables[name], cols, cutoff, rng)
    # extra events after the date for every account
    extra = tables["usage_events"].sample(5000, random_state=1, replace=True).copy()
    extra["event_time"] = cutoff + pd.to_timedelta(rng.integers(0, 200 * 24 * 3600, len(extra)), unit="s")
    changed["usage_events"] = pd.concat([changed["usage_events"], extra], ignore_index=True)
    subs = tables["subscriptions"].copy()
    later_end = subs["end_date"] > cutoff
    subs.loc[later_end, "end_date"] = subs.loc[later_end, "end_date"] + pd.Timedelta(days=40)
    changed["subscriptions"] = subs
    moved_ds = open_dataset(write_tables({**tables, **changed}, tmp_path / "moved.duckdb", "duckdb"))

    before = feat.account_features(small_dataset, [cutoff])
    after = feat.account_features(moved_ds, [cutoff])
    assert len(before) > 100
    pd.testing.assert_frame_equal(before.reset_index(drop=True), after.reset_index(drop=True))
    # and the data did change: the same features a month later differ
    later = d("2026-04-01")
    assert not feat.account_features(small_dataset, [later]).equals(feat.account_features(moved_ds, [later]))


def test_sql_text_is_engine_neutral():
    """The feature SQL is transpiled to PostgreSQL and Spark later: no DuckDB-only syntax in it."""
    sql = "\n".join(feat.feature_queries(["login", "it's"]).values())
    for token in (r"::", r"\bINTERVAL\b", r"\bdate_diff\b", r"\bdatediff\b", r"\bepoch", r"\bQUALIFY\b",
                  r"GROUP BY ALL", r"\bstrftime\b", r"\blist\(", r"\bCOLUMNS\("):
        assert not re.search(token, sql, re.IGNORECASE), token
    assert "'it''s'" in sql  # event names are quoted as SQL strings
    # events meet the observation windows by an equality on their calendar month plus the window's
    # bounds (a plain range join sorts every event by time: 5 GiB and 3.5 minutes at 100M events)
    assert re.search(r"FROM obs_months o\s+JOIN usage_events e ON \(EXTRACT\(YEAR FROM e.event_time\) \* 12 "
                     r"\+ EXTRACT\(MONTH FROM e.event_time\)\) = o.event_month\s+AND e.event_time >= o.prior_start "
                     r"AND e.event_time < o.observation_date", sql)


def test_usage_windows_across_three_calendar_months(tmp_path):
    """A window from 2024-12-31 to 2025-03-01 touches December, January and February: events at
    both edges are counted in the right window, and nothing outside it."""
    world = hand_world()
    world["usage_events"] = pd.DataFrame({
        "account_id": ["A1"] * 6, "user_id": ["u1", "u2", "u3", "u4", "u5", "u6"],
        "event_time": [d("2024-12-30 23:59"),   # before the prior window: excluded
                       d("2024-12-31 00:00"),   # first instant of the prior window (2025-03-01 - 60 days)
                       d("2025-01-29 23:59"),   # last minute of the prior window
                       d("2025-01-30 00:00"),   # first instant of the recent window (- 30 days)
                       d("2025-02-28 23:59"),   # last minute before the observation date
                       d("2025-03-01 00:00")],  # on the observation date: excluded
        "event_name": ["login"] * 6, "quantity": [1.0, 2.0, 4.0, 8.0, 16.0, 32.0]})
    ds = open_dataset(write_tables(world, tmp_path / "w.duckdb", "duckdb"))
    row = feat.account_features(ds, [d("2025-03-01")]).set_index("account_id").loc["A1"]
    assert row["events_30d"] == 24 and row["events_prior_30d"] == 6
    assert row["active_users"] == 2 and row["active_days"] == 2
    assert row["days_since_last_activity"] == pytest.approx(1 / (24 * 60))  # one minute before the date


@pytest.mark.slow
def test_usage_in_chunks_of_dates_is_the_same_table(small_dataset):
    dates = feat.observation_dates("2025-06", "2026-03")
    whole = feat.account_features(small_dataset, dates, max_groups=None)
    accounts = len(small_dataset.table("accounts"))
    chunked = feat.account_features(small_dataset, dates, max_groups=3 * accounts)  # 3 dates a run: 4 runs
    pd.testing.assert_frame_equal(whole, chunked, check_exact=True)
    assert whole["events_30d"].gt(0).mean() > 0.5  # the windows found events (the test can fail)


def test_observation_dates_follow_the_report_month():
    assert feat.observation_date_for("2026-10") == d("2026-11-01")
    assert feat.observation_date_for(pd.Period("2026-12", "M")) == d("2027-01-01")
    assert feat.observation_date_for(d("2026-10-15 13:00")) == d("2026-10-15")
    assert feat.observation_dates("2026-01", "2026-06", every_months=2) == [d("2026-03-01"), d("2026-05-01"), d("2026-07-01")]
