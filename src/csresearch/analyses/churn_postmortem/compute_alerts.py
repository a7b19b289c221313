"""Alerts going forward: paying accounts that entered the top risk band (or, by the previous rule,
turned red, dropped a band or crossed the risk threshold) since last month, and how often each rule's
alerts were false on past months whose outcome is known."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ...core import risk
from ...core.stats import share_interval
from ...data import Dataset
from ...errors import NotEnoughData
from .compute_checks import Checks, checked_list, enough_history

BAND_RANK = {"green": 2, "yellow": 1, "red": 0}


def alerts(current: pd.DataFrame, previous: pd.DataFrame, risk_threshold: float | None = None) -> pd.DataFrame:
    """Accounts whose warning got worse since the previous month's at-risk list.

    ``current`` / ``previous``: at-risk lists (:func:`csresearch.core.risk.at_risk_list` columns:
    ``account_id, churn_probability, health_score, health_band, health_triggers, top_reasons,
    playbook`` ...). An account alerts when it ``turned red`` (red now, not red before), ``dropped green
    to yellow``, or ``crossed the risk threshold`` (probability at or above the threshold now, below
    it before). Each list's threshold is its ``risk_threshold`` column when it has one (the list's own
    threshold that month), else ``risk_threshold``. Accounts not on the previous list (new customers)
    alert only if red or above the threshold now (``red at first score`` / ``above the risk threshold
    at first score``). Each alert carries its ``trigger`` (the health components that fired and/or the
    model's top reasons) and the list's ``playbook``.
    """
    cols = ["account_id", "alert", "trigger", "playbook", "health_band_before", "health_band",
            "health_score_before", "health_score", "churn_probability_before", "churn_probability"]
    def threshold_of(frame: pd.DataFrame) -> pd.Series:
        if "risk_threshold" in frame:
            return frame["risk_threshold"].astype(float)
        if risk_threshold is None:
            raise ValueError("alerts need a risk_threshold (argument or column)")
        return pd.Series(float(risk_threshold), index=frame.index)

    before = previous[["account_id", "health_band", "health_score", "churn_probability"]].assign(
        risk_threshold=threshold_of(previous)).rename(columns=lambda c: c if c == "account_id" else f"{c}_before")
    merged = current.drop(columns="risk_threshold", errors="ignore").assign(risk_threshold=threshold_of(current))
    merged = merged.merge(before, on="account_id", how="left")
    now_risky = merged["churn_probability"].ge(merged["risk_threshold"])
    known = merged["health_band_before"].notna()
    before_rank = merged["health_band_before"].map(BAND_RANK)
    turned_red = known & merged["health_band"].eq("red") & before_rank.gt(0)
    to_yellow = known & merged["health_band"].eq("yellow") & merged["health_band_before"].eq("green")
    crossed = known & now_risky & merged["churn_probability_before"].lt(merged["risk_threshold_before"])
    first_red = ~known & merged["health_band"].eq("red")
    first_risky = ~known & now_risky
    kinds = [(turned_red, "turned red"), (to_yellow, "dropped green to yellow"),
             (crossed, "crossed the risk threshold"), (first_red, "red at first score"),
             (first_risky, "above the risk threshold at first score")]
    labels = pd.Series([[] for _ in range(len(merged))], index=merged.index)
    for mask, name in kinds:
        labels = labels.where(~mask, labels.map(lambda ls, n=name: ls + [n]))
    merged["alert"] = labels.map("; ".join)
    out = merged[merged["alert"] != ""].copy()
    band_alert = out["alert"].str.contains("red|yellow")
    risk_alert = out["alert"].str.contains("threshold")
    health_text = out.get("health_triggers", pd.Series("", index=out.index)).fillna("").replace("none", "")
    model_text = "model: " + out.get("top_reasons", pd.Series("", index=out.index)).fillna("")
    out["trigger"] = np.where(band_alert & risk_alert & (health_text != ""), health_text + "; " + model_text,
                              np.where(band_alert & (health_text != ""), health_text,
                                       np.where(risk_alert, model_text, "health score fell (no single component red)")))
    out["severity"] = out["alert"].str.contains("red").astype(int) * 2 + risk_alert.astype(int)
    extra = [c for c in ("account_name", "segment", "arr", "arr_at_risk", "touch_tier") if c in out]
    out = out.sort_values(["severity", "arr_at_risk" if "arr_at_risk" in out else "churn_probability"],
                          ascending=[False, False])
    return out[["account_id", *extra, *cols[1:]]].reset_index(drop=True)


def risk_band(frame: pd.DataFrame, top_share: float, max_accounts: int | None = None) -> pd.DataFrame:
    """The top risk band of an at-risk list: ``risk_rank`` (1 = highest churn probability; equal
    probabilities by account id) and ``in_band`` (rank within the top ``top_share`` of the accounts
    with a probability, rounded up, and at most ``max_accounts``). Returned in ``frame``'s order."""
    p = frame["churn_probability"].astype(float)
    scored = frame.loc[p.notna(), ["account_id"]].assign(p=p[p.notna()])
    order = scored.sort_values(["p", "account_id"], ascending=[False, True], kind="stable").index
    rank = pd.Series(np.nan, index=frame.index)
    rank[order] = np.arange(1, len(order) + 1)
    size = int(np.ceil(top_share * len(order)))
    if max_accounts is not None:
        size = min(size, int(max_accounts))
    return pd.DataFrame({"risk_rank": rank, "in_band": rank.le(size)}, index=frame.index)


def band_alerts(current: pd.DataFrame, previous: pd.DataFrame, top_share: float = 0.02,
                max_accounts: int | None = None) -> pd.DataFrame:
    """The postmortem's alert rule: accounts that entered the top risk band since the previous list.

    The band is the ``top_share`` of paying accounts with the highest churn probability (at most
    ``max_accounts``; :func:`risk_band`). An account alerts when it is in the band now and was not
    on the previous list's (``entered the top risk band``), or when it is in the band at its first
    score (``in the top risk band at first score``). A list that already carries ``in_band`` and
    ``risk_rank`` (its band computed over every account) is read as is, so ``current`` may hold
    only some accounts. Health-band changes are shown beside each alert but raise none by
    themselves: on past months they were barely more often followed by a churn than no alert at all
    (see :func:`alert_audit`). Columns as :func:`alerts`, plus ``risk_rank``.
    """
    cols = ["account_id", "alert", "trigger", "playbook", "risk_rank", "health_band_before", "health_band",
            "health_score_before", "health_score", "churn_probability_before", "churn_probability"]

    def banded(frame: pd.DataFrame) -> pd.DataFrame:
        if {"in_band", "risk_rank"} <= set(frame.columns):
            return frame
        return frame.drop(columns=["in_band", "risk_rank"], errors="ignore").join(
            risk_band(frame, top_share, max_accounts))

    before = banded(previous)[["account_id", "health_band", "health_score", "churn_probability", "in_band"]]
    before = before.rename(columns=lambda c: c if c == "account_id" else f"{c}_before")
    merged = banded(current).merge(before, on="account_id", how="left")
    known = merged["in_band_before"].notna()
    in_band = merged["in_band"].astype(bool)
    entered = in_band & known & ~merged["in_band_before"].astype("boolean").fillna(False).astype(bool)
    first = in_band & ~known
    merged["alert"] = np.select([entered, first], ["entered the top risk band", "in the top risk band at first score"],
                                "")
    out = merged[merged["alert"] != ""].copy()
    health_text = out.get("health_triggers", pd.Series("", index=out.index)).fillna("").replace("none", "")
    model_text = "model: " + out.get("top_reasons", pd.Series("", index=out.index)).fillna("")
    out["trigger"] = np.where(health_text != "", model_text + "; " + health_text, model_text)
    extra = [c for c in ("account_name", "segment", "arr", "arr_at_risk", "touch_tier") if c in out]
    out = out.sort_values(["arr_at_risk" if "arr_at_risk" in out else "churn_probability", "risk_rank"],
                          ascending=[False, True], kind="stable")
    return out[["account_id", *extra, *cols[1:]]].reset_index(drop=True)


def alert_audit(checks: Checks, churn_dates: pd.DataFrame, as_of: pd.Timestamp, horizon_days: int = 90,
                top_share: float = 0.02, max_accounts: int | None = None) -> tuple[pd.DataFrame, dict]:
    """How often each alert rule's alerts were false on the past months whose horizon has passed.

    For every check whose ``horizon_days`` window closed by ``as_of`` (and the check before it, both
    with a risk model), the alerts each rule would have raised then, from the checks alone: the band
    rule (:func:`band_alerts`) and the previous health-or-threshold rule (:func:`alerts`). An alert is
    borne out when the account churned within ``horizon_days`` of the check (``[check, check +
    horizon)``, the risk model's own label), else it is a false alarm (a save by a CSM counts as one
    too). Returns one row per month and rule (``month, rule, alerts, churned, paying``) and a summary
    per rule (``alerts, churned, false_alarms, false_alarm_rate`` with its Wilson 95% CI, ``months``,
    and ``base_rate``: the share of all paying accounts that churned within the horizon).
    """
    as_of = pd.Timestamp(as_of)
    horizon = pd.Timedelta(days=int(horizon_days))
    dates = sorted(checks.models)
    rows = []
    for before, when in zip(dates, dates[1:]):
        if when + horizon > as_of + pd.Timedelta(days=1):
            continue
        now, prev = checked_list(checks, when), checked_list(checks, before)
        if now is None or prev is None:  # every date here has a model (the dates are the models' own)
            continue
        churned_ids = set(churn_dates.loc[(churn_dates["churn_date"] >= when)
                                          & (churn_dates["churn_date"] < when + horizon), "account_id"])
        month = (when - pd.Timedelta(days=1)).to_period("M")
        paying_churned = int(now["account_id"].isin(churned_ids).sum())
        for rule, table in (("band", band_alerts(now.assign(playbook=""), prev, top_share, max_accounts)),
                            ("previous", alerts(now.assign(playbook=""), prev))):
            rows.append({"month": month, "rule": rule, "alerts": int(len(table)),
                         "churned": int(table["account_id"].isin(churned_ids).sum()),
                         "paying": int(len(now)), "paying_churned": paying_churned})
    table = pd.DataFrame(rows, columns=["month", "rule", "alerts", "churned", "paying", "paying_churned"])
    summary = {}
    for rule in ("band", "previous"):
        part = table[table["rule"] == rule]
        n, hit = int(part["alerts"].sum()), int(part["churned"].sum())
        rate, low, high = share_interval(n - hit, n, alpha=0.05)
        summary[rule] = {"months": int(len(part)), "alerts": n, "churned": hit, "false_alarms": n - hit,
                         "false_alarm_rate": rate, "false_alarm_low": low, "false_alarm_high": high,
                         "alerts_per_month": n / len(part) if len(part) else float("nan"),
                         "base_rate": (part["paying_churned"].sum() / part["paying"].sum()) if len(part) else float("nan"),
                         "first_month": str(part["month"].min()) if len(part) else None,
                         "last_month": str(part["month"].max()) if len(part) else None}
    return table, summary


def read_previous_list(path: Path) -> pd.DataFrame | None:
    """An earlier run's at-risk list, if it has the columns an alert needs (else None: recompute)."""
    frame = pd.read_csv(path, encoding="utf-8-sig")  # a Japanese run writes a byte-order mark
    needed = {"account_id", "health_band", "health_score", "churn_probability"}
    return frame if needed <= set(frame.columns) else None


def _can_list(frame: pd.DataFrame, when: pd.Timestamp, horizon_days: int, model) -> None:
    """Raise :class:`NotEnoughData` when :func:`csresearch.core.risk.at_risk_list` could not list the
    accounts of the check at ``when``: no model and too little closed history to fit one, or no
    account paying then."""
    if model is None:
        closed = (frame["observation_date"] + pd.Timedelta(days=horizon_days) <= when).to_numpy()
        enough_history(frame["churned"][closed])
    if not (frame["observation_date"] == when).any():
        raise NotEnoughData(f"no account is paying at {pd.Timestamp(when).date()}")


def month_alerts(ds: Dataset, checks: Checks, month: pd.Period, horizon_days: int, config,
                 names: pd.Series | None = None, previous_list: pd.DataFrame | None = None,
                 top_share: float | None = 0.02, max_accounts: int | None = None
                 ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """This month's alerts: ``(current, previous, alerts)``.

    ``top_share`` set: the band rule (:func:`band_alerts`: entered the top ``top_share`` of accounts by
    churn probability, at most ``max_accounts``); None: the previous rule (:func:`alerts`: turned red,
    green to yellow, crossed the risk threshold). Which accounts alert follows from the checks alone
    (band, probability and threshold at this month's and the previous month's check, or
    ``previous_list`` from an earlier run); the at-risk list's full rows
    (:func:`csresearch.core.risk.at_risk_list`: reasons, playbook, ARR) are built only for the accounts
    that alert, so ``current`` holds those rows. The alerts are the ones the full lists would give:
    every alert column is computed row by row, and the band over every account checked.
    :class:`~csresearch.errors.NotEnoughData` when a list cannot be made (no risk model and too
    little closed history to fit one, or no paying account at a check).
    """
    def rule(current: pd.DataFrame, previous: pd.DataFrame) -> pd.DataFrame:
        if top_share is None:
            return alerts(current, previous)
        return band_alerts(current, previous, top_share, max_accounts)

    month = pd.Period(month, "M")
    T = pd.Timestamp(month.to_timestamp(how="start") + pd.offsets.MonthBegin(1))
    T_prev = pd.Timestamp((month - 1).to_timestamp(how="start") + pd.offsets.MonthBegin(1))
    thr_now, thr_before = checks.thresholds.get(T), checks.thresholds.get(T_prev)
    prev_list = previous_list
    if prev_list is None:
        prev_list = checked_list(checks, T_prev)
    if prev_list is None:  # no model at last month's check: the list fits its own, as the drivers report would
        _can_list(checks.frame, T_prev, horizon_days, checks.models.get(T_prev))
        prev_list = risk.at_risk_list(ds, month - 1, horizon_days, health_config=config, frame=checks.frame,
                                      model=checks.models.get(T_prev), display_names=names,
                                      risk_threshold=thr_before)
    if "risk_threshold" not in prev_list:
        prev_list = prev_list.assign(risk_threshold=thr_before)
    frame = checks.frame
    now = checked_list(checks, T)
    if now is not None:
        if top_share is not None:
            now = now.join(risk_band(now, top_share, max_accounts))
        which = rule(now.assign(playbook=""), prev_list)  # who alerts: band and probability suffice
        if which.empty:
            return now.iloc[0:0], prev_list, which
        frame = frame[(frame["observation_date"] == T) & frame["account_id"].isin(set(which["account_id"]))]
    _can_list(frame, T, horizon_days, checks.models.get(T))
    current = risk.at_risk_list(ds, month, horizon_days, health_config=config, frame=frame,
                                model=checks.models.get(T), display_names=names,
                                risk_threshold=thr_now).assign(risk_threshold=thr_now)
    if now is not None and top_share is not None:
        current = current.merge(now[["account_id", "risk_rank", "in_band"]], on="account_id", how="left")
    return current, prev_list, rule(current, prev_list)
