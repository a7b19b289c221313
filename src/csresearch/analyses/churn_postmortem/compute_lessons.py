"""Lessons: which findings the numbers support, each with the facts behind it. The sentences and the
playbook each finding points to are written by :func:`.words.lessons`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import pandas as pd

from .compute_churns import NOT_RECORDED

USAGE_METRICS = ("events_per_seat", "usage_trend", "active_users_per_seat")


@dataclass(frozen=True)
class Finding:
    """One finding of the review: its ``kind`` and the numbers (and names) it rests on.

    Kinds: ``costliest_reason``, ``detection``, ``missed_trait`` (missed churns concentrated in one
    attribute value), ``missed_no_trait``, ``usage_contrast``, ``false_alarms``.
    """

    kind: str
    facts: Mapping[str, Any] = field(default_factory=dict)


def findings(pareto: pd.DataFrame, audit_summary: Mapping, missed: pd.DataFrame, audit: pd.DataFrame,
             contrast: pd.DataFrame, false_alarm: Mapping, default_playbook: str = "",
             record: pd.DataFrame | None = None, alpha: float = 0.05) -> list[Finding]:
    """The findings the numbers support, in the order the lessons table shows them. ``record``: the
    early-warning record (:func:`.compute_audit.warning_record`): a detection finding states the share
    of churns flagged at the last check only beside the share of accounts that stayed flagged there."""
    out: list[Finding] = []
    recorded = pareto[pareto.iloc[:, 0] != NOT_RECORDED] if not pareto.empty else pareto
    if not recorded.empty:
        top = recorded.iloc[0]
        out.append(Finding("costliest_reason", {"reason": top.iloc[0], "arr_lost": top["arr_lost"],
                                                "arr_share": top["arr_share"], "churns": int(top["churns"])}))
    last_check = None
    if record is not None and len(record):
        last_check = record.set_index("measure").loc["last_check"].to_dict()
    if audit_summary.get("checked", 0) and last_check is not None and last_check["stayed"]:
        caught_first = audit[audit["outcome"] == "caught"]
        common = caught_first["first_playbook"].dropna()
        playbook = common.mode().iloc[0] if len(common) else default_playbook
        record_row = {k: int(v) if k in ("churns", "churns_flagged", "stayed", "stayed_flagged") else v
                      for k, v in last_check.items()}
        out.append(Finding("detection", {"summary": dict(audit_summary), "record": record_row, "playbook": playbook,
                                         "late": int(audit_summary["warned"] - audit_summary["warned_30_days_ahead"])}))
    if audit_summary.get("missed"):
        missed_reasons = audit.loc[audit["outcome"] == "missed", "reason"]
        missed_reasons = missed_reasons[missed_reasons != NOT_RECORDED].dropna()
        top_reason = missed_reasons.mode().iloc[0] if len(missed_reasons) else None
        significant = missed[missed["p_holm"] < alpha] if not missed.empty else missed
        if len(significant):  # where misses concentrate first (the largest excess), else where they are rare
            s = significant.sort_values("lift", ascending=False, kind="stable").iloc[0]
            out.append(Finding("missed_trait", {"attribute": s["attribute"], "value": s["value"],
                                                "share_of_missed": s["share_of_missed"],
                                                "share_of_caught": s["share_of_caught"], "p_holm": s["p_holm"],
                                                "top_reason": top_reason}))
        else:
            out.append(Finding("missed_no_trait", {"missed": audit_summary["missed"], "alpha": alpha,
                                                   "top_reason": top_reason}))
    if not contrast.empty:
        usage = contrast[contrast["metric"].isin(USAGE_METRICS)]
        usage = usage.dropna(subset=["paired_difference"])
        if len(usage):
            u = usage.sort_values("p_holm", na_position="last").iloc[0]
            out.append(Finding("usage_contrast", {
                "label": u["label"], "paired_difference": u["paired_difference"],
                "difference_low": u["difference_low"], "difference_high": u["difference_high"],
                "pairs": int(u["pairs"]), "p_holm": u["p_holm"],
                "significant": bool(pd.notna(u["p_holm"]) and u["p_holm"] < alpha)}))
    if false_alarm.get("flagged_accounts"):
        out.append(Finding("false_alarms", dict(false_alarm)))
    return out
