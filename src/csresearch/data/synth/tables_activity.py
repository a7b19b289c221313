"""The activity tables: ``subscriptions`` (from the simulated rows), ``usage_events``,
``support_tickets``, ``cs_activities`` and ``surveys``, plus the helpers that place items in
an account's active periods."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .base import _BuilderBase
from .helpers import _choice_by_row, _days_to_dt, _probs, _secs_to_dt, _vec
from .params import _TEXTS_STREAM, FEATURES, REGION_UTC_OFFSET_H, TICKET_CATEGORIES, TIERS

SURVEY_COMMENT_SHARE = 0.35  # respondents who write a free-text answer


class _ActivityTablesMixin(_BuilderBase):
    """Subscriptions, usage, support, CS touchpoints and surveys."""

    # -------------------------------------------------------------------------- tables
    def _subscriptions_table(self):
        rw = self.rows
        order = np.lexsort((rw["product"] == -1, rw["start"], rw["acc"]))
        acc = rw["acc"][order]
        prod = rw["product"][order]
        names = np.array(list(self.vocab.plans) + [self.vocab.addon], dtype=object)[np.where(prod < 0, 3, prod)]
        k = len(order)
        self.tables["subscriptions"] = pd.DataFrame({
            "subscription_id": np.array([f"S{i + 1:07d}" for i in range(k)], dtype=object),
            "account_id": self.ids[acc],
            "product": names,
            "start_date": _days_to_dt(rw["start"][order]),
            "end_date": _days_to_dt(rw["end"][order]),
            "mrr": rw["mrr"][order].astype(float),
            "billing_period": np.where(self.annual[acc], "annual", "monthly").astype(object),
            "seats": rw["seats"][order].astype(np.int64),
            "currency": np.full(k, self.vocab.currency, dtype=object),
        })

    def _usage(self):
        p, sp, n = self.p, self.spells, self.n
        r = self.rng["usage"]
        acc = sp["acc"]
        end = np.where(sp["end"] < 0, self.we + 1, sp["end"])
        churned = sp["end"] >= 0
        lo_on, hi_on = p["decline_onset_days"]
        onset = np.where(churned, end - r.integers(lo_on, hi_on + 1, size=len(acc)), -1)
        self.spell_onset = onset
        ds = np.maximum(sp["start"], self.ws)
        de = np.minimum(end, self.we + 1)
        L = np.maximum(de - ds, 0)
        sidx = np.repeat(np.arange(len(acc)), L)
        offs = np.arange(L.sum()) - np.repeat(np.cumsum(L) - L, L)
        day = ds[sidx] + offs
        a = acc[sidx]
        gm = self._day_month_index(day)
        dom = day - self.month_start[self.OFF + gm] + 1
        j = self.OFF + gm + (dom >= self.bday_dom[a])  # period index: the month of service ending next boundary
        users = self.users[a, j]
        weekday = (day + 3) % 7  # 0 = Monday
        cal_month = ((self.m0.astype(np.int64) + gm) % 12)
        season = np.asarray(p["seasonality_by_month"], float)[cal_month]
        rate = (p["events_per_user_weekday"] * users * np.exp(p["usage_log_rate_slope"] * self.z[a])
                * np.where(weekday >= 5, p["weekend_factor"], 1.0) * season * self.usage_noise[a, j])
        sc = churned[sidx]
        frac = np.where(sc, np.clip((day - onset[sidx]) / np.maximum(end[sidx] - onset[sidx], 1), 0.0, 1.0), 0.0)
        rate *= 1.0 - (1.0 - p["decline_floor"]) * frac
        post_adopt = self.adopted[a] & (day >= self.ad_day[a])
        rate *= np.where(post_adopt, 1.0 + p["adoption_usage_lift"], 1.0)
        counts = r.poisson(rate)
        self.expected_events = float(rate.sum())
        # events
        re_ = self.rng["events"]
        di = np.repeat(np.arange(len(day)), counts)
        ne = len(di)
        ea = a[di]
        # local business-hours profile, shifted to UTC by region (wraps within the day)
        hours_w = np.array([1, 1, 1, 1, 1, 2, 4, 8, 14, 16, 15, 13, 11, 14, 15, 14, 12, 9, 6, 4, 3, 2, 2, 1], float)
        hour = re_.choice(24, size=ne, p=hours_w / hours_w.sum())
        sec_local = hour * 3600 + re_.integers(0, 3600, size=ne)
        sec = (sec_local - np.array(REGION_UTC_OFFSET_H)[self.region[ea]] * 3600) % 86400
        t = day[di] * 86400 + sec
        # users: a stable pool per account; lower-numbered users are the more active ones
        eu = np.floor(users[di] * re_.random(ne) ** 1.5).astype(np.int64)
        pool = np.maximum(self.users.max(axis=1), 1)
        off = np.cumsum(pool) - pool
        user_ids = np.array([f"{self.ids[i]}-U{k + 1:04d}" for i in range(n) for k in range(pool[i])], dtype=object)
        # features: adopters add workflow_run on top of the base mix
        mix = _probs(p["feature_mix"], FEATURES)
        lift = p["adoption_usage_lift"]
        mix_ad = mix.copy()
        mix_ad[FEATURES.index("workflow_run")] += lift
        mix_ad /= mix_ad.sum()
        uf = re_.random(ne)
        f_base = np.searchsorted(np.cumsum(mix)[:-1], uf, side="right")
        f_ad = np.searchsorted(np.cumsum(mix_ad)[:-1], uf, side="right")
        feat = np.where(post_adopt[di], f_ad, f_base)
        order = np.lexsort((t, ea))
        self.tables["usage_events"] = pd.DataFrame({
            "account_id": self.ids[ea[order]],
            "user_id": user_ids[off[ea[order]] + eu[order]],
            "event_time": _secs_to_dt(t[order]),
            "event_name": np.array(FEATURES, dtype=object)[feat[order]],
            "quantity": np.ones(ne, dtype=float),
        })

    def _period_cells(self, rate_matrix_or_counts, counts: bool):
        """Expand active periods g = 0..months into one row per item; returns (acc, grid col, rank)."""
        OFF, M = self.OFF, self.months
        cols = np.arange(OFF, OFF + M + 1)
        if counts:
            c = rate_matrix_or_counts[:, cols] * self.at_risk
        else:
            c = rate_matrix_or_counts
        ai, gi = np.nonzero(c)
        k = c[ai, gi]
        acc = np.repeat(ai, k)
        j = np.repeat(gi + OFF, k)
        rank = np.arange(k.sum()) - np.repeat(np.cumsum(k) - k, k)
        return acc, j, rank

    def _times_in_period(self, r, acc, j, business=True):
        """A timestamp (seconds) uniformly placed in period j of each account (UTC business hours)."""
        start = self.bd[acc, j - 1]
        length = self.bd[acc, j] - start
        day = start + np.floor(r.random(len(acc)) * length).astype(np.int64)
        hour = r.integers(8, 18, len(acc)) if business else r.integers(0, 24, len(acc))
        local = hour * 3600 + r.integers(0, 3600, len(acc))
        sec = (local - np.array(REGION_UTC_OFFSET_H)[self.region[acc]] * 3600) % 86400
        return day * 86400 + sec

    def _support(self):
        r = self.rng["support"]
        acc, j, rank = self._period_cells(self.T, counts=True)
        is_high = rank < self.HU[acc, j]
        created = self._times_in_period(r, acc, j, business=False)
        keep = (created >= self.ws * 86400) & (created < (self.we + 1) * 86400)
        acc, j, is_high, created = acc[keep], j[keep], is_high[keep], created[keep]
        k = len(acc)
        # priority: 0 low, 1 normal, 2 high, 3 urgent
        pr = np.where(is_high, np.where(r.random(k) < 0.25, 3, 2), np.where(r.random(k) < 0.6, 1, 0))
        cat_hi = np.array([0.35, 0.25, 0.20, 0.10, 0.10, 0.0, 0.0])
        cat_lo = np.array([0.10, 0.05, 0.15, 0.05, 0.15, 0.35, 0.15])
        cat = _choice_by_row(r, np.vstack([cat_lo, cat_hi]), is_high.astype(int))
        med_h = np.array([60.0, 30.0, 12.0, 4.0])[pr]
        res_h = np.exp(np.log(med_h) + 0.8 * r.standard_normal(k))
        resolved = created + np.round(res_h * 3600).astype(np.int64)
        unresolved = (r.random(k) < 0.03) | (resolved > (self.we + 1) * 86400 - 1)
        resolved = np.where(unresolved, -1, resolved)
        answer = (r.random(k) < 0.4) & ~unresolved
        score = np.clip(np.round(4.1 + 0.4 * self.z[acc] - 0.35 * np.log(res_h / med_h) + 0.9 * r.standard_normal(k)), 1, 5)
        csat = np.where(answer, score, np.nan)
        order = np.lexsort((created, acc))
        self.tables["support_tickets"] = pd.DataFrame({
            "ticket_id": np.array([f"T{i + 1:07d}" for i in range(k)], dtype=object),
            "account_id": self.ids[acc[order]],
            "created_at": _secs_to_dt(created[order]),
            "resolved_at": _secs_to_dt(resolved[order]),
            "priority": np.array(["low", "normal", "high", "urgent"], dtype=object)[pr[order]],
            "category": np.array(TICKET_CATEGORIES, dtype=object)[cat[order]],
            "csat": csat[order].astype(float),
        })

    def _cs_activities(self):
        p, r, M = self.p, self.rng["cs"], self.months
        rate = _vec(p["cs_activities_per_month_by_tier"], TIERS)[self.tier] * np.exp(-0.15 * self.z)
        counts = r.poisson(np.repeat(rate[:, None], M + 1, axis=1)) * self.at_risk
        acc, j, _ = self._period_cells(counts, counts=False)
        t = self._times_in_period(r, acc, j)
        keep = (t >= self.ws * 86400) & (t < (self.we + 1) * 86400)
        acc, t = acc[keep], t[keep]
        k = len(acc)
        types = ("call", "email", "qbr", "training")
        rows = np.array([[0.35, 0.35, 0.12, 0.18], [0.25, 0.60, 0.03, 0.12], [0.0, 0.85, 0.0, 0.15]])
        ty = _choice_by_row(r, rows, self.tier[acc])
        order = np.lexsort((t, acc))
        self.tables["cs_activities"] = pd.DataFrame({
            "activity_id": np.array([f"C{i + 1:07d}" for i in range(k)], dtype=object),
            "account_id": self.ids[acc[order]],
            "occurred_at": _secs_to_dt(t[order]),
            "activity_type": np.array(types, dtype=object)[ty[order]],
            "owner": self.owner[acc[order]],
        })

    def _surveys(self):
        p, r, M = self.p, self.rng["surveys"], self.months
        parts = []
        for kind, rate in (("nps", p["nps_responses_per_month"]), ("csat", p["csat_responses_per_month"])):
            counts = r.poisson(rate, size=(self.n, M + 1)) * self.at_risk
            acc, j, _ = self._period_cells(counts, counts=False)
            t = self._times_in_period(r, acc, j)
            keep = (t >= self.ws * 86400) & (t < (self.we + 1) * 86400)
            acc, j, t = acc[keep], j[keep], t[keep]
            k = len(acc)
            if kind == "nps":
                score = np.clip(np.round(7.0 + 1.4 * self.z[acc] + 1.6 * r.standard_normal(k)), 0, 10)
            else:
                score = np.clip(np.round(3.9 + 0.5 * self.z[acc] + 0.8 * r.standard_normal(k)), 1, 5)
            users = np.maximum(self.users[acc, j], 1)
            uk = np.floor(users * r.random(k)).astype(np.int64)
            parts.append((acc, uk, t, np.full(k, kind, dtype=object), score))
        acc = np.concatenate([x[0] for x in parts])
        uk = np.concatenate([x[1] for x in parts])
        t = np.concatenate([x[2] for x in parts])
        kind = np.concatenate([x[3] for x in parts])
        score = np.concatenate([x[4] for x in parts])
        order = np.lexsort((t, acc))
        uid = np.array([f"{self.ids[a]}-U{k + 1:04d}" for a, k in zip(acc[order], uk[order])], dtype=object)
        self.tables["surveys"] = pd.DataFrame({
            "account_id": self.ids[acc[order]],
            "user_id": uid,
            "answered_at": _secs_to_dt(t[order]),
            "survey_type": kind[order],
            "score": score[order].astype(np.int64),
        })
        if self.p.get("survey_comments"):
            self.tables["surveys"]["comment"] = self._survey_answers(kind[order], score[order])

    def _survey_answers(self, kind: np.ndarray, score: np.ndarray) -> np.ndarray:
        """Free-text answers to "why that score?": about a third of respondents write one, in the tone of
        their score (NPS 9-10 / CSAT 5 positive, NPS 0-6 / CSAT 1-2 negative, the rest neutral). Drawn
        from their own stream, so the rest of the world is the same with or without them."""
        r = np.random.default_rng(np.random.SeedSequence(self.p["seed"]).spawn(_TEXTS_STREAM + 1)[_TEXTS_STREAM])
        k = len(score)
        answers = self.vocab.survey_answers
        nps = kind == "nps"
        tone = np.where(nps, np.where(score >= 9, 0, np.where(score <= 6, 2, 1)),
                        np.where(score >= 5, 0, np.where(score <= 2, 2, 1)))
        pools = [answers["positive"], answers["neutral"], answers["negative"]]
        writes = r.random(k) < SURVEY_COMMENT_SHARE
        pick = r.integers(0, 1000, k)
        out = np.full(k, None, dtype=object)
        for x in np.flatnonzero(writes):
            pool = pools[tone[x]]
            out[x] = pool[pick[x] % len(pool)]
        return out
