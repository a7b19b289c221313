"""Churn postmortem: hand-computed small cases for every step, and recovery of the usage-decline
onsets planted in the synthetic world by the early-warning audit."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import HEALTH_FILE
from csresearch import errors, period
from csresearch.analyses.churn_postmortem import (
    compute_alerts,
    compute_audit,
    compute_checks,
    compute_churns,
    compute_comparables,
    compute_lessons,
    compute_reasons,
    compute_review,
    compute_timelines,
    report,
    views,
    words,
)
from csresearch.analyses.churn_postmortem.result import Result
from csresearch.analyses.churn_postmortem.settings import Settings
from csresearch.core import health, risk
from csresearch.data import open_dataset
from csresearch.text import day


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
    assert compute_churns.parse_account_ids(None) is None
    assert compute_churns.parse_account_ids("A00012") == ["A00012"]
    assert compute_churns.parse_account_ids(" A1, A2 ,A1,") == ["A1", "A2"]
    assert compute_churns.parse_account_ids(["A1", "A2"]) == ["A1", "A2"]
    assert compute_churns.parse_account_ids("") is None


def test_unknown_account_is_a_named_error(tiny):
    with pytest.raises(errors.UnknownAccountError) as err:
        compute_churns.churned_accounts(tiny, "2026-10", account_ids=["A1", "NOPE", "ZZ9"])
    assert err.value.missing == ["NOPE", "ZZ9"]
    assert "NOPE" in str(err.value) and "ZZ9" in str(err.value) and "A1" not in err.value.missing


def test_month_churn_list_by_hand(tiny):
    churned = compute_churns.churned_accounts(tiny, "2026-10")
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
    churned = compute_churns.churned_accounts(tiny, "2026-11")
    assert churned["account_id"].tolist() == ["A5"]
    assert churned.iloc[0]["reason"] == compute_churns.NOT_RECORDED
    assert compute_churns.churned_accounts(tiny, "2026-11", reason_match_days=200).iloc[0]["reason"] == "competitor"


def test_account_review_keeps_accounts_that_did_not_churn(tiny):
    review = compute_churns.churned_accounts(tiny, "2026-10", account_ids=["A2", "A1", "A6"]).set_index("account_id")
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
    pareto = compute_reasons.reasons_pareto(churned).set_index("reason")
    assert pareto.index.tolist() == ["competitor", compute_churns.NOT_RECORDED, "budget"]  # by ARR
    assert pareto.loc["budget", "churns"] == 2
    assert pareto.loc["budget", "churn_share"] == pytest.approx(0.5)
    assert pareto.loc["competitor", "arr_share"] == pytest.approx(1000 / 2000)
    assert pareto["cum_arr_share"].tolist() == pytest.approx([0.5, 0.85, 1.0])
    # by count budget (2) comes first, then the two single churns by ARR: competitor, not recorded
    assert pareto.loc["budget", "cum_churn_share"] == pytest.approx(0.5)
    assert pareto.loc["competitor", "cum_churn_share"] == pytest.approx(0.75)
    assert pareto.loc[compute_churns.NOT_RECORDED, "cum_churn_share"] == pytest.approx(1.0)


def test_reasons_by_segment_counts():
    churned = pd.DataFrame({"account_id": list("abc"), "reason": ["x", "x", "y"],
                            "segment": ["SMB", "Enterprise", "SMB"], "arr_lost": [1.0, 2.0, 3.0]})
    table = compute_reasons.reasons_by_segment(churned)
    assert table.loc["x", "SMB"] == 1 and table.loc["x", "Enterprise"] == 1 and table.loc["y", "Enterprise"] == 0


def test_comment_themes_separate_two_obvious_topics():
    price = ["The price increase was too much for our budget.", "Budget cuts, the price is too high.",
             "Too expensive for our budget this year, price went up."]
    bugs = ["Support was slow and bugs never got fixed.", "Too many bugs, support tickets ignored.",
            "Slow support response and recurring bugs."]
    comments = pd.DataFrame({"account_id": [f"p{i}" for i in range(3)] + [f"b{i}" for i in range(3)],
                             "comment": price + bugs})
    themes = compute_reasons.comment_themes(comments, n_themes=2)
    theme_of = themes.assignments.set_index("account_id")["theme"]
    assert theme_of[["p0", "p1", "p2"]].nunique() == 1 and theme_of[["b0", "b1", "b2"]].nunique() == 1
    assert theme_of["p0"] != theme_of["b0"]
    assert ("price" in theme_of["p0"] or "budget" in theme_of["p0"]) and ("bugs" in theme_of["b0"] or "support" in theme_of["b0"])
    assert themes.themes["comments"].sum() == 6


def test_comment_themes_with_no_comments():
    themes = compute_reasons.comment_themes(pd.DataFrame({"account_id": ["a"], "comment": [None]}))
    assert themes.themes.empty and themes.method == "none"


# --------------------------------------------------------------------------------------------------
# Timelines
# --------------------------------------------------------------------------------------------------
def test_weekly_activity_by_hand(tiny):
    weekly = compute_timelines.weekly_activity(tiny, ["A1", "A3"], pd.Timestamp("2026-09-01"), pd.Timestamp("2026-09-14"),
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
    aligned = compute_timelines.aligned_usage(tiny, pairs, weeks=4).set_index("week")
    # week -1 is Sep 3-9 (one login on Sep 9); week -2 is Aug 27 - Sep 2 (1 login + 2 reports)
    assert aligned.loc[-1, "events"] == 1 and aligned.loc[-2, "events"] == 3
    assert aligned.loc[-2, "active_users"] == 2
    assert aligned.loc[-3, "events"] == 0 and aligned.loc[-4, "events"] == 0
    only_reports = compute_timelines.aligned_usage(tiny, pairs, weeks=4, events=["report"]).set_index("week")
    assert only_reports.loc[-2, "events"] == 2 and only_reports.loc[-1, "events"] == 0


def test_account_events_missing_tables_are_none(tiny):
    events = compute_timelines.account_events(tiny, ["A1"], pd.Timestamp("2026-01-01"), pd.Timestamp("2026-12-31"))
    assert events == {"tickets": None, "nps": None, "activities": None}


# --------------------------------------------------------------------------------------------------
# Early-warning audit
# --------------------------------------------------------------------------------------------------
def _flags(rows):
    return pd.DataFrame(rows, columns=["account_id", "observation_date", "flagged", "source", "trigger", "playbook"]).assign(
        observation_date=lambda f: pd.to_datetime(f["observation_date"]))


def test_warning_audit_by_hand():
    churned = pd.DataFrame({"account_id": ["a", "b", "c", "d"],
                            "churn_date": pd.to_datetime(["2026-10-15", "2026-10-20", "2026-10-05", "2026-10-31"])})
    flags = _flags([
        ("a", "2026-03-01", True, "health", "old", "p0"),       # before the 180-day look-back: ignored
        ("a", "2026-08-01", False, "health", None, None),
        ("a", "2026-08-15", True, "risk list", "usage drop", "Adoption"),
        ("a", "2026-09-15", True, "health", "tickets", "Support"),
        ("a", "2026-10-16", True, "health", "late", "p9"),      # after the churn: hindsight, ignored
        ("b", "2026-09-01", False, "health", None, None),
        ("b", "2026-10-20", True, "health", "x", "y"),          # on the churn day: too late
        ("d", "2026-07-01", True, "health", "t1", "p1"),        # flagged, cleared, flagged again
        ("d", "2026-08-01", False, "health", None, None),
        ("d", "2026-09-01", True, "risk list", "t2", "p2"),
        ("d", "2026-10-01", True, "health", "t3", "p3"),
    ])
    audit = compute_audit.warning_audit(churned, flags, lookback_days=180).set_index("account_id")
    assert audit.loc["a", "outcome"] == "caught"
    assert audit.loc["a", "first_flagged"] == pd.Timestamp("2026-08-15")
    assert audit.loc["a", "lead_days"] == 61  # Aug 15 -> Oct 15
    assert (audit.loc["a", "flagged_by"], audit.loc["a", "first_trigger"]) == ("risk list", "usage drop")
    assert audit.loc["a", "checks"] == 3
    assert audit.loc["b", "outcome"] == "missed" and audit.loc["b", "checks"] == 1
    assert audit.loc["c", "outcome"] == "not checked" and audit.loc["c", "checks"] == 0
    # d: first flagged Jul 1 (122 days ahead); the warning standing at the last check began Sep 1 (60 days)
    assert audit.loc["d", "first_flagged"] == pd.Timestamp("2026-07-01") and audit.loc["d", "lead_days"] == 122
    assert audit.loc["d", "flagged_since"] == pd.Timestamp("2026-09-01") and audit.loc["d", "standing_lead_days"] == 60
    assert audit.loc["a", "flagged_since"] == pd.Timestamp("2026-08-15")
    assert pd.isna(audit.loc["b", "flagged_since"])
    # what stood at the last check: a's Sep 15 flag (risk list then health), d's Oct 1 health flag
    assert audit.loc["a", "last_check"] == pd.Timestamp("2026-09-15") and audit.loc["a", "warned_at_last_check"]
    assert (audit.loc["d", "standing_source"], audit.loc["d", "standing_trigger"]) == ("health", "t3")
    assert audit.loc["b", "last_check"] == pd.Timestamp("2026-09-01") and not audit.loc["b", "warned_at_last_check"]
    summary = compute_audit.lead_time_summary(audit.reset_index())
    assert (summary["checked"], summary["caught"], summary["missed"], summary["not_checked"]) == (3, 2, 1, 1)
    assert summary["detection_rate"] == pytest.approx(2 / 3)
    # issue 16.2: the lead time counts from the warning still standing at the churn (a: 61 days, d: 60), not
    # from the first flag of the look-back (d's Jul 1 flag had cleared; the old median was (61 + 122) / 2)
    assert summary["warned"] == 2
    assert summary["median_standing_lead_days"] == pytest.approx((61 + 60) / 2)


def test_a_look_back_in_months_holds_the_same_monthly_checks_for_every_churn_day():
    """Six calendar months before a churn hold six monthly checks whatever its day (182 days held five or
    six), the same six the stayers of its month are judged on."""
    checks = pd.date_range("2026-03-01", "2026-11-01", freq="MS")
    flags = _flags([("x", d.date().isoformat(), False, "", "", "") for d in checks]
                   + [("y", d.date().isoformat(), False, "", "", "") for d in checks])
    churned = pd.DataFrame({"account_id": ["x", "y"], "churn_date": pd.to_datetime(["2026-10-02", "2026-10-31"])})
    audit = compute_audit.warning_audit(churned, flags, lookback_months=6).set_index("account_id")
    assert audit["checks"].tolist() == [6, 6]  # 1 May .. 1 Oct for both
    by_days = compute_audit.warning_audit(churned, flags, lookback_days=182).set_index("account_id")
    assert by_days["checks"].tolist() == [6, 5]
    stayed = compute_audit.stayers(flags.assign(account_id=flags["account_id"] + "-stays"),
                                   churned.iloc[0:0], "2026-10", lookback_months=6)
    assert stayed["checks"].tolist() == [6, 6]


def test_median_interval_contains_the_median_and_needs_three_values():
    med, low, high = compute_audit.median_interval([10, 20, 30, 40, 50, 60, 70])
    assert med == 40 and low <= 40 <= high and low >= 10 and high <= 70
    assert np.isnan(compute_audit.median_interval([5, 9])[1])


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
    summary, per_account = compute_audit.false_alarms(flags, churns, as_of, horizon_days=90, window_days=180)
    assert sorted(per_account["account_id"]) == ["a", "b", "c"]
    assert (summary["flagged_accounts"], summary["stayed"]) == (3, 2)
    assert summary["false_alarm_rate"] == pytest.approx(2 / 3)
    assert summary["false_alarm_low"] < 2 / 3 < summary["false_alarm_high"]


def test_missed_profile_fisher_and_holm_by_hand():
    audit = pd.DataFrame({"outcome": ["missed"] * 3 + ["caught"] * 3,
                          "segment": ["SMB"] * 3 + ["Enterprise"] * 3})
    table = compute_audit.missed_profile(audit, ["segment"]).set_index("value")
    # [[3, 0], [0, 3]]: two-sided Fisher p = 2 / C(6, 3) = 0.1 for either value; Holm over 2 tests: 0.2
    assert table.loc["SMB", "p_value"] == pytest.approx(0.1)
    assert table.loc["SMB", "p_holm"] == pytest.approx(0.2)
    assert table.loc["SMB", "share_of_missed"] == 1.0 and table.loc["SMB", "share_of_caught"] == 0.0


# --------------------------------------------------------------------------------------------------
# Comparables
# --------------------------------------------------------------------------------------------------
def test_comparables_match_segment_plan_tenure_and_size(tiny):
    churned = compute_churns.churned_accounts(tiny, "2026-10")
    nearest = compute_comparables.comparables(tiny, churned, pd.Timestamp("2026-12-31"), k=1, retained_days=90)
    # A3 is Enterprise, A5 leaves within 90 days, A6 never paid; A4 ($110, 20 months) is nearer than A2 ($200)
    assert nearest["comparable_id"].tolist() == ["A4"]
    assert nearest.iloc[0]["ref_date"] == pd.Timestamp("2026-10-14")
    both = compute_comparables.comparables(tiny, churned, pd.Timestamp("2026-12-31"), k=3)
    assert both["comparable_id"].tolist() == ["A4", "A2"]


# --------------------------------------------------------------------------------------------------
# Conventions, alerts, playbooks and generated sentences
# --------------------------------------------------------------------------------------------------
def test_churn_month_follows_the_convention():
    # first unpaid day Nov 1: the last paid day is Oct 31 (MRR > 0 at the end of October)
    dates = pd.Series(pd.to_datetime(["2026-11-01", "2026-10-15"]))
    assert compute_churns.churn_month(dates, "month_end").astype(str).tolist() == ["2026-11", "2026-10"]
    assert compute_churns.churn_month(dates, "period_start").astype(str).tolist() == ["2026-10", "2026-10"]
    with pytest.raises(ValueError, match="churn_convention"):
        compute_churns.churn_month(dates, "whenever")


def test_alerts_by_hand():
    previous = pd.DataFrame({
        "account_id": ["g2r", "y2r", "g2y", "risk", "same", "better"],
        "health_band": ["green", "yellow", "green", "green", "red", "red"],
        "health_score": [80, 50, 75, 90, 30, 20],
        "churn_probability": [0.05, 0.10, 0.05, 0.10, 0.5, 0.6],
    })
    current = pd.DataFrame({
        "account_id": ["g2r", "y2r", "g2y", "risk", "same", "better", "new"],
        "health_band": ["red", "red", "yellow", "green", "red", "yellow", "red"],
        "health_score": [30, 40, 60, 85, 25, 50, 10],
        "churn_probability": [0.05, 0.30, 0.05, 0.40, 0.6, 0.2, 0.1],
        "health_triggers": ["low usage", "no logins", "none", "none", "x", "none", "low usage"],
        "top_reasons": ["a", "b", "c", "tickets up", "e", "f", "g"],
        "playbook": ["Adoption", "Re-engage", "Healthy", "Healthy", "p", "q", "Adoption"],
        "arr": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
    })
    got = compute_alerts.alerts(current, previous, risk_threshold=0.25).set_index("account_id")
    assert set(got.index) == {"g2r", "y2r", "g2y", "risk", "new"}  # 'same' stayed red, 'better' improved
    assert got.loc["g2r", "alert"] == "turned red"
    assert got.loc["y2r", "alert"] == "turned red; crossed the risk threshold"
    assert got.loc["g2y", "alert"] == "dropped green to yellow"
    assert got.loc["risk", "alert"] == "crossed the risk threshold"
    assert got.loc["new", "alert"] == "red at first score"
    # a risk-only alert takes the model's reasons; every alert keeps the list's playbook
    assert got.loc["risk", "trigger"] == "model: tickets up" and got.loc["risk", "playbook"] == "Healthy"
    assert got.loc["g2r", "trigger"] == "low usage" and got.loc["g2r", "playbook"] == "Adoption"
    assert got.loc["y2r", "trigger"] == "no logins; model: b"


def test_alerts_use_each_lists_own_threshold():
    previous = pd.DataFrame({"account_id": ["a", "b"], "health_band": ["green"] * 2, "health_score": [80.0] * 2,
                             "churn_probability": [0.10, 0.10], "risk_threshold": [0.12, 0.08]})
    current = pd.DataFrame({"account_id": ["a", "b"], "health_band": ["green"] * 2, "health_score": [80.0] * 2,
                            "churn_probability": [0.11, 0.11], "risk_threshold": [0.10, 0.10],
                            "health_triggers": ["none"] * 2, "top_reasons": ["r"] * 2, "playbook": ["p"] * 2})
    # a: 0.10 < 0.12 before, 0.11 >= 0.10 now: crossed; b: already above its 0.08 threshold before
    assert compute_alerts.alerts(current, previous)["account_id"].tolist() == ["a"]


def test_previous_list_is_read_from_an_earlier_run(tmp_path):
    """The runner finds last month's list (``nb.earlier_output``); the analysis reads it from the path
    it is given, checks its columns and says where it came from."""
    from csresearch.report.paths import earlier_output

    staging = tmp_path / "reports" / ".staging-2026-10-1" / "05_churn_postmortem"
    earlier = tmp_path / "reports" / "2026-09" / "03_churn_drivers"
    path = earlier_output(staging, pd.Period("2026-10"), "03_churn_drivers", "at_risk*.csv")
    assert path is None and compute_review.previous_at_risk_list(path) == (None, None)
    assert words.previous_source(Result(pd.Period("2026-10"))) == words.RECOMPUTED
    earlier.mkdir(parents=True)
    pd.DataFrame({"account_id": ["a"], "health_band": ["red"], "health_score": [20.0],
                  "churn_probability": [0.4]}).to_csv(earlier / "at_risk_accounts.csv", index=False)
    path = earlier_output(staging, pd.Period("2026-10"), "03_churn_drivers", "at_risk*.csv")
    frame, source = compute_review.previous_at_risk_list(path)
    assert frame["account_id"].tolist() == ["a"] and "2026-09/03_churn_drivers/at_risk_accounts.csv" in source
    assert words.previous_source(Result(pd.Period("2026-10"), previous_file=source)) == (
        "the earlier run's list (2026-09/03_churn_drivers/at_risk_accounts.csv)")
    # a list without the columns an alert compares is not used: the list is recomputed
    pd.DataFrame({"account_id": ["a"]}).to_csv(earlier / "at_risk_accounts.csv", index=False)
    assert compute_review.previous_at_risk_list(path) == (None, None)


def test_resolve_playbook_from_component_or_text():
    config = health.load_health_config(HEALTH_FILE)
    usage_depth = next(c for c in config.components if c.name == "usage_depth")
    mapping = {"low_usage": "usage_depth", "budget": "ROI review"}
    assert views.resolve_playbook("low_usage", config, mapping) == usage_depth.playbook
    assert views.resolve_playbook("budget", config, mapping) == "ROI review"
    assert "No playbook mapped" in views.resolve_playbook("weather", config, mapping)


def hand_record(churns_flagged=1, churns=2, stayed_flagged=30, stayed=120) -> pd.DataFrame:
    """A warning record from counts (both measures alike), built by the same function as the report's."""
    audit = pd.DataFrame({"outcome": ["caught"] * churns_flagged + ["missed"] * (churns - churns_flagged),
                          "warned_at_last_check": [True] * churns_flagged + [False] * (churns - churns_flagged)})
    stays = pd.DataFrame({"flagged_in_lookback": [True] * stayed_flagged + [False] * (stayed - stayed_flagged)})
    return compute_audit.warning_record(audit, stays.assign(flagged_at_last_check=stays["flagged_in_lookback"]))


def test_month_headline_is_generated_from_the_numbers():
    """The share of churns flagged is never stated without the share of accounts that stayed flagged at
    the same checks (issue 16.2; the old headline stated the first alone, which the issue says misleads)."""
    churned = pd.DataFrame({"account_id": ["a", "b"], "arr_lost": [12_000.0, 36_000.0]})
    pareto = compute_reasons.reasons_pareto(churned.assign(reason=["budget", "competitor"]))
    summary = {"checked": 2, "caught": 1, "warned": 1, "median_standing_lead_days": 61.0}
    record = hand_record()  # 1 of 2 churns, 30 of 120 stayers: Wilson 9.5-90.5% and 18.1-33.2%
    text = words.month_headline(pd.Period("2026-10"), churned, pareto, summary, record, 7)
    assert text == ("2 accounts churned in October 2026, taking $48k ARR; 'competitor' cost the most (75% of ARR "
                    "lost). At the last check before they left, the warnings flagged 1 of 2 (50%, 95% CI 9\u201391%) "
                    "against 25% (95% CI 18\u201333%) of the 120 accounts that stayed; those warnings had stood a "
                    "median 61 days; 7 paying accounts raised a new alert this month.")
    assert words.month_headline(pd.Period("2026-10"), churned, pareto, summary, record, 7, 3).endswith(
        "a median 61 days; 3 paying accounts turned red or crossed the risk threshold this month (7 alerts in all).")
    assert words.month_headline(pd.Period("2026-10"), churned.iloc[0:0], pareto.iloc[0:0], {}, record.iloc[0:0],
                                0) == "No account churned in October 2026; 0 paying accounts raised a new alert this month."
    # nobody stayed over the same checks: the recall is stated with the reason it has no comparator
    alone = words.month_headline(pd.Period("2026-10"), churned, pareto, summary, hand_record(stayed=0, stayed_flagged=0),
                                 None)
    assert "1 of 2 (50%, 95% CI 9\u201391%); no account stayed over the same checks, so how often" in alone


def test_account_sentence_for_caught_missed_and_active_accounts():
    """What warned and when, from the warning standing at the last check (issue 17.7: the account review
    said "first flagged 121 days before" where the month review said 9), beside the stayers' rate."""
    row = {"account_id": "A1", "account_name": "Acme", "status": "churned", "churn_date": pd.Timestamp("2026-10-15"),
           "tenure_months": 21.4, "arr_lost": 1200.0, "reason": "competitor", "competitor": "Vitally"}
    standing = {"outcome": "caught", "lead_days": 61, "first_flagged": pd.Timestamp("2026-08-15"),
                "flagged_by": "risk list", "warned_at_last_check": True, "last_check": pd.Timestamp("2026-10-01"),
                "flagged_since": pd.Timestamp("2026-09-01"), "standing_lead_days": 44, "standing_source": "health score"}
    assert words.account_sentence(row, standing, 6, hand_record()) == (
        "Acme (A1) churned on 15 Oct 2026 after 21 months, taking $1,200 ARR (reason: competitor, to Vitally); "
        "the health score flagged it at the last check before it left (1 Oct 2026), a warning standing since "
        "1 Sep 2026 (44 days before the churn); at that check the warnings flagged 25% (95% CI 18\u201333%) of the "
        "120 accounts that stayed.")
    cleared = {**standing, "warned_at_last_check": False}
    assert words.account_sentence(row, cleared, 6).endswith(
        "; flagged on 15 Aug 2026 by the risk list, but no longer at the last check before it left (1 Oct 2026).")
    assert words.account_sentence(row, {"outcome": "missed"}, 6).endswith(
        "never flagged by the health score or the risk list in the 6 monthly checks before.")
    assert words.account_sentence({**row, "tenure_months": 0.8}, {"outcome": "missed"}, 6).startswith(
        "Acme (A1) churned on 15 Oct 2026 after 24 days,")  # 0.8 x 30.44 days, not "after 1 month"
    active = {"account_id": "A2", "account_name": None, "status": "active", "tenure_months": 22.0, "current_mrr": 200.0}
    assert words.account_sentence(active, None, 6) == "A2 has not churned: it is still paying $200 MRR after 22 months."


def test_rollup_counts_missed_churns_per_month():
    churns = pd.DataFrame({"account_id": list("abcd"), "reason": ["x", "x", "y", "x"],
                           "arr_lost": [1.0, 2.0, 4.0, 8.0],
                           "churn_date": pd.to_datetime(["2026-09-03", "2026-10-01", "2026-10-20", "2026-03-01"])})
    audit = churns.assign(outcome=["missed", "caught", "missed", "missed"])
    by_reason, missed = compute_audit.rollup(churns, audit, pd.Period("2026-10"), months=2)
    assert by_reason.set_index(["month", "reason"])["arr_lost"].to_dict() == {
        (pd.Period("2026-09"), "x"): 1.0, (pd.Period("2026-10"), "x"): 2.0, (pd.Period("2026-10"), "y"): 4.0}
    m = missed.set_index("month")
    assert (m.loc[pd.Period("2026-10"), "missed"], m.loc[pd.Period("2026-10"), "checked_churns"]) == (1, 2)
    assert m.loc[pd.Period("2026-09"), "missed_share"] == 1.0


def test_trajectory_contrast_paired_by_hand():
    # six churned accounts, each 2 below the mean of its two comparables on events_per_seat
    rows = []
    for i in range(6):
        rows.append({"account_id": f"c{i}", "comparable_of": f"c{i}", "role": "churned", "events_per_seat": float(i)})
        rows += [{"account_id": f"r{i}{j}", "comparable_of": f"c{i}", "role": "comparable",
                  "events_per_seat": float(i) + 2 + (1 if j else -1)} for j in range(2)]
    table = compute_comparables.trajectory_contrast(pd.DataFrame(rows)).set_index("metric")
    assert table.loc["events_per_seat", "paired_difference"] == pytest.approx(-2.0)
    assert table.loc["events_per_seat", "pairs"] == 6
    # all six differences negative: exact Wilcoxon two-sided p = 2 / 2^6 = 0.03125; one metric, so Holm = p
    assert table.loc["events_per_seat", "p_value"] == pytest.approx(0.03125)
    assert table.loc["events_per_seat", "p_holm"] == pytest.approx(0.03125)


def test_review_of_an_unknown_account_fails_fast_with_a_named_error(tiny):
    with pytest.raises(errors.UnknownAccountError, match="'B404'"):
        report.build(tiny, "2026-10", Settings(account_ids="A1,B404"), health_config=health.load_health_config(HEALTH_FILE))


# --------------------------------------------------------------------------------------------------
# Recovery of the truths planted in the demo world
# --------------------------------------------------------------------------------------------------
def planted_churns(truth: dict) -> pd.DataFrame:
    """Every planted churn (first and later ones) with the onset of its usage decline."""
    rows = []
    for account, item in truth["churned_accounts"].items():
        for churn in [item, *item.get("later_churns", [])]:
            rows.append({"account_id": account, "churn_date": pd.Timestamp(churn["churn_date"]),
                         "decline_onset": pd.Timestamp(churn["decline_onset"])})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def demo_audit(demo_dataset):
    month = pd.Period("2026-10")
    churns = compute_churns.all_churns(demo_dataset, period.month_end(month))
    # churns of the last 4 months, each with its 6-month look-back: checks over 10 months
    checks = compute_checks.run_checks(demo_dataset, month, health.load_health_config(HEALTH_FILE), months_back=10)
    window = churns[churns["churn_date"].dt.to_period("M") >= month - 3]
    audit = compute_audit.warning_audit(window, checks.scores, lookback_days=183)
    return audit, checks


@pytest.mark.slow
def test_audit_lead_times_agree_with_the_planted_decline_onsets(demo_audit, demo_truth):
    audit, checks = demo_audit
    planted = planted_churns(demo_truth)
    merged = audit.merge(planted, on=["account_id", "churn_date"], how="left")
    # the audit's churns are the world's churns, to the day (one definition of churn, billing-day ends)
    assert merged["decline_onset"].notna().all() and len(merged) > 150
    caught = merged[merged["outcome"] == "caught"]
    # The warning standing at the last check before each churn should start after usage began to fall:
    # no earlier (a start well before the onset would mean a check saw the future), and not much later:
    # checks are monthly (up to 31 days between a change and the next check) and usage features compare
    # 30-day windows, so the median start may lag the onset by up to ~60 days.
    standing_delay = (caught["flagged_since"] - caught["decline_onset"]).dt.days.dropna()
    assert len(standing_delay) > 80
    assert 0 <= standing_delay.median() <= 60


@pytest.mark.slow
def test_flags_rise_after_the_planted_decline_onset(demo_audit, demo_truth):
    from statsmodels.stats.proportion import confint_proportions_2indep

    audit, checks = demo_audit
    planted = planted_churns(demo_truth).merge(audit[["account_id", "churn_date"]], on=["account_id", "churn_date"])
    seen = checks.scores.merge(planted, on="account_id")
    seen = seen[(seen["observation_date"] < seen["churn_date"])
                & (seen["observation_date"] >= seen["churn_date"] - pd.Timedelta(days=183))]
    before = seen[seen["observation_date"] <= seen["decline_onset"]]["flagged"]
    after = seen[seen["observation_date"] > seen["decline_onset"] + pd.Timedelta(days=30)]["flagged"]
    # a chronic base rate of flags exists before the decline (low-engagement accounts); after it, the
    # flag rate must be clearly higher: the 95% CI of the difference excludes zero
    low, high = confint_proportions_2indep(after.sum(), len(after), before.sum(), len(before), compare="diff")
    assert low > 0.1, (after.mean(), before.mean(), low, high)


def test_alerts_display_keeps_the_first_trigger_and_the_playbook_name():
    alerts = pd.DataFrame({
        "account_id": ["a"], "account_name": ["Acme"], "segment": ["SMB"], "arr": [1200.0],
        "alert": ["turned red"], "health_band_before": ["green"], "health_band": ["red"],
        "churn_probability_before": [0.05], "churn_probability": [0.31],
        "trigger": ["slow (or no) time to first value (days to first value 680; red at or above 60); low NPS (4)"],
        "playbook": ["Onboarding rescue: restart onboarding with a named value milestone and a date."],
    })
    row = views.alerts_display(alerts).iloc[0]
    assert row["first trigger"] == "slow (or no) time to first value"
    assert row["playbook"] == "Onboarding rescue"
    assert (row["health"], row["churn risk"]) == ("green \u2192 red", "5% \u2192 31%")


# --------------------------------------------------------------------------------------------------
# Scale: grouped comparables, sampled refits, alerts from the checks. The slow per-churn and
# whole-frame implementations they replace are kept here as oracles.
# --------------------------------------------------------------------------------------------------
def reference_comparables(ds, churned, as_of, k=3, retained_days=90, reactivation_window_days=0):
    """The per-churn implementation replaced by the grouped one: one candidate pool per churned account."""
    from sklearn.neighbors import NearestNeighbors

    from csresearch.core.revenue import account_month_mrr, paying_spells

    cols = ["account_id", "comparable_id", "rank", "ref_date", "tenure_months", "mrr", "segment", "plan",
            "same_plan", "distance"]
    todo = churned[churned["churn_date"].notna()]
    subs = ds.table("subscriptions")
    subs_typed = subs.assign(start_date=pd.to_datetime(subs["start_date"]), end_date=pd.to_datetime(subs["end_date"]))
    spells = paying_spells(subs, as_of, reactivation_window_days)
    spells["segment"] = spells["account_id"].map(ds.table("accounts").set_index("account_id")["segment"])
    first_month = (todo["churn_date"].min() - pd.Timedelta(days=1)).to_period("M") - 1
    monthly = account_month_mrr(subs, first_month, pd.Timestamp(as_of).to_period("M"))
    pools = []
    for i, churn in enumerate(todo.itertuples(index=False)):
        ref = churn.churn_date - pd.Timedelta(days=1)
        horizon = min(ref + pd.Timedelta(days=retained_days), pd.Timestamp(as_of))
        pool = spells[(spells["start_date"] <= ref)
                      & (spells["end_date"].isna() | (spells["end_date"] > horizon))
                      & (spells["account_id"] != churn.account_id)]
        if pd.notna(churn.segment):
            pool = pool[pool["segment"] == churn.segment]
        pools.append(pool[["account_id", "start_date", "segment"]].assign(
            case=i, ref=ref, prev_month=ref.to_period("M") - 1))
    pools = pd.concat(pools, ignore_index=True)
    pools["tenure_months"] = (pools["ref"] - pools["start_date"]).dt.days / period.DAYS_PER_MONTH
    size = monthly.set_index(["account_id", "month"])["mrr"]
    pools["mrr"] = size.reindex(pd.MultiIndex.from_arrays([pools["account_id"], pools["prev_month"]])).fillna(0.0).to_numpy()
    pools["plan"] = compute_churns.plan_on(subs_typed, pools.assign(day=pools["ref"])).to_numpy()
    rows = []
    for i, churn in enumerate(todo.itertuples(index=False)):
        pool = pools[pools["case"] == i]
        if pool.empty:
            continue
        same = pool[pool["plan"] == churn.plan]
        if len(same) >= k:
            pool = same
        features = np.column_stack([np.log1p(pool["tenure_months"].clip(lower=0)), np.log1p(pool["mrr"])])
        target = np.array([[np.log1p(max(churn.tenure_months, 0)), np.log1p(churn.mrr_lost)]])
        scale = features.std(axis=0)
        scale[scale == 0] = 1.0
        centre = features.mean(axis=0)
        nn = NearestNeighbors(n_neighbors=min(k, len(pool))).fit((features - centre) / scale)
        dist, idx = nn.kneighbors((target - centre) / scale)
        for rank, (d, j) in enumerate(zip(dist[0], idx[0]), start=1):
            row = pool.iloc[j]
            rows.append({"account_id": churn.account_id, "comparable_id": row["account_id"], "rank": rank,
                         "ref_date": row["ref"], "tenure_months": row["tenure_months"], "mrr": row["mrr"],
                         "segment": row["segment"], "plan": row["plan"], "same_plan": row["plan"] == churn.plan,
                         "distance": float(d)})
    return pd.DataFrame(rows, columns=cols)


def assert_same_pairs(ds, month, retained_days):
    month = pd.Period(month)
    churned = compute_churns.churned_accounts(ds, month)
    churned = churned[churned["status"] == "churned"]
    assert churned["churn_date"].nunique() > 3  # several reference days, so several groups
    expected = reference_comparables(ds, churned, period.month_end(month), 3, retained_days)
    got = compute_comparables.comparables(ds, churned, period.month_end(month), 3, retained_days)
    assert len(got) == 3 * len(churned)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


@pytest.mark.parametrize("retained_days", [90, 0])  # 0: a churned account could be its own candidate
def test_grouped_comparables_equal_the_per_churn_reference(small_dataset, retained_days):
    assert_same_pairs(small_dataset, "2026-10", retained_days)


@pytest.mark.slow
def test_grouped_comparables_equal_the_per_churn_reference_on_the_demo_world(demo_dataset):
    assert_same_pairs(demo_dataset, "2026-10", 90)


def test_plans_on_a_day_by_hand():
    subs = pd.DataFrame({
        "account_id": ["a", "a", "b", "b", "c"], "product": ["Starter", "Add-on", "Growth", "Pro", "Old"],
        "start_date": pd.to_datetime(["2026-01-01", "2026-01-01", "2026-01-01", "2026-06-01", "2026-01-01"]),
        "end_date": pd.to_datetime([None, None, "2026-06-01", None, "2026-03-01"]),
        "mrr": [100.0, 30.0, 200.0, 50.0, 80.0]})
    # a: the larger subscription; b: Growth ended the day before, Pro is its plan now; c: nothing active
    assert compute_comparables._plans_on(subs, pd.Timestamp("2026-06-01")).to_dict() == {"a": "Starter", "b": "Pro"}
    assert compute_comparables._plans_on(subs, pd.Timestamp("2026-05-31")).to_dict() == {"a": "Starter", "b": "Growth"}


def reference_run_checks(ds, month, config, months_back, horizon_days=90, refit_months=6, training_months=9):
    """The implementation before sampling: health scores on every row, one copied training frame per fit."""
    month = pd.Period(month, "M")
    horizon_months = int(np.ceil(horizon_days / period.DAYS_PER_MONTH))
    frame = risk.observations(ds, month, horizon_days=horizon_days,
                                 history_months=months_back + horizon_months + training_months)
    scores = health.health_scores(frame, config)
    scores.index = frame.index
    dates = sorted(frame["observation_date"].unique())
    last = pd.Timestamp(dates[-1])
    check_dates = [pd.Timestamp(d) for d in dates if pd.Timestamp(d) > last - pd.DateOffset(months=months_back + 1)]
    probability = pd.Series(np.nan, index=frame.index)
    threshold = pd.Series(np.nan, index=frame.index)
    model = None
    for i, when in enumerate(check_dates):
        from_end = len(check_dates) - 1 - i
        train = frame[(frame["observation_date"] + pd.Timedelta(days=horizon_days) <= when) & frame["churned"].notna()]
        threshold[frame["observation_date"] == when] = 1.5 * float(train["churned"].mean())
        if model is None or from_end <= 1 or from_end % refit_months == 0:
            model = risk.ChurnModel("gbm").fit(train)
        rows = frame["observation_date"] == when
        probability[rows] = model.predict_proba(frame[rows])
    out = frame[["account_id", "observation_date"]].copy()
    for col in ("health_score", "health_band", "triggered", "playbook"):
        out[col] = scores[col]
    out["churn_probability"] = probability
    out["risk_threshold"] = threshold
    return out[out["observation_date"].isin(check_dates)].reset_index(drop=True)


@pytest.fixture(scope="module")
def small_checks(small_dataset):
    return compute_checks.run_checks(small_dataset, "2026-10", health.load_health_config(HEALTH_FILE), months_back=8)


@pytest.mark.slow
def test_checks_without_sampling_equal_the_reference(small_dataset, small_checks):
    expected = reference_run_checks(small_dataset, "2026-10", health.load_health_config(HEALTH_FILE), months_back=8)
    got = small_checks.scores[expected.columns]
    pd.testing.assert_frame_equal(got, expected)  # exactly: nothing was sampled
    assert small_checks.fits and all(s is None for s in small_checks.fits.values())
    frame = small_checks.frame
    again = compute_checks.run_checks(small_dataset, "2026-10", health.load_health_config(HEALTH_FILE), months_back=8,
                          max_train_rows=len(frame))  # a cap the data does not reach changes nothing
    pd.testing.assert_frame_equal(again.scores, small_checks.scores)
    assert "every closed observation" in words.sampling_text(small_checks)


def test_sampled_refits_train_only_on_observations_closed_before_each_check(small_dataset, small_checks):
    frame = small_checks.frame
    labelled = [int((frame["churned"].notna() & (frame["observation_date"] + pd.Timedelta(days=90) <= when)).sum())
                for when in small_checks.fits]
    cap = min(labelled) // 2  # every refit has more closed observations than that: all are sampled
    checks = compute_checks.run_checks(small_dataset, "2026-10", health.load_health_config(HEALTH_FILE), months_back=8,
                                       max_train_rows=cap)
    frame = checks.frame
    assert len(checks.fits) == len(small_checks.fits) >= 3
    for when, sampling in checks.fits.items():
        closed = frame[frame["observation_date"] + pd.Timedelta(days=90) <= when]
        # every churned row closed by the check, the others sampled from the closed ones only: no leakage
        assert sampling.churned == int((closed["churned"] == 1).sum())
        assert sampling.others == int((closed["churned"] == 0).sum())
        assert sampling.rows == sampling.churned + sampling.others_kept <= cap
        assert checks.models[when].sampling is sampling
    # the thresholds are the known churn rates, from every closed row, not the sample
    pd.testing.assert_series_equal(pd.Series(checks.thresholds), pd.Series(small_checks.thresholds))
    scores = checks.scores
    assert scores["churn_probability"].between(0, 1).all()
    text = words.sampling_text(checks)
    last = checks.fits[max(checks.fits)]
    assert f"all {last.churned:,} churned observations" in text and f"{len(checks.fits)} of the {len(checks.fits)}" in text
    assert f"{cap:,}" in text


def test_alerts_from_the_checks_equal_the_alerts_of_the_full_lists(small_dataset, small_checks):
    config = health.load_health_config(HEALTH_FILE)
    month = pd.Period("2026-10")
    T, T_prev = pd.Timestamp("2026-11-01"), pd.Timestamp("2026-10-01")
    full_now = risk.at_risk_list(small_dataset, month, 90, health_config=config, frame=small_checks.frame,
                                    model=small_checks.models[T], risk_threshold=small_checks.thresholds[T]
                                    ).assign(risk_threshold=small_checks.thresholds[T])
    full_before = risk.at_risk_list(small_dataset, month - 1, 90, health_config=config, frame=small_checks.frame,
                                       model=small_checks.models[T_prev],
                                       risk_threshold=small_checks.thresholds[T_prev]
                                       ).assign(risk_threshold=small_checks.thresholds[T_prev])
    expected = compute_alerts.alerts(full_now, full_before)
    current, before, got = compute_alerts.month_alerts(small_dataset, small_checks, month, 90, config, top_share=None)
    assert len(expected) > 10
    pd.testing.assert_frame_equal(got, expected)
    assert set(current["account_id"]) == set(expected["account_id"])  # full rows only for those that alert
    cols = ["account_id", "health_band", "health_score", "churn_probability", "risk_threshold"]
    pd.testing.assert_frame_equal(before[cols].sort_values("account_id").reset_index(drop=True),
                                  full_before[cols].sort_values("account_id").reset_index(drop=True), check_dtype=False)


def reference_plan_on(subscriptions, points):
    """The DuckDB query :func:`compute_churns.plan_on` replaced (a range join that did not scale with churns)."""
    import duckdb

    con = duckdb.connect()
    con.register("subs", subscriptions[["account_id", "product", "start_date", "end_date", "mrr"]])
    con.register("pts", points[["account_id", "day"]].reset_index(drop=True).reset_index())
    got = con.execute(
        """
        SELECT p.index, arg_max(s.product, s.mrr) AS plan
        FROM pts p LEFT JOIN subs s
          ON s.account_id = p.account_id AND s.start_date <= p.day
         AND (s.end_date IS NULL OR s.end_date > p.day) AND s.mrr > 0
        GROUP BY p.index ORDER BY p.index
        """
    ).df()
    con.close()
    return pd.Series(got["plan"].to_numpy(), index=points.index)


def test_plan_on_equals_the_reference_query(demo_dataset):
    subs = demo_dataset.table("subscriptions")
    subs = subs.assign(start_date=pd.to_datetime(subs["start_date"]), end_date=pd.to_datetime(subs["end_date"]))
    churns = compute_churns.all_churns(demo_dataset, pd.Timestamp("2026-10-31"))
    # the last paid day of every churn, the churn day itself (often nothing active) and a day before any start
    points = pd.concat([churns.assign(day=churns["churn_date"] - pd.Timedelta(days=1)),
                        churns.assign(day=churns["churn_date"]),
                        churns.assign(day=pd.Timestamp("2000-01-01"))], ignore_index=True)
    expected = reference_plan_on(subs, points)
    got = compute_churns.plan_on(subs, points)
    assert expected.notna().sum() > 1000 and expected.isna().sum() > 1000
    pd.testing.assert_series_equal(got, expected, check_names=False)


def test_risk_band_by_hand():
    lst = pd.DataFrame({"account_id": list("abcdefghij"),
                        "churn_probability": [0.9, 0.1, 0.5, 0.5, np.nan, 0.2, 0.3, 0.05, 0.6, 0.01]})
    band = compute_alerts.risk_band(lst, top_share=0.3)  # 9 scored accounts: ceil(2.7) = 3
    assert lst.loc[band["in_band"], "account_id"].tolist() == ["a", "c", "i"]  # c before d: equal, by id
    assert band.set_index(lst["account_id"])["risk_rank"].to_dict()["d"] == 4
    assert pd.isna(band["risk_rank"].iloc[4]) and not band["in_band"].iloc[4]
    capped = compute_alerts.risk_band(lst, top_share=0.3, max_accounts=2)
    assert lst.loc[capped["in_band"], "account_id"].tolist() == ["a", "i"]


def test_band_alerts_by_hand():
    previous = pd.DataFrame({"account_id": list("abcdefghij"), "health_band": ["green"] * 10,
                             "health_score": [80.0] * 10,
                             "churn_probability": [0.9, 0.8, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]})
    current = pd.DataFrame({"account_id": list("abcdefghijk"),
                            "health_band": ["green", "red", "red", "yellow"] + ["green"] * 7,
                            "health_score": [80.0, 30.0, 20.0, 60.0] + [80.0] * 7,
                            "churn_probability": [0.9, 0.2, 0.1, 0.85, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.95],
                            "health_triggers": ["none", "low usage", "low usage", "none"] + ["none"] * 7,
                            "top_reasons": ["r"] * 11, "playbook": ["p"] * 11, "arr": [1.0] * 11,
                            "arr_at_risk": [0.9, 0.2, 0.1, 0.85, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.95]})
    # band: top 20% -> 2 of 10 before (a, b), ceil(2.2) = 3 of 11 now (k, a, d)
    got = compute_alerts.band_alerts(current, previous, top_share=0.2).set_index("account_id")
    # a stays in the band (no alert); b and c turned red but are not in the band (no alert);
    # d entered it; k is new and in it
    assert got.index.tolist() == ["k", "d"]  # largest ARR at risk first
    assert got.loc["d", "alert"] == "entered the top risk band" and got.loc["d", "risk_rank"] == 3
    assert got.loc["k", "alert"] == "in the top risk band at first score"
    assert (got.loc["d", "health_band_before"], got.loc["d", "health_band"]) == ("green", "yellow")
    assert got.loc["d", "trigger"] == "model: r"
    # the previous rule on the same lists: two accounts turned red, d dropped to yellow, k red? no: k is green
    old = compute_alerts.alerts(current, previous, risk_threshold=0.5).set_index("account_id")
    assert set(old.index) == {"b", "c", "d", "k"}


def test_alert_audit_by_hand():
    # three checks; the band (top 1 of 4) is b at the first, a at the second and a at the third
    dates = pd.to_datetime(["2026-05-01", "2026-06-01", "2026-07-01"])
    probs = {dates[0]: [0.1, 0.9, 0.2, 0.3], dates[1]: [0.8, 0.3, 0.2, 0.6], dates[2]: [0.9, 0.1, 0.2, 0.7]}
    bands = {dates[0]: ["green", "green", "green", "green"], dates[1]: ["green", "red", "green", "green"],
             dates[2]: ["green", "red", "red", "green"]}
    scores = pd.concat([pd.DataFrame({"account_id": list("abcd"), "observation_date": d, "health_band": bands[d],
                                      "health_score": 50.0, "churn_probability": probs[d], "risk_threshold": 0.5})
                        for d in dates], ignore_index=True)
    checks = compute_checks.Checks(scores, pd.DataFrame(), {d: object() for d in dates}, {d: 0.5 for d in dates}, 6)
    churns = pd.DataFrame({"account_id": ["a", "c", "b"],
                           "churn_date": pd.to_datetime(["2026-07-15", "2026-09-20", "2026-06-10"])})
    # as of 2026-09-20: the 2026-06-01 check's 90 days have passed (Jun 1 - Aug 29), the 2026-07-01 check's
    # (to Sep 28) not yet
    table, summary = compute_alerts.alert_audit(checks, churns, pd.Timestamp("2026-09-20"), 90, top_share=0.25)
    assert table["month"].astype(str).unique().tolist() == ["2026-05"]
    band = summary["band"]
    # June check: a entered the band (b left it); a churned on Jul 15, within 90 days: 1 alert, borne out
    assert (band["alerts"], band["churned"], band["false_alarms"]) == (1, 1, 0)
    previous = summary["previous"]
    # previous rule: b turned red, a and d crossed 0.5; b churned Jun 10, a Jul 15; d did not
    assert (previous["alerts"], previous["churned"], previous["false_alarms"]) == (3, 2, 1)
    assert previous["false_alarm_rate"] == pytest.approx(1 / 3)
    assert previous["false_alarm_low"] < 1 / 3 < previous["false_alarm_high"]
    # base rate: 2 of the 4 paying accounts at the June check churned within 90 days (a, b)
    assert band["base_rate"] == pytest.approx(0.5)
    later = compute_alerts.alert_audit(checks, churns, pd.Timestamp("2026-10-31"), 90, top_share=0.25)[1]
    # the July check is judged too: a stays in the band (no alert); c turned red and churned Sep 20
    assert later["band"]["months"] == 2 and later["band"]["alerts"] == 1
    assert (later["previous"]["alerts"], later["previous"]["churned"]) == (4, 3)


# --------------------------------------------------------------------------------------------------
# The early-warning record beside its comparator (issue 16.2): hand-made fleets whose answer is known
# --------------------------------------------------------------------------------------------------
CHECK_DAYS = pd.date_range("2026-04-01", "2026-11-01", freq="MS")  # 1 Apr .. 1 Nov: October's look-back is May-Oct


def fleet(flagged: dict[str, list[bool]], churns: dict[str, str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Monthly checks 1 Apr .. 1 Nov 2026 of each account (``flagged``: one bool per check, True = flagged;
    a churned account has no check on or after its churn), and the churn dates."""
    rows = []
    for account, marks in flagged.items():
        end = pd.Timestamp(churns[account]) if account in churns else pd.Timestamp.max
        rows += [{"account_id": account, "observation_date": d, "flagged": bool(m), "scored": True,
                  "source": "risk list" if m else "", "trigger": "t" if m else "", "playbook": ""}
                 for d, m in zip(CHECK_DAYS, marks) if d < end]
    dates = pd.DataFrame({"account_id": list(churns), "churn_date": pd.to_datetime(list(churns.values()))})
    return pd.DataFrame(rows), dates


def record_of(flags: pd.DataFrame, churns: pd.DataFrame, month: str = "2026-10") -> pd.DataFrame:
    """The report's record of the month's churns against the month's stayers."""
    in_month = churns[churns["churn_date"].dt.to_period("M") == pd.Period(month)]
    audit = compute_audit.warning_audit(in_month, flags, lookback_months=6)
    return compute_audit.warning_record(audit, compute_audit.stayers(flags, churns, month, 6)).set_index("measure")


def wilson(k: int, n: int) -> tuple[float, float]:
    from statsmodels.stats.proportion import proportion_confint

    return proportion_confint(k, n, alpha=0.05, method="wilson")


def test_every_account_flagged_gives_full_recall_and_a_full_false_alarm_rate():
    """A score that flags everyone catches every churn (recall 100%) and flags every account that stays
    (false-alarm rate 100%): the record says it is worthless, where "flagged 3 of 3 churns" alone praised it."""
    churns = {"c1": "2026-10-10", "c2": "2026-10-15", "c3": "2026-10-31"}
    flags, dates = fleet({a: [True] * 8 for a in ["c1", "c2", "c3", *[f"s{i}" for i in range(7)]]}, churns)
    record = record_of(flags, dates)
    for measure in ("lookback", "last_check"):
        row = record.loc[measure]
        assert (row["churns"], row["churns_flagged"], row["stayed"], row["stayed_flagged"]) == (3, 3, 7, 7)
        assert (row["recall"], row["false_alarm_rate"]) == (1.0, 1.0)
        assert (row["recall_low"], row["recall_high"]) == pytest.approx(wilson(3, 3))
        assert (row["false_alarm_low"], row["false_alarm_high"]) == pytest.approx(wilson(7, 7))
    text = words.month_headline(pd.Period("2026-10"), pd.DataFrame({"arr_lost": [1.0] * 3}), pd.DataFrame(),
                                {"warned": 3, "median_standing_lead_days": 180}, record.reset_index(), None)
    assert "flagged 3 of 3 (100%, 95% CI 44\u2013100%) against 100% (95% CI 65\u2013100%) of the 7 accounts" in text


def test_nobody_flagged_and_a_score_that_flags_only_churners():
    churns = {"c1": "2026-10-10", "c2": "2026-10-20"}
    accounts = ["c1", "c2", "s1", "s2", "s3"]
    flags, dates = fleet({a: [False] * 8 for a in accounts}, churns)
    none = record_of(flags, dates)
    assert none["recall"].tolist() == [0.0, 0.0] and none["false_alarm_rate"].tolist() == [0.0, 0.0]
    # only the churners, and only from September: caught at the last check (Oct 1), never a stayer
    flags, dates = fleet({a: [False] * 5 + [a.startswith("c")] * 3 for a in accounts}, churns)
    perfect = record_of(flags, dates)
    assert perfect["recall"].tolist() == [1.0, 1.0] and perfect["false_alarm_rate"].tolist() == [0.0, 0.0]


def test_a_score_blind_to_churn_flags_churners_and_stayers_alike():
    """Flags drawn at random, whatever the account's fate: recall and false-alarm rate estimate the same
    30% (planted), so their difference must sit within sampling error. Tolerance: 4 standard errors of a
    difference of two shares (a false failure has probability below 1e-4 per seed)."""
    for seed in (1, 2, 3):
        rng = np.random.default_rng(seed)
        accounts = [f"a{i}" for i in range(1500)]
        churned = rng.choice(accounts, 150, replace=False)
        days = pd.Timestamp("2026-10-01") + pd.to_timedelta(rng.integers(1, 31, len(churned)), unit="D")
        churns = dict(zip(churned, days.strftime("%Y-%m-%d")))
        flags, dates = fleet({a: rng.random(8) < 0.3 for a in accounts}, churns)
        row = record_of(flags, dates).loc["last_check"]
        se = np.sqrt(0.3 * 0.7 * (1 / row["churns"] + 1 / row["stayed"]))
        assert abs(row["recall"] - row["false_alarm_rate"]) < 4 * se, (seed, row["recall"], row["false_alarm_rate"])
        assert (row["churns"], row["stayed"]) == (150, 1350)


def test_stayers_by_hand():
    """October's stayers: checked in May..Oct (the six checks of an October churn's look-back), no churn
    from 1 May to 31 Oct; a check that could not flag (no health score, no risk model) is no check."""
    flags, _ = fleet({"flag_jun": [0, 0, 1, 0, 0, 0, 0, 1], "flag_oct": [0, 0, 0, 0, 0, 0, 1, 0],
                      "only_april": [1, 0, 0, 0, 0, 0, 0, 0], "left_aug": [1] * 8, "leaves_nov1": [0] * 7 + [1],
                      "unscored": [1] * 8}, {})
    flags = flags[(flags["account_id"] != "only_april") | (flags["observation_date"] == "2026-04-01")]
    flags.loc[flags["account_id"] == "unscored", "scored"] = False
    churns = pd.DataFrame({"account_id": ["left_aug", "leaves_nov1"],
                           "churn_date": pd.to_datetime(["2026-08-10", "2026-11-01"])})
    stayed = compute_audit.stayers(flags, churns, "2026-10", 6).set_index("account_id")
    # only_april: no check in the window; left_aug: churned in it; unscored: no check could flag
    assert sorted(stayed.index) == ["flag_jun", "flag_oct", "leaves_nov1"]
    assert stayed["checks"].tolist() == [6, 6, 6]  # the 1 Nov check is November's, not October's
    assert stayed.loc["flag_jun", "flagged_in_lookback"] and not stayed.loc["flag_jun", "flagged_at_last_check"]
    assert stayed.loc["flag_oct", "flagged_at_last_check"] and stayed.loc["flag_oct", "last_check"] == pd.Timestamp("2026-10-01")
    assert not stayed.loc["leaves_nov1", "flagged_in_lookback"]
    # period_start: a first unpaid day of 1 Nov is an October churn, so leaves_nov1 did not stay through October
    by_period = compute_audit.stayers(flags, churns.assign(churn_month=compute_churns.churn_month(
        churns["churn_date"], "period_start")), "2026-10", 6)
    assert "leaves_nov1" not in set(by_period["account_id"])


def test_shares_never_read_as_a_rounded_to_zero_interval():
    assert words.share_ci(0.0, 0.0, 0.0029) == "0.0%, 95% CI 0.0\u20130.3%"
    assert words.share_ci(0.004, 0.002, 0.009) == "0.4%, 95% CI 0.2\u20130.9%"
    assert words.rate_ci(0.25, 0.18, 0.33) == "25% (95% CI 18\u201333%)"
    assert words.pct_decimals(0.0004, 0.0001, 0.0012) == 2


def test_flag_sources_say_why_a_score_could_not_flag():
    def checks(health_scored, models, unmodelled):
        return compute_checks.Checks(pd.DataFrame(), pd.DataFrame(), models, {}, 6, {}, None, health_scored, unmodelled)

    why = "too little history for the risk model: no observation's outcome is known yet"
    early = {pd.Timestamp("2025-01-01"): why, pd.Timestamp("2025-02-01"): why}
    text = words.flag_sources(Result(pd.Period("2025-04"), checks=checks(True, {pd.Timestamp("2025-03-01"): 1}, early)))
    assert text == f"No risk model stood at the checks of 1 Jan 2025 to 1 Feb 2025 ({why})."
    text = words.flag_sources(Result(pd.Period("2025-04"), checks=checks(False, {}, early)))
    assert text.startswith("The health score cannot be computed on this data") and "No risk model could be fitted" in text
    assert text.endswith("Nothing could flag, so no warning can be judged.")
    assert words.flaggers(checks(False, {pd.Timestamp("2025-03-01"): 1}, {})) == "the risk list"


def test_rollup_chart_accepts_wilson_bounds_a_rounding_error_inside_the_share():
    """Issue 15.2 ('yerr' must not contain negative values): a month with no missed churn has share 0 and
    a Wilson low bound that floating point may put a hair above it."""
    from csresearch.analyses.churn_postmortem import charts

    month = pd.Period("2026-10")
    result = Result(month, rollup_reasons=pd.DataFrame({"month": [month], "reason": ["budget"], "churns": [2],
                                                        "arr_lost": [100.0]}),
                    rollup_missed=pd.DataFrame({"month": [month], "checked_churns": [2], "missed": [0],
                                                "missed_share": [0.0], "missed_low": [1e-17],
                                                "missed_high": [0.66]}))
    assert charts.rollup(result) is not None


# --------------------------------------------------------------------------------------------------
# The single-account review (issue 17.7): the account's story only, the month review's warning dates
# --------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_month_review(small_dataset):
    return report.build(small_dataset, "2026-10", Settings(), health_config=health.load_health_config(HEALTH_FILE))


@pytest.mark.slow
def test_an_account_review_reports_the_warning_dates_of_the_month_review(small_dataset, small_month_review):
    """The account review used to audit a weekly health history and said "first flagged 121 days before"
    where the month review said 9; both now judge the same monthly checks."""
    from csresearch.analyses.churn_postmortem import charts

    month = small_month_review.review_audit().set_index("account_id")
    # an account whose first flag in the look-back had cleared before the warning standing at the churn
    shifted = month[month["warned_at_last_check"] & (month["first_flagged"] < month["flagged_since"])]
    assert len(shifted), "the small world has a churn whose standing warning began after an earlier flag"
    account = shifted.index[0]
    one = report.build(small_dataset, "2026-10", Settings(account_ids=account),
                       health_config=health.load_health_config(HEALTH_FILE))
    row = one.review_audit().set_index("account_id").loc[account]
    for col in ("last_check", "flagged_since", "standing_lead_days", "standing_source", "outcome", "checks"):
        assert row[col] == month.loc[account, col], col
    headline = words.headline(one)
    assert f"a warning standing since {day(row['flagged_since'])}" in headline
    assert f"({int(row['standing_lead_days'])} days before the churn)" in headline
    assert "accounts that stayed" in headline  # the comparator beside the warning
    month_list = small_month_review.churn_list().set_index("account_id")
    assert month_list.loc[account, "flagged_since"] == row["flagged_since"]
    # the account's story only: no fleet-wide chart, table or section
    assert [charts.reasons_pareto(one), charts.reasons_by_segment(one), charts.themes(one), charts.lead_times(one),
            charts.rollup(one), charts.alerts_by_type(one)] == [None] * 6
    assert [views.themes(one), views.missed(one), views.alerts(one), views.lessons(one)] == [None] * 4
    assert all(not words.fleet_section(one, key).heading and not words.fleet_section(one, key).text
               for key in ("themes", "missed", "alerts", "lessons"))
    assert [words.audit_window(one), words.missed(one), words.false_alarm(one), words.alerts(one),
            words.alert_rule(one), words.rollup(one)] == [""] * 6
    assert {k.name for k in words.kpis(one)} <= {"Accounts reviewed", "Flagged at the last check before churn",
                                                 "Median standing warning"}
    pages = charts.timelines(one)
    assert len(pages) == 1 and views.pairs(one) is not None and len(views.account_checks(one)) == 1
    assert words.reasons(one).startswith("- ")  # its own cancellation form, not a ranking of one


def test_missed_churns_read_over_or_under_represented_as_the_shares_say():
    """The demo month read "over-represented in tenure band = 6-12 months (12% of missed vs 35% of caught)":
    the direction comes from the shares, and the lesson names the largest excess first."""
    table = pd.DataFrame({"attribute": ["tenure_band", "segment"], "value": ["6-12 months", "SMB"],
                          "missed": [2, 9], "caught": [30, 20], "share_of_missed": [0.12, 0.9],
                          "share_of_caught": [0.35, 0.5], "p_value": [0.01, 0.02], "p_holm": [0.02, 0.04],
                          "lift": [-0.23, 0.4]})
    summary = {"checked": 60, "caught": 50, "missed": 10}
    assert "over-represented in segment = SMB (90% of missed vs 50% of caught" in words.missed_sentence(table, summary)
    assert "under-represented in tenure band = 6-12 months (12% of missed vs 35% of caught" in words.missed_sentence(
        table.iloc[:1], summary)
    audit = pd.DataFrame({"outcome": ["missed"] * 10 + ["caught"] * 50, "reason": ["budget"] * 60})
    found = compute_lessons.findings(pd.DataFrame(), summary, table, audit, pd.DataFrame(), {})
    trait = next(f for f in found if f.kind == "missed_trait")
    assert trait.facts["value"] == "SMB"
    row = views.lesson(trait, health.load_health_config(HEALTH_FILE))
    assert row["finding"] == "Missed churns were concentrated in segment = SMB"


# --------------------------------------------------------------------------------------------------
# Every block the notebook shows, on data of awkward shapes (issue 15.2): no crash, no nan
# --------------------------------------------------------------------------------------------------
SHAPES = [("core", 3, None), ("core", 6, None), ("events", 6, None), ("all", 24, "no_churn"),
          ("all", 24, "everyone_churns"), ("all", 24, "single_account"), ("core", 6, "single_account"),
          ("all", 24, "one_churn_date")]
NOT_A_NUMBER = re.compile(r"(?<![A-Za-z])(nan|NaN|inf|n/a|None)(?![A-Za-z])|\u2212nan")


def notebook_blocks(result: Result) -> list:
    """What the notebook's cells show for ``result``: every argument of ``display.md`` and
    ``display.show_blocks`` in notebooks/05_churn_postmortem.ipynb, evaluated as the kernel would."""
    import ast

    import nbformat

    from csresearch.analyses.churn_postmortem import charts

    nb = nbformat.read(Path(__file__).resolve().parents[1] / "notebooks" / "05_churn_postmortem.ipynb", as_version=4)
    space = {"charts": charts, "views": views, "words": words, "result": result}
    shown = []
    for cell in [c for c in nb.cells if c.cell_type == "code"][1:]:
        for node in ast.walk(ast.parse(cell.source)):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and isinstance(node.func.value, ast.Name)):
                continue
            if node.func.value.id == "display":
                value = eval(compile(ast.Expression(node.args[0]), "<cell>", "eval"), space)
                shown += value if node.func.attr == "show_blocks" else [value]
            elif node.func.value.id == "nb" and node.func.attr == "section":  # a heading and its paragraph
                section = eval(compile(ast.Expression(node.args[0]), "<cell>", "eval"), space).translated()
                shown += [text for text in (section.heading, section.text) if text]
    return shown


def assert_reads(blocks: list) -> None:
    import matplotlib.pyplot as plt

    from csresearch.analyses.base import Table

    for block in blocks:
        if isinstance(block, str):
            assert not NOT_A_NUMBER.search(block), block
        elif isinstance(block, Table):
            cells = block.data.astype(object).where(block.data.notna(), "").astype(str)
            bad = cells[cells.apply(lambda col: col.map(lambda v: bool(NOT_A_NUMBER.search(v))))].stack()
            assert bad.empty, bad.head().to_dict()
        else:
            assert block is None or hasattr(block, "savefig"), type(block)
    plt.close("all")


@pytest.fixture(scope="module")
def shaped_worlds(tmp_path_factory) -> dict:
    import duckdb

    import matrix_worlds as mw
    from conftest import world_path

    con = duckdb.connect(str(world_path(accounts=150, months=24, seed=5, end_month="2026-10")), read_only=True)
    base = {t: con.table(t).df() for (t,) in con.execute("SHOW TABLES").fetchall()}
    con.close()
    root, out = tmp_path_factory.mktemp("shapes"), {}
    for tables, months, name in SHAPES:
        cut, month = mw.cut(base, months)
        shaped = mw.keep_tables(cut, tables)
        if name:
            shaped = mw.scenario(shaped, name, month)
        key = f"{tables}-{months}m" + (f"-{name}" if name else "")
        out[key] = (mw.write(shaped, root / key), month)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("shape", [f"{t}-{m}m" + (f"-{n}" if n else "") for t, m, n in SHAPES])
def test_every_block_of_the_notebook_reads_on_every_shape(shaped_worlds, shape):
    folder, month = shaped_worlds[shape]
    ds = open_dataset(folder)
    config = health.load_health_config(HEALTH_FILE)
    result = report.build(ds, month, Settings(), health_config=config)
    assert_reads([words.headline(result), *[f"{k.name}: {k.display}" for k in words.kpis(result)],
                  *notebook_blocks(result)])
    if not result.gone.empty:  # the same data, reviewed for its largest churn
        one = report.build(ds, month, Settings(account_ids=result.gone["account_id"].iloc[0]), health_config=config)
        assert_reads([words.headline(one), *notebook_blocks(one)])


def test_a_health_score_with_no_metric_in_the_data_says_so_and_flags_nothing(tiny):
    """Only an NPS component and no surveys table: the health score cannot be computed; too little history
    for a risk model either. No check could flag, so no churn counts as checked (not as missed)."""
    config = health.parse_health_config({"bands": {"green": 70, "yellow": 45}, "components": [
        {"name": "nps", "metric": "nps_score", "bad_when": "below", "red": 6, "green": 9, "weight": 1,
         "playbook": "Call them."}]})
    result = report.build(tiny, "2026-10", Settings(), health_config=config)
    assert result.checks is not None and not result.checks.health_scored and not result.checks.models
    assert not result.checks.scores["scored"].any()
    text = words.audit_review(result)
    assert text.startswith("The health score cannot be computed on this data: none of its components' metrics")
    assert "Nothing could flag, so no warning can be judged." in text
    assert "No check that could flag fell before the churns in October 2026" in text
    assert result.audit_summary["checked"] == 0 and result.audit_summary["missed"] == 0
    assert "Flagged" not in " ".join(k.name for k in words.kpis(result))


# --------------------------------------------------------------------------------------------------
# In Japanese (issue 18.1): the same numbers through the catalog, no English left but names and codes
# --------------------------------------------------------------------------------------------------
# Latin script a Japanese reader is expected to see: acronyms, the methods' own names, the unit "pt"
JA_KEPT = {"ARR", "MRR", "NRR", "GRR", "CSM", "CSMs", "TTV", "AUC", "CI", "NPS", "ID", "QBR", "ROI", "TF", "IDF", "NMF",
           "MeCab", "fugashi", "UniDic", "Holm", "Wilson", "Fisher", "pt", "false"}
# code: identifiers, file names and paths (max_train_rows, alerts.csv, params/health_score.yml), `code spans`
CODE = re.compile(r"`[^`]*`|[A-Za-z0-9]+(?:[_./-][A-Za-z0-9]+)+")


def english_left(texts, data_values=(), where: bool = False) -> list[str]:
    """Latin words in ``texts`` other than :data:`JA_KEPT`, once the data's own values and code are cut
    (``where``: the texts they are left in, instead)."""
    found, places = set(), []
    values = sorted({" ".join(v.split()) for v in data_values if isinstance(v, str) and v}, key=len, reverse=True)
    for text in texts:
        text = " ".join(str(text).split())  # a chart wraps long labels
        for value in values:
            text = text.replace(value, " ")
        left = {w for w in re.findall(r"[A-Za-z]{2,}", CODE.sub(" ", text)) if w not in JA_KEPT}
        found |= left
        places += [text] if left else []
    return places if where else sorted(found)


def test_month_headline_in_japanese_carries_the_english_numbers():
    """The hand-computed headline of test_month_headline_is_generated_from_the_numbers, in Japanese:
    1 of 2 churns flagged (Wilson 9-91%) against 30 of 120 accounts that stayed (18-33%), a 61-day median
    lead, 'competitor' 75% of the $48k lost; month first, the comparator in the same sentence."""
    from csresearch import i18n, text

    churned = pd.DataFrame({"account_id": ["a", "b"], "arr_lost": [12_000.0, 36_000.0]})
    pareto = compute_reasons.reasons_pareto(churned.assign(reason=["budget", "competitor"]))
    summary = {"checked": 2, "caught": 1, "warned": 1, "median_standing_lead_days": 61.0}
    with i18n.using("ja"):
        lost = text.money(48_000, compact=True)
        headline = words.month_headline(pd.Period("2026-10"), churned, pareto, summary, hand_record(), 7)
        severe = words.month_headline(pd.Period("2026-10"), churned, pareto, summary, hand_record(), 7, 3)
        nobody = words.month_headline(pd.Period("2026-10"), churned.iloc[0:0], pareto.iloc[0:0], {},
                                      hand_record().iloc[0:0], 0)
    assert headline == (f"2026年10月に2社が解約し、ARR {lost}を失いました。最も損失が大きかった理由は「競合他社」です"
                        "（失ったARRの75%）。解約前の最後のチェックで警告が出ていたのは2件中1件（50%、95%信頼区間 "
                        "9\u201391%）で、継続した120社では25%（95%信頼区間 18\u201333%）でした。これらの警告は中央値で"
                        "61日前から出ていました。今月は有料顧客7社に新しいアラートが出ました。")
    assert severe.endswith("今月は有料顧客3社がレッドに転じたかリスク閾値を超えました（全アラート7件）。")
    assert nobody == "2026年10月に解約した顧客はいません。今月は有料顧客0社に新しいアラートが出ました。"
    assert not english_left([headline, severe, nobody])


def test_every_postmortem_heading_reads_in_japanese_with_stable_anchors():
    from csresearch import i18n

    assert all(re.fullmatch(r"[a-z0-9-]+", s.anchor) for s in words.SECTIONS.values())
    with i18n.using("ja"):
        shown = [s.translated() for s in words.SECTIONS.values()]
        missed = words.fleet_section(Result(pd.Period("2026-10")), "missed")
    assert [s.heading for s in shown][:4] == ["解約ポストモーテム", "データ品質", "1. 解約一覧", "2. 解約理由"]
    assert "90日以内に解約に至らなかった" in missed.text            # the horizon filled in after translation
    assert not english_left([s.heading + s.text for s in shown] + [missed.heading, missed.text])


@pytest.mark.slow
def test_the_month_and_account_reviews_read_in_japanese(small_dataset, small_month_review):
    """Every sentence, KPI, table (headers and words) and chart label of both reviews in Japanese: the
    only Latin script left is the data's own names (accounts, plans, segments, events, comments), the
    health config's playbooks and triggers (the team's own text), acronyms and code."""
    import warnings

    import matplotlib.pyplot as plt

    from csresearch import i18n, style
    from csresearch.analyses.base import Table

    style.set_theme()  # as session.start does: the CJK fallback font
    result = small_month_review
    config = result.config
    one_id = result.gone.sort_values("arr_lost").iloc[-1]["account_id"]
    data = [*small_dataset.table("accounts").get("account_name", []), *small_dataset.table("accounts")["segment"],
            *small_dataset.table("subscriptions")["product"], *result.key_events,
            *[e.replace("_", " ") for e in result.key_events],
            *[c.playbook for c in config.components], getattr(config, "default_playbook", ""),
            *result.checks.scores["trigger"], *result.checks.scores["playbook"].dropna(),
            *result.churns.get("competitor", pd.Series(dtype=object)).dropna(),
            *result.churns.get("comment", pd.Series(dtype=object)).dropna(), *result.themes.themes["theme"],
            *result.themes.themes["example"], *small_dataset.table("accounts")["account_id"]]
    if small_dataset.has("churn_reasons"):
        data += [*small_dataset.table("churn_reasons")["comment"].dropna()]
    if result.alerts is not None:  # the health score's and the risk model's reasons: core's own words
        data += [*result.alerts["playbook"], *[part.removeprefix("model: ") for t in result.alerts["trigger"]
                                                for part in str(t).split("; ")]]
    if result.checks.fits:
        data += [risk.sampling_sentence(s, "The risk models").rstrip(".") for s in result.checks.fits.values()
                 if s is not None]
    with i18n.using("ja"), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        one = report.build(small_dataset, "2026-10", Settings(account_ids=one_id), health_config=config)
        texts = []
        for review in (result, one):
            blocks = [words.headline(review), *notebook_blocks(review)]  # charts too: the notebook shows them
            values, notes = words.conventions(review)
            texts += [*[f"{k.name}: {k.display}" for k in words.kpis(review)], *values, *notes.values(),
                      *[v for v in values.values() if isinstance(v, str)]]
            for block in blocks:
                if isinstance(block, str):
                    texts.append(block)
                elif isinstance(block, Table):
                    texts += [*map(str, block.data.columns), block.caption or ""]
                    texts += [str(v) for v in block.data.to_numpy().ravel() if isinstance(v, str)]
                elif hasattr(block, "savefig"):
                    texts += [t.get_text() for t in block.findobj(plt.Text)]
                    plt.close(block)
        data += [*one.checks.scores["trigger"], *one.checks.scores["playbook"].dropna()]
    plt.close("all")
    assert not [w for w in caught if "missing from font" in str(w.message)]  # no □ in a chart
    assert not english_left(texts, data), english_left(texts, data, where=True)[:5]
    assert any("解約" in t for t in texts) and any("検知" in t for t in texts)



def test_a_playbooks_short_name_ends_at_an_ascii_or_full_width_colon():
    assert views.playbook_name("Renewal preparation: open the renewal conversation now") == "Renewal preparation"
    assert views.playbook_name("更新準備：今すぐ更新の話を始める") == "更新準備"
    assert views.playbook_name("No colon in it") == "No colon in it"
