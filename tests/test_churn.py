"""Churn definitions, movements, bridge, rates and decomposition on hand-computed cases, plus
recovery of the synthetic world's planted churn rates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from csresearch import churn

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
    spells = churn.paying_spells(five_accounts(), "2026-08-31")
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
    spells = churn.paying_spells(five_accounts(), "2026-08-31", reactivation_window_days=30)
    c = spells[spells["account_id"] == "C"]
    assert len(c) == 1 and not c["churned"].iloc[0] and pd.isna(c["end_date"].iloc[0])
    assert c["month_ends_paid"].iloc[0] == 7          # Jan, Feb, Apr..Aug; Mar 31 was in the gap
    b = spells[spells["account_id"] == "B"]
    assert list(b["churned"]) == [True, False]        # 84 days >= 30: still a churn


def test_paying_spells_censoring_and_provisional():
    subs = five_accounts()
    # as of 31 Jul, A's gap (from 20 Jul) is 12 days old: a churn, provisional under a 30-day window
    a = churn.paying_spells(subs, "2026-07-31", 30).query("account_id == 'A'")
    assert a["churned"].item() and a["provisional"].item() and a["end_date"].item() == T("2026-07-20")
    assert not churn.paying_spells(subs, "2026-07-31", 0).query("account_id == 'A'")["provisional"].item()
    # as of 25 Jul no month end at zero yet: the spell is still open (censored)
    a = churn.paying_spells(subs, "2026-07-25").query("account_id == 'A'")
    assert not a["churned"].item() and pd.isna(a["end_date"].item())
    # as of 30 Apr: B's return (5 May) is in the future and ignored; D's annual end is open
    spells = churn.paying_spells(subs, "2026-04-30")
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
    months = churn.account_month_mrr(five_accounts(), "2026-01", "2026-08")
    moved = churn.mrr_movements(months)
    assert "E" not in set(moved["account_id"])       # never paying at a month end
    for account, expected in EXPECTED_NO_WINDOW.items():
        assert list(moved.loc[moved["account_id"] == account, "movement"]) == expected, account
    a = moved[moved["account_id"] == "A"]
    assert list(a["mrr"]) == [100, 100, 150, 150, 120, 120, 0, 0]
    assert list(a["prev_mrr"]) == [0, 100, 100, 150, 150, 120, 120, 0]


@pytest.mark.parametrize("use_subscriptions", [True, False])
def test_mrr_movements_window_turns_short_gap_into_contraction_and_expansion(use_subscriptions):
    subs = five_accounts()
    months = churn.account_month_mrr(subs, "2026-01", "2026-08")
    moved = churn.mrr_movements(months, 30 if use_subscriptions else 31,
                                subscriptions=subs if use_subscriptions else None)
    c = list(moved.loc[moved["account_id"] == "C", "movement"])
    assert c[2:4] == ["contraction", "expansion"]
    b = list(moved.loc[moved["account_id"] == "B", "movement"])
    assert b == EXPECTED_NO_WINDOW["B"]               # a 3-month gap is longer than the window


def test_movements_start_from_history():
    # a window starting in March still knows A, B, C, D were already customers (no "new" in March)
    moved = churn.movements(five_accounts(), "2026-03", "2026-08")
    march = moved[moved["month"] == pd.Period("2026-03")].set_index("account_id")["movement"]
    assert march.to_dict() == {"A": "expansion", "B": "inactive", "C": "churn", "D": "flat"}
