"""Tables as the churn postmortem shows them: renamed columns and values written by
:mod:`csresearch.text` (the CSVs beside the report keep every column and the machine values), and the
lessons table (its findings in words)."""

from __future__ import annotations

import re
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd

from ...text import day, interval, money, number, p_value, pct, plural, words
from ..base import Table
from .compute_lessons import Finding
from .result import Result
from .words import share_ci


def _each(values: pd.Series, fmt: Callable[[Any], str]) -> pd.Series:
    """``fmt`` (a :mod:`csresearch.text` formatter) on every present value; a missing one stays missing
    (the table shows it as a dash)."""
    return values.map(fmt).where(values.notna(), None)


def _whole(x: float) -> str:
    return number(x, 0)


def _share(x: float) -> str:
    return pct(x, 0)


def _two(x: float) -> str:
    return number(x, 2)


# the display of each column a table of this report may hold (the CSV keeps the number)
COLUMN_TEXT: dict[str, Callable[[Any], str]] = {
    "ARR lost": money, "ARR": money, "mrr": money, "tenure (months)": _whole, "tenure_months": _whole,
    "flagged days ahead": _whole, "churn date": day, "ref_date": day, "share of missed": _share,
    "share of caught": _share, "share": _share, "distance": _two, "churned (median)": _two,
    "look-alikes (median)": _two,
}


def as_text(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with the columns :data:`COLUMN_TEXT` knows written as text."""
    out = table.copy()
    for column, fmt in COLUMN_TEXT.items():
        if column in out:
            out[column] = _each(out[column], fmt)
    return out


def churn_list_display(churn_list: pd.DataFrame) -> pd.DataFrame:
    cols = ["account_id", "account_name", "churn_date", "arr_lost", "tenure_months", "segment", "plan", "reason",
            "competitor", "outcome", "lead_days"]
    out = churn_list[[c for c in cols if c in churn_list]].copy()
    if "reason" in out:
        out["reason"] = _each(out["reason"], words)
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
    before = top["churn_probability_before"].map(lambda p: "new" if pd.isna(p) else pct(p, 0))
    risk = before + " \u2192 " + top["churn_probability"].map(lambda p: pct(p, 0))
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
                                     "difference (95% CI)", "pairs", "Holm-adjusted p"])
    diff = [number(d, 2, signed=True) + (f" ({interval(lo, hi, 'number', 2, signed=True)})" if pd.notna(lo) else "")
            for d, lo, hi in zip(contrast["paired_difference"], contrast["difference_low"], contrast["difference_high"])]
    return pd.DataFrame({
        "metric": contrast["label"], "churned (median)": contrast["churned_median"],
        "look-alikes (median)": contrast["comparables_median"], "difference (95% CI)": diff,
        "pairs": contrast["pairs"], "Holm-adjusted p": _each(contrast["p_holm"], p_value),
    })


def missed_display(missed: pd.DataFrame, rows: int = 8) -> pd.DataFrame:
    if missed.empty:
        return pd.DataFrame(columns=["attribute", "value", "missed", "caught", "share of missed", "share of caught",
                                     "Holm-adjusted p"])
    top = missed.head(rows)
    return pd.DataFrame({
        "attribute": _each(top["attribute"], words), "value": _each(top["value"], words),
        "missed": top["missed"], "caught": top["caught"], "share of missed": top["share_of_missed"],
        "share of caught": top["share_of_caught"], "Holm-adjusted p": _each(top["p_holm"], p_value),
    })


def churn_list(result: Result) -> Table:
    """The churn list section's table (the CSV has every column)."""
    return Table(as_text(churn_list_display(result.churn_list())), max_rows=25)


def themes(result: Result) -> Table:
    """The comment themes: label, comments, the most typical one and the share."""
    assert result.themes is not None, "a built postmortem has its themes"
    return Table(as_text(result.themes.themes.drop(columns="terms")))


def missed(result: Result) -> Table:
    return Table(as_text(missed_display(result.missed)))


def contrast(result: Result) -> Table:
    return Table(as_text(contrast_display(result.contrast)))


def pairs(result: Result) -> Table:
    """An account review's look-alikes, as matched."""
    return Table(as_text(result.pairs), caption="The look-alikes of each reviewed account")


def alerts(result: Result) -> Table:
    """The most severe new alerts, one readable line each (the full list is alerts.csv)."""
    return Table(as_text(alerts_display(result.alerts_table())),
                 caption="The most severe new alerts, largest ARR at risk first", max_rows=20)


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
        return {"finding": f"'{words(f['reason'])}' is the costliest churn reason",
                "evidence": f"{money(f['arr_lost'], compact=True)} ARR ({pct(f['arr_share'], 0)} of ARR lost), "
                            f"{plural(int(f['churns']), 'churn')}",
                "playbook": playbook(f["reason"])}
    if finding.kind == "detection":
        s = f["summary"]
        return {"finding": (f"The warnings caught {pct(s['detection_rate'], 0)} of churns"
                            + (f", a median {number(s['median_lead_days'], 0)} days ahead" if s.get("caught") else "")),
                "evidence": (f"{s['caught']} of {plural(s['checked'], 'checked churn')} flagged "
                             f"({share_ci(s['detection_rate'], s['detection_low'], s['detection_high'])}); "
                             f"{f['late']} flagged less than 30 days ahead"),
                "playbook": f["playbook"]}
    if finding.kind == "missed_trait":
        return {"finding": f"Missed churns were concentrated in {words(f['attribute'])} = {words(f['value'])}",
                "evidence": f"{pct(f['share_of_missed'], 0)} of missed vs {pct(f['share_of_caught'], 0)} of caught "
                            f"churns (Holm-adjusted {p_value(f['p_holm'])})",
                "playbook": "Score review: add or retune a health component for these accounts "
                            "(params/health_score.yml); " + playbook(f["top_reason"])}
    if finding.kind == "missed_no_trait":
        top_reason = f["top_reason"]
        n = int(f["missed"])
        return {"finding": f"{plural(n, 'churn')} {'was' if n == 1 else 'were'} never flagged, with no shared trait "
                           "that stands out",
                "evidence": "no segment, plan, tenure, size or reason differs between missed and caught churns "
                            f"after Holm correction (alpha {f['alpha']})"
                            + (f"; most common reason among them: {words(top_reason)}" if top_reason else ""),
                "playbook": playbook(top_reason) if top_reason else getattr(config, "default_playbook", "")}
    if finding.kind == "usage_contrast":
        ci = (interval(f["difference_low"], f["difference_high"], "number", 2, confidence=0.95, signed=True) + ", "
              if pd.notna(f["difference_low"]) else "")
        return {"finding": f"Before churning, {f['label']} was {'lower' if f['paired_difference'] < 0 else 'higher'} "
                           "than at retained look-alikes" + ("" if f["significant"] else " (not significant)"),
                "evidence": f"median paired difference {number(f['paired_difference'], 2, signed=True)} ("
                            + ci + plural(int(f["pairs"]), "pair")
                            + (f", Holm {p_value(f['p_holm'])})" if pd.notna(f["p_holm"]) else ")"),
                "playbook": resolve_playbook("usage_decline", config)}
    if finding.kind == "false_alarms":
        return {"finding": f"{pct(f['false_alarm_rate'], 0)} of flagged accounts stayed for {f['horizon_days']} days",
                "evidence": f"{f['stayed']} of {plural(f['flagged_accounts'], 'account')} first flagged "
                            f"{day(f['window_start'])} to {day(f['window_end'])} "
                            f"({share_ci(f['false_alarm_rate'], f['false_alarm_low'], f['false_alarm_high'])}); "
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
