"""The early-warning audit: was each churn flagged before it happened, first when, and by what; the
detection rate and lead time with their intervals; how often a flag was a false alarm; what the
missed churns have in common; and the roll-up of reasons and misses over recent months."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from ...core.stats import share_interval
from .compute_churns import NOT_RECORDED


def lookback_start(reference: pd.Series | pd.Timestamp, lookback_days: int = 180,
                   lookback_months: int | None = None):
    """The first day of the look-back before ``reference`` (a churn date, or the first day after a
    month): ``lookback_months`` calendar months before it (so exactly that many monthly checks fall in
    ``[start, reference)``), else ``lookback_days`` days."""
    if lookback_months is not None:
        return reference - pd.DateOffset(months=int(lookback_months))
    return reference - pd.Timedelta(days=int(lookback_days))


def warning_audit(churned: pd.DataFrame, flags: pd.DataFrame, lookback_days: int = 180,
                  lookback_months: int | None = None) -> pd.DataFrame:
    """For each churned account: was it flagged before it churned, first when, by what, and was the
    warning still standing at the last check before the churn.

    ``churned``: ``account_id, churn_date`` (plus any attributes, kept). ``flags``: one row per
    account and check (``account_id, observation_date, flagged`` and optionally ``scored``, ``source,
    trigger, playbook``); a row with ``scored`` False (no health score and no risk model at that
    check) could not flag and is no check. Only checks in ``[churn_date - look-back, churn_date)``
    count (:func:`lookback_start`): a check on or after the churn date would be hindsight. Adds
    ``checks`` (how many checks saw the account), ``first_flagged``, ``lead_days`` (churn date minus
    first flag), ``last_check`` (the last check before the churn), ``flagged_since`` and
    ``standing_lead_days`` (the start of the unbroken run of flags still standing at that last check,
    and its days before the churn; NaT when the last check did not flag), ``warned_at_last_check``,
    ``flagged_by``, ``first_trigger``, ``first_playbook``, ``standing_source`` and ``standing_trigger``
    (what flagged at the last check, and why) and ``outcome``: ``caught`` (flagged at least once in the
    look-back), ``missed`` (checked, never flagged) or ``not checked`` (no check fell in the window,
    e.g. a churn in the first weeks).
    """
    audit = churned.copy()
    if "scored" in flags:
        flags = flags[flags["scored"].astype(bool)]
    keep = ["account_id", "observation_date", "flagged"] + [c for c in ("source", "trigger", "playbook") if c in flags]
    merged = audit[["account_id", "churn_date"]].merge(flags[keep], on="account_id", how="inner")
    start = lookback_start(merged["churn_date"], lookback_days, lookback_months)
    window = merged[(merged["observation_date"] < merged["churn_date"]) & (merged["observation_date"] >= start)]
    key = ["account_id", "churn_date"]
    checks = window.groupby(key).size().rename("checks")
    hits = window[window["flagged"].astype(bool)].sort_values("observation_date")
    first = hits.groupby(key).first()
    first = first.rename(columns={"observation_date": "first_flagged", "source": "flagged_by",
                                  "trigger": "first_trigger", "playbook": "first_playbook"})
    first = first.drop(columns=["flagged"])
    audit = audit.merge(checks.reset_index(), on=key, how="left")
    audit = audit.merge(first.reset_index(), on=key, how="left")
    audit["checks"] = audit["checks"].fillna(0).astype(int)
    # the warning still standing at the last check: the start of the unbroken run of flags ending there
    ordered = window.sort_values("observation_date")
    groups = [ordered["account_id"], ordered["churn_date"]]
    run_break = (~ordered["flagged"].astype(bool)).groupby(groups).cumsum()
    last_break = run_break.groupby(groups).transform("max")
    standing = ordered[ordered["flagged"].astype(bool) & (run_break == last_break)]
    since = standing.groupby(key)["observation_date"].min().rename("flagged_since")
    last = ordered.groupby(key).tail(1).set_index(key)
    last = last[["observation_date"] + [c for c in ("source", "trigger") if c in last]].rename(
        columns={"observation_date": "last_check", "source": "standing_source", "trigger": "standing_trigger"})
    audit = audit.merge(last.reset_index(), on=key, how="left")
    audit = audit.merge(since.reset_index(), on=key, how="left")
    for col in ("flagged_by", "first_trigger", "first_playbook", "standing_source", "standing_trigger"):
        if col not in audit:
            audit[col] = None
    for col in ("first_flagged", "last_check", "flagged_since"):
        audit[col] = pd.to_datetime(audit[col])
    audit["warned_at_last_check"] = audit["flagged_since"].notna()
    for col in ("standing_source", "standing_trigger"):
        audit[col] = audit[col].where(audit["warned_at_last_check"], None)
    audit["lead_days"] = (audit["churn_date"] - audit["first_flagged"]).dt.days
    audit["standing_lead_days"] = (audit["churn_date"] - audit["flagged_since"]).dt.days
    audit["outcome"] = np.where(audit["first_flagged"].notna(), "caught",
                                np.where(audit["checks"] > 0, "missed", "not checked"))
    return audit


def stayers(flags: pd.DataFrame, churn_dates: pd.DataFrame, month: pd.Period | str,
            lookback_months: int = 6) -> pd.DataFrame:
    """The comparator of a month's churns: the accounts that stayed, over the same monthly checks.

    The checks are those in the ``lookback_months`` months before the first day after ``month``
    (October's: 1 May to 1 Oct), the look-back of a churn in that month. An account stayed when a
    check in that window saw it (a ``scored`` one, when ``flags`` says) and it has no churn from the
    window's first day to the month's end (``churn_dates``: ``account_id, churn_date`` of every churn,
    and ``churn_month`` when the churn convention assigns churns to months otherwise than by date).
    One row per account: ``month, account_id, checks, flagged_checks, last_check, flagged_in_lookback``
    (flagged at least once) and ``flagged_at_last_check``: the same two questions the audit asks of
    each churn (:func:`warning_audit`).
    """
    month = pd.Period(month, "M")
    reference = (month + 1).to_timestamp()
    start = lookback_start(reference, lookback_months=lookback_months)
    cols = ["month", "account_id", "checks", "flagged_checks", "last_check", "flagged_in_lookback",
            "flagged_at_last_check"]
    seen = flags[(flags["observation_date"] >= start) & (flags["observation_date"] < reference)]
    if "scored" in seen:
        seen = seen[seen["scored"].astype(bool)]
    if "churn_month" in churn_dates:
        months = churn_dates["churn_month"]
        churned = churn_dates[(months >= start.to_period("M")) & (months <= month)]
    else:
        churned = churn_dates[(churn_dates["churn_date"] >= start) & (churn_dates["churn_date"] < reference)]
    seen = seen[~seen["account_id"].isin(set(churned["account_id"]))]
    if seen.empty:
        return pd.DataFrame(columns=cols)
    seen = seen.sort_values(["account_id", "observation_date"])
    flagged = seen["flagged"].astype(bool)
    per = seen.assign(flagged=flagged).groupby("account_id").agg(
        checks=("flagged", "size"), flagged_checks=("flagged", "sum"), last_check=("observation_date", "max"),
        flagged_at_last_check=("flagged", "last"))
    per["flagged_in_lookback"] = per["flagged_checks"] > 0
    per["flagged_checks"] = per["flagged_checks"].astype(int)
    per["flagged_at_last_check"] = per["flagged_at_last_check"].astype(bool)
    return per.reset_index().assign(month=month)[cols]


MEASURES = {"lookback": "flagged at least once in the look-back", "last_check": "flagged at the last check"}


def warning_record(audit: pd.DataFrame, stayed: pd.DataFrame) -> pd.DataFrame:
    """The early-warning record with its comparator, one row per measure: the share of churns flagged
    (recall) and the share of accounts that stayed flagged over the same checks (the false-alarm
    rate), each with its Wilson 95% interval.

    ``audit``: :func:`warning_audit` rows of the churns judged (``not checked`` ones are left out);
    ``stayed``: :func:`stayers`. Measures: ``lookback`` (flagged at least once in the look-back) and
    ``last_check`` (flagged at the last check before the churn: the warning still standing). Columns:
    ``measure, churns, churns_flagged, recall, recall_low, recall_high, stayed, stayed_flagged,
    false_alarm_rate, false_alarm_low, false_alarm_high``. A group with no account has NaN rates
    (the words say why).
    """
    checked = audit[audit["outcome"] != "not checked"]
    churn_hits = {"lookback": int((checked["outcome"] == "caught").sum()),
                  "last_check": int(checked["warned_at_last_check"].astype(bool).sum())}
    stay_hits = {"lookback": int(stayed["flagged_in_lookback"].astype(bool).sum()),
                 "last_check": int(stayed["flagged_at_last_check"].astype(bool).sum())}
    rows = []
    for measure in MEASURES:
        recall, r_low, r_high = share_interval(churn_hits[measure], len(checked), alpha=0.05)
        rate, f_low, f_high = share_interval(stay_hits[measure], len(stayed), alpha=0.05)
        rows.append({"measure": measure, "churns": int(len(checked)), "churns_flagged": churn_hits[measure],
                     "recall": recall, "recall_low": r_low, "recall_high": r_high,
                     "stayed": int(len(stayed)), "stayed_flagged": stay_hits[measure],
                     "false_alarm_rate": rate, "false_alarm_low": f_low, "false_alarm_high": f_high})
    return pd.DataFrame(rows)


def median_interval(values: Sequence[float], confidence: float = 0.95,
                    random_state: int = 0) -> tuple[float, float, float]:
    """Median with a bootstrap percentile interval (scipy.stats.bootstrap); NaN bounds below 3 values.
    The values are sorted first, so the same values give the same interval in any order (a table
    re-read from its CSV reproduces it)."""
    from scipy.stats import bootstrap

    data = np.sort(np.asarray(pd.Series(values).dropna(), dtype=float))
    if len(data) == 0:
        return float("nan"), float("nan"), float("nan")
    median = float(np.median(data))
    if len(data) < 3 or np.all(data == data[0]):
        return median, float("nan"), float("nan")
    res = bootstrap((data,), np.median, confidence_level=confidence, n_resamples=2000, method="percentile",
                    random_state=random_state)
    return median, float(res.confidence_interval.low), float(res.confidence_interval.high)


def lead_time_summary(audit: pd.DataFrame) -> dict:
    """Detection rate (Wilson 95% CI) and the median lead of the warning still standing at the churn
    (bootstrap 95% CI) of an audit.

    Churns no check could see (``not checked``) are left out of the detection rate and counted apart.
    ``caught``: flagged at least once in the look-back; ``warned``: flagged at the last check before
    the churn. The lead time counts from the start of the standing warning (``standing_lead_days``),
    not from the first flag of the look-back: an old flag that cleared warned no one at the churn.
    """
    checked = audit[audit["outcome"] != "not checked"]
    caught = int((checked["outcome"] == "caught").sum())
    rate, low, high = share_interval(caught, len(checked), alpha=0.05)
    warned = checked[checked["warned_at_last_check"].astype(bool)] if len(checked) else checked
    lead = warned["standing_lead_days"] if len(warned) else pd.Series(dtype=float)
    median, mlow, mhigh = median_interval(lead)
    return {
        "churns": int(len(audit)),
        "checked": int(len(checked)),
        "not_checked": int(len(audit) - len(checked)),
        "caught": caught,
        "missed": int(len(checked) - caught),
        "warned": int(len(warned)),
        "detection_rate": rate, "detection_low": low, "detection_high": high,
        "median_standing_lead_days": median, "median_standing_lead_low": mlow, "median_standing_lead_high": mhigh,
        "warned_30_days_ahead": int((lead >= 30).sum()),
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
