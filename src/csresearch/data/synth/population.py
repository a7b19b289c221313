"""Who the accounts are and their latent paths: firmographics, billing day, first subscription,
plan and seats, CSM owners, company names (table ``accounts``); time to value; monthly tickets,
churn hazards, utilisation and usage noise; the experiment's and the adoption study's latent draws."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .base import _BuilderBase
from .helpers import _choice_by_row, _days_to_dt, _logit, _probs, _sigmoid, _vec
from .params import CHANNELS, INDUSTRIES, PLANS, REGIONS, SEGMENTS, TIERS


class _PopulationMixin(_BuilderBase):
    """Accounts, time to value and the latent per-month paths."""

    # -------------------------------------------------------------------------- accounts
    def _accounts(self):
        p, n, r = self.p, self.n, self.rng["accounts"]
        self.seg = r.choice(3, size=n, p=_probs(p["segment_shares"], SEGMENTS))
        self.region = r.choice(4, size=n, p=_probs(p["region_shares"], REGIONS))
        self.industry = r.integers(0, len(INDUSTRIES), size=n)
        ch_rows = np.array([_probs(p["channel_shares_by_segment"][s], CHANNELS) for s in SEGMENTS])
        self.channel = _choice_by_row(r, ch_rows, self.seg)
        tier_rows = np.array([_probs(p["touch_tier_shares_by_segment"][s], TIERS) for s in SEGMENTS])
        self.tier = _choice_by_row(r, tier_rows, self.seg)
        self.z = _vec(p["engagement_shift_by_channel"], CHANNELS)[self.channel] + r.standard_normal(n)
        self.pre = r.random(n) < p["pre_window_share"]
        self.bday_dom = r.integers(2, 29, size=n)  # billing day of month, 2..28
        g0 = np.empty(n, dtype=np.int64)
        npre = int(self.pre.sum())
        g0[self.pre] = -r.integers(1, p["pre_window_max_months"] + 1, size=npre)
        w = 1.0 + p["joiner_growth"] * np.arange(self.months) / max(self.months - 1, 1)
        g0[~self.pre] = r.choice(self.months, size=n - npre, p=w / w.sum())
        self.g0 = g0
        self.annual = r.random(n) < _vec(p["annual_share_by_segment"], SEGMENTS)[self.seg]
        self.s0 = self._bday_at(np.arange(n), g0)  # first subscription start (day)
        lag = r.integers(0, 60, size=n)
        created = self.s0 - lag
        created[~self.pre] = np.maximum(created[~self.pre], self.ws)
        self.created = created
        self.plan0 = _choice_by_row(
            r, np.array([_probs(p["plan_shares_by_segment"][s], PLANS) for s in SEGMENTS]), self.seg
        )
        med = _vec(p["seats_median_by_segment"], SEGMENTS)[self.seg]
        self.seats0 = np.maximum(1, np.round(np.exp(np.log(med) + p["seats_log_sd"] * r.standard_normal(n)))).astype(np.int64)
        self.addon0 = r.random(n) < p["addon_share_at_start"]
        self.ids = np.array([f"A{i + 1:05d}" for i in range(n)], dtype=object)
        # CSM book: high-touch and low-touch pools; tech-touch is pooled "Digital CS"
        rn = self.rng["names"]
        v = self.vocab
        people = [v.person(a, b) for a in range(len(v.csm_first)) for b in range(len(v.csm_last))]
        picks = rn.choice(len(people), size=22, replace=False)
        high_pool = [people[k] for k in picks[:12]]
        low_pool = [people[k] for k in picks[12:]]
        owner = np.empty(n, dtype=object)
        hi, lo = self.tier == 0, self.tier == 1
        owner[hi] = np.array(high_pool, dtype=object)[rn.integers(0, len(high_pool), hi.sum())]
        owner[lo] = np.array(low_pool, dtype=object)[rn.integers(0, len(low_pool), lo.sum())]
        owner[self.tier == 2] = v.digital_cs
        self.owner = owner
        self.account_names = self._company_names(rn)
        self.tables["accounts"] = pd.DataFrame({
            "account_id": self.ids,
            "created_at": _days_to_dt(self.created),
            "account_name": self.account_names,
            "segment": np.array(SEGMENTS, dtype=object)[self.seg],
            "industry": np.array(self.vocab.industries, dtype=object)[self.industry],
            "region": np.array(REGIONS, dtype=object)[self.region],
            "acquisition_channel": np.array(CHANNELS, dtype=object)[self.channel],
            "csm_owner": owner,
            "touch_tier": np.array(TIERS, dtype=object)[self.tier],
        })

    def _company_names(self, rn) -> np.ndarray:
        v = self.vocab
        na, nb, nc = len(v.company_a), len(v.company_b), len(v.company_forms)
        total = na * nb * nc
        k = rn.choice(total, size=self.n, replace=self.n > total)
        ia, rest = np.divmod(k, nb * nc)
        ib, ic = np.divmod(rest, nc)
        return np.array([v.company(x, y, w) for x, y, w in zip(ia, ib, ic)], dtype=object)

    # -------------------------------------------------------------------------- time to value
    def _onboarding_latent(self):
        p, r, n = self.p, self.rng["ttv"], self.n
        ref = p["ttv_reference_year"] or int(str(self.m0)[:4])
        self.ttv_ref_year = int(ref)
        self.cohort_year = self.s0.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
        med = _vec(p["ttv_median_days_by_segment"], SEGMENTS)[self.seg] * p["ttv_yearly_speedup"] ** (self.cohort_year - ref)
        self.ttv_median = med
        ttv = np.ceil(np.exp(np.log(med) + p["ttv_log_sd"] * r.standard_normal(n))).astype(np.int64)
        self.never_value = r.random(n) < p["ttv_never_share"]
        ttv[self.never_value] = -1
        self.ttv = np.maximum(ttv, np.where(self.never_value, -1, 1))
        self.slow = self.never_value | (self.ttv > p["ttv_threshold_days"])

    # -------------------------------------------------------------------------- latent paths
    def _latent_paths(self):
        p, n, J = self.p, self.n, self.J
        rt = self.rng["tickets"]
        rate = _vec(p["tickets_per_month_by_segment"], SEGMENTS)[self.seg] * np.exp(p["ticket_engagement_log_slope"] * self.z)
        lam = rate[:, None] * np.exp(p["ticket_month_log_sd"] * rt.standard_normal((n, J)) - p["ticket_month_log_sd"] ** 2 / 2)
        self.T = rt.poisson(lam)
        self.p_high = _sigmoid(p["high_ticket_share_logit"] + p["high_ticket_engagement_slope"] * self.z)
        self.HU = rt.binomial(self.T, self.p_high[:, None])
        # boundary days of every account on every grid column
        self.bd = self.month_start[None, :] + (self.bday_dom - 1)[:, None]
        ttv_fac = np.where(
            self.slow[:, None] & ((self.bd - self.s0[:, None]) > p["ttv_threshold_days"]),
            p["ttv_hazard_ratio"], 1.0,
        )
        base = _vec(p["segment_base_monthly_hazard"], SEGMENTS)[self.seg]
        self.H_static = (
            base[:, None]
            * np.exp(p["engagement_log_hazard_slope"] * self.z)[:, None]
            * ttv_fac
            * np.exp(p["ticket_log_hazard_per_high_ticket"] * self.HU
                     + p["ticket_log_hazard_per_other_ticket"] * (self.T - self.HU))
        )
        ru = self.rng["util"]
        self.u_lat = _sigmoid(p["utilisation_intercept"] + p["utilisation_slope"] * self.z[:, None]
                              + p["utilisation_month_sd"] * ru.standard_normal((n, J)))
        self.usage_noise = np.exp(p["usage_month_log_sd"] * ru.standard_normal((n, J)) - p["usage_month_log_sd"] ** 2 / 2)
        # randomized experiment (latent: applies to accounts active at assignment)
        re_ = self.rng["experiment"]
        self.exp_g = self._month_index(p["experiment_month"]) if p["experiment_month"] else self.months - 8
        if not (1 <= self.exp_g <= self.months - 1):
            raise ValueError("experiment_month must fall inside the data window (after its first month)")
        self.exp_day = int(self.month_start[self.OFF + self.exp_g])
        self.exp_end = self.exp_day + int(p["experiment_horizon_days"])
        self.exp_mult = _vec(p["experiment_hazard_multiplier_by_segment"], SEGMENTS)[self.seg]
        share = p["experiment_exposure_share"]
        self.exp_pi = _sigmoid(_logit(share) + p["experiment_exposure_engagement_slope"] * (self.z - self.z.mean()))
        self.exp_u_exposed = re_.random(n)
        self.exp_perm = re_.permutation(n)
        # feature adoption (latent date; the account adopts if active that day)
        ra = self.rng["adoption"]
        self.ad_g = self._month_index(p["adoption_study_month"]) if p["adoption_study_month"] else self.months // 3
        if not (1 <= self.ad_g <= self.months - 1):
            raise ValueError("adoption_study_month must fall inside the data window (after its first month)")
        self.ad_day0 = int(self.month_start[self.OFF + self.ad_g])
        spread_end = int(self.month_start[self.OFF + self.ad_g + p["adoption_spread_months"]])
        self.ad_prob = _sigmoid(p["adoption_logit_intercept"] + p["adoption_logit_engagement"] * self.z)
        self.would_adopt = ra.random(n) < self.ad_prob
        self.ad_day = ra.integers(self.ad_day0, spread_end, size=n)
