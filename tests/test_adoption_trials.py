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


# ---- the design against the generator's truth, with no confounding ------------------------------------
# Issue 16.1 (brief A2): with no selection into adoption (adoption_logit_engagement = 0: who adopts, and
# when, is independent of engagement and of everything else that drives churn) nothing needs adjusting,
# so the plain (unweighted) contrast of the trials must find the truth's
# expected_retention_effect_on_adopters up to noise: the effect on the adopters of adopting on their
# adoption date vs never adopting, retention = no churn within 365 days of that date. The old design
# (adopters from their adoption date vs accounts that never adopted, from the study start) is wrong
# even here: a never-adopter is partly an account that would have adopted but churned first.
NO_SELECTION = dict(accounts=1500, months=36, end_month="2026-10", adoption_logit_engagement=0.0)
ADOPTION = "feature_workflow_automation"
# effect worlds and null worlds on different seeds: a null world on an effect world's seed shares its
# accounts, adopters and random draws, so the two estimates are far from independent
DESIGN_WORLDS = ((1, {}), (2, {}), (3, {}), (4, {"adoption_hazard_ratio": 1.0}), (5, {"adoption_hazard_ratio": 1.0}),
                 (6, {"adoption_hazard_ratio": 1.0}))
HORIZON = 365


def _adoption_rows(path):
    """The trials' rows and the old design's rows of one world, both followed to the horizon."""
    import duckdb

    from csresearch.core.revenue import paying_spells

    con = duckdb.connect(str(path), read_only=True)
    subs = con.execute("SELECT * FROM subscriptions").df()
    asg = con.execute("SELECT account_id, arm, assigned_at FROM experiments WHERE experiment_id = ?",
                      [ADOPTION]).df()
    con.close()
    for c in ("start_date", "end_date"):
        subs[c] = pd.to_datetime(subs[c])
    asg["assigned_at"] = pd.to_datetime(asg["assigned_at"])
    asg["adopted_at"] = asg["assigned_at"].where(asg["arm"] == "adopter")
    spells = paying_spells(subs, AS_OF)
    trials = ct.follow_up(ct.trial_rows(asg[["account_id", "adopted_at"]], spells, AS_OF), AS_OF, HORIZON)
    # old: every account once, from its recorded date (adoption, or the study start), paying on it,
    # never censored by adoption
    old = asg.assign(index_date=asg["assigned_at"], treated=(asg["arm"] == "adopter").astype(int),
                     adopted_at=pd.NaT, trial="all").reset_index(drop=True)
    cover = old.reset_index().merge(spells, on="account_id")
    cover = cover[(cover["start_date"] <= cover["index_date"])
                  & (cover["end_date"].isna() | (cover["end_date"] > cover["index_date"]))]
    cover = cover.drop_duplicates("index").set_index("index")
    old = old.loc[cover.index].assign(spell_end=cover["end_date"], churned=cover["churned"].astype(bool))
    old = ct.follow_up(old.reset_index(drop=True), AS_OF, HORIZON)
    return trials[trials["duration_days"] > 0].reset_index(drop=True), old[old["duration_days"] > 0]


def _unweighted(rows):
    k = len(ct._edges(HORIZON)) - 1
    return ct.weighted_retention_difference(rows.reset_index(drop=True), np.ones((len(rows), k)), HORIZON,
                                            n_bootstrap=400, seed=1)


@pytest.mark.slow
def test_with_no_confounding_the_trials_find_the_truth_and_the_never_adopter_design_does_not():
    # Six worlds: three seeds with the planted adoption hazard ratio 0.85 (truth about +2.7 pt) and three
    # other seeds with 1.0 (truth exactly 0). Each replicate states its own standard error through its
    # 95% interval; for an unbiased estimator with honest intervals the six z = (estimate - truth) / se
    # are independent standard normals, so |sum z| / sqrt(6) <= 3 (fails an honest one 0.27% of the
    # time) and at least 4 of 6 intervals cover (P(<= 3 of 6 | 95%) = 0.22%). The old design must fail
    # the first bound: it is biased by immortal time even where nobody selects into adoption.
    from conftest import truth_of, world_path

    z_new, z_old, covered = [], [], 0
    for seed, extra in DESIGN_WORLDS:
        path = world_path(seed=seed, **NO_SELECTION, **extra)
        truth = truth_of(path)["experiments"][ADOPTION]["expected_retention_effect_on_adopters"]
        if extra:
            assert truth == 0.0
        trials, old = _adoption_rows(path)
        new, before = _unweighted(trials), _unweighted(old)
        z_new.append((new["estimate"] - truth) / new["se"])
        z_old.append((before["estimate"] - truth) / before["se"])
        covered += new["low"] <= truth <= new["high"]
    n = len(z_new)
    assert abs(sum(z_new)) / math.sqrt(n) <= 3, z_new
    assert covered >= 4, z_new
    assert sum(z_old) / math.sqrt(n) > 3, z_old
