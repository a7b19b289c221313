"""The early-warning audit: was each churn flagged before it happened, first when, and by what; the
detection rate and lead time with their intervals; how often a flag was a false alarm; what the
missed churns have in common; and the roll-up of reasons and misses over recent months."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from ...core.stats import share_interval
from .compute_churns import NOT_RECORDED


def warning_audit(churned: pd.DataFrame, flags: pd.DataFrame, lookback_days: int = 180) -> pd.DataFrame:
    """For each churned account: was it flagged before it churned, first when, and by what.

    ``churned``: ``account_id, churn_date`` (plus any attributes, kept). ``flags``: one row per
    account and check (``account_id, observation_date, flagged`` and optionally ``source, trigger,
    playbook``). Only checks in ``[churn_date - lookback_days, churn_date)`` count: a check on or
    after the churn date would be hindsight. Adds ``checks`` (how many checks saw the account),
    ``first_flagged``, ``lead_days`` (churn date minus first flag), ``flagged_since`` and
    ``standing_lead_days`` (the start of the unbroken run of flags still standing at the last check
    before the churn; NaT when that check was not flagged), ``flagged_by``, ``first_trigger``,
    ``first_playbook`` and ``outcome``: ``caught``, ``missed`` (checked, never flagged) or
    ``not checked`` (no check fell in the window, e.g. a churn in the first weeks).
    """
    audit = churned.copy()
    keep = ["account_id", "observation_date", "flagged"] + [c for c in ("source", "trigger", "playbook") if c in flags]
    merged = audit[["account_id", "churn_date"]].merge(flags[keep], on="account_id", how="inner")
    window = merged[(merged["observation_date"] < merged["churn_date"])
                    & (merged["observation_date"] >= merged["churn_date"] - pd.Timedelta(days=lookback_days))]
    checks = window.groupby(["account_id", "churn_date"]).size().rename("checks")
    hits = window[window["flagged"].astype(bool)].sort_values("observation_date")
    first = hits.groupby(["account_id", "churn_date"]).first()
    first = first.rename(columns={"observation_date": "first_flagged", "source": "flagged_by",
                                  "trigger": "first_trigger", "playbook": "first_playbook"})
    first = first.drop(columns=["flagged"])
    audit = audit.merge(checks.reset_index(), on=["account_id", "churn_date"], how="left")
    audit = audit.merge(first.reset_index(), on=["account_id", "churn_date"], how="left")
    audit["checks"] = audit["checks"].fillna(0).astype(int)
    # the warning still standing at the last check: the start of the unbroken run of flags ending there
    ordered = window.sort_values("observation_date")
    run_break = (~ordered["flagged"].astype(bool)).groupby([ordered["account_id"], ordered["churn_date"]]).cumsum()
    last_break = run_break.groupby([ordered["account_id"], ordered["churn_date"]]).transform("max")
    standing = ordered[ordered["flagged"].astype(bool) & (run_break == last_break)]
    since = standing.groupby(["account_id", "churn_date"])["observation_date"].min().rename("flagged_since")
    audit = audit.merge(since.reset_index(), on=["account_id", "churn_date"], how="left")
    for col in ("flagged_by", "first_trigger", "first_playbook"):
        if col not in audit:
            audit[col] = None
    audit["lead_days"] = (audit["churn_date"] - audit["first_flagged"]).dt.days
    audit["standing_lead_days"] = (audit["churn_date"] - audit["flagged_since"]).dt.days
    audit["outcome"] = np.where(audit["first_flagged"].notna(), "caught",
                                np.where(audit["checks"] > 0, "missed", "not checked"))
    return audit


def median_interval(values: Sequence[float], confidence: float = 0.95,
                    random_state: int = 0) -> tuple[float, float, float]:
    """Median with a bootstrap percentile interval (scipy.stats.bootstrap); NaN bounds below 3 values."""
    from scipy.stats import bootstrap

    data = np.asarray(pd.Series(values).dropna(), dtype=float)
    if len(data) == 0:
        return float("nan"), float("nan"), float("nan")
    median = float(np.median(data))
    if len(data) < 3 or np.all(data == data[0]):
        return median, float("nan"), float("nan")
    res = bootstrap((data,), np.median, confidence_level=confidence, n_resamples=2000, method="percentile",
                    random_state=random_state)
    return median, float(res.confidence_interval.low), float(res.confidence_interval.high)


def lead_time_summary(audit: pd.DataFrame) -> dict:
    """Detection rate (Wilson 95% CI) and median lead time (bootstrap 95% CI) of an audit.

    Churns no check could see (``not checked``) are left out of the detection rate and counted apart.
    """
    checked = audit[audit["outcome"] != "not checked"]
    caught = int((checked["outcome"] == "caught").sum())
    rate, low, high = share_interval(caught, len(checked), alpha=0.05)
    lead = checked.loc[checked["outcome"] == "caught", "lead_days"]
    median, mlow, mhigh = median_interval(lead)
    return {
        "churns": int(len(audit)),
        "checked": int(len(checked)),
        "not_checked": int(len(audit) - len(checked)),
        "caught": caught,
        "missed": int(len(checked) - caught),
        "detection_rate": rate, "detection_low": low, "detection_high": high,
        "median_lead_days": median, "median_lead_low": mlow, "median_lead_high": mhigh,
        "caught_30_days_ahead": int((lead >= 30).sum()),
    }


def false_alarms(flags: pd.DataFrame, churn_dates: pd.DataFrame, as_of: pd.Timestamp,
                 horizon_days: int = 90, window_days: int = 180) -> tuple[dict, pd.DataFrame]:
    """Among accounts flagged in the window, the share that did *not* churn within ``horizon_days``.

    Each account counts once, from its first flag in ``[as_of - horizon - window, as_of - horizon]``:
    only flags old enough for the horizon to have passed are judged (a younger flag is censored, not a
    false alarm). ``churn_dates``: ``account_id, churn_date`` for every churn. Returns the rate with its
    Wilson 95% CI and the per-account table (``account_id, first_flagged, churned_within_horizon``).
    A flag that led a CSM to save the account also counts as a false alarm here: the rate is an upper
    bound on wasted effort, not a pure measure of the score.
    """
    as_of = pd.Timestamp(as_of)
    last = as_of - pd.Timedelta(days=horizon_days)
    first_day = last - pd.Timedelta(days=window_days)
    hits = flags[flags["flagged"].astype(bool) & (flags["observation_date"] > first_day)
                 & (flags["observation_date"] <= last)]
    first = hits.groupby("account_id", as_index=False)["observation_date"].min()
    first = first.rename(columns={"observation_date": "first_flagged"})
    joined = first.merge(churn_dates[["account_id", "churn_date"]], on="account_id", how="left")
    joined["hit"] = (joined["churn_date"] > joined["first_flagged"]) & (
        joined["churn_date"] <= joined["first_flagged"] + pd.Timedelta(days=horizon_days))
    per_account = joined.groupby(["account_id", "first_flagged"], as_index=False)["hit"].any()
    per_account = per_account.rename(columns={"hit": "churned_within_horizon"})
    stayed = int((~per_account["churned_within_horizon"]).sum())
    rate, low, high = share_interval(stayed, len(per_account), alpha=0.05)
    summary = {"flagged_accounts": int(len(per_account)), "stayed": stayed, "false_alarm_rate": rate,
               "false_alarm_low": low, "false_alarm_high": high, "horizon_days": horizon_days,
               "window_start": first_day.date(), "window_end": last.date()}
    return summary, per_account


def missed_profile(audit: pd.DataFrame, attributes: Sequence[str] = ("segment", "plan", "tenure_band",
                                                                     "size_band", "reason")) -> pd.DataFrame:
    """What missed churns had in common: for each attribute value, the share of churns with it among
    missed vs caught churns, Fisher's exact test of (has value) x (missed), and Holm-adjusted p-values
    across every value tested (many values are compared, so unadjusted p-values would mislead).
    """
    from scipy.stats import fisher_exact
    from statsmodels.stats.multitest import multipletests

    cols = ["attribute", "value", "missed", "caught", "share_of_missed", "share_of_caught", "p_value", "p_holm"]
    judged = audit[audit["outcome"].isin(["caught", "missed"])]
    is_missed = judged["outcome"].eq("missed")
    n_missed, n_caught = int(is_missed.sum()), int((~is_missed).sum())
    if n_missed == 0 or n_caught == 0:
        return pd.DataFrame(columns=cols)
    rows = []
    for attribute in attributes:
        if attribute not in judged:
            continue
        values = judged[attribute].astype("object").fillna(NOT_RECORDED).astype(str)
        for value in sorted(values.unique()):
            has = values.eq(value)
            a, b = int((has & is_missed).sum()), int((has & ~is_missed).sum())
            _, p = fisher_exact([[a, b], [n_missed - a, n_caught - b]])
            rows.append({"attribute": attribute, "value": value, "missed": a, "caught": b,
                         "share_of_missed": a / n_missed, "share_of_caught": b / n_caught, "p_value": p})
    table = pd.DataFrame(rows, columns=cols[:-1])
    if table.empty:
        return pd.DataFrame(columns=cols)
    table["p_holm"] = multipletests(table["p_value"], method="holm")[1]
    table["lift"] = table["share_of_missed"] - table["share_of_caught"]
    return table.sort_values(["p_holm", "lift"], ascending=[True, False]).reset_index(drop=True)


def rollup(churns: pd.DataFrame, audit: pd.DataFrame, month: pd.Period, months: int = 6) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The last ``months`` months up to ``month``: churns and ARR lost by reason per month, and the
    share of (checked) churns never flagged per month with its Wilson 95% CI."""
    month = pd.Period(month, "M")
    first = month - (months - 1)
    frame = churns.assign(month=churns["churn_month"] if "churn_month" in churns else churns["churn_date"].dt.to_period("M"))
    frame = frame[(frame["month"] >= first) & (frame["month"] <= month)]
    by_reason = frame.groupby(["month", "reason"], as_index=False).agg(churns=("account_id", "size"),
                                                                      arr_lost=("arr_lost", "sum"))
    judged = audit[audit["outcome"].isin(["caught", "missed"])]
    judged = judged.assign(month=judged["churn_month"] if "churn_month" in judged else judged["churn_date"].dt.to_period("M"))
    rows = []
    for m in pd.period_range(first, month, freq="M"):
        part = judged[judged["month"] == m]
        share, low, high = share_interval(int((part["outcome"] == "missed").sum()), len(part), alpha=0.05)
        rows.append({"month": m, "checked_churns": len(part), "missed": int((part["outcome"] == "missed").sum()),
                     "missed_share": share, "missed_low": low, "missed_high": high})
    return by_reason, pd.DataFrame(rows)


def rollup_total(rollup_missed: pd.DataFrame) -> dict | None:
    """Over the roll-up months with a checked churn: checked churns, the missed ones and their share
    with its Wilson 95% CI, and the month with the highest missed share (None: no checked churn)."""
    judged = rollup_missed[rollup_missed["checked_churns"] > 0]
    if judged.empty:
        return None
    total, missed = int(judged["checked_churns"].sum()), int(judged["missed"].sum())
    share, low, high = share_interval(missed, total, alpha=0.05)
    worst = judged.sort_values("missed_share", ascending=False).iloc[0]
    return {"months": int(len(rollup_missed)), "checked_churns": total, "missed": missed, "missed_share": share,
            "missed_low": low, "missed_high": high, "worst_month": worst["month"],
            "worst_missed": int(worst["missed"]), "worst_checked": int(worst["checked_churns"])}
