"""Tables as the churn postmortem shows them: renamed columns and values written by
:mod:`csresearch.text` (the CSVs beside the report keep every column and the machine values), and the
lessons table (its findings in words)."""

from __future__ import annotations

import re
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd

from ...text import day, interval, money, num, number, p_value, pct, plural, words
from ..base import Table
from .compute_lessons import Finding
from .result import Result
from .words_warning import flagged_share, pct_decimals, record_row, share_ci


def _each(values: pd.Series, fmt: Callable[[Any], str]) -> pd.Series:
    """``fmt`` (a :mod:`csresearch.text` formatter) on every present value; a missing one stays missing
    (the table shows it as a dash)."""
    return values.map(fmt, na_action="ignore").where(values.notna(), None)


def _whole(x: float) -> str:
    return number(x, 0)


def _share(x: float) -> str:
    return pct(x, 0)


def _two(x: float) -> str:
    return number(x, 2)


def _risk(x: float) -> str:
    """A churn probability: whole percent, or decimals when whole percent would read 0%."""
    return pct(x, pct_decimals(x))


# the display of each column a table of this report may hold (the CSV keeps the number)
COLUMN_TEXT: dict[str, Callable[[Any], str]] = {
    "ARR lost": money, "ARR": money, "mrr": money, "tenure (months)": _whole, "tenure_months": _whole,
    "days warned": _whole, "churn date": day, "warning standing since": day, "check": day, "ref_date": day,
    "share of missed": _share, "health score": _whole, "churn probability": _risk, "risk threshold": _risk,
    "share of caught": _share, "share": _share, "distance": _two, "churned (median)": _two,
    "look-alikes (median)": _two, "this account": num, "look-alikes' median": num, "MRR": money, "seen on": day,
}


def as_text(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with the columns :data:`COLUMN_TEXT` knows written as text."""
    out = table.copy()
    for column, fmt in COLUMN_TEXT.items():
        if column in out:
            out[column] = _each(out[column], fmt)
    return out


WARNING_TEXT = {"standing": "flagged at the last check", "cleared": "flagged earlier, cleared by the last check",
                "missed": "never flagged", "not checked": "no check before the churn"}


def warning_state(outcome: pd.Series, warned_at_last_check: pd.Series) -> pd.Series:
    """What the warnings said of each churn, in words (:data:`WARNING_TEXT`)."""
    state = outcome.where(outcome != "caught", np.where(warned_at_last_check.fillna(False).astype(bool),
                                                        "standing", "cleared"))
    return state.map(WARNING_TEXT)


def churn_list_display(churn_list: pd.DataFrame) -> pd.DataFrame:
    cols = ["account_id", "account_name", "churn_date", "arr_lost", "tenure_months", "segment", "plan", "reason",
            "competitor", "outcome", "flagged_since", "standing_lead_days"]
    out = churn_list[[c for c in cols if c in churn_list]].copy()
    if "reason" in out:
        out["reason"] = _each(out["reason"], words)
    if "outcome" in out:
        out["outcome"] = warning_state(out["outcome"], churn_list["warned_at_last_check"])
    return out.rename(columns={"outcome": "warning", "flagged_since": "warning standing since",
                               "standing_lead_days": "days warned", "arr_lost": "ARR lost",
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


def themes(result: Result) -> Table | None:
    """The comment themes of a month review: label, comments, the most typical one and the share."""
    if result.themes is None or result.themes.themes.empty or not result.is_month:
        return None
    return Table(as_text(result.themes.themes.drop(columns="terms")))


def warning_record(result: Result) -> Table | None:
    """The early-warning record beside its comparator: for each question, the churns flagged and the
    accounts that stayed flagged over the same checks (this review's churns; a month review adds the
    roll-up window's)."""
    rows = []
    scopes = [("this review's churns" if not result.is_month else "this month's churns", result.record)]
    if result.is_month:
        scopes.append((f"churns of the last {result.settings.rollup_months} months", result.record_window))
    for scope, record in scopes:
        for measure, question in (("last_check", "flagged at the last check before the churn"),
                                  ("lookback", f"flagged at least once in the {result.settings.timeline_months} "
                                               "monthly checks before")):
            row = record_row(record, measure)
            if row is None or not row["churns"]:
                continue
            stayed = (f"{row['stayed_flagged']:,} of {row['stayed']:,} "
                      f"({share_ci(row['false_alarm_rate'], row['false_alarm_low'], row['false_alarm_high'])})"
                      if row["stayed"] else "no account stayed")
            rows.append({"churns": scope, "question": question, "churns flagged": flagged_share(row),
                         "accounts that stayed, flagged": stayed})
    if not rows:
        return None
    return Table(pd.DataFrame(rows), caption="Churns flagged against accounts that stayed, over the same checks")


def account_checks(result: Result) -> list[Table]:
    """An account review: each reviewed churn's monthly checks in its look-back, what each said."""
    if result.is_month:
        return []
    out = []
    for row in result.gone.itertuples(index=False):
        checks = result.account_checks(row.account_id)
        start = row.churn_date - pd.DateOffset(months=result.settings.timeline_months)
        checks = checks[(checks["observation_date"] < row.churn_date) & (checks["observation_date"] >= start)]
        if checks.empty:
            continue
        table = pd.DataFrame({
            "check": checks["observation_date"], "health score": checks["health_score"],
            "health band": checks["health_band"], "churn probability": checks["churn_probability"],
            "risk threshold": checks["risk_threshold"],
            "flagged": np.where(checks["flagged"].astype(bool), "yes", "no"),
            "by": checks["source"].replace("", None), "why": checks["trigger"].replace("", None)})
        out.append(Table(as_text(table), caption=f"The monthly checks of {row.account_id} before it left"))
    return out


def missed(result: Result) -> Table | None:
    return Table(as_text(missed_display(result.missed))) if result.is_month and not result.missed.empty else None


def contrast(result: Result) -> Table | None:
    if result.contrast.empty:
        return None
    if not result.is_month and len(result.gone) == 1:  # one account: its numbers beside its look-alikes', no test
        table = pd.DataFrame({"metric": result.contrast["label"], "this account": result.contrast["churned_median"],
                              "look-alikes' median": result.contrast["comparables_median"]})
        return Table(as_text(table), caption="At the last check before it left")
    return Table(as_text(contrast_display(result.contrast)))


def pairs(result: Result) -> Table | None:
    """An account review's look-alikes, as matched."""
    if result.is_month or result.pairs.empty:
        return None
    pairs = result.pairs
    table = pd.DataFrame({"reviewed account": pairs["account_id"], "look-alike": pairs["comparable_id"],
                          "rank": pairs["rank"], "seen on": pairs["ref_date"], "tenure (months)": pairs["tenure_months"],
                          "MRR": pairs["mrr"], "segment": pairs["segment"], "plan": pairs["plan"],
                          "same plan": np.where(pairs["same_plan"].astype(bool), "yes", "no"),
                          "distance": pairs["distance"]})
    if pairs["account_id"].nunique() == 1:
        table = table.drop(columns="reviewed account")
    return Table(as_text(table),
                 caption="The retained look-alikes, seen on the day before the churn (tenure then, MRR at the month end before)")


def alerts(result: Result) -> Table | None:
    """The most severe new alerts, one readable line each (the full list is alerts.csv)."""
    if not result.is_month:
        return None
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
        s, r = f["summary"], f["record"]
        lead = (f", a median {number(s['median_standing_lead_days'], 0)} days ahead" if s.get("warned") else "")
        return {"finding": (f"At the last check before they left, the warnings flagged {pct(r['recall'], 0)} of churns"
                            f"{lead}, against {pct(r['false_alarm_rate'], pct_decimals(r['false_alarm_rate']))} of "
                            "accounts that stayed"),
                "evidence": (f"{flagged_share(r)} of checked churns; {r['stayed_flagged']:,} of {r['stayed']:,} "
                             f"accounts that stayed "
                             f"({share_ci(r['false_alarm_rate'], r['false_alarm_low'], r['false_alarm_high'])}); "
                             f"{f['late']} of the standing warnings began less than 30 days ahead"),
                "playbook": f["playbook"]}
    if finding.kind == "missed_trait":
        where = "concentrated in" if f["share_of_missed"] > f["share_of_caught"] else "rare in"
        return {"finding": f"Missed churns were {where} {words(f['attribute'])} = {words(f['value'])}",
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


def lessons(result: Result) -> Table | None:
    """Findings generated from the numbers, each with the playbook it points to and an empty
    ``owner`` to fill in at the review meeting (a month review: lessons are fleet-wide)."""
    if not result.is_month:
        return None
    rows = [lesson(f, result.config, result.settings.reason_playbooks) for f in result.findings]
    table = pd.DataFrame(rows, columns=["finding", "evidence", "playbook"])
    table["owner"] = ""
    return Table(table, caption="Findings and the playbook each points to")
