"""Tables as the churn postmortem shows them: renamed columns, readable values and number formats
(the CSVs beside the report keep every column), and the lessons table (its findings in words)."""

from __future__ import annotations

import re
from typing import Mapping

import numpy as np
import pandas as pd

from ...text import money, pct
from ..base import Table
from .compute_lessons import Finding
from .result import Result
from .words import _p, _words


def _money(x):  # the compact style these sentences were written with
    return money(x, compact=True)


def _pct(x):
    return pct(x, 0)


def churn_list_display(churn_list: pd.DataFrame) -> pd.DataFrame:
    cols = ["account_id", "account_name", "churn_date", "arr_lost", "tenure_months", "segment", "plan", "reason",
            "competitor", "outcome", "lead_days"]
    out = churn_list[[c for c in cols if c in churn_list]].copy()
    if "reason" in out:
        out["reason"] = out["reason"].map(_words)
    return out.rename(columns={"outcome": "warning", "lead_days": "flagged days ahead", "arr_lost": "ARR lost",
                               "tenure_months": "tenure (months)", "churn_date": "churn date",
                               "account_name": "account", "account_id": "id"})


def playbook_name(text: str) -> str:
    """The playbook's short name: the words before its first colon ("Adoption drive: ..." -> "Adoption drive")."""
    text = str(text or "")
    return text.split(":", 1)[0] if ":" in text[:60] else text[:60]


def first_trigger(text) -> str:
    """The first of "; "-separated triggers (separators inside parentheses do not count), without its
    closing "(metric value; red threshold)" details."""
    text = "" if text is None or (isinstance(text, float) and np.isnan(text)) else str(text)
    depth, cut = 0, len(text)
    for i, ch in enumerate(text):
        depth += (ch == "(") - (ch == ")")
        if depth == 0 and text.startswith("; ", i):
            cut = i
            break
    return re.sub(r"\s*\([^()]*\)$", "", text[:cut]).strip()


def alerts_display(alerts_table: pd.DataFrame, rows: int = 20) -> pd.DataFrame:
    """The most severe, largest alerts, one readable line each (the CSV has the full triggers)."""
    if alerts_table.empty:
        return pd.DataFrame(columns=["id", "account", "segment", "ARR", "alert", "health", "churn risk",
                                     "first trigger", "playbook"])
    top = alerts_table.head(rows)
    band = top["health_band_before"].fillna("new") + " \u2192 " + top["health_band"].astype(str)
    before = top["churn_probability_before"].map(lambda p: "new" if pd.isna(p) else f"{p:.0%}")
    risk = before + " \u2192 " + top["churn_probability"].map(lambda p: f"{p:.0%}")
    trigger = top["trigger"].map(first_trigger)
    return pd.DataFrame({
        "id": top["account_id"], "account": top.get("account_name", top["account_id"]),
        "segment": top.get("segment", ""), "ARR": top.get("arr", np.nan), "alert": top["alert"],
        "health": band, "churn risk": risk, "first trigger": trigger,
        "playbook": top["playbook"].map(playbook_name),
    })


def contrast_display(contrast: pd.DataFrame) -> pd.DataFrame:
    if contrast.empty:
        return pd.DataFrame(columns=["metric", "churned (median)", "look-alikes (median)",
                                     "difference (95% CI)", "pairs", "Holm p"])
    diff = [f"{d:+.2f} ({lo:+.2f} to {hi:+.2f})" if pd.notna(lo) else f"{d:+.2f}"
            for d, lo, hi in zip(contrast["paired_difference"], contrast["difference_low"], contrast["difference_high"])]
    return pd.DataFrame({
        "metric": contrast["label"], "churned (median)": contrast["churned_median"].round(2),
        "look-alikes (median)": contrast["comparables_median"].round(2), "difference (95% CI)": diff,
        "pairs": contrast["pairs"],
        "Holm p": contrast["p_holm"].map(lambda p: "–" if pd.isna(p) else ("< 0.001" if p < 0.001 else f"{p:.3f}")),
    })


def missed_display(missed: pd.DataFrame, rows: int = 8) -> pd.DataFrame:
    if missed.empty:
        return pd.DataFrame(columns=["attribute", "value", "missed", "caught", "share of missed", "share of caught",
                                     "Holm p"])
    top = missed.head(rows)
    return pd.DataFrame({
        "attribute": top["attribute"].str.replace("_", " "), "value": top["value"].map(_words),
        "missed": top["missed"], "caught": top["caught"], "share of missed": top["share_of_missed"],
        "share of caught": top["share_of_caught"],
        "Holm p": top["p_holm"].map(lambda p: "< 0.001" if p < 0.001 else f"{p:.3f}"),
    })


DISPLAY_FORMATS = {"ARR lost": "${:,.0f}", "ARR": "${:,.0f}", "tenure (months)": "{:.0f}",
                   "flagged days ahead": "{:.0f}", "churn date": "{:%Y-%m-%d}", "share of missed": "{:.0%}",
                   "share of caught": "{:.0%}", "share": "{:.0%}", "mrr": "${:,.0f}", "tenure_months": "{:.0f}",
                   "distance": "{:.2f}", "ref_date": "{:%Y-%m-%d}", "churned (median)": "{:.2f}",
                   "look-alikes (median)": "{:.2f}"}


def churn_list(result: Result) -> Table:
    """The churn list section's table (the CSV has every column)."""
    return Table(churn_list_display(result.churn_list()), formats=DISPLAY_FORMATS, max_rows=25)


def themes(result: Result) -> Table:
    """The comment themes: label, comments, the most typical one and the share."""
    return Table(result.themes.themes.drop(columns="terms"), formats={"share": "{:.0%}"})


def missed(result: Result) -> Table:
    return Table(missed_display(result.missed), formats=DISPLAY_FORMATS)


def contrast(result: Result) -> Table:
    return Table(contrast_display(result.contrast), formats=DISPLAY_FORMATS)


def pairs(result: Result) -> Table:
    """An account review's look-alikes, as matched."""
    return Table(result.pairs, caption="The look-alikes of each reviewed account", formats=DISPLAY_FORMATS)


def alerts(result: Result) -> Table:
    """The most severe new alerts, one readable line each (the full list is alerts.csv)."""
    return Table(alerts_display(result.alerts_table()), caption="The most severe new alerts, largest ARR at risk first",
                 formats=DISPLAY_FORMATS, max_rows=20)


# --------------------------------------------------------------------------------------------------
# Lessons
# --------------------------------------------------------------------------------------------------
def resolve_playbook(key: str | None, config, reason_playbooks: Mapping[str, str] | None = None) -> str:
    """A playbook text from a churn reason or a health component name: ``reason_playbooks`` maps a
    reason to a component name (its playbook in the health config) or to a playbook text."""
    reason_playbooks = reason_playbooks or {}
    target = reason_playbooks.get(key, key) if key is not None else None
    for component in getattr(config, "components", ()):
        if component.name == target:
            return component.playbook
    if target is not None and target != key:
        return str(target)
    return "No playbook mapped: add this reason to reason_playbooks in params/05_churn_postmortem.yml."


def lesson(finding: Finding, config, reason_playbooks: Mapping[str, str] | None = None) -> dict:
    """One finding as a row of the lessons table: ``finding, evidence, playbook``."""
    f = finding.facts
    playbook = lambda key: resolve_playbook(key, config, reason_playbooks)  # noqa: E731
    if finding.kind == "costliest_reason":
        return {"finding": f"'{_words(f['reason'])}' is the costliest churn reason",
                "evidence": f"{_money(f['arr_lost'])} ARR ({_pct(f['arr_share'])} of ARR lost), {f['churns']} churn(s)",
                "playbook": playbook(f["reason"])}
    if finding.kind == "detection":
        s = f["summary"]
        return {"finding": (f"The warnings caught {_pct(s['detection_rate'])} of churns"
                            + (f", a median {s['median_lead_days']:.0f} days ahead" if s.get("caught") else "")),
                "evidence": (f"{s['caught']} of {s['checked']} checked churns flagged "
                             f"(95% CI {_pct(s['detection_low'])}-{_pct(s['detection_high'])}); "
                             f"{f['late']} flagged less than 30 days ahead"),
                "playbook": f["playbook"]}
    if finding.kind == "missed_trait":
        return {"finding": f"Missed churns were concentrated in {f['attribute'].replace('_', ' ')} = {_words(f['value'])}",
                "evidence": f"{_pct(f['share_of_missed'])} of missed vs {_pct(f['share_of_caught'])} of caught "
                            f"churns (Holm-adjusted {_p(f['p_holm'])})",
                "playbook": "Score review: add or retune a health component for these accounts "
                            "(params/health_score.yml); " + playbook(f["top_reason"])}
    if finding.kind == "missed_no_trait":
        top_reason = f["top_reason"]
        return {"finding": f"{f['missed']} churn(s) were never flagged, with no shared trait that stands out",
                "evidence": "no segment, plan, tenure, size or reason differs between missed and caught churns "
                            f"after Holm correction (alpha {f['alpha']})"
                            + (f"; most common reason among them: {_words(top_reason)}" if top_reason else ""),
                "playbook": playbook(top_reason) if top_reason else getattr(config, "default_playbook", "")}
    if finding.kind == "usage_contrast":
        return {"finding": f"Before churning, {f['label']} was {'lower' if f['paired_difference'] < 0 else 'higher'} "
                           "than at retained look-alikes" + ("" if f["significant"] else " (not significant)"),
                "evidence": f"median paired difference {f['paired_difference']:.2f} ("
                            + (f"95% CI {f['difference_low']:.2f} to {f['difference_high']:.2f}, "
                               if pd.notna(f["difference_low"]) else "")
                            + f"{f['pairs']} pair(s)"
                            + (f", Holm {_p(f['p_holm'])})" if pd.notna(f["p_holm"]) else ")"),
                "playbook": resolve_playbook("usage_decline", config)}
    if finding.kind == "false_alarms":
        return {"finding": f"{_pct(f['false_alarm_rate'])} of flagged accounts stayed for {f['horizon_days']} days",
                "evidence": f"{f['stayed']} of {f['flagged_accounts']} accounts first flagged "
                            f"{f['window_start']} to {f['window_end']} "
                            f"(95% CI {_pct(f['false_alarm_low'])}-{_pct(f['false_alarm_high'])}); "
                            "saves by CSMs count here too",
                "playbook": "Threshold review: if CSMs cannot work every alert, raise the risk threshold or the red "
                            "band (params) and watch the detection rate above."}
    raise ValueError(f"unknown finding kind {finding.kind!r}")


def lessons(result: Result) -> Table:
    """Findings generated from the numbers, each with the playbook it points to and an empty
    ``owner`` to fill in at the review meeting."""
    rows = [lesson(f, result.config, result.settings.reason_playbooks) for f in result.findings]
    table = pd.DataFrame(rows, columns=["finding", "evidence", "playbook"])
    table["owner"] = ""
    return Table(table, caption="Findings and the playbook each points to")
