"""The early-warning record in words: a share of churns flagged always beside the share of accounts
that stayed and were flagged over the same checks (:func:`.compute_audit.warning_record`), lead times
from the warning still standing at the churn, and the units of this report's numbers (written by
:mod:`csresearch.text`). Read by :mod:`.words` and :mod:`.views`."""

from __future__ import annotations

from typing import Mapping

import pandas as pd

from ...period import DAYS_PER_MONTH
from ...text import day, interval, money, pct, plural, words
from .compute_checks import Checks
from .compute_churns import NOT_RECORDED


def pct_decimals(*values: float) -> int:
    """Whole percent, unless a value that is not zero would read 0% or the last two (an interval's
    bounds) would read the same: then one or two decimals."""
    finite = [float(v) for v in values if v is not None and pd.notna(v)]
    for decimals in (0, 1, 2):
        shown = [round(100 * v, decimals) for v in finite]
        zeroed = any(s == 0 and v != 0 for s, v in zip(shown, finite))
        merged = len(finite) >= 2 and shown[-1] == shown[-2] and finite[-1] != finite[-2]
        if not zeroed and not merged:
            return decimals
    return 2


def share_ci(rate: float, low: float, high: float) -> str:
    """A share with its Wilson interval: ``50%, 95% CI 9–91%`` (decimals when whole percent would hide it)."""
    d = pct_decimals(rate, low, high)
    return f"{pct(rate, d)}, {interval(low, high, 'pct', d, confidence=0.95)}"


def rate_ci(rate: float, low: float, high: float) -> str:
    """``28% (95% CI 20–37%)``."""
    d = pct_decimals(rate, low, high)
    return f"{pct(rate, d)} ({interval(low, high, 'pct', d, confidence=0.95)})"


def days_ci(low: float, high: float) -> str:
    """An interval of days: ``95% CI 40–80``."""
    return interval(low, high, "number", 0, confidence=0.95)


def were(n: int) -> str:
    return "was" if n == 1 else "were"


def about(x: float, noun: str) -> str:
    """A measured number of days or months, rounded to whole ones: ``61 days``, ``1 month``."""
    return plural(int(round(x)), noun) if pd.notna(x) else f"an unknown number of {noun}s"


def tenure(months: float) -> str:
    """How long an account had paid: ``19 months``, or ``24 days`` under a month."""
    if pd.notna(months) and months < 1:
        return plural(int(round(months * DAYS_PER_MONTH)), "day")
    return about(months, "month")


def record_row(record: pd.DataFrame | None, measure: str) -> dict | None:
    """One measure of an early-warning record (``lookback`` or ``last_check``), counts as integers; None
    without a record."""
    if record is None or record.empty or measure not in set(record["measure"]):
        return None
    row = record.set_index("measure").loc[measure].to_dict()
    return {k: int(v) if k in COUNTS else v for k, v in row.items()}


COUNTS = ("churns", "churns_flagged", "stayed", "stayed_flagged")


def against(row: Mapping) -> str:
    """The comparator of a share of churns flagged: ``against 24% (95% CI 22–27%) of the 1,234
    accounts that stayed``, or why there is none."""
    if not row.get("stayed"):
        return ("; no account stayed over the same checks, so how often the warnings flag accounts that stay "
                "cannot be measured")
    return (f" against {rate_ci(row['false_alarm_rate'], row['false_alarm_low'], row['false_alarm_high'])} of the "
            f"{plural(int(row['stayed']), 'account')} that stayed")


def flagged_share(row: Mapping) -> str:
    """``9 of 12 (75%, 95% CI 47–91%)``: churns flagged, of the churns a check saw."""
    return (f"{row['churns_flagged']} of {row['churns']} "
            f"({share_ci(row['recall'], row['recall_low'], row['recall_high'])})")


def flaggers(checks: Checks | None) -> str:
    """What flags in this data: ``the health score or the risk list``, or the one that could be computed."""
    modelled = checks is not None and bool(checks.models)
    health = checks is not None and checks.health_scored
    if health and modelled:
        return "the health score or the risk list"
    return "the health score" if health else "the risk list" if modelled else "no warning"


def account_sentence(row: Mapping, audit_row: Mapping | None, timeline_months: int,
                     record: pd.DataFrame | None = None) -> str:
    """One sentence per reviewed account: what happened, why, and what warned and when, beside how often
    the same checks flagged accounts that stayed (``record``: the early-warning record of its churn
    month, :meth:`.result.Result.record_of`)."""
    label = row.get("account_name") or row["account_id"]
    label = f"{label} ({row['account_id']})" if label != row["account_id"] else label
    status = row.get("status", "churned")
    if status == "never paid":
        return f"{label} never had a paying subscription up to the report month: there is no churn to review."
    if status == "active":
        return (f"{label} has not churned: it is still paying {money(float(row.get('current_mrr') or 0), compact=True)}"
                f" MRR after {about(row['tenure_months'], 'month')}.")
    reason = row.get("reason")
    why = f" (reason: {words(reason)}" + (f", to {row['competitor']}" if row.get("competitor") else "") + ")" \
        if reason and reason != NOT_RECORDED else " (no cancellation reason recorded)"
    text = (f"{label} churned on {day(row['churn_date'])} after {tenure(row['tenure_months'])}, "
            f"taking {money(float(row['arr_lost']), compact=True)} ARR{why}")
    if audit_row is None or audit_row.get("outcome") == "not checked":
        return text + "; no monthly check fell before its churn, so no warning could be judged."
    last, ever = (record_row(record, m) if record is not None else None for m in ("last_check", "lookback"))
    if audit_row.get("warned_at_last_check"):
        text += (f"; the {audit_row['standing_source']} flagged it at the last check before it left "
                 f"({day(audit_row['last_check'])}), a warning standing since {day(audit_row['flagged_since'])} "
                 f"({plural(int(audit_row['standing_lead_days']), 'day')} before the churn)")
        stayed = "" if last is None else stayed_clause(last, "at that check")
    elif audit_row.get("outcome") == "caught":
        text += (f"; flagged on {day(audit_row['first_flagged'])} by the {audit_row['flagged_by']}, but no longer at "
                 f"the last check before it left ({day(audit_row['last_check'])})")
        same = f"at least once in the same {plural(timeline_months, 'monthly check')}"
        stayed = "" if ever is None else stayed_clause(ever, same)
    else:
        text += f"; never flagged by the health score or the risk list in the {plural(timeline_months, 'monthly check')} before"
        stayed = "" if ever is None else stayed_clause(ever, "over the same checks")
    return text + stayed + "."


def stayed_clause(row: Mapping, when: str) -> str:
    if not row.get("stayed"):
        return "; no account stayed over the same checks to compare with"
    return (f"; {when} the warnings flagged {rate_ci(row['false_alarm_rate'], row['false_alarm_low'], row['false_alarm_high'])}"
            f" of the {plural(int(row['stayed']), 'account')} that stayed")


def record_sentence(summary: Mapping, record: pd.DataFrame, scope: str, timeline_months: int, who: str,
                    stayed_as: str = "that stayed over the same checks") -> str:
    """The early-warning record: churns flagged at the last check and at least once in the look-back,
    each against the accounts that stayed, and how long the standing warnings had stood."""
    if not summary.get("churns"):
        return f"No churn {scope} to audit."
    if not summary.get("checked"):
        return f"No check that could flag fell before the churns {scope}, so the warnings cannot be judged."
    last, ever = record_row(record, "last_check"), record_row(record, "lookback")
    assert last is not None and ever is not None, "a record has both measures"
    text = (f"Of {plural(summary['checked'], 'churn')} {scope} that a check saw, {who} flagged "
            f"{last['churns_flagged']} ({share_ci(last['recall'], last['recall_low'], last['recall_high'])}) at the "
            f"last check before they left and {ever['churns_flagged']} "
            f"({share_ci(ever['recall'], ever['recall_low'], ever['recall_high'])}) at least once in the "
            f"{plural(timeline_months, 'monthly check')} before.")
    if last["stayed"]:
        text += (f" Of the {plural(int(last['stayed']), 'account')} {stayed_as}, "
                 f"{rate_ci(last['false_alarm_rate'], last['false_alarm_low'], last['false_alarm_high'])} were "
                 f"flagged at their last check and "
                 f"{rate_ci(ever['false_alarm_rate'], ever['false_alarm_low'], ever['false_alarm_high'])} at least "
                 "once.")
    else:
        text += " No account stayed over the same checks, so how often the warnings flag accounts that stay cannot be measured."
    if summary.get("warned"):
        text += (f" The warning still standing at the churn began a median "
                 f"{about(summary['median_standing_lead_days'], 'day')} before it")
        low, high = summary.get("median_standing_lead_low", float("nan")), summary.get("median_standing_lead_high",
                                                                                        float("nan"))
        ci = f"{days_ci(low, high)}; " if pd.notna(low) and pd.notna(high) else ""
        text += f" ({ci}{plural(summary['warned'], 'churn')})."
    if summary.get("not_checked"):
        n = summary["not_checked"]
        text += f" {plural(n, 'churn')} fell before any check and {'is' if n == 1 else 'are'} left out."
    return text
