"""Churn definitions, movements, bridge, rates and decomposition on hand-computed cases, plus
recovery of the synthetic world's planted churn rates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from csresearch.analyses.churn_decomposition import compute_segments, words
from csresearch.analyses.churn_decomposition.compute_change import (
    change_interval,
    churn_change_decomposition,
    contribution_intervals,
    mix_rate_split,
)
from csresearch.analyses.churn_decomposition.compute_frame import account_month_churn, value_band
from csresearch.analyses.churn_decomposition.compute_rates import bridge_gap_cents, churn_rates, mrr_bridge, period_start_rates
from csresearch.analyses.churn_decomposition.compute_retention import cohort_retention_12m
from csresearch.analyses.churn_decomposition.report import Settings, churn_report
from csresearch.analyses.churn_decomposition.words import driver_sentence, flagged_sentence, month_sentences
from csresearch.core.revenue import account_month_mrr, movements, mrr_movements, paying_spells
from csresearch.core.stats import annualise, ratio_interval, wilson_interval
from csresearch.errors import NotEnoughData

T = pd.Timestamp


def five_accounts() -> pd.DataFrame:
    """A: upgrade (with a 5-day mid-month gap, not a churn), downgrade, churn on 20 Jul.
    B: churns in Feb, comes back in May (84-day gap: outside a 30-day window).
    C: lapses 25 Mar - 5 Apr (11-day gap over a month end: inside a 30-day window).
    D: annual contract (1200/12) plus an add-on from 10 Apr: two subscriptions on one account.
    E: joins 3 Mar and leaves 20 Mar: never paying at a month end."""
    rows = [
        ("a1", "A", "2026-01-10", "2026-03-10", 100.0, "monthly"),
        ("a2", "A", "2026-03-15", "2026-05-01", 150.0, "monthly"),
        ("a3", "A", "2026-05-01", "2026-07-20", 120.0, "monthly"),
        ("b1", "B", "2026-01-01", "2026-02-10", 50.0, "monthly"),
        ("b2", "B", "2026-05-05", None, 60.0, "monthly"),
        ("c1", "C", "2026-01-01", "2026-03-25", 80.0, "monthly"),
        ("c2", "C", "2026-04-05", None, 80.0, "monthly"),
        ("d1", "D", "2026-02-01", "2027-02-01", 100.0, "annual"),
        ("d2", "D", "2026-04-10", None, 25.0, "monthly"),
        ("e1", "E", "2026-03-03", "2026-03-20", 40.0, "monthly"),
    ]
    subs = pd.DataFrame(rows, columns=["subscription_id", "account_id", "start_date", "end_date", "mrr",
                                       "billing_period"])
    subs["start_date"] = pd.to_datetime(subs["start_date"])
    subs["end_date"] = pd.to_datetime(subs["end_date"])
    return subs


# ---- paying spells --------------------------------------------------------------------------------
def spell_tuples(spells):
    return [(r.account_id, r.spell, r.start_date, r.end_date, r.churned, r.start_mrr, r.end_mrr,
             r.month_ends_paid) for r in spells.itertuples()]


def test_paying_spells_hand_computed_no_window():
    spells = paying_spells(five_accounts(), "2026-08-31")
    NaT = pd.NaT
    expected = [
        ("A", 1, T("2026-01-10"), T("2026-07-20"), True, 100.0, 120.0, 6),   # 5-day gap on 10-15 Mar merges
        ("B", 1, T("2026-01-01"), T("2026-02-10"), True, 50.0, 50.0, 1),
        ("B", 2, T("2026-05-05"), NaT, False, 60.0, 60.0, 4),
        ("C", 1, T("2026-01-01"), T("2026-03-25"), True, 80.0, 80.0, 2),
        ("C", 2, T("2026-04-05"), NaT, False, 80.0, 80.0, 5),
        ("D", 1, T("2026-02-01"), NaT, False, 100.0, 125.0, 7),
        ("E", 1, T("2026-03-03"), T("2026-03-20"), True, 40.0, 40.0, 0),
    ]
    got = spell_tuples(spells)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g[:3] == e[:3] and g[4:] == e[4:]
        assert (pd.isna(g[3]) and pd.isna(e[3])) or g[3] == e[3]
    assert not spells["provisional"].any()


def test_paying_spells_reactivation_window_merges_short_gap_only():
    spells = paying_spells(five_accounts(), "2026-08-31", reactivation_window_days=30)
    c = spells[spells["account_id"] == "C"]
    assert len(c) == 1 and not c["churned"].iloc[0] and pd.isna(c["end_date"].iloc[0])
    assert c["month_ends_paid"].iloc[0] == 7          # Jan, Feb, Apr..Aug; Mar 31 was in the gap
    b = spells[spells["account_id"] == "B"]
    assert list(b["churned"]) == [True, False]        # 84 days >= 30: still a churn


def test_paying_spells_censoring_and_provisional():
    subs = five_accounts()
    # as of 31 Jul, A's gap (from 20 Jul) is 12 days old: a churn, provisional under a 30-day window
    a = paying_spells(subs, "2026-07-31", 30).query("account_id == 'A'")
    assert a["churned"].item() and a["provisional"].item() and a["end_date"].item() == T("2026-07-20")
    assert not paying_spells(subs, "2026-07-31", 0).query("account_id == 'A'")["provisional"].item()
    # as of 25 Jul no month end at zero yet: the spell is still open (censored)
    a = paying_spells(subs, "2026-07-25").query("account_id == 'A'")
    assert not a["churned"].item() and pd.isna(a["end_date"].item())
    # as of 30 Apr: B's return (5 May) is in the future and ignored; D's annual end is open
    spells = paying_spells(subs, "2026-04-30")
    assert len(spells.query("account_id == 'B'")) == 1
    assert pd.isna(spells.query("account_id == 'D'")["end_date"].item())


# ---- movements ------------------------------------------------------------------------------------
EXPECTED_NO_WINDOW = {
    "A": ["new", "flat", "expansion", "flat", "contraction", "flat", "churn", "inactive"],
    "B": ["new", "churn", "inactive", "inactive", "reactivation", "flat", "flat", "flat"],
    "C": ["new", "flat", "churn", "reactivation", "flat", "flat", "flat", "flat"],
    "D": ["new", "flat", "expansion", "flat", "flat", "flat", "flat"],
}


def test_mrr_movements_each_type_hand_computed():
    months = account_month_mrr(five_accounts(), "2026-01", "2026-08")
    moved = mrr_movements(months)
    assert "E" not in set(moved["account_id"])       # never paying at a month end
    for account, expected in EXPECTED_NO_WINDOW.items():
        assert list(moved.loc[moved["account_id"] == account, "movement"]) == expected, account
    a = moved[moved["account_id"] == "A"]
    assert list(a["mrr"]) == [100, 100, 150, 150, 120, 120, 0, 0]
    assert list(a["prev_mrr"]) == [0, 100, 100, 150, 150, 120, 120, 0]


@pytest.mark.parametrize("use_subscriptions", [True, False])
def test_mrr_movements_window_turns_short_gap_into_contraction_and_expansion(use_subscriptions):
    subs = five_accounts()
    months = account_month_mrr(subs, "2026-01", "2026-08")
    moved = mrr_movements(months, 30 if use_subscriptions else 31,
                                subscriptions=subs if use_subscriptions else None)
    c = list(moved.loc[moved["account_id"] == "C", "movement"])
    assert c[2:4] == ["contraction", "expansion"]
    b = list(moved.loc[moved["account_id"] == "B", "movement"])
    assert b == EXPECTED_NO_WINDOW["B"]               # a 3-month gap is longer than the window


def test_movements_start_from_history():
    # a window starting in March still knows A, B, C, D were already customers (no "new" in March)
    moved = movements(five_accounts(), "2026-03", "2026-08")
    march = moved[moved["month"] == pd.Period("2026-03")].set_index("account_id")["movement"]
    assert march.to_dict() == {"A": "expansion", "B": "inactive", "C": "churn", "D": "flat"}


def test_paying_spells_zero_mrr_subscription_is_not_paying():
    subs = five_accounts()
    free = pd.DataFrame([("f1", "F", T("2026-01-01"), pd.NaT, 0.0, "monthly")], columns=subs.columns)
    spells = paying_spells(pd.concat([subs, free]), "2026-08-31")
    assert "F" not in set(spells["account_id"])


# ---- MRR bridge -----------------------------------------------------------------------------------
def test_mrr_bridge_hand_computed_months():
    moved = movements(five_accounts(), "2026-01", "2026-08")
    bridge = mrr_bridge(moved).set_index("month")
    # March: A 100->150 (expansion), C 80->0 (churn), D 100 flat; B already gone
    march = bridge.loc[pd.Period("2026-03")]
    assert (march["starting_mrr"], march["expansion"], march["churn"], march["ending_mrr"]) == (280, 50, -80, 250)
    assert march["new"] == march["reactivation"] == march["contraction"] == 0
    assert march["churned_accounts"] == 1 and march["accounts_start"] == 3
    # April: C returns (reactivation 80), D adds an add-on (expansion 25)
    april = bridge.loc[pd.Period("2026-04")]
    assert (april["starting_mrr"], april["reactivation"], april["expansion"], april["ending_mrr"]) == (250, 80, 25, 355)
    # May: A downgrades 150 -> 120, B returns at 60
    may = bridge.loc[pd.Period("2026-05")]
    assert (may["contraction"], may["reactivation"], may["ending_mrr"]) == (-30, 60, 385)
    assert (bridge_gap_cents(bridge) == 0).all()


def test_mrr_bridge_with_window_books_short_gap_as_contraction_and_expansion():
    moved = movements(five_accounts(), "2026-01", "2026-08", reactivation_window_days=30)
    bridge = mrr_bridge(moved).set_index("month")
    assert (bridge.loc[pd.Period("2026-03"), "contraction"], bridge.loc[pd.Period("2026-03"), "churn"]) == (-80, 0)
    assert (bridge.loc[pd.Period("2026-04"), "expansion"], bridge.loc[pd.Period("2026-04"), "reactivation"]) == (105, 0)
    assert (bridge_gap_cents(bridge) == 0).all()


@pytest.mark.slow
@pytest.mark.parametrize("window", [0, 45])
def test_bridge_identity_every_month_of_demo_world_and_spells_agree(demo_dataset, demo_truth, window):
    subs = demo_dataset.table("subscriptions")
    first, last = demo_truth["window"]["first_month"], demo_truth["window"]["last_month"]
    moved = movements(subs, first, last, reactivation_window_days=window)
    bridge = mrr_bridge(moved)
    assert len(bridge) == demo_truth["window"]["months"]
    assert (bridge_gap_cents(bridge) == 0).all()
    # the month-level churn count and the day-level spells define the same churns
    spells = paying_spells(subs, demo_truth["window"]["end_date"], window)
    in_window = spells["churned"] & (spells["end_date"] >= demo_truth["window"]["start_date"])
    assert (moved["movement"] == "churn").sum() == in_window.sum()
    if window == 0:
        # billing-boundary churns: our counts equal the planted events exactly
        assert in_window.sum() == demo_truth["churn"]["observed_churn_events"]
        assert (moved["movement"] == "reactivation").sum() == demo_truth["reactivation"]["reactivations_in_window"]
    else:
        # planted gaps are 1-6 months: the 1-month (~30-day) ones merge under a 45-day window
        assert 0 < (moved["movement"] == "reactivation").sum() < demo_truth["reactivation"]["reactivations_in_window"]


# ---- rates ----------------------------------------------------------------------------------------
def test_logo_churn_counts_same_month_join_and_churn_only_when_asked():
    subs, accounts = five_accounts(), pd.DataFrame({"account_id": list("ABCDE")})
    for count, expected in ((True, (2, 4)), (False, (1, 3))):
        frame = account_month_churn(subs, accounts, "2026-03", "2026-03", count_same_month_churn=count)
        march = churn_rates(frame, windows=(1,)).iloc[0]
        # at risk in March: A, C, D (paying on 28 Feb); C churns; E joins 3 Mar and leaves 20 Mar
        assert (march["churned_accounts"], march["accounts_at_risk"]) == expected
        bridge = mrr_bridge(frame)
        assert bridge["ending_mrr"].item() == 250  # E never changes the MRR bridge


def test_revenue_rates_hand_computed():
    frame = account_month_churn(five_accounts(), None, "2026-05", "2026-05")
    may = churn_rates(frame, windows=(1,)).iloc[0]
    # May: start A150 + C80 + D125 = 355; contraction 30 (A); reactivation 60 (B); no churn, no new
    assert may["starting_mrr"] == 355
    assert may["gross_revenue_churn_rate"] == pytest.approx(30 / 355)
    assert may["net_revenue_churn_rate"] == pytest.approx((30 - 60) / 355)   # negative churn
    assert may["nrr"] == pytest.approx(1 - 30 / 355)     # B came back, but NRR counts accounts paying at the start
    assert may["quick_ratio"] == pytest.approx(60 / 30)
    assert may["gross_revenue_churn_rate_annualised"] == pytest.approx(1 - (1 - 30 / 355) ** 12)


def test_annualise_and_intervals_hand_computed():
    assert annualise(0.02) == pytest.approx(1 - 0.98 ** 12)
    assert annualise(0.02, "simple") == pytest.approx(0.24)
    # Wilson by its formula for 3 of 40 at 95%
    z, p, n = 1.959964, 3 / 40, 40
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    low, high = wilson_interval(3, 40)
    assert (low, high) == pytest.approx((centre - half, centre + half), abs=1e-6)
    # ratio: y = [1, 0, 3], x = [10, 10, 20]: R = 0.1, residuals [0, -1, 1], se = sqrt(3/2 * 2) / 40
    ratio, low, high = ratio_interval([1, 0, 3], [10, 10, 20])
    se = np.sqrt(3) / 40
    assert ratio == pytest.approx(0.1)
    assert (low, high) == pytest.approx((0.1 - z * se, 0.1 + z * se), abs=1e-6)


def test_trailing_window_pools_account_months():
    months = [pd.Period("2026-01") + k for k in range(3)]
    frame = pd.DataFrame({
        "month": np.repeat(months, 10), "account_id": [f"a{i}" for i in range(10)] * 3,
        "prev_mrr": 10.0, "mrr": 10.0, "movement": "flat", "at_risk": True,
    })
    frame["churned"] = False
    frame.loc[[0, 10, 11, 20, 21, 22], "churned"] = True      # 1, 2, 3 churns of 10
    rates = churn_rates(frame, windows=(1, 3)).set_index(["month", "window_months"])
    assert rates.loc[(months[2], 1), "logo_churn_rate"] == pytest.approx(0.3)
    assert rates.loc[(months[2], 3), "logo_churn_rate"] == pytest.approx(6 / 30)
    assert (months[1], 3) not in rates.index             # a window needs all its months


# ---- book convention ------------------------------------------------------------------------------
def test_period_start_convention_hand_computed():
    subs = five_accounts()
    # active 1 Mar: A 100, C 80, D 100 (B left 10 Feb; E starts 3 Mar); active 1 Apr: A 150, D 100
    march = period_start_rates(subs, "2026-03-01", "2026-04-01")
    assert (march["start_accounts"], march["churned_accounts"]) == (3, 1)
    assert march["churn_rate"] == pytest.approx(1 / 3)
    assert march["net_retention"] == pytest.approx(250 / 280)
    assert march["mrr_churn"] == pytest.approx(80 / 280)
    # active 1 Apr: A 150, D 100; 1 May: A 120 (downsell 30), D 125 (C is back but was not active 1 Apr)
    april = period_start_rates(subs, "2026-04-01", "2026-05-01")
    assert april["churn_rate"] == 0
    assert april["net_retention"] == pytest.approx(245 / 250)
    assert april["mrr_churn"] == pytest.approx(30 / 250)
    # the report's own machinery under convention=period_start gives the same numbers
    frame = account_month_churn(subs, None, "2026-03", "2026-04", convention="period_start")
    rates = churn_rates(frame, windows=(1,)).set_index("month")
    for month, book in ((pd.Period("2026-03"), march), (pd.Period("2026-04"), april)):
        assert rates.loc[month, "logo_churn_rate"] == pytest.approx(book["churn_rate"])
        assert rates.loc[month, "nrr"] == pytest.approx(book["net_retention"])
        assert rates.loc[month, "gross_revenue_churn_rate"] == pytest.approx(book["mrr_churn"])


# ---- cohorts --------------------------------------------------------------------------------------
def test_cohort_retention_hand_computed():
    cells = compute_segments.cohort_retention(five_accounts(), "2026-01", "2026-08").set_index(["cohort", "months_since_start"])
    jan = pd.Period("2026-01")
    # January cohort: A 100, B 50, C 80 = 230; February: A, C (B churned); March: A only; April: A, C
    assert cells.loc[(jan, 0), "cohort_accounts"] == 3 and cells.loc[(jan, 0), "cohort_mrr"] == 230
    assert [cells.loc[(jan, k), "logo_retention"] for k in (1, 2, 3)] == pytest.approx([2 / 3, 1 / 3, 2 / 3])
    assert cells.loc[(jan, 2), "net_mrr_retention"] == pytest.approx(150 / 230)
    assert cells.loc[(pd.Period("2026-02"), 2), "net_mrr_retention"] == pytest.approx(125 / 100)   # D's add-on


# ---- segments and bands ---------------------------------------------------------------------------
def test_value_band_edges():
    bands = value_band(pd.Series([0, 999.99, 1000, 4999, 5000, 49_999, 50_000, 1e6]))
    assert list(bands) == ["<$1k", "<$1k", "$1k-5k", "$1k-5k", "$5k-20k", "$20k-50k", ">=$50k", ">=$50k"]


def segment_frame(counts: dict[str, tuple[int, int]], month="2026-10") -> pd.DataFrame:
    rows = []
    for segment, (churned, at_risk) in counts.items():
        for i in range(at_risk):
            rows.append({"month": pd.Period(month), "segment": segment, "at_risk": True, "churned": i < churned,
                         "prev_mrr": 10.0, "mrr": 0.0 if i < churned else 10.0,
                         "movement": "churn" if i < churned else "flat"})
    return pd.DataFrame(rows)


def test_segment_flags_with_holm_correction():
    frame = segment_frame({"hot": (30, 100), "mild": (12, 100), "base": (10, 400), "tiny": (1, 1)})
    table = compute_segments.churn_by_segment(frame, ["segment"], "2026-10", window_months=1).set_index("value")
    assert table.loc["hot", "flagged"]               # 30% vs 23/501 = 4.6%
    assert not table.loc["tiny", "flagged"]          # 1 of 1 is not evidence
    assert not table.loc["base", "flagged"]
    assert (table["p_adjusted"] >= table["p_value"]).all()
    assert table.loc["hot", "rest_logo_churn_rate"] == pytest.approx(23 / 501)
    text = flagged_sentence(table.reset_index())
    assert "hot (30.0% vs 4.6%)" in text and "Holm" in text


# ---- mix vs rate ----------------------------------------------------------------------------------
def test_mix_rate_split_hand_computed():
    mix, rate = mix_rate_split([0.5, 0.5], [0.02, 0.04], [0.6, 0.4], [0.03, 0.04])
    # overall 0.030 -> 0.034, mean 0.032. Mix is measured against the overall rate (issue 16.3):
    # A's share +0.1 at mean rate 0.025 (0.007 below 0.032), B's share -0.1 at 0.04 (0.008 above);
    # rate: A's +0.01 at mean share 0.55, B's rate unchanged
    assert mix == pytest.approx([0.1 * (0.025 - 0.032), -0.1 * (0.04 - 0.032)])
    assert rate == pytest.approx([0.0055, 0.0])
    assert mix.sum() + rate.sum() == pytest.approx(0.034 - 0.030)


def test_mix_of_a_segment_growing_at_the_overall_rate_is_zero():
    # B grows from 20% to 40% of the base while churning exactly at the overall rate: it moves nothing
    mix, rate = mix_rate_split([0.4, 0.2, 0.4], [0.01, 0.02, 0.03], [0.3, 0.4, 0.3], [0.01, 0.02, 0.03])
    assert mix[1] == pytest.approx(0.0, abs=1e-15)
    assert rate == pytest.approx([0, 0, 0])
    assert mix.sum() == pytest.approx(0.02 - 0.02, abs=1e-15)


def issue_frame() -> pd.DataFrame:
    """Issue 16.3's case: A grows from 50% to 70% of the base at an unchanged 2.0% churn, while B's
    rate rises from 2% to 3% (and its share falls to 30%). Overall 2.0% -> 2.3%, on 20,000
    account-months a window so that the rise is well outside noise."""
    before = segment_frame({"A": (200, 10_000), "B": (200, 10_000)}, "2026-09")
    after = segment_frame({"A": (280, 14_000), "B": (180, 6_000)}, "2026-10")
    return pd.concat([before, after], ignore_index=True)


def test_issue_case_credits_the_rise_to_b_rate_not_to_a_growth():
    """The old split (absolute rates) said 'A alone moved it +0.4 pt, more than the whole rise'; A
    cannot move the rate: it churns at 2.0% in both windows, as the whole base did before."""
    frame = issue_frame()
    table = churn_change_decomposition(frame, ["segment"], "2026-10", window_months=1)
    logo = table[table["metric"] == "logo_churn"].set_index("segment")
    assert logo["total_change"].iloc[0] == pytest.approx(0.003)
    # rate parts: all of it is B's (0.01 x mean share 0.4); A's rate never moved
    assert logo.loc["B", "rate_effect"] == pytest.approx(0.004)
    assert logo.loc["A", "rate_effect"] == pytest.approx(0.0)
    # mix against the overall mean rate 2.15%: A +0.2 x (2.0% - 2.15%), B -0.2 x (2.5% - 2.15%)
    assert logo.loc["A", "mix_effect"] == pytest.approx(0.2 * (0.02 - 0.0215))
    assert logo.loc["B", "mix_effect"] == pytest.approx(-0.2 * (0.025 - 0.0215))
    assert logo.loc["A", "total_effect"] == pytest.approx(-0.0003)       # the old split said +0.004
    assert logo.loc["B", "total_effect"] == pytest.approx(0.0033)
    assert table.iloc[0]["segment"] == "B"                               # largest contribution first
    text = driver_sentence(table, churn_rates(frame, windows=(1,)), change_ci=change_interval(table))
    assert text.startswith("Logo churn rose to 2.3% in October 2026")
    assert "B alone moved it +0.3 pt (95% CI " in text and "its own churn rate rose from 2.00% to 3.00%" in text
    assert "A alone" not in text and "from A" not in text
    lead = table.iloc[0]
    assert lead["total_low"] < 0.0033 < lead["total_high"] and lead["total_low"] > 0


def planted_units(rng, shares, rates, accounts=700):
    """One planted world as the bootstrap sees it: per account, (weight, events) before and after, per
    segment (A, B). Each account is in one segment per window, stays 1-3 months, and has a gamma
    frailty (mean 1) on its monthly churn probability, so its months are correlated."""
    units = np.zeros((2 * accounts, 4, 2))
    for w, window in enumerate(("before", "after")):
        rows = slice(w * accounts, (w + 1) * accounts)
        segment = (rng.random(accounts) >= shares[window][0]).astype(int)
        months = rng.integers(1, 4, accounts)
        p = np.minimum(1, np.asarray(rates[window])[segment] * rng.gamma(4, 0.25, accounts))
        events = rng.binomial(months, p)
        units[rows, 2 * w, :][np.arange(accounts), segment] = months
        units[rows, 2 * w + 1, :][np.arange(accounts), segment] = events
    return units


def test_contribution_interval_covers_the_truth():
    """Planted truth: two segments whose shares and rates are known (A's rate rises, B's share falls).
    200 worlds on each of two seeds: the simultaneous 95% intervals must cover both segments' true
    contributions at least 90% of the time (nominal 95%, and simultaneous, so if anything
    conservative; 90% is over 4 binomial standard errors below 95% at 400 worlds), and the point
    estimates must be unbiased to within 0.02 pt (the mean of 400 estimates whose spread is ~0.2 pt
    has a standard error of ~0.01 pt)."""
    shares = {"before": [0.5, 0.5], "after": [0.6, 0.4]}
    rates = {"before": [0.02, 0.04], "after": [0.03, 0.04]}
    mix, rate = mix_rate_split(shares["before"], rates["before"], shares["after"], rates["after"])
    true = mix + rate                                   # A +0.48 pt, B -0.08 pt of a +0.4 pt rise
    covered, estimates = [], []
    for seed in (1, 2):
        rng = np.random.default_rng(seed)
        for _ in range(200):
            units = planted_units(rng, shares, rates)
            low, high = contribution_intervals(units, 0.95, n_resamples=400, seed=int(rng.integers(1 << 30)))
            covered.append(((low <= true) & (true <= high)).all())
            estimates.append((low + high) / 2)          # the intervals are symmetric about the estimate
    assert true.sum() == pytest.approx(0.004)
    assert np.mean(covered) >= 0.90, np.mean(covered)
    assert np.abs(np.mean(estimates, axis=0) - true).max() < 0.0002, np.mean(estimates, axis=0)


def test_change_decomposition_sums_to_total_change():
    before = segment_frame({"SMB": (10, 200), "ENT": (2, 200)}, "2026-09")
    after = segment_frame({"SMB": (24, 300), "ENT": (2, 100)}, "2026-10")
    frame = pd.concat([before, after], ignore_index=True)
    table = churn_change_decomposition(frame, ["segment"], "2026-10", window_months=1)
    logo = table[table["metric"] == "logo_churn"].set_index("segment")
    # overall 12/400 = 3% -> 26/400 = 6.5% (mean 4.75%)
    assert logo["overall_before"].iloc[0] == pytest.approx(0.03)
    assert logo["total_change"].iloc[0] == pytest.approx(0.035)
    assert (logo["mix_effect"] + logo["rate_effect"]).sum() == pytest.approx(0.035, abs=1e-15)
    # SMB: share 0.5 -> 0.75 at rates 5% -> 8% (mean 6.5%, 1.75 pt above the overall mean): mix 0.25 x 0.0175,
    # rate 0.03 x 0.625. ENT: share 0.5 -> 0.25 at 1% -> 2% (mean 1.5%): mix -0.25 x -0.0325, rate 0.01 x 0.375
    assert logo.loc["SMB", "mix_effect"] == pytest.approx(0.25 * 0.0175)
    assert logo.loc["SMB", "rate_effect"] == pytest.approx(0.03 * 0.625)
    assert logo.loc["ENT", "mix_effect"] == pytest.approx(0.25 * 0.0325)
    assert logo.loc["ENT", "rate_effect"] == pytest.approx(0.01 * 0.375)
    assert ((logo["total_low"] <= logo["total_effect"]) & (logo["total_effect"] <= logo["total_high"])).all()
    revenue = table[table["metric"] == "gross_revenue_churn"]
    assert (revenue["mix_effect"] + revenue["rate_effect"]).sum() == pytest.approx(revenue["total_change"].iloc[0])


def test_driver_sentence_names_the_segment_and_its_share():
    before = segment_frame({"SMB": (10, 200), "ENT": (2, 200)}, "2026-09")
    after = segment_frame({"SMB": (24, 300), "ENT": (2, 100)}, "2026-10")
    frame = pd.concat([before, after], ignore_index=True)
    table = churn_change_decomposition(frame, ["segment"], "2026-10", window_months=1)
    rates = churn_rates(frame, windows=(1,))
    text = driver_sentence(table, rates, change_ci=change_interval(table))
    # SMB: 0.4375 + 1.875 = 2.3125 pt of the 3.5 pt rise (66%); ENT's shrinking low-churn share and its
    # doubled rate make the other 1.1875 pt
    assert text.startswith("Logo churn rose to 6.5% in October 2026")
    assert "from 3.0% in September 2026 (+3.5 pt, 95% CI of the change" in text
    assert "66% of the rise came from SMB, +2.3 pt (95% CI " in text
    lead = table.iloc[0]
    assert lead["segment"] == "SMB" and lead["total_low"] < lead["total_effect"] < lead["total_high"]
    # no real change: the sentence says so and still names the largest contribution
    flat = segment_frame({"SMB": (10, 200), "ENT": (2, 200)}, "2026-10")
    table = churn_change_decomposition(pd.concat([before, flat]), ["segment"], "2026-10", 1)
    text = driver_sentence(table, churn_rates(pd.concat([before, flat]), windows=(1,)),
                           change_ci=change_interval(table))
    assert "within noise" in text and "no segment's share or churn rate moved" in text
    slight = segment_frame({"SMB": (11, 200), "ENT": (2, 200)}, "2026-10")
    table = churn_change_decomposition(pd.concat([before, slight]), ["segment"], "2026-10", 1)
    text = driver_sentence(table, churn_rates(pd.concat([before, slight]), windows=(1,)),
                           change_ci=change_interval(table))
    # 13/400 - 12/400 = +0.25 pt, all of it SMB's rate (5% -> 5.5% at a constant half of the base)
    assert "on September 2026, a change within noise (95% CI of the change " in text
    assert "the largest single contribution was SMB's, +0." in text
    assert "its own churn rate rose from 5.00% to 5.50%" in text


def test_month_sentences_hand_computed():
    frame = account_month_churn(five_accounts(), None, "2026-04", "2026-05")
    bridge, rates = mrr_bridge(frame), churn_rates(frame, windows=(1,))
    text = " ".join(month_sentences(bridge, rates, "2026-05"))
    assert "In May 2026 logo churn was 0.0%" in text and "0 of 3 paying accounts" in text
    assert "net revenue churn \u22128.5% (negative churn" in text            # (30 - 60) / 355
    assert "MRR went from $355 to $385" in text


# ---- planted truths -------------------------------------------------------------------------------
@pytest.mark.slow
def test_planted_segment_churn_recovered(demo_dataset, demo_truth):
    truth = demo_truth["churn"]
    period = truth["expected_churn_period"]
    frame = account_month_churn(demo_dataset.table("subscriptions"), demo_dataset.table("accounts"),
                                      period["first_month"], period["last_month"])
    table = compute_segments.churn_by_segment(frame, ["segment", "billing_period"], period["last_month"], window_months=12,
                                   confidence=0.99).set_index(["split", "value"])
    # 99% Wilson intervals: five comparisons on one seed, so 95% would fail by chance ~1 run in 4; the
    # planted rates are mean churn probabilities, whose realised count varies less than a binomial
    for segment, expected in truth["expected_monthly_logo_churn_by_segment"].items():
        row = table.loc[("segment", segment)]
        assert row["accounts_at_risk"] == truth["expected_churn_account_months_by_segment"][segment]
        assert row["logo_churn_low"] <= expected <= row["logo_churn_high"], (segment, row["logo_churn_rate"], expected)
    for period_name, expected in truth["expected_monthly_logo_churn_by_billing_period"].items():
        row = table.loc[("billing_period", period_name)]
        assert row["logo_churn_low"] <= expected <= row["logo_churn_high"], (period_name, row["logo_churn_rate"])
    # SMB is planted ~3x Enterprise's hazard: it must be the flagged segment
    assert table.loc[("segment", "SMB"), "flagged"] and not table.loc[("segment", "Enterprise"), "flagged"]


# ---- 12-month cohort NRR and GRR ------------------------------------------------------------------
def year_accounts() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The cohort paying at the end of Oct 2025, seen at the end of Oct 2026.
    P (SMB): 100, adds a 50 add-on in Mar 2026 -> 150 (expansion).  Q (SMB): 200, leaves 15 Feb 2026 -> 0.
    R (Ent): 50, leaves 10 Jan 2026, returns 1 Jun 2026 at 60 -> 60.  S (Ent): 80, downgrades to 40 on 1 Apr 2026.
    Not in the cohort: T joins 1 Dec 2025 at 500; U joins and leaves inside Oct 2025; V left in Sep 2025."""
    rows = [
        ("p1", "P", "2025-06-01", None, 100.0), ("p2", "P", "2026-03-01", None, 50.0),
        ("q1", "Q", "2025-05-01", "2026-02-15", 200.0),
        ("r1", "R", "2025-09-01", "2026-01-10", 50.0), ("r2", "R", "2026-06-01", None, 60.0),
        ("s1", "S", "2025-08-01", "2026-04-01", 80.0), ("s2", "S", "2026-04-01", None, 40.0),
        ("t1", "T", "2025-12-01", None, 500.0),
        ("u1", "U", "2025-10-05", "2025-10-20", 70.0),
        ("v1", "V", "2025-03-01", "2025-09-15", 90.0),
    ]
    subs = pd.DataFrame(rows, columns=["subscription_id", "account_id", "start_date", "end_date", "mrr"])
    subs["start_date"], subs["end_date"] = pd.to_datetime(subs["start_date"]), pd.to_datetime(subs["end_date"])
    accounts = pd.DataFrame({"account_id": list("PQRSTUV"), "segment": ["SMB", "SMB", "Ent", "Ent", "SMB", "SMB", "Ent"]})
    return subs, accounts


def test_cohort_nrr_and_grr_hand_computed():
    subs, accounts = year_accounts()
    frame = account_month_churn(subs, accounts, "2025-01", "2026-10")
    table = cohort_retention_12m(frame, "2026-10").set_index("group")
    every = table.loc["all"]
    assert every["cohort_month"] == pd.Period("2025-10")
    # then: P 100 + Q 200 + R 50 + S 80 = 430; now: P 150 + Q 0 + R 60 + S 40 = 250; capped: 100 + 0 + 50 + 40
    assert (every["accounts_start"], every["accounts_paying_now"]) == (4, 3)
    assert (every["starting_mrr"], every["mrr_now"], every["retained_mrr"]) == (430, 250, 190)
    assert every["nrr"] == pytest.approx(250 / 430) and every["grr"] == pytest.approx(190 / 430)
    assert every["nrr_low"] <= every["nrr"] <= every["nrr_high"] and 0 <= every["grr_low"] <= every["grr_high"] <= 1
    assert table.loc["segment=SMB", "nrr"] == pytest.approx(150 / 300)
    assert table.loc["segment=SMB", "grr"] == pytest.approx(100 / 300)
    assert table.loc["segment=Ent", "nrr"] == pytest.approx(100 / 130)
    assert table.loc["segment=Ent", "grr"] == pytest.approx(90 / 130)
    # the compounded pooled monthly figure is another number: it must not be what the report calls NRR
    rates = churn_rates(frame, windows=(12,)).set_index("month")
    assert rates.loc[pd.Period("2026-10"), "nrr_annualised"] != pytest.approx(250 / 430, abs=0.01)


def test_cohort_retention_needs_a_cohort():
    subs, accounts = year_accounts()
    frame = account_month_churn(subs, accounts, "2025-01", "2026-10")
    assert cohort_retention_12m(frame, "2026-04").empty is False
    assert cohort_retention_12m(frame, "2026-02").empty             # nobody was paying at the end of Feb 2025


@pytest.mark.parametrize("seed", [3, 4])
def test_cohort_intervals_cover_planted_nrr_and_grr(seed):
    """Planted truth: start MRR lognormal (sigma 1: a few large accounts); each account churns (15%),
    contracts to 70% (10%), expands to 140% (20%) or stays, whatever its size. True NRR = E[now]/E[then]
    = 0.07 + 0.28 + 0.55 = 0.90, true GRR = 0.07 + 0.20 + 0.55 = 0.82. 300 cohorts of 400 accounts per
    seed: the 95% intervals must cover at least 90% of the time (3 binomial standard errors below the
    ~94% measured at this size), NRR's stay above 0 and GRR's within 0-100%."""
    from csresearch.analyses.churn_decomposition.compute_retention import transformed_ratio_interval

    rng = np.random.default_rng(seed)
    hits = {"nrr": [], "grr": []}
    for _ in range(300):
        then = rng.lognormal(6, 1.0, 400)
        now = then * rng.choice([0.0, 0.7, 1.4, 1.0], 400, p=[0.15, 0.10, 0.20, 0.55])
        for name, numerator, truth, scale in (("nrr", now, 0.90, "log"), ("grr", np.minimum(now, then), 0.82, "logit")):
            low, high = transformed_ratio_interval(numerator, then, 0.95, scale)
            hits[name].append(low <= truth <= high)
            assert 0 < low <= high and (scale == "log" or high <= 1)
    for name, hit in hits.items():
        assert np.mean(hit) >= 0.90, (name, np.mean(hit))


def test_transformed_ratio_interval_hand_computed_and_says_when_it_cannot():
    from csresearch.analyses.churn_decomposition.compute_retention import transformed_ratio_interval

    # y = [1, 0, 3], x = [10, 10, 20]: R = 0.1, se = sqrt(3) / 40 (see the ratio_interval case above)
    z, se = 1.959964, np.sqrt(3) / 40
    low, high = transformed_ratio_interval([1, 0, 3], [10, 10, 20], 0.95, "log")
    assert (low, high) == pytest.approx((0.1 * np.exp(-z * se / 0.1), 0.1 * np.exp(z * se / 0.1)), rel=1e-5)
    logit = np.log(0.1 / 0.9)
    low, high = transformed_ratio_interval([1, 0, 3], [10, 10, 20], 0.95, "logit")
    spread = z * se / (0.1 * 0.9)
    assert (low, high) == pytest.approx((1 / (1 + np.exp(-(logit - spread))), 1 / (1 + np.exp(-(logit + spread)))),
                                        rel=1e-5)
    assert all(np.isnan(transformed_ratio_interval([5.0], [10.0])))            # one account: no interval
    assert transformed_ratio_interval([5.0, 10.0], [10.0, 20.0]) == (0.5, 0.5)  # no variation: zero width
    assert transformed_ratio_interval([10.0, 20.0], [10.0, 20.0], scale="logit") == (1.0, 1.0)  # nobody lost MRR


# ---- degrading honestly: what cannot be computed is said in words ---------------------------------
BAD = ("nan", "n/a", "None", "inf ", "−nan")


def test_no_earlier_window_is_said_not_printed():
    """The data starts inside the window before: 'from n/a ... (−nan pt); nan% of the fall' was printed."""
    rows = [("a", "2026-09-01", None, 100.0), ("b", "2026-09-01", "2026-10-15", 50.0),
            ("c", "2026-09-01", None, 20.0)]
    subs = pd.DataFrame(rows, columns=["account_id", "start_date", "end_date", "mrr"])
    subs["start_date"], subs["end_date"] = pd.to_datetime(subs["start_date"]), pd.to_datetime(subs["end_date"])
    subs["subscription_id"] = subs["account_id"]
    accounts = pd.DataFrame({"account_id": list("abc"), "segment": ["SMB", "SMB", "Ent"]})
    result = churn_report(subs, accounts, "2026-10", Settings(window_months=1))
    assert result.decomposition.empty
    text = words.headline(result)
    assert text.startswith("Logo churn was 33.3% in October 2026 (95% CI ")
    assert "no account was paying at the start of any month of September 2026, so there is no earlier window" in text
    summary = words.month_summary(result)
    assert "no account was paying at the start of September 2026 to compare with" in summary
    assert "The 12-month NRR and GRR cannot be measured: no account was paying at the end of October 2025" in summary
    every = " ".join([text, summary, words.revenue_driver(result), words.book_comparison(result),
                      *(f"{k.name}: {k.display}" for k in words.kpis(result))])
    assert not [b for b in BAD if b in every], every
    nrr = {k.name: k for k in words.kpis(result)}["NRR, 12-month cohort"]
    assert nrr.value is None and nrr.display == "no account paying in Oct 2025"


def test_month_with_nobody_paying_and_no_churn_is_said_not_printed():
    """'0 of 0 ... unchanged' and 'net revenue churn n/a' were printed for a month nobody paid in."""
    rates = churn_rates(account_month_churn(five_accounts(), None, "2026-01", "2026-02"), windows=(1,))
    frame = account_month_churn(five_accounts(), None, "2026-01", "2026-01")
    assert rates.set_index("month").loc[pd.Period("2026-01"), "accounts_at_risk"] == 0
    text = " ".join(month_sentences(mrr_bridge(frame), rates, "2026-01"))
    assert "In January 2026 no account was paying at the start of the month, so there is no logo churn" in text
    assert "No MRR was billed at the start of January 2026, so revenue churn cannot be measured" in text
    assert "0 of 0" not in text and not [b for b in BAD if b in text], text
    # nobody churned in either window: no segment is credited with a change that did not happen
    quiet = pd.concat([segment_frame({"SMB": (0, 50), "ENT": (0, 50)}, "2026-09"),
                       segment_frame({"SMB": (0, 60), "ENT": (0, 40)}, "2026-10")])
    table = churn_change_decomposition(quiet, ["segment"], "2026-10", 1)
    text = driver_sentence(table, churn_rates(quiet, windows=(1,)), change_ci=change_interval(table))
    assert text == ("Logo churn was 0.0% in October 2026 (95% CI 0.0–3.7%), as in September 2026: no paying "
                    "account churned in either window (100 and 100 account-months at risk), so there is no change "
                    "for a segment to explain.")


def test_single_account_reads_as_sentences():
    """One account (issue 15's matrix): every ratio of one account has no interval, and says so."""
    subs, accounts = year_accounts()
    one = subs[subs["account_id"] == "P"]
    result = churn_report(one, accounts[accounts["account_id"] == "P"], "2026-10", Settings())
    kpis = {k.name: k for k in words.kpis(result)}
    assert kpis["NRR, 12-month cohort"].display == "150.0% (one account: no interval)"
    assert kpis["GRR, 12-month cohort"].display == "100.0% (one account: no interval)"
    assert kpis["Gross revenue churn, Oct 2026"].display == "0.0% (one paying account: no interval)"
    assert "Of the $100 MRR that 1 account paid at the end of October 2025, the same account pays $150" in \
        words.retention(result)
    every = " ".join([words.headline(result), words.month_summary(result), words.drivers(result),
                      *(f"{k.name}: {k.display}" for k in kpis.values())])
    assert not [b for b in BAD if b in every], every


def test_nothing_to_decompose_is_not_enough_data():
    subs, accounts = year_accounts()
    with pytest.raises(NotEnoughData, match="no subscription with MRR above zero started by the end of February 2025"):
        churn_report(subs, accounts, "2025-02", Settings())
    # V paid Mar-Sep 2025 only: by October 2028 the months computed (from December 2025) hold no paying month end
    gone = subs[subs["account_id"] == "V"]
    with pytest.raises(NotEnoughData, match="no account paid at any month end from December 2025 to October 2028"):
        churn_report(gone, accounts, "2028-10", Settings())


def test_code_values_read_in_the_run_language_and_stay_machine_values_in_the_tables():
    """Billing periods in the segment table, the decomposition's cells ('SMB · monthly') and the
    sentences go through core.risk.level_label: Japanese names them (月次, 年次), English and the
    result's tables (the CSVs) keep the codes; a company's own segment name is never translated."""
    from csresearch.analyses.churn_decomposition import views
    from csresearch.i18n import using

    def cells(month, counts):
        frame = segment_frame(counts, month)
        frame["billing_period"] = frame["segment"].str.split("/").str[1]
        frame["segment"] = frame["segment"].str.split("/").str[0]
        return frame

    # shares stay 1/2 each, so no mix: SMB monthly 10/200 -> 40/200 (5% -> 20%) gives 0.5 x 15 = 7.5 pt and
    # SMB annual 2/200 -> 4/200 gives 0.5 x 1 = 0.5 pt of the 8 pt rise (3% -> 11%): 94% is monthly's
    frame = pd.concat([cells("2026-09", {"SMB/monthly": (10, 200), "SMB/annual": (2, 200)}),
                       cells("2026-10", {"SMB/monthly": (40, 200), "SMB/annual": (4, 200)})], ignore_index=True)
    table = churn_change_decomposition(frame, ["segment", "billing_period"], "2026-10", window_months=1)
    splits = compute_segments.churn_by_segment(frame, ["billing_period"], "2026-10", window_months=1)
    rates = churn_rates(frame, windows=(1,))
    assert set(table["segment"]) == {"SMB · monthly", "SMB · annual"}          # machine values kept
    assert set(splits["value"]) == {"monthly", "annual"}
    with using("ja"):
        shown = views.decomposition_display(table)
        assert set(shown.iloc[:, 1]) == {"SMB · 月次", "SMB · 年次"}
        assert list(views.splits_display(splits).iloc[:, 1]) == ["年次", "月次"]
        flagged_text = flagged_sentence(splits)
        driver = driver_sentence(table, rates, change_ci=change_interval(table))
    assert "月次" in flagged_text and "monthly" not in flagged_text
    assert "SMB · 月次" in driver and "monthly" not in driver and "94%" in driver
    with using("en"):
        assert set(views.decomposition_display(table).iloc[:, 1]) == {"SMB · monthly", "SMB · annual"}
        assert "94% of the rise came from SMB · monthly, +7.5 pt" in driver_sentence(
            table, rates, change_ci=change_interval(table))
    # a decomposition with no segment column has one cell, every account
    whole = churn_change_decomposition(frame, [], "2026-10", window_months=1)
    with using("ja"):
        assert set(views.decomposition_display(whole).iloc[:, 1]) == {"全体"}
    assert words.segment_label("SMB · monthly · x", "segment x billing_period") == "SMB · monthly · x"


def test_a_segment_carrying_the_whole_change_is_not_said_to_move_more_than_it():
    """Shares fixed at 1/2: SMB 10/200 -> 40/200 gives 0.5 x 15 = 7.5 pt, ENT 2/200 both windows gives 0, so
    SMB carried exactly the whole 7.5 pt rise (3% -> 10.5%); the float sum lands a hair above 1 and used to
    read 'more than the whole rise, while other segments moved it the other way'."""
    frame = pd.concat([segment_frame({"SMB": (10, 200), "ENT": (2, 200)}, "2026-09"),
                       segment_frame({"SMB": (40, 200), "ENT": (2, 200)}, "2026-10")], ignore_index=True)
    table = churn_change_decomposition(frame, ["segment"], "2026-10", window_months=1)
    text = driver_sentence(table, churn_rates(frame, windows=(1,)), change_ci=change_interval(table))
    assert "100% of the rise came from SMB, +7.5 pt" in text and "more than the whole rise" not in text
