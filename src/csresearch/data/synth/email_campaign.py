"""The optional three-arm e-mail experiment (``build_world(email_experiment=True)``): two e-mails and
no e-mail, randomised among the accounts paying on the assignment day, with planted rates per arm
of a visit (yes/no), of a purchase (yes/no) and of the amount spent, written as ``visit`` and
``purchase`` rows of ``usage_events`` (a purchase's ``quantity`` is its amount in dollars) and as
rows of ``experiments`` (``exposed`` null unless ``record_exposure``: opens are not tracked).

It runs after every other stage, from its own random stream, so every other table and truth entry
is the one of the same world without the option. The e-mails have no planted effect on churn.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .base import _BuilderBase
from .helpers import _days_to_dt, _iso, _secs_to_dt
from .params import _EMAIL_STREAM, EMAIL_EXPERIMENT_DEFAULTS, EMAIL_ID

_ARM_KEYS = ("split", "visit_rate", "purchase_rate_given_visit")


def email_settings(option: bool | dict[str, Any]) -> dict[str, Any]:
    """The option's settings: :data:`EMAIL_EXPERIMENT_DEFAULTS` with the given keys replaced (an arm
    mapping is replaced whole, so arms can be renamed or added); unknown keys are an error."""
    given: dict[str, Any] = dict(option) if isinstance(option, dict) else {}
    unknown = sorted(set(given) - set(EMAIL_EXPERIMENT_DEFAULTS))
    if unknown:
        raise TypeError(f"email_experiment: unknown key(s) {unknown}; known {sorted(EMAIL_EXPERIMENT_DEFAULTS)}")
    out = {**EMAIL_EXPERIMENT_DEFAULTS, **given}
    arms = list(out["split"])
    for key in _ARM_KEYS:
        out[key] = {str(a): float(v) for a, v in dict(out[key]).items()}
        if set(out[key]) != set(arms):
            raise ValueError(f"email_experiment: {key} must name the same arms as split ({arms})")
        if any(not 0 <= v <= 1 for v in out[key].values()):
            raise ValueError(f"email_experiment: every {key} must be between 0 and 1")
    if out["control_arm"] not in arms or len(arms) < 2:
        raise ValueError(f"email_experiment: control_arm {out['control_arm']!r} must be one of at least two arms {arms}")
    if abs(sum(out["split"].values()) - 1) > 1e-6:
        raise ValueError("email_experiment: the split must sum to 1")
    if int(out["horizon_days"]) < 1 or float(out["spend_mean"]) <= 0 or float(out["spend_log_sd"]) < 0:
        raise ValueError("email_experiment: horizon_days >= 1, spend_mean > 0 and spend_log_sd >= 0")
    return out


def _complete_randomisation(rng: np.random.Generator, n: int, shares: np.ndarray) -> np.ndarray:
    """Arm index per account: exactly round(share x n) per arm (largest remainders), in random order."""
    raw = shares * n
    counts = np.floor(raw).astype(np.int64)
    counts[np.argsort(-(raw - counts), kind="stable")[: n - counts.sum()]] += 1
    return rng.permutation(np.repeat(np.arange(len(shares)), counts))


class _EmailCampaignMixin(_BuilderBase):
    """The e-mail experiment's rows in ``experiments`` and ``usage_events``, and its truth."""

    # set by earlier stages (simulate: paying spells; population: account ids)
    spells: dict[str, np.ndarray]
    ids: np.ndarray

    def _email_experiment(self) -> None:
        e = self.p["email_experiment"]
        # its own stream: the existing streams are children 0..14 of the seed; this is child 15
        rng = np.random.default_rng(np.random.SeedSequence(self.p["seed"]).spawn(_EMAIL_STREAM + 1)[_EMAIL_STREAM])
        g = self._month_index(e["month"]) if e["month"] else self.months - 3
        if not 1 <= g <= self.months - 1:
            raise ValueError("email_experiment month must fall inside the data window (after its first month)")
        day, horizon = int(self.month_start[self.OFF + g]), int(e["horizon_days"])
        if day + horizon - 1 > self.we:
            raise ValueError("email_experiment: assigned_at + horizon_days must end inside the data window")
        sp = self.spells
        paying = (sp["start"] <= day) & ((sp["end"] < 0) | (sp["end"] > day))
        eligible = np.unique(sp["acc"][paying])
        n = len(eligible)
        arms = list(e["split"])
        arm = _complete_randomisation(rng, n, np.array([e["split"][a] for a in arms]))
        visit_p = np.array([e["visit_rate"][a] for a in arms])
        buy_p = np.array([e["purchase_rate_given_visit"][a] for a in arms])
        visited = rng.random(n) < visit_p[arm]
        visits = np.where(visited, 1 + rng.poisson(float(e["extra_visits_mean"]), n), 0)
        bought = visited & (rng.random(n) < buy_p[arm])
        # visits uniformly over the outcome window; a purchase within the hour after the first visit
        start_s, stop_s = day * 86400, (day + horizon) * 86400
        v_acc = np.repeat(np.arange(n), visits)
        v_time = start_s + rng.integers(0, horizon * 86400, size=len(v_acc))
        first = np.full(n, stop_s, dtype=np.int64)
        np.minimum.at(first, v_acc, v_time)
        b_idx = np.flatnonzero(bought)
        b_time = np.minimum(first[b_idx] + rng.integers(0, 3600, size=len(b_idx)), stop_s - 1)
        sd = float(e["spend_log_sd"])
        amount = np.round(rng.lognormal(np.log(float(e["spend_mean"])) - sd ** 2 / 2, sd, size=len(b_idx)),
                          self.vocab.money_decimals)
        ids = self.ids[eligible]
        events = pd.DataFrame({
            "account_id": np.concatenate([ids[v_acc], ids[b_idx]]),
            "user_id": np.array([f"{a}-U0001" for a in np.concatenate([ids[v_acc], ids[b_idx]])], dtype=object),
            "event_time": _secs_to_dt(np.concatenate([v_time, b_time])),
            "event_name": np.array(["visit"] * len(v_acc) + ["purchase"] * len(b_idx), dtype=object),
            "quantity": np.concatenate([np.ones(len(v_acc)), amount]).astype(float),
        })
        usage = pd.concat([self.tables["usage_events"], events], ignore_index=True)
        self.tables["usage_events"] = usage.sort_values(["account_id", "event_time"], kind="mergesort",
                                                        ignore_index=True)
        arm_names = np.array(arms, dtype=object)[arm]
        exposed = (pd.array(arm_names != e["control_arm"], dtype="boolean") if e["record_exposure"]
                   else pd.array([pd.NA] * n, dtype="boolean"))
        rows = pd.DataFrame({
            "experiment_id": np.full(n, EMAIL_ID, dtype=object),
            "account_id": ids,
            "arm": arm_names,
            "assigned_at": _days_to_dt(np.full(n, day)),
            "exposed": exposed,
        })
        self.tables["experiments"] = pd.concat([self.tables["experiments"].astype({"exposed": "boolean"}), rows],
                                               ignore_index=True)
        self.truth["params"]["email_experiment"] = {**e, "month": str(self.m0 + g)}
        self.truth.setdefault("experiments", {})[EMAIL_ID] = self._email_truth(e, arms, arm, day)

    def _email_truth(self, e: dict, arms: list[str], arm: np.ndarray, day: int) -> dict[str, Any]:
        control = e["control_arm"]
        visit = {a: e["visit_rate"][a] for a in arms}
        purchase = {a: e["visit_rate"][a] * e["purchase_rate_given_visit"][a] for a in arms}
        visits = {a: e["visit_rate"][a] * (1 + e["extra_visits_mean"]) for a in arms}
        spend = {a: purchase[a] * e["spend_mean"] for a in arms}
        treated = [a for a in arms if a != control]

        def versus(rates: dict[str, float]) -> dict[str, float]:
            return {a: rates[a] - rates[control] for a in treated}

        h = int(e["horizon_days"])
        unit = "$" if self.vocab.currency == "USD" else self.vocab.currency
        return {
            "type": f"randomized ({len(arms)} arms)",
            "arms": arms,
            "control_arm": control,
            "treatment_arms": treated,
            "assigned_at": _iso(day),
            "horizon_days": h,
            "eligibility": "accounts paying on assigned_at; complete randomization in the planned split",
            "split": e["split"],
            "n_assigned": int(len(arm)),
            "n_by_arm": {a: int((arm == i).sum()) for i, a in enumerate(arms)},
            "exposure": ("recorded: exposed = arm is not the control" if e["record_exposure"] else
                         "not recorded (exposed is null): the experiment can only be read by intention to treat"),
            "outcomes": {
                "visited": f"at least one 'visit' event in [assigned_at, assigned_at + {h} days)",
                "visits": f"number of 'visit' events in [assigned_at, assigned_at + {h} days)",
                "purchased": f"at least one 'purchase' event in [assigned_at, assigned_at + {h} days)",
                "spend": f"sum of the quantity ({unit}) of 'purchase' events in [assigned_at, assigned_at + {h} days)",
            },
            "visit_rate_by_arm": visit,
            "purchase_rate_by_arm": purchase,
            "purchase_rate_given_visit_by_arm": e["purchase_rate_given_visit"],
            "expected_visits_per_account_by_arm": visits,
            "expected_spend_per_account_by_arm": spend,
            "effect_vs_control": {"visit_rate": versus(visit), "purchase_rate": versus(purchase),
                                  "visits_per_account": versus(visits), "spend_per_account": versus(spend)},
            "retention_effect": 0.0,
            "note": ("planted probabilities, constant within an arm; visit and purchase events may fall after an "
                     "account's churn (e-mail recipients need no subscription to visit); the e-mails do not change "
                     "churn, usage of the product or any other table"),
        }
