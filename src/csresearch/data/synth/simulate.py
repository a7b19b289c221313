"""The month-by-month simulation: churn at billing boundaries (annual contracts at renewal only),
reactivation, expansion/contraction, the add-on, new accounts, the experiment's assignment and the
adoption study's candidates; it records the subscription rows, spells, churns and hazards."""

from __future__ import annotations

import numpy as np

from .base import _BuilderBase
from .helpers import _sigmoid, _vec
from .params import ADDON, PLANS, SEGMENTS


class _SimulateMixin(_BuilderBase):
    """The main loop over the window's billing boundaries."""

    # -------------------------------------------------------------------------- main loop
    def _hazards(self, j: int, adopted: np.ndarray, in_exp: np.ndarray):
        """Control and as-treated hazards at grid column j (boundary of window month j-OFF)."""
        p = self.p
        b = self.bd[:, j]
        adopt_fac = np.where(adopted & (self.ad_day < b), p["adoption_hazard_ratio"], 1.0)
        h_ctl = np.minimum(self.H_static[:, j] * adopt_fac, p["hazard_cap"])
        in_h = (b > self.exp_day) & (b <= self.exp_end)
        h_exp = np.where(in_h, np.minimum(self.H_static[:, j] * adopt_fac * self.exp_mult, p["hazard_cap"]), h_ctl)
        return h_ctl, h_exp

    def _simulate(self):
        p, n, OFF, M = self.p, self.n, self.OFF, self.months
        r = self.rng["loop"]
        prices = _vec(p["list_price_per_seat"], PLANS)
        addon_price = float(p["list_price_per_seat"][ADDON])
        disc = np.where(self.annual, 1.0 - p["annual_discount"], 1.0)

        dec = self.vocab.money_decimals

        def mrr_of(plan, seats, who):
            return np.round(prices[plan] * seats * disc[who], dec)

        rows = {k: [] for k in ("acc", "product", "start", "end", "seats", "mrr")}

        def emit(acc, product, start, end, seats, mrr):
            rows["acc"].append(acc)
            rows["product"].append(product)
            rows["start"].append(start)
            rows["end"].append(end)
            rows["seats"].append(seats)
            rows["mrr"].append(mrr)

        active = np.zeros(n, bool)
        anchor = np.full(n, -10_000, dtype=np.int64)
        plan = self.plan0.copy()
        seats = self.seats0.copy()
        main_start = np.full(n, -1, dtype=np.int64)
        addon = np.zeros(n, bool)
        addon_seats = np.zeros(n, dtype=np.int64)
        addon_start = np.full(n, -1, dtype=np.int64)
        spell_start = np.full(n, -1, dtype=np.int64)
        react_g = np.full(n, 10**6, dtype=np.int64)
        spells = {"acc": [], "start": [], "end": []}
        churns = {"acc": [], "g": [], "day": []}
        n_react = 0

        # accounts that predate the window: active from their first start, one row each (+ add-on)
        pre = np.flatnonzero(self.pre)
        active[pre] = True
        anchor[pre] = self.g0[pre]
        main_start[pre] = self.s0[pre]
        spell_start[pre] = self.s0[pre]
        a0 = pre[self.addon0[pre]]
        addon[a0] = True
        addon_seats[a0] = seats[a0]
        addon_start[a0] = self.s0[a0]

        self.H_ctl = self.H_static.copy()
        self.H_real = self.H_static.copy()
        self.H_exp = self.H_static.copy()
        np.minimum(self.H_exp, p["hazard_cap"], out=self.H_exp)
        np.minimum(self.H_ctl, p["hazard_cap"], out=self.H_ctl)
        np.minimum(self.H_real, p["hazard_cap"], out=self.H_real)
        self.seats_period = np.zeros((n, self.J), dtype=np.int64)
        self.users = np.zeros((n, self.J), dtype=np.int64)
        ru = self.rng["util"]
        self.seats_period[:, OFF] = np.where(active, seats, 0)
        self.users[:, OFF] = ru.binomial(self.seats_period[:, OFF], self.u_lat[:, OFF])
        self.at_risk = np.zeros((n, M + 1), bool)  # period g fully active (g = 0..months)
        self.p_real = np.zeros((n, M))
        adopted = np.zeros(n, bool)
        candidate = np.zeros(n, bool)
        in_exp = np.zeros(n, bool)
        treat = np.zeros(n, bool)
        exposed = np.zeros(n, bool)
        self.anchor_at_exp = np.full(n, -10_000, dtype=np.int64)
        self.anchor_at_adopt = np.full(n, -10_000, dtype=np.int64)
        self.anchor_at_study = np.full(n, -10_000, dtype=np.int64)
        self.expansions = 0
        self.contractions = 0
        exp_lo = _vec(p["expansion_logit_intercept_by_segment"], SEGMENTS)[self.seg]

        for g in range(M):
            j = OFF + g
            b = self.bd[:, j]
            at_risk = active.copy()
            # feature adoption happens inside period g if the account is active through it
            new_ad = candidate & ~adopted & at_risk & self.would_adopt & (self.ad_day >= self.bd[:, j - 1]) & (self.ad_day < b)
            adopted |= new_ad
            self.anchor_at_adopt[new_ad] = anchor[new_ad]
            h_ctl, h_exp = self._hazards(j, adopted, in_exp)
            self.H_ctl[:, j] = h_ctl
            self.H_exp[:, j] = h_exp
            self.H_real[:, j] = np.where(in_exp & treat & exposed, h_exp, h_ctl)
            renewal = self.annual & ((g - anchor) % 12 == 0)
            surv12 = np.exp(np.log1p(-self.H_real[:, j - 11:j + 1]).sum(axis=1))
            prob = np.where(self.annual, np.where(renewal, 1.0 - surv12, 0.0), self.H_real[:, j])
            prob = np.where(at_risk, prob, 0.0)
            self.p_real[:, g] = prob
            self.at_risk[:, g] = at_risk
            churn = at_risk & (r.random(n) < prob)

            # --- churn: every open row ends on the boundary
            ci = np.flatnonzero(churn)
            if len(ci):
                emit(ci, plan[ci], main_start[ci], b[ci], seats[ci], mrr_of(plan[ci], seats[ci], ci))
                ca = ci[addon[ci]]
                emit(ca, np.full(len(ca), -1), addon_start[ca], b[ca], addon_seats[ca],
                     np.round(addon_price * addon_seats[ca] * disc[ca], dec))
                addon[ci] = False
                active[ci] = False
                spells["acc"].append(ci)
                spells["start"].append(spell_start[ci])
                spells["end"].append(b[ci])
                churns["acc"].append(ci)
                churns["g"].append(np.full(len(ci), g))
                churns["day"].append(b[ci])
                back = r.random(len(ci)) < p["reactivation_share"]
                lo_gap, hi_gap = p["reactivation_gap_months"]
                gaps = r.integers(lo_gap, hi_gap + 1, size=len(ci))
                react_g[ci] = np.where(back, g + gaps, 10**6)

            # --- expansion / contraction / add-on (monthly: every boundary; annual: at renewal)
            surv = at_risk & ~churn
            evaluate = surv & (~self.annual | renewal)
            util = np.where(seats > 0, self.users[:, j] / np.maximum(seats, 1), 0.0)
            pe = _sigmoid(exp_lo + p["expansion_logit_utilisation"] * (util - 0.75) + p["expansion_logit_engagement"] * self.z)
            pc = _sigmoid(p["contraction_logit_intercept"] + p["contraction_logit_utilisation"] * (util - 0.75)
                          + p["contraction_logit_engagement"] * self.z)
            pa = np.full(n, p["addon_monthly_purchase_prob"]) * np.exp(0.3 * self.z)
            pdrop = np.full(n, p["addon_monthly_drop_prob"])
            pe, pc, pa, pdrop = (np.where(self.annual, 1 - (1 - x) ** 12, x) for x in (pe, pc, pa, pdrop))
            tot = pe + pc
            scale = np.where(tot > 0.95, 0.95 / tot, 1.0)
            pe, pc = pe * scale, pc * scale
            u = r.random(n)
            expand = evaluate & (u < pe)
            contract = evaluate & (u >= pe) & (u < pe + pc) & (seats > 1)
            change = np.flatnonzero(expand | contract)
            grow = r.uniform(1.1, 1.6, n)
            shrink = r.uniform(0.6, 0.9, n)
            up = r.random(n) < p["plan_upgrade_share_on_expansion"]
            down = r.random(n) < p["plan_downgrade_share_on_contraction"]
            if len(change):
                emit(change, plan[change], main_start[change], b[change], seats[change],
                     mrr_of(plan[change], seats[change], change))
                new_seats = np.where(expand, np.ceil(seats * grow), np.maximum(1, np.floor(seats * shrink))).astype(np.int64)
                new_plan = np.where(expand & up, np.minimum(plan + 1, 2),
                                    np.where(contract & down, np.maximum(plan - 1, 0), plan))
                seats[change] = new_seats[change]
                plan[change] = new_plan[change]
                main_start[change] = b[change]
            self.expansions += int(expand.sum())
            self.contractions += int(contract.sum())
            ua, ud = r.random(n), r.random(n)
            buy = np.flatnonzero(evaluate & ~addon & (ua < pa))
            drop = np.flatnonzero(evaluate & addon & (ud < pdrop))
            if len(drop):
                emit(drop, np.full(len(drop), -1), addon_start[drop], b[drop], addon_seats[drop],
                     np.round(addon_price * addon_seats[drop] * disc[drop], dec))
                addon[drop] = False
            if len(buy):
                addon[buy] = True
                addon_seats[buy] = seats[buy]
                addon_start[buy] = b[buy]

            # --- new accounts and reactivations start on this boundary
            new = np.flatnonzero(~self.pre & (self.g0 == g))
            active[new] = True
            anchor[new] = g
            main_start[new] = b[new]
            spell_start[new] = b[new]
            na = new[self.addon0[new]]
            addon[na] = True
            addon_seats[na] = seats[na]
            addon_start[na] = b[na]
            back = np.flatnonzero((react_g == g) & ~active)
            if len(back):
                shrink_back = r.uniform(0.5, 1.0, len(back))
                seats[back] = np.maximum(1, np.round(seats[back] * shrink_back)).astype(np.int64)
                active[back] = True
                anchor[back] = g
                main_start[back] = b[back]
                spell_start[back] = b[back]
                react_g[back] = 10**6
                n_react += len(back)

            # --- assignments taken on the first day of the next month
            if g == self.exp_g - 1:
                in_exp = active.copy()
                self.anchor_at_exp = anchor.copy()
                order = self.exp_perm[in_exp[self.exp_perm]]  # complete randomization, 50/50
                treat = np.zeros(n, bool)
                treat[order[: len(order) // 2]] = True
                exposed = in_exp & treat & (self.exp_u_exposed < self.exp_pi)
            if g == self.ad_g - 1:
                candidate = active.copy()
                self.anchor_at_study = anchor.copy()

            # --- seats and active users of the next period
            self.seats_period[:, j + 1] = np.where(active, seats, 0)
            self.users[:, j + 1] = ru.binomial(self.seats_period[:, j + 1], self.u_lat[:, j + 1])

        self.at_risk[:, M] = active
        # hazards beyond the window (for the truth's expected retentions only)
        for j in range(OFF + M, self.J):
            h_ctl, h_exp = self._hazards(j, adopted, in_exp)
            self.H_ctl[:, j] = h_ctl
            self.H_exp[:, j] = h_exp
            self.H_real[:, j] = np.where(in_exp & treat & exposed, h_exp, h_ctl)
        # rows still open at the end of the window
        oi = np.flatnonzero(active)
        emit(oi, plan[oi], main_start[oi], np.full(len(oi), -1), seats[oi], mrr_of(plan[oi], seats[oi], oi))
        oa = oi[addon[oi]]
        emit(oa, np.full(len(oa), -1), addon_start[oa], np.full(len(oa), -1), addon_seats[oa],
             np.round(addon_price * addon_seats[oa] * disc[oa], dec))
        spells["acc"].append(oi)
        spells["start"].append(spell_start[oi])
        spells["end"].append(np.full(len(oi), -1))
        self.rows = {k: np.concatenate(v) for k, v in rows.items()}
        self.spells = {k: np.concatenate(v) for k, v in spells.items()}
        self.churns = {k: (np.concatenate(v) if v else np.zeros(0, np.int64)) for k, v in churns.items()}
        self.n_react = n_react
        self.adopted, self.candidate = adopted, candidate
        self.in_exp, self.treat, self.exposed = in_exp, treat, exposed
        self.final_active = active
        # first spell end (for onboarding: milestones after the first churn are never reached)
        first_end = np.full(n, -1, dtype=np.int64)
        if len(self.churns["acc"]):
            order = np.lexsort((self.churns["day"], self.churns["acc"]))
            acc_sorted = self.churns["acc"][order]
            firsts = np.r_[True, acc_sorted[1:] != acc_sorted[:-1]]
            first_end[acc_sorted[firsts]] = self.churns["day"][order][firsts]
        self.first_end = first_end
