"""The outcome tables: ``churn_reasons`` (planted reason mix, templated comments), ``experiments``
(the randomized CS experiment and the non-randomized feature adoption) and ``onboarding``
(milestone dates)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .base import _BuilderBase
from .helpers import _days_to_dt
from .params import ADOPT_ID, CHURN_REASONS, COMPETITORS, EXP_ID, MILESTONES


class _OutcomeTablesMixin(_BuilderBase):
    """Churn reasons, experiments and onboarding milestones."""

    def _churn_reasons(self):
        p, r = self.p, self.rng["reasons"]
        ch = self.churns
        k = len(ch["acc"])
        acc, g, day = ch["acc"], ch["g"], ch["day"]
        j = self.OFF + g
        hu3 = self.HU[acc, j] + self.HU[acc, j - 1] + self.HU[acc, j - 2]
        tenure_m = (day - self.s0[acc]) / 30.4
        seg = self.seg[acc]
        # weights: low_usage, onboarding_failure, budget, competitor, product_gaps, support, company_closed
        w = np.column_stack([
            1.2 * np.exp(-1.0 * self.z[acc]),
            np.where(self.slow[acc] & (tenure_m <= 9), 2.0, 0.15),
            np.full(k, 1.0),
            np.where(seg == 0, 0.7, 1.2),
            np.full(k, 0.8),
            0.3 + 0.8 * hu3,
            np.where(seg == 0, 0.8, 0.2),
        ])
        prob = w / w.sum(axis=1, keepdims=True)
        self.reason_prob = prob
        u = r.random(k)
        reason = (u[:, None] > np.cumsum(prob, axis=1)[:, :-1]).sum(axis=1)
        covered = r.random(k) < p["churn_reason_coverage"]
        sub = {
            "low_usage": ["few_active_users", "not_part_of_workflow", "champion_left"],
            "onboarding_failure": ["never_went_live", "integration_stalled", "no_internal_owner"],
            "budget": ["budget_cut", "price_increase", "cost_consolidation"],
            "competitor": ["cheaper_alternative", "better_features", "bundled_with_suite"],
            "product_gaps": ["missing_integration", "reporting_limits", "no_mobile"],
            "support": ["slow_response", "unresolved_bugs", "poor_quality"],
            "company_closed": ["went_out_of_business", "acquired", "restructuring"],
        }
        v = self.vocab
        templates, leads, tails, fills = v.churn_templates, v.leads, v.tails, v.fills
        rows_acc, rows_day, rows_reason, rows_sub, rows_comp, rows_comment = [], [], [], [], [], []
        ti = r.integers(0, 4, k)
        li = r.integers(0, len(leads), k)
        tl = r.integers(0, len(tails), k)
        si = r.integers(0, 3, k)
        ci = r.integers(0, len(COMPETITORS), k)  # the same draw in every locale: same list length
        fi = r.integers(0, 1000, (k, 4))
        nocomment = r.random(k) < 0.1
        for x in np.flatnonzero(covered):
            name = CHURN_REASONS[reason[x]]
            comp = v.competitors[ci[x]] if name == "competitor" else None
            text = templates[name][ti[x]].format(
                competitor=comp or "",
                integration=fills["integration"][fi[x, 0] % 6],
                feature=fills["feature"][fi[x, 1] % 5],
                period=fills["period"][fi[x, 2] % 3],
                n=fills["n"][fi[x, 3] % 4],
            )
            if v.lowercase_after_lead and leads[li[x]] and not (comp and text.startswith(comp)):
                text = text[0].lower() + text[1:]
            text = leads[li[x]] + text + tails[tl[x]]
            rows_acc.append(acc[x])
            rows_day.append(day[x])
            rows_reason.append(name)
            rows_sub.append(sub[name][si[x]])
            rows_comp.append(comp)
            rows_comment.append(None if nocomment[x] else text)
        ra = np.array(rows_acc, dtype=np.int64)
        rd = np.array(rows_day, dtype=np.int64)
        order = np.lexsort((rd, ra)) if len(ra) else np.zeros(0, np.int64)
        self.tables["churn_reasons"] = pd.DataFrame({
            "account_id": self.ids[ra[order]] if len(ra) else np.array([], dtype=object),
            "churn_date": _days_to_dt(rd[order]),
            "reason": np.array(rows_reason, dtype=object)[order],
            "sub_reason": np.array(rows_sub, dtype=object)[order],
            "competitor": np.array(rows_comp, dtype=object)[order],
            "comment": np.array(rows_comment, dtype=object)[order],
        })
        self.reason_covered = covered
        self.reason_drawn = reason

    def _experiments(self):
        ei = np.flatnonzero(self.in_exp)
        ci = np.flatnonzero(self.candidate)
        ad = self.adopted[ci]
        exp_df = pd.DataFrame({
            "experiment_id": np.full(len(ei), EXP_ID, dtype=object),
            "account_id": self.ids[ei],
            "arm": np.where(self.treat[ei], "treatment", "control").astype(object),
            "assigned_at": _days_to_dt(np.full(len(ei), self.exp_day)),
            "exposed": self.exposed[ei].astype(bool),
        })
        ad_df = pd.DataFrame({
            "experiment_id": np.full(len(ci), ADOPT_ID, dtype=object),
            "account_id": self.ids[ci],
            "arm": np.where(ad, "adopter", "non_adopter").astype(object),
            "assigned_at": _days_to_dt(np.where(ad, self.ad_day[ci], self.ad_day0)),
            "exposed": ad.astype(bool),
        })
        self.tables["experiments"] = pd.concat([exp_df, ad_df], ignore_index=True)

    def _onboarding_table(self):
        r = self.rng["onboarding"]
        n = self.n
        s0 = self.s0
        reach = ~self.never_value
        ttv = np.maximum(self.ttv, 1)
        # kickoff <= integrated <= first_value <= go_live
        kick_days = np.where(reach, np.floor(r.uniform(0.0, 0.3, n) * np.minimum(ttv, 25)), r.integers(0, 8, n))
        kick = s0 + kick_days.astype(np.int64)
        integ_reach = reach | (r.random(n) < 0.5)
        integ_days = np.where(reach, kick_days + np.round((ttv - kick_days) * r.uniform(0.4, 0.9, n)),
                              kick_days + np.round(np.exp(np.log(40) + 0.6 * r.standard_normal(n))))
        integ = np.where(integ_reach, s0 + integ_days.astype(np.int64), -1)
        fv = np.where(reach, s0 + self.ttv, -1)
        live_reach = reach & (r.random(n) < 0.9)
        live = np.where(live_reach, fv + np.ceil(np.exp(np.log(21) + 0.5 * r.standard_normal(n))).astype(np.int64), -1)
        # never reached after the first churn or after the end of the window
        limit = np.where(self.first_end >= 0, self.first_end - 1, self.we)
        limit = np.minimum(limit, self.we)
        cols = []
        for m, d in zip(MILESTONES, (kick, integ, fv, live)):
            cols.append(np.where((d >= 0) & (d <= limit), d, -1))
        k = len(MILESTONES)
        self.tables["onboarding"] = pd.DataFrame({
            "account_id": np.repeat(self.ids, k),
            "milestone": np.tile(np.array(MILESTONES, dtype=object), n),
            "achieved_at": _days_to_dt(np.column_stack(cols).ravel()),
        })
        self.fv_observed = cols[2]
