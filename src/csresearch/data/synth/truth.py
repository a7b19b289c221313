"""The planted truth: expected churn by segment and billing period, churned accounts and their usage
decline, onboarding, the experiment's true effects and uplift per account, the adoption study's
true and naive effects, upsell, usage, support, surveys and churn reasons (``World.truth``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import _BuilderBase
from .helpers import _iso
from .params import ADOPT_ID, CHURN_REASONS, EXP_ID, FEATURES, MILESTONES, SEGMENTS, SYNTH_VERSION


class _TruthMixin(_BuilderBase):
    """Survival under the planted hazards and the truth document."""

    # -------------------------------------------------------------------------- truth
    def _survival(self, Hm: np.ndarray, idx: np.ndarray, start: np.ndarray, end: np.ndarray,
                  anchor: np.ndarray) -> np.ndarray:
        """P(no churn at any boundary in (start, end]) under hazard matrix Hm, for accounts idx."""
        H = Hm[idx]
        logs = np.log1p(-H)
        cum = np.cumsum(logs, axis=1)
        b = self.bd[idx]
        in_h = (b > start[:, None]) & (b <= end[:, None])
        g = self.gs[None, :]
        renewal = ((g - anchor[:, None]) % 12 == 0) & (np.arange(self.J)[None, :] >= 12)
        ann = self.annual[idx][:, None]
        log12 = np.zeros_like(cum)
        log12[:, 12:] = cum[:, 12:] - cum[:, :-12]
        term = np.where(ann, np.where(renewal, log12, 0.0), logs)
        return np.exp(np.where(in_h, term, 0.0).sum(axis=1))

    def _truth(self):
        p, M = self.p, self.months
        ids = self.ids
        first_month = str(self.m0)
        last_month = str(self.m0 + (M - 1))
        t: dict[str, Any] = {}
        t["synth_version"] = SYNTH_VERSION
        t["window"] = {"first_month": first_month, "last_month": last_month,
                       "start_date": _iso(self.ws), "end_date": _iso(self.we), "months": M}
        # resolved values: build_world(**truth["params"]) rebuilds this exact world
        t["params"] = {**self.p, "experiment_month": str(self.m0 + self.exp_g),
                       "adoption_study_month": str(self.m0 + self.ad_g), "ttv_reference_year": self.ttv_ref_year}
        # ---- churn
        last12 = slice(M - 12, M)
        ar = self.at_risk[:, last12]
        pr = self.p_real[:, last12]
        by_seg = {}
        for s, name in enumerate(SEGMENTS):
            m = ar & (self.seg == s)[:, None]
            by_seg[name] = float(pr[m].mean()) if m.any() else None
        by_seg_n = {name: int((ar & (self.seg == s)[:, None]).sum()) for s, name in enumerate(SEGMENTS)}
        by_billing = {}
        for name, mask in (("monthly", ~self.annual), ("annual", self.annual)):
            m = ar & mask[:, None]
            by_billing[name] = float(pr[m].mean()) if m.any() else None
        t["churn"] = {
            "definition": "an account churns when all its subscriptions end (MRR > 0 at the end of month M-1, "
                          "0 at the end of M); ends fall on the account's billing day",
            "segment_base_monthly_hazard": p["segment_base_monthly_hazard"],
            "engagement_log_hazard_slope": p["engagement_log_hazard_slope"],
            "engagement_hazard_ratio_per_sd": float(np.exp(p["engagement_log_hazard_slope"])),
            "ttv_hazard_ratio": p["ttv_hazard_ratio"],
            "ttv_threshold_days": p["ttv_threshold_days"],
            "ttv_effect": ("hazard multiplied by ttv_hazard_ratio for churn dates more than ttv_threshold_days after the "
                           "first subscription start, for accounts that did not reach first_value within "
                           "ttv_threshold_days (or never). 1.0 = time to value has no effect on churn. Time to value "
                           "is drawn independently of engagement, but its distribution depends on segment and cohort "
                           "year, so compare within segment (segment confounds a pooled comparison)."),
            "ttv_has_effect": bool(p["ttv_hazard_ratio"] != 1.0),
            "ticket_log_hazard_per_high_ticket": p["ticket_log_hazard_per_high_ticket"],
            "ticket_log_hazard_per_other_ticket": p["ticket_log_hazard_per_other_ticket"],
            "hazard_formula": ("h = base[segment] * exp(engagement_slope * z) * ttv_factor * "
                               "exp(b_high * high_or_urgent_tickets_in_period + b_other * other_tickets_in_period) "
                               "* adoption_factor * experiment_factor, capped at hazard_cap; monthly billing: churn "
                               "probability h at each billing boundary; annual: 1 - prod(1 - h) over the 12 periods "
                               "of the term, only at the renewal anniversary"),
            "annual_churn_only_at_renewal": True,
            "expected_monthly_logo_churn_by_segment": by_seg,
            "expected_monthly_logo_churn": float(pr[ar].mean()) if ar.any() else None,
            "expected_monthly_logo_churn_by_billing_period": by_billing,
            "expected_churn_account_months_by_segment": by_seg_n,
            "expected_churn_period": {"first_month": str(self.m0 + (M - 12)), "last_month": last_month,
                                      "note": "mean planted churn probability over account-months active at the start "
                                              "of the month (MRR > 0 at the end of the previous month)"},
            "observed_churn_events": int(len(self.churns["acc"])),
            "null_drivers": ["region", "industry", "csm_owner", "cs_activities (no causal effect; more "
                             "activities go to low-engagement high-touch accounts)"],
            "engagement_shift_by_acquisition_channel": p["engagement_shift_by_channel"],
        }
        # churned accounts: first churn + decline onset; later churns listed
        sp = self.spells
        ch_mask = sp["end"] >= 0
        sacc, send, sons = sp["acc"][ch_mask], sp["end"][ch_mask], self.spell_onset[ch_mask]
        order = np.lexsort((send, sacc))
        churned: dict[str, dict] = {}
        for a, e, o in zip(sacc[order], send[order], sons[order]):
            key = ids[a]
            item = {"churn_date": _iso(e), "decline_onset": _iso(o)}
            if key not in churned:
                churned[key] = dict(item)
            else:
                churned[key].setdefault("later_churns", []).append(item)
        spell_count = np.bincount(sp["acc"], minlength=self.n)
        for a in np.flatnonzero(spell_count > 1):
            starts = np.sort(sp["start"][sp["acc"] == a])
            churned[ids[a]]["reactivated_at"] = [_iso(s) for s in starts[1:]]
        t["churned_accounts"] = churned
        t["usage_decline"] = {"onset_days_before_churn": p["decline_onset_days"], "floor_at_churn": p["decline_floor"],
                              "shape": "linear from 1 at the onset to floor at the churn date"}
        t["reactivation"] = {"share_of_churns": p["reactivation_share"], "gap_months": p["reactivation_gap_months"],
                             "reactivations_in_window": int(self.n_react),
                             "accounts_reactivated": int((spell_count > 1).sum())}
        # ---- onboarding
        years = sorted(set(int(y) for y in self.cohort_year))
        med = {}
        for y in years:
            f = p["ttv_yearly_speedup"] ** (y - self.ttv_ref_year)
            med[str(y)] = {s: float(p["ttv_median_days_by_segment"][s] * f) for s in SEGMENTS}
        t["onboarding"] = {
            "milestones": list(MILESTONES),
            "value_milestone": "first_value",
            "ttv_distribution": "lognormal days from first subscription start, median by segment x speedup^(year - ref)",
            "ttv_log_sd": p["ttv_log_sd"],
            "ttv_never_share": p["ttv_never_share"],
            "ttv_reference_year": self.ttv_ref_year,
            "ttv_yearly_speedup": p["ttv_yearly_speedup"],
            "ttv_median_days_by_cohort_year": med,
            "slow_ttv_share_by_segment": {s: float(self.slow[self.seg == i].mean()) if (self.seg == i).any() else None
                                          for i, s in enumerate(SEGMENTS)},
            "note": "milestones after the account's first churn or after the window are null (not reached)",
        }
        # ---- experiment
        ei = np.flatnonzero(self.in_exp)
        anc = self.anchor_at_exp[ei]
        start = np.full(len(ei), self.exp_day)
        end = np.full(len(ei), self.exp_end)
        H_ctl = self.H_ctl
        H_trt = self.H_exp
        r_ctl = self._survival(H_ctl, ei, start, end, anc)
        r_trt = self._survival(H_trt, ei, start, end, anc)
        delta = r_trt - r_ctl
        pi = self.exp_pi[ei]
        itt = pi * delta
        seg_e = self.seg[ei]
        t["experiments"] = {
            EXP_ID: {
                "type": "randomized",
                "control_arm": "control",
                "treatment_arm": "treatment",
                "assigned_at": _iso(self.exp_day),
                "horizon_days": int(p["experiment_horizon_days"]),
                "eligibility": "accounts active on assigned_at, complete randomization 50/50",
                "n_assigned": int(len(ei)),
                "n_treatment": int(self.treat[ei].sum()),
                "n_exposed": int(self.exposed[ei].sum()),
                "exposure": "P(exposed | treatment) = sigmoid(logit(share) + slope * (z - mean z)); control never exposed",
                "exposure_share_param": p["experiment_exposure_share"],
                "expected_exposure_share": float(pi.mean()) if len(pi) else None,
                "hazard_multiplier_if_exposed_by_segment": p["experiment_hazard_multiplier_by_segment"],
                "outcome": "retained = no churn (all subscriptions ended) in (assigned_at, assigned_at + horizon_days]",
                "expected_retention_6m_control": float(r_ctl.mean()) if len(ei) else None,
                "ate_retention_6m": float(itt.mean()) if len(ei) else None,
                "cate_retention_6m_by_segment": {s: (float(itt[seg_e == i].mean()) if (seg_e == i).any() else None)
                                                 for i, s in enumerate(SEGMENTS)},
                "effect_if_exposed_retention_6m": float(delta.mean()) if len(ei) else None,
                "effect_if_exposed_retention_6m_by_segment": {
                    s: (float(delta[seg_e == i].mean()) if (seg_e == i).any() else None) for i, s in enumerate(SEGMENTS)},
                "true_uplift_by_account": {ids[a]: round(float(v), 6) for a, v in zip(ei, itt)},
                "true_uplift_definition": "intention-to-treat: P(exposed | treatment) x (expected 6-month retention "
                                          "if exposed - if not), from the planted probabilities",
            },
        }
        # ---- adoption
        ci = np.flatnonzero(self.candidate)
        ad_mask = self.adopted[ci]
        adi = ci[ad_mask]
        non = ci[~ad_mask]
        hz = p["adoption_retention_horizon_days"]
        # the hazards the accounts actually faced (H_real: the randomised outreach included, which some
        # adopters received during their horizon), with and without the adoption factor from the adoption
        # date on; the outreach moves the effect by about 0.03 pt, the data's churns are drawn from H_real
        H_no = self.H_real.copy()
        bd_adi = self.bd[adi]
        after = bd_adi > self.ad_day[adi][:, None]
        H_no[adi] = np.where(after, np.minimum(self.H_real[adi] / p["adoption_hazard_ratio"], p["hazard_cap"]),
                             self.H_real[adi])
        s_ad = self.ad_day[adi]
        r_with = self._survival(self.H_real, adi, s_ad, s_ad + hz, self.anchor_at_adopt[adi])
        r_without = self._survival(H_no, adi, s_ad, s_ad + hz, self.anchor_at_adopt[adi])
        s_non = np.full(len(non), self.ad_day0)
        r_non = self._survival(self.H_real, non, s_non, s_non + hz, self.anchor_at_study[non])
        t["experiments"][ADOPT_ID] = {
            "type": "observational (non-randomized feature adoption)",
            "arms": {"adopter": "assigned_at = adoption date, exposed = True",
                     "non_adopter": "assigned_at = study start, exposed = False"},
            "control_arm": "non_adopter",
            "study_start": _iso(self.ad_day0),
            "adoption_window": [_iso(self.ad_day0),
                                _iso(int(self.month_start[self.OFF + self.ad_g + p["adoption_spread_months"]]) - 1)],
            "eligibility": "accounts active on study_start; an account adopts on its latent adoption date if still active",
            "selection_mechanism": ("P(would adopt) = sigmoid(adoption_logit_intercept + adoption_logit_engagement * z): "
                                    "engaged accounts (more usage, lower churn) adopt more; adopters must also survive "
                                    "to their adoption date (immortal time)"),
            "adoption_logit_intercept": p["adoption_logit_intercept"],
            "adoption_logit_engagement": p["adoption_logit_engagement"],
            "n_eligible": int(len(ci)),
            "n_adopters": int(len(adi)),
            "true_effect_usage_pct": float(p["adoption_usage_lift"] * 100),
            "usage_effect": "events per seat x (1 + lift) from the adoption date (the extra events are workflow_run); "
                            "no other difference in usage trends (parallel trends)",
            "true_hazard_ratio": p["adoption_hazard_ratio"],
            "retention_horizon_days": int(hz),
            "expected_retention_effect_on_adopters": float((r_with - r_without).mean()) if len(adi) else None,
            "estimand": ("effect on the adopters: mean over adopters of P(no churn within retention_horizon_days of the "
                         "adoption date | adopting on it) - P(same | never adopting), from the planted hazards; the "
                         "same as a sequential trial's (adopters vs accounts paying that day not adopting yet, "
                         "censored if they adopt later). Adoption changes nothing else that drives churn (usage "
                         "rises, seats and tickets do not move)."),
            "expected_retention_adopters": float(r_with.mean()) if len(adi) else None,
            "expected_retention_non_adopters_from_study_start": float(r_non.mean()) if len(non) else None,
            "naive_expected_retention_difference": (float(r_with.mean() - r_non.mean())
                                                    if len(adi) and len(non) else None),
            "naive_note": "adopters' expected retention over the horizon from their adoption date minus "
                          "non-adopters' from study start: biased upward by selection on engagement",
            "mean_engagement_adopters": float(self.z[adi].mean()) if len(adi) else None,
            "mean_engagement_non_adopters": float(self.z[non].mean()) if len(non) else None,
        }
        # ---- upsell
        t["upsell"] = {
            "expansion_model": "logit P(expansion at a billing boundary) = intercept[segment] + b_util * "
                               "(seat_utilisation - 0.75) + b_eng * z; annual accounts: 1 - (1 - p)^12 at renewal only",
            "seat_utilisation": "active users in the month of service / seats (active users ~ Binomial(seats, "
                                "sigmoid(utilisation_intercept + utilisation_slope * z + noise)))",
            "expansion_logit_intercept_by_segment": p["expansion_logit_intercept_by_segment"],
            "expansion_logit_utilisation": p["expansion_logit_utilisation"],
            "expansion_logit_engagement": p["expansion_logit_engagement"],
            "contraction_logit_intercept": p["contraction_logit_intercept"],
            "contraction_logit_utilisation": p["contraction_logit_utilisation"],
            "contraction_logit_engagement": p["contraction_logit_engagement"],
            "expansion_seat_growth": [1.1, 1.6],
            "contraction_seat_factor": [0.6, 0.9],
            "plan_upgrade_share_on_expansion": p["plan_upgrade_share_on_expansion"],
            "addon": {"product": self.vocab.addon, "monthly_purchase_prob": p["addon_monthly_purchase_prob"],
                      "purchase_engagement_log_slope": 0.3, "monthly_drop_prob": p["addon_monthly_drop_prob"]},
            "expansions": int(self.expansions),
            "contractions": int(self.contractions),
            "features": ["seat_utilisation", "engagement (latent; proxied by events per seat)", "segment"],
        }
        t["usage"] = {
            "features": list(FEATURES),
            "events_per_user_weekday": p["events_per_user_weekday"],
            "usage_log_rate_slope": p["usage_log_rate_slope"],
            "weekend_factor": p["weekend_factor"],
            "expected_events": self.expected_events,
            "engagement": "latent z ~ channel shift + N(0,1), constant per account; drives usage, utilisation, "
                          "churn, tickets, NPS/CSAT, expansion and adoption",
        }
        t["support"] = {
            "tickets_per_month_by_segment": p["tickets_per_month_by_segment"],
            "ticket_engagement_log_slope": p["ticket_engagement_log_slope"],
            "high_or_urgent_share": "sigmoid(high_ticket_share_logit + high_ticket_engagement_slope * z)",
        }
        t["surveys"] = {"nps": "round(7.0 + 1.4 z + N(0, 1.6)) clipped to 0-10",
                        "csat": "round(3.9 + 0.5 z + N(0, 0.8)) clipped to 1-5"}
        cov = self.reason_covered
        t["churn_reasons"] = {
            "coverage": p["churn_reason_coverage"],
            "recorded": int(cov.sum()),
            "of_churn_events": int(len(cov)),
            "themes": list(CHURN_REASONS),
            "reason_model": "categorical with weights: low_usage 1.2 exp(-z); onboarding_failure 2.0 if slow time to "
                            "value and tenure <= 9 months else 0.15; budget 1; competitor 0.7 (SMB) / 1.2; "
                            "product_gaps 0.8; support 0.3 + 0.8 x high/urgent tickets in the last 3 periods; "
                            "company_closed 0.8 (SMB) / 0.2",
            "planted_mix": {name: float(self.reason_prob[:, i].mean()) if len(cov) else None
                            for i, name in enumerate(CHURN_REASONS)},
            "comments": "4 templates per theme with slot fillers, optional lead-ins and tails; ~10% empty",
        }
        t["accounts"] = {"pre_window_share": p["pre_window_share"],
                         "pre_window_accounts": int(self.pre.sum()),
                         "left_truncation": "pre-window accounts are observed only because they survived to the window start"}
        self.truth = t
