"""Churn postmortem: hand-computed small cases for every step, and recovery of the usage-decline
onsets planted in the synthetic world by the early-warning audit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from csresearch import postmortem as pm
from csresearch.data import open_dataset


# --------------------------------------------------------------------------------------------------
# A hand-made world small enough to compute every answer by hand
# --------------------------------------------------------------------------------------------------
def write_tables(folder: Path, **tables: pd.DataFrame) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    return folder


def tiny_tables() -> dict[str, pd.DataFrame]:
    """A1 (SMB, Growth, $100) churns 2026-10-15; A2 (SMB, Growth, $200) and A4 (SMB, Growth, $110,
    started a month later) stay; A3 is Enterprise; A5 (SMB, Growth) churns 2026-11-20, within 90 days of
    A1's churn, so it is no retained look-alike; A6 has an account but never paid."""
    accounts = pd.DataFrame({
        "account_id": ["A1", "A2", "A3", "A4", "A5", "A6"],
        "created_at": ["2025-01-01"] * 6,
        "account_name": ["Acme", "Beta", "Corp", "Delta", "Echo", "Foxtrot"],
        "segment": ["SMB", "SMB", "Enterprise", "SMB", "SMB", "SMB"],
    })
    subscriptions = pd.DataFrame({
        "subscription_id": ["s1", "s2", "s3", "s4", "s5"],
        "account_id": ["A1", "A2", "A3", "A4", "A5"],
        "product": ["Growth", "Growth", "Enterprise", "Growth", "Growth"],
        "start_date": ["2025-01-01", "2025-01-01", "2025-01-01", "2025-02-01", "2025-01-01"],
        "end_date": ["2026-10-15", None, None, None, "2026-11-20"],
        "mrr": [100.0, 200.0, 1000.0, 110.0, 105.0],
    })
    usage = pd.DataFrame({
        "account_id": ["A1", "A1", "A1", "A2"],
        "user_id": ["u1", "u2", "u1", "u9"],
        "event_time": ["2026-09-01 10:00", "2026-09-02 10:00", "2026-09-09 10:00", "2026-09-01 00:00"],
        "event_name": ["login", "report", "login", "login"],
        "quantity": [1, 2, 1, 5],
    })
    reasons = pd.DataFrame({
        "account_id": ["A1", "A5"],
        "churn_date": ["2026-10-20", "2026-06-01"],  # A5's form is 172 days off: not its churn
        "reason": ["budget", "competitor"],
        "sub_reason": ["budget_cut", "cheaper_alternative"],
        "competitor": [None, "Vitally"],
        "comment": ["Budget cuts this year.", "Went with Vitally."],
    })
    return {"accounts": accounts, "subscriptions": subscriptions, "usage_events": usage, "churn_reasons": reasons}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return open_dataset(write_tables(tmp_path_factory.mktemp("tiny"), **tiny_tables()))


# --------------------------------------------------------------------------------------------------
# Scope and the churn list
# --------------------------------------------------------------------------------------------------
def test_parse_account_ids_accepts_lists_and_comma_strings():
    assert pm.parse_account_ids(None) is None
    assert pm.parse_account_ids("A00012") == ["A00012"]
    assert pm.parse_account_ids(" A1, A2 ,A1,") == ["A1", "A2"]
    assert pm.parse_account_ids(["A1", "A2"]) == ["A1", "A2"]
    assert pm.parse_account_ids("") is None


def test_unknown_account_is_a_named_error(tiny):
    with pytest.raises(pm.UnknownAccountError) as err:
        pm.churned_accounts(tiny, "2026-10", account_ids=["A1", "NOPE", "ZZ9"])
    assert err.value.missing == ["NOPE", "ZZ9"]
    assert "NOPE" in str(err.value) and "ZZ9" in str(err.value) and "A1" not in err.value.missing


def test_month_churn_list_by_hand(tiny):
    churned = pm.churned_accounts(tiny, "2026-10")
    assert churned["account_id"].tolist() == ["A1"]  # A5 churns in November
    row = churned.iloc[0]
    assert row["churn_date"] == pd.Timestamp("2026-10-15")
    assert row["arr_lost"] == pytest.approx(1200.0)  # 12 x $100
    # 2025-01-01 .. 2026-10-15 is 652 days
    assert row["tenure_months"] == pytest.approx(652 / (365.25 / 12))
    assert row["tenure_band"] == "1-2 years"
    assert (row["segment"], row["plan"]) == ("SMB", "Growth")
    # the form is dated five days after the billing churn: matched within 45 days
    assert (row["reason"], row["comment"]) == ("budget", "Budget cuts this year.")


def test_reason_form_too_far_from_the_churn_is_not_matched(tiny):
    churned = pm.churned_accounts(tiny, "2026-11")
    assert churned["account_id"].tolist() == ["A5"]
    assert churned.iloc[0]["reason"] == pm.NOT_RECORDED
    assert pm.churned_accounts(tiny, "2026-11", reason_match_days=200).iloc[0]["reason"] == "competitor"


def test_account_review_keeps_accounts_that_did_not_churn(tiny):
    review = pm.churned_accounts(tiny, "2026-10", account_ids=["A2", "A1", "A6"]).set_index("account_id")
    assert review.loc["A1", "status"] == "churned"
    assert review.loc["A2", "status"] == "active" and pd.isna(review.loc["A2", "churn_date"])
    assert review.loc["A2", "current_mrr"] == pytest.approx(200.0)
    assert review.loc["A6", "status"] == "never paid"


# --------------------------------------------------------------------------------------------------
# Reasons and themes
# --------------------------------------------------------------------------------------------------
def test_reasons_pareto_by_hand():
    churned = pd.DataFrame({
        "account_id": ["a", "b", "c", "d"],
        "reason": ["budget", "budget", "competitor", None],
        "arr_lost": [100.0, 200.0, 1000.0, 700.0],
    })
    pareto = pm.reasons_pareto(churned).set_index("reason")
    assert pareto.index.tolist() == ["competitor", pm.NOT_RECORDED, "budget"]  # by ARR
    assert pareto.loc["budget", "churns"] == 2
    assert pareto.loc["budget", "churn_share"] == pytest.approx(0.5)
    assert pareto.loc["competitor", "arr_share"] == pytest.approx(1000 / 2000)
    assert pareto["cum_arr_share"].tolist() == pytest.approx([0.5, 0.85, 1.0])
    # by count budget (2) comes first, then the two single churns by ARR: competitor, not recorded
    assert pareto.loc["budget", "cum_churn_share"] == pytest.approx(0.5)
    assert pareto.loc["competitor", "cum_churn_share"] == pytest.approx(0.75)
    assert pareto.loc[pm.NOT_RECORDED, "cum_churn_share"] == pytest.approx(1.0)


def test_reasons_by_segment_counts():
    churned = pd.DataFrame({"account_id": list("abc"), "reason": ["x", "x", "y"],
                            "segment": ["SMB", "Enterprise", "SMB"], "arr_lost": [1.0, 2.0, 3.0]})
    table = pm.reasons_by_segment(churned)
    assert table.loc["x", "SMB"] == 1 and table.loc["x", "Enterprise"] == 1 and table.loc["y", "Enterprise"] == 0


def test_comment_themes_separate_two_obvious_topics():
    price = ["The price increase was too much for our budget.", "Budget cuts, the price is too high.",
             "Too expensive for our budget this year, price went up."]
    bugs = ["Support was slow and bugs never got fixed.", "Too many bugs, support tickets ignored.",
            "Slow support response and recurring bugs."]
    comments = pd.DataFrame({"account_id": [f"p{i}" for i in range(3)] + [f"b{i}" for i in range(3)],
                             "comment": price + bugs})
    themes = pm.comment_themes(comments, n_themes=2)
    theme_of = themes.assignments.set_index("account_id")["theme"]
    assert theme_of[["p0", "p1", "p2"]].nunique() == 1 and theme_of[["b0", "b1", "b2"]].nunique() == 1
    assert theme_of["p0"] != theme_of["b0"]
    assert ("price" in theme_of["p0"] or "budget" in theme_of["p0"]) and ("bugs" in theme_of["b0"] or "support" in theme_of["b0"])
    assert themes.themes["comments"].sum() == 6


def test_comment_themes_with_no_comments():
    themes = pm.comment_themes(pd.DataFrame({"account_id": ["a"], "comment": [None]}))
    assert themes.themes.empty and themes.method == "none"


# --------------------------------------------------------------------------------------------------
# Timelines
# --------------------------------------------------------------------------------------------------
def test_weekly_activity_by_hand(tiny):
    weekly = pm.weekly_activity(tiny, ["A1", "A3"], pd.Timestamp("2026-09-01"), pd.Timestamp("2026-09-14"),
                                ["login", "report"])
    got = weekly.set_index(["account_id", "week", "metric"])["value"]
    monday = pd.Timestamp("2026-08-31")
    assert got[("A1", monday, "login")] == 1 and got[("A1", monday, "report")] == 2
    assert got[("A1", monday, "active users")] == 2
    assert got[("A1", monday + pd.Timedelta(days=7), "login")] == 1
    # A3 has no events: zeros, not missing rows (3 weeks x 3 metrics)
    assert (weekly[weekly["account_id"] == "A3"]["value"] == 0).all()
    assert len(weekly[weekly["account_id"] == "A3"]) == 9


def test_aligned_usage_weeks_end_on_the_reference_day(tiny):
    pairs = pd.DataFrame({"account_id": ["A1"], "ref_date": [pd.Timestamp("2026-09-09")]})
    aligned = pm.aligned_usage(tiny, pairs, weeks=4).set_index("week")
    # week -1 is Sep 3-9 (one login on Sep 9); week -2 is Aug 27 - Sep 2 (1 login + 2 reports)
    assert aligned.loc[-1, "events"] == 1 and aligned.loc[-2, "events"] == 3
    assert aligned.loc[-2, "active_users"] == 2
    assert aligned.loc[-3, "events"] == 0 and aligned.loc[-4, "events"] == 0
    only_reports = pm.aligned_usage(tiny, pairs, weeks=4, events=["report"]).set_index("week")
    assert only_reports.loc[-2, "events"] == 2 and only_reports.loc[-1, "events"] == 0


def test_account_events_missing_tables_are_none(tiny):
    events = pm.account_events(tiny, ["A1"], pd.Timestamp("2026-01-01"), pd.Timestamp("2026-12-31"))
    assert events == {"tickets": None, "nps": None, "activities": None}


# --------------------------------------------------------------------------------------------------
# Early-warning audit
# --------------------------------------------------------------------------------------------------
def _flags(rows):
    return pd.DataFrame(rows, columns=["account_id", "observation_date", "flagged", "source", "trigger", "playbook"]).assign(
        observation_date=lambda f: pd.to_datetime(f["observation_date"]))


def test_warning_audit_by_hand():
    churned = pd.DataFrame({"account_id": ["a", "b", "c"],
                            "churn_date": pd.to_datetime(["2026-10-15", "2026-10-20", "2026-10-05"])})
    flags = _flags([
        ("a", "2026-03-01", True, "health", "old", "p0"),       # before the 180-day look-back: ignored
        ("a", "2026-08-01", False, "health", None, None),
        ("a", "2026-08-15", True, "risk list", "usage drop", "Adoption"),
        ("a", "2026-09-15", True, "health", "tickets", "Support"),
        ("a", "2026-10-16", True, "health", "late", "p9"),      # after the churn: hindsight, ignored
        ("b", "2026-09-01", False, "health", None, None),
        ("b", "2026-10-20", True, "health", "x", "y"),          # on the churn day: too late
    ])
    audit = pm.warning_audit(churned, flags, lookback_days=180).set_index("account_id")
    assert audit.loc["a", "outcome"] == "caught"
    assert audit.loc["a", "first_flagged"] == pd.Timestamp("2026-08-15")
    assert audit.loc["a", "lead_days"] == 61  # Aug 15 -> Oct 15
    assert (audit.loc["a", "flagged_by"], audit.loc["a", "first_trigger"]) == ("risk list", "usage drop")
    assert audit.loc["a", "checks"] == 3
    assert audit.loc["b", "outcome"] == "missed" and audit.loc["b", "checks"] == 1
    assert audit.loc["c", "outcome"] == "not checked" and audit.loc["c", "checks"] == 0
    summary = pm.lead_time_summary(audit.reset_index())
    assert (summary["checked"], summary["caught"], summary["missed"], summary["not_checked"]) == (2, 1, 1, 1)
    assert summary["detection_rate"] == pytest.approx(0.5)
    assert summary["median_lead_days"] == 61


def test_median_interval_contains_the_median_and_needs_three_values():
    med, low, high = pm.median_interval([10, 20, 30, 40, 50, 60, 70])
    assert med == 40 and low <= 40 <= high and low >= 10 and high <= 70
    assert np.isnan(pm.median_interval([5, 9])[1])


def test_false_alarms_by_hand_with_censoring():
    as_of = pd.Timestamp("2026-10-31")
    # horizon 90 days: only flags on or before Aug 2 can be judged; window 180 days before that
    flags = _flags([
        ("a", "2026-05-01", True, "health", None, None),   # churns Jun 10: a true alarm
        ("b", "2026-06-01", True, "health", None, None),   # never churns: false alarm
        ("c", "2026-06-01", True, "health", None, None),   # churns Dec 1 (after 90 days): false alarm
        ("d", "2026-09-15", True, "health", None, None),   # too recent to judge: censored
        ("e", "2026-06-01", False, "health", None, None),  # never flagged
        ("f", "2025-12-01", True, "health", None, None),   # before the window
    ])
    churns = pd.DataFrame({"account_id": ["a", "c", "e"],
                           "churn_date": pd.to_datetime(["2026-06-10", "2026-12-01", "2026-07-01"])})
    summary, per_account = pm.false_alarms(flags, churns, as_of, horizon_days=90, window_days=180)
    assert sorted(per_account["account_id"]) == ["a", "b", "c"]
    assert (summary["flagged_accounts"], summary["stayed"]) == (3, 2)
    assert summary["false_alarm_rate"] == pytest.approx(2 / 3)
    assert summary["false_alarm_low"] < 2 / 3 < summary["false_alarm_high"]


def test_missed_profile_fisher_and_holm_by_hand():
    audit = pd.DataFrame({"outcome": ["missed"] * 3 + ["caught"] * 3,
                          "segment": ["SMB"] * 3 + ["Enterprise"] * 3})
    table = pm.missed_profile(audit, ["segment"]).set_index("value")
    # [[3, 0], [0, 3]]: two-sided Fisher p = 2 / C(6, 3) = 0.1 for either value; Holm over 2 tests: 0.2
    assert table.loc["SMB", "p_value"] == pytest.approx(0.1)
    assert table.loc["SMB", "p_holm"] == pytest.approx(0.2)
    assert table.loc["SMB", "share_of_missed"] == 1.0 and table.loc["SMB", "share_of_caught"] == 0.0


# --------------------------------------------------------------------------------------------------
# Comparables
# --------------------------------------------------------------------------------------------------
def test_comparables_match_segment_plan_tenure_and_size(tiny):
    churned = pm.churned_accounts(tiny, "2026-10")
    nearest = pm.comparables(tiny, churned, pd.Timestamp("2026-12-31"), k=1, retained_days=90)
    # A3 is Enterprise, A5 leaves within 90 days, A6 never paid; A4 ($110, 20 months) is nearer than A2 ($200)
    assert nearest["comparable_id"].tolist() == ["A4"]
    assert nearest.iloc[0]["ref_date"] == pd.Timestamp("2026-10-14")
    both = pm.comparables(tiny, churned, pd.Timestamp("2026-12-31"), k=3)
    assert both["comparable_id"].tolist() == ["A4", "A2"]
