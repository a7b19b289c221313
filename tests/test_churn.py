"""Churn definitions, movements, bridge, rates and decomposition on hand-computed cases, plus
recovery of the synthetic world's planted churn rates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from csresearch.analyses.churn_decomposition import compute_segments
from csresearch.analyses.churn_decomposition.compute_change import change_interval, churn_change_decomposition, mix_rate_split
from csresearch.analyses.churn_decomposition.compute_frame import account_month_churn, value_band
from csresearch.analyses.churn_decomposition.compute_rates import bridge_gap_cents, churn_rates, mrr_bridge, period_start_rates
from csresearch.analyses.churn_decomposition.words import driver_sentence, flagged_sentence, month_sentences
from csresearch.core.revenue import account_month_mrr, movements, mrr_movements, paying_spells
from csresearch.core.stats import annualise, ratio_interval, wilson_interval

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
    # overall 0.030 -> 0.034: A's share +0.1 at mean rate 0.025, B's share -0.1 at 0.04, A's rate +0.01 at share 0.55
    assert mix == pytest.approx([0.0025, -0.004])
    assert rate == pytest.approx([0.0055, 0.0])
    assert mix.sum() + rate.sum() == pytest.approx(0.034 - 0.030)


def test_change_decomposition_sums_to_total_change():
    before = segment_frame({"SMB": (10, 200), "ENT": (2, 200)}, "2026-09")
    after = segment_frame({"SMB": (24, 300), "ENT": (2, 100)}, "2026-10")
    frame = pd.concat([before, after], ignore_index=True)
    table = churn_change_decomposition(frame, ["segment"], "2026-10", window_months=1)
    logo = table[table["metric"] == "logo_churn"].set_index("segment")
    # overall 12/400 = 3% -> 26/400 = 6.5%
    assert logo["overall_before"].iloc[0] == pytest.approx(0.03)
    assert logo["total_change"].iloc[0] == pytest.approx(0.035)
    assert (logo["mix_effect"] + logo["rate_effect"]).sum() == pytest.approx(0.035, abs=1e-15)
    # SMB: share 0.5 -> 0.75 at rates 5% -> 8%: mix 0.25 x 0.065, rate 0.03 x 0.625
    assert logo.loc["SMB", "mix_effect"] == pytest.approx(0.25 * 0.065)
    assert logo.loc["SMB", "rate_effect"] == pytest.approx(0.03 * 0.625)
    revenue = table[table["metric"] == "gross_revenue_churn"]
    assert (revenue["mix_effect"] + revenue["rate_effect"]).sum() == pytest.approx(revenue["total_change"].iloc[0])


def test_driver_sentence_names_the_segment_and_its_share():
    before = segment_frame({"SMB": (10, 200), "ENT": (2, 200)}, "2026-09")
    after = segment_frame({"SMB": (24, 300), "ENT": (2, 100)}, "2026-10")
    frame = pd.concat([before, after], ignore_index=True)
    table = churn_change_decomposition(frame, ["segment"], "2026-10", window_months=1)
    rates = churn_rates(frame, windows=(1,))
    text = driver_sentence(table, rates, change_ci=change_interval(table))
    # SMB: 0.75 x 8% - 0.5 x 5% = 3.5 pt of the 3.5 pt; ENT: 0.25 x 2% - 0.5 x 1% = 0
    assert text.startswith("Logo churn rose to 6.5% in October 2026")
    assert "from 3.0% in September 2026 (+3.5 pt)" in text
    assert "100% of the rise came from SMB" in text
    # no real change: the sentence says so and still names the largest mover
    flat = segment_frame({"SMB": (10, 200), "ENT": (2, 200)}, "2026-10")
    table = churn_change_decomposition(pd.concat([before, flat]), ["segment"], "2026-10", 1)
    text = driver_sentence(table, churn_rates(pd.concat([before, flat]), windows=(1,)),
                           change_ci=change_interval(table))
    assert "within noise" in text


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
