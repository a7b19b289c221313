"""The randomised outreach experiment (``exp_cs_outreach_2026``) of the synthetic world: is its null world
null, does the experiments report measure the outcome the world drew, and is the truth the ITT the
simulation produces? (Brief I: the coverage run's 20 null worlds read -1.10 pt, 2.9 se.)

Three checks, one per suspected cause:

1. null world: the arm assignment changes nothing but the ``experiments`` table (no table or truth
   that feeds churn, tickets, CS activities or usage reads the arm), so treated-minus-control is 0 in
   expectation whatever the seed; the same swap in an effect world does change the subscriptions (the
   check has power);
2. the report's retention outcome (``compute_design.experiment_frame``) is, account by account, the
   realised "no churn in (assigned_at, assigned_at + 182 days]" of the world's recorded churn dates;
3. over 40 effect worlds the realised churns match the planted probabilities the truth integrates, arm
   by arm, and the mean treated-minus-control retention is the truth's ``ate_retention_6m`` (the
   intention-to-treat effect, not the effect if exposed).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from csresearch.data.synth import EXP_ID, TABLE_NAMES, build_world
from csresearch.data.synth.helpers import _merge_params
from csresearch.data.synth.params import DEFAULT_PARAMS
from csresearch.data.synth.world import World, _Builder

NULL = {"experiment_hazard_multiplier_by_segment": {"SMB": 1.0, "Mid-Market": 1.0, "Enterprise": 1.0}}
WORLD = dict(accounts=400, months=24, seed=3, end_month="2026-10")


class _SwappedArms(_Builder):
    """The same world with the outreach's random permutation reversed: the accounts treated in the
    original world are (about) the control here, every other draw unchanged."""

    def _latent_paths(self):
        super()._latent_paths()
        self.exp_perm = self.exp_perm[::-1].copy()


def _build(cls, **overrides) -> World:
    p = _merge_params(DEFAULT_PARAMS, overrides)
    p.update(accounts=WORLD["accounts"], months=WORLD["months"], seed=WORLD["seed"], end_month=WORLD["end_month"],
             ttv_hazard_ratio=1.8)
    return cls(p).build()


def _outreach(world: World) -> pd.DataFrame:
    e = world.tables["experiments"]
    return e[e["experiment_id"] == EXP_ID].set_index("account_id").sort_index()


@pytest.fixture(scope="module")
def null_pair() -> tuple[World, World]:
    return _build(_Builder, **NULL), _build(_SwappedArms, **NULL)


def test_builder_reproduces_build_world(null_pair):
    # the fixture's direct builder is build_world's (so the swap below is a swap of build_world's world)
    same = build_world(**WORLD, **NULL)
    for name in TABLE_NAMES:
        pd.testing.assert_frame_equal(same.tables[name], null_pair[0].tables[name], check_like=False)


def test_null_world_assignment_changes_nothing_else(null_pair):
    a, b = null_pair
    ea, eb = _outreach(a), _outreach(b)
    assert list(ea.index) == list(eb.index)                  # the same accounts are assigned ...
    flipped = (ea["arm"] != eb["arm"]).mean()
    assert flipped > 0.9                                     # ... to (almost all) other arms: a reversed
    # permutation splits the same list the other way round (one account may stay when the count is odd)
    for name in TABLE_NAMES:
        if name == "experiments":
            continue
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name], obj=name)
    assert a.truth["churned_accounts"] == b.truth["churned_accounts"]
    assert a.truth["experiments"][EXP_ID]["ate_retention_6m"] == 0.0
    assert b.truth["experiments"][EXP_ID]["ate_retention_6m"] == 0.0


def test_effect_world_assignment_does_change_churn():
    # the check above has power: with the planted multipliers, the swapped assignment moves churns
    a, b = _build(_Builder), _build(_SwappedArms)
    assert not a.tables["subscriptions"].equals(b.tables["subscriptions"])
    assert a.truth["churned_accounts"] != b.truth["churned_accounts"]


def _realised_retention(truth: dict, assigned: pd.Timestamp, horizon: int) -> dict[str, float]:
    """1.0 / 0.0 per churned account: no recorded churn date in (assigned, assigned + horizon]."""
    end = assigned + pd.Timedelta(days=horizon)
    out = {}
    for acc, item in truth["churned_accounts"].items():
        dates = [item["churn_date"], *(c["churn_date"] for c in item.get("later_churns", []))]
        out[acc] = 0.0 if any(assigned < pd.Timestamp(d) <= end for d in dates) else 1.0
    return out


def test_report_retention_is_the_worlds_realised_retention(small_world_path, small_truth):
    from csresearch.analyses.experiments.compute_design import experiment_frame
    from csresearch.analyses.experiments.settings import settings_for
    from csresearch.data import open_dataset

    t = small_truth["experiments"][EXP_ID]
    h = int(t["horizon_days"])
    assigned = pd.Timestamp(t["assigned_at"])
    settings = settings_for(EXP_ID, {EXP_ID: {"horizon_days": h, "outcomes": ["retention"]}})
    frame = experiment_frame(open_dataset(small_world_path), settings, pd.Timestamp("2026-10-31"))
    assert len(frame) == t["n_assigned"] and frame["retention"].notna().all()
    churned = _realised_retention(small_truth, assigned, h)
    expected = frame["account_id"].map(churned).fillna(1.0)   # never churned: retained
    assert (expected == 0).sum() > 20                          # the world has churns in the window to compare
    np.testing.assert_array_equal(frame["retention"].to_numpy(), expected.to_numpy())


def _simulated(seed: int) -> dict:
    """Realised and planted 182-day retention of the outreach's accounts of one effect world (the
    builder's stages up to the simulation only: ~0.1 s)."""
    p = _merge_params(DEFAULT_PARAMS, {})
    p.update(accounts=1000, months=24, seed=seed, end_month="2026-10", ttv_hazard_ratio=1.8)
    b = _Builder(p)
    b._accounts()
    b._onboarding_latent()
    b._latent_paths()
    b._simulate()
    ei = np.flatnonzero(b.in_exp)
    s, e, anc = np.full(len(ei), b.exp_day), np.full(len(ei), b.exp_end), b.anchor_at_exp[ei]
    in_window = (b.churns["day"] > b.exp_day) & (b.churns["day"] <= b.exp_end)
    retained = (~np.isin(ei, b.churns["acc"][in_window])).astype(float)
    r_ctl = b._survival(b.H_ctl, ei, s, e, anc)
    r_trt = b._survival(b.H_exp, ei, s, e, anc)
    r_real = b._survival(b.H_real, ei, s, e, anc)   # the hazards the accounts faced (exposure drawn)
    treat = b.treat[ei]
    return {"retained": retained, "planted": r_real, "treat": treat, "exposed": b.exposed[ei], "pi": b.exp_pi[ei],
            "diff": retained[treat].mean() - retained[~treat].mean(),
            "ate": float((b.exp_pi[ei] * (r_trt - r_ctl)).mean())}


def test_realised_churn_matches_the_truths_itt_over_60_effect_worlds():
    runs = [_simulated(seed) for seed in range(1, 61)]   # ~0.05 s of CPU each
    retained, planted, treat, exposed, pi = (np.concatenate([r[k] for r in runs])
                                             for k in ("retained", "planted", "treat", "exposed", "pi"))
    # the truth's ITT weighs the effect if exposed by pi = P(exposed | treatment): the simulation
    # exposes treated accounts with that probability (mean(exposed - pi) over ~16,000 treated accounts,
    # se sqrt(sum pi(1-pi)) / n ~ 0.3 pt, 4 se of room; a truth of the effect if exposed, pi = 1, is
    # ~15 pt off) and never exposes the control
    gap = (exposed[treat] - pi[treat]).mean()
    assert abs(gap) < 4 * np.sqrt((pi[treat] * (1 - pi[treat])).sum()) / treat.sum(), gap
    assert not exposed[~treat].any()
    # calibration, arm by arm: mean(realised - planted retention) over ~16,000 accounts per arm is 0 up
    # to its se sqrt(sum p(1-p)) / n (independent Bernoulli draws, ~0.25 pt); 4 se of room. A treated
    # arm churning by other hazards than the truth integrates (no multiplier, the multiplier outside
    # the window or for the unexposed) would be off by about the effect, 3 pt, > 10 se.
    for arm in (True, False):
        m = treat == arm
        gap = (retained[m] - planted[m]).mean()
        se = np.sqrt((planted[m] * (1 - planted[m])).sum()) / m.sum()
        assert abs(gap) < 4 * se, (arm, gap, se)
    # end to end: the mean realised treated-minus-control difference is the truth's ITT within 4 se of
    # the 60 seeds' spread (se ~0.3 pt: a coarse check; the two above are the sharp ones)
    diff = np.array([r["diff"] for r in runs])
    ate = np.array([r["ate"] for r in runs])
    se = (diff - ate).std(ddof=1) / np.sqrt(len(runs))
    assert abs((diff - ate).mean()) < 4 * se, ((diff - ate).mean(), se)
    assert 0.02 < ate.mean() < 0.045   # the planted effect: ~3 pt of 182-day retention
