"""Adoption as a time-varying exposure (issue 16.1): the sequential trials of compute_trials, on
hand-made accounts whose answers are worked out by hand, and the E-value against its published values."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from csresearch.analyses.experiments import compute_trials as ct

AS_OF = pd.Timestamp("2026-10-31")
D = pd.Timestamp


def test_e_value_matches_vanderweele_and_ding():
    # VanderWeele & Ding (2017), Ann Intern Med: RR 3.9 -> E-value 7.26; a protective RR is inverted first
    assert ct.e_value(3.9) == pytest.approx(7.26, abs=0.005)
    assert ct.e_value(0.5) == pytest.approx(2 + math.sqrt(2))       # 1/0.5 = 2 -> 2 + sqrt(2 * 1)
    assert ct.e_value(1.0) == 1.0
    # the interval: the limit nearest 1, or 1 when the interval includes it
    assert ct.e_value_of_interval(0.58, 0.94) == pytest.approx(ct.e_value(0.94))
    assert ct.e_value_of_interval(0.8, 1.1) == 1.0


def _spells(rows):
    return pd.DataFrame(rows, columns=["account_id", "start_date", "end_date", "churned"]).assign(
        start_date=lambda d: pd.to_datetime(d["start_date"]), end_date=lambda d: pd.to_datetime(d["end_date"]))


def test_trial_rows_hand_made():
    # a adopts 10 Jan; b adopts 20 Feb (a control in January, censored when it adopts); c never adopts
    # but churns 1 Feb; d never adopts and was not paying in January (starts paying 1 Feb)
    asg = pd.DataFrame({"account_id": ["a", "b", "c", "d"],
                        "adopted_at": [D("2025-01-10"), D("2025-02-20"), pd.NaT, pd.NaT]})
    spells = _spells([("a", "2024-01-01", None, False), ("b", "2024-01-01", None, False),
                      ("c", "2024-01-01", "2025-02-01", True), ("d", "2025-02-01", None, False)])
    rows = ct.trial_rows(asg, spells, AS_OF, seed=0)
    jan = rows[rows["trial"] == "2025-01"].set_index("account_id")
    feb = rows[rows["trial"] == "2025-02"].set_index("account_id")
    # January: a treated from its adoption date; b and c controls from January's only adoption date
    assert jan.loc["a", "treated"] == 1 and jan.loc["a", "index_date"] == D("2025-01-10")
    assert set(jan.index) == {"a", "b", "c"}          # d was not paying on 10 Jan
    assert (jan.loc[["b", "c"], "index_date"] == D("2025-01-10")).all()
    assert (jan.loc[["b", "c"], "treated"] == 0).all()
    # February: b treated from 20 Feb; d a control (paying by then); a already adopted, c churned
    assert set(feb.index) == {"b", "d"} and feb.loc["b", "treated"] == 1
    assert feb.loc["d", "index_date"] == D("2025-02-20")

    fu = ct.follow_up(rows, AS_OF, horizon_days=365).set_index(["trial", "account_id"])
    # b as a January control is censored at its adoption, 41 days later; c churns after 22 days
    assert fu.loc[("2025-01", "b"), "duration_days"] == 41 and fu.loc[("2025-01", "b"), "event"] == 0
    assert fu.loc[("2025-01", "b"), "censored_by_adoption"] == 1
    assert fu.loc[("2025-01", "c"), "duration_days"] == 22 and fu.loc[("2025-01", "c"), "event"] == 1
    # a treated row is never censored by adoption: followed to the horizon
    assert fu.loc[("2025-01", "a"), "duration_days"] == 365 and fu.loc[("2025-01", "a"), "event"] == 0


def test_weighted_life_table_hand_computed():
    # horizon 60 days: intervals (0, 30] and (30, 60]
    # treated: 4 rows, one churns at day 10, one censored at day 45 (half at risk in interval 2)
    #   S1 = (1 - 1/4) * (1 - 0/2.5) = 0.75
    # control: 4 rows weighted 2, 1, 1, 1 (days 20 churn w2, 50 churn w1, 60 and 60 alive)
    #   interval 1: at risk 5, deaths 2 -> 0.6; interval 2: at risk 3, deaths 1 -> 0.6 * 2/3 = 0.4
    rows = pd.DataFrame({"account_id": list("abcdefgh"), "treated": [1, 1, 1, 1, 0, 0, 0, 0],
                         "duration_days": [10, 45, 60, 60, 20, 50, 60, 60], "event": [1, 0, 0, 0, 1, 1, 0, 0]})
    w = np.array([1, 1, 1, 1, 2, 1, 1, 1], float)[:, None] * np.ones((1, 2))
    est = ct.weighted_retention_difference(rows, w, horizon_days=60, n_bootstrap=200, seed=1)
    assert est["retention_treated"] == pytest.approx(0.75)
    assert est["retention_control"] == pytest.approx(0.4)
    assert est["estimate"] == pytest.approx(0.35)
    # churn risk ratio (1 - 0.75) / (1 - 0.4)
    assert est["risk_ratio"] == pytest.approx(0.25 / 0.6)
    assert est["low"] < est["estimate"] < est["high"]


def test_censoring_weights_restore_the_censored_controls():
    # Planted: 2,000 controls; half are 'engaged' (x = 1): they adopt (are censored) at day 15 with
    # probability 0.5 and never churn; the others (x = 0) never adopt and churn at day 50 with
    # probability 0.5. Without censoring, control retention at day 90 is 0.5 * 1 + 0.5 * 0.5 = 0.75.
    # Censoring the adopting engaged controls leaves too few of them (500 + 1,000 at risk, 500 churn:
    # 0.67); weighting the remaining engaged ones by 1 / P(not adopted) = 2 from the second 30-day
    # step on recovers 0.75 (1,000 + 1,000 at risk, 500 churn).
    rng = np.random.default_rng(3)
    n = 2000
    x = np.repeat([1.0, 0.0], n // 2)
    adopts = (x == 1) & (rng.random(n) < 0.5)
    churns = (x == 0) & (rng.random(n) < 0.5)
    index = pd.Timestamp("2025-01-01")
    rows = pd.DataFrame({
        "account_id": [f"c{i}" for i in range(n)], "trial": "2025-01", "treated": 0, "index_date": index,
        "adopted_at": pd.to_datetime(np.where(adopts, index + pd.Timedelta(days=15), pd.NaT)),
        "duration_days": np.where(adopts, 15, np.where(churns, 50, 90)).astype(float),
        "event": churns.astype(int)})
    design = pd.DataFrame({"x": x})
    w = ct.censoring_weights(design, rows, steps=3, last_adoption=pd.Timestamp("2025-03-31"))
    engaged_kept = (x == 1) & ~adopts
    assert np.allclose(w[:, 0], 1.0)
    # after the adoption step: 1 / (1 - the engaged's observed adoption share), within 10% (the model
    # is a logistic in x with a calendar term, fitted, not given); the never-adopting kind stays near 1
    share = adopts[x == 1].mean()
    assert w[engaged_kept, 1].mean() == pytest.approx(1 / (1 - share), rel=0.1)
    assert w[x == 0, 1].mean() == pytest.approx(1.0, abs=0.05)
    # the weighted control retention at day 90 recovers 0.75 (sampling sd about 0.01 at n = 2,000;
    # tolerance 0.04, the fitted weights' error included); unweighted it is biased down to about 0.67
    both = pd.concat([rows, rows.iloc[:10].assign(treated=1, account_id=lambda d: "t" + d["account_id"])],
                     ignore_index=True)
    ww = np.vstack([w, np.ones((10, 3))])
    weighted = ct.weighted_retention_difference(both, ww, 90, n_bootstrap=50)["retention_control"]
    plain = ct.weighted_retention_difference(both, np.ones_like(ww), 90, n_bootstrap=50)["retention_control"]
    assert weighted == pytest.approx(0.75, abs=0.04)
    assert plain < 0.70
