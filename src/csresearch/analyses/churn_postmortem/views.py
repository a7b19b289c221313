"""Tables as the churn postmortem shows them: renamed columns and values written by
:mod:`csresearch.text` (the CSVs beside the report keep every column and the machine values), and the
lessons table (its findings in words).

Tables are built with English column names (the formats of :data:`COLUMN_TEXT` are keyed by them) and
their headers translated last (:func:`translated`); values a reader sees (reasons, bands, states) go
through :func:`.words_warning.label_of`."""

from __future__ import annotations

import re
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd

from ...i18n import N_, _, ngettext, pgettext
from ...text import day, interval, money, num, number, p_value, pct
from ..base import Table
from .compute_lessons import Finding
from .result import Result
from .words_warning import (
    alert_kinds,
    counted,
    flagged_share,
    label_of,
    pct_decimals,
    record_row,
    segment_word,
    share_ci,
    trigger_text,
)


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

# every column header this report's tables show, as a reader names it in the run's language
HEADERS = {
    "id": N_("id"), "account": N_("account"), "churn date": N_("churn date"), "ARR lost": N_("ARR lost"),
    "tenure (months)": N_("tenure (months)"), "plan": N_("plan"), "reason": N_("reason"),
    "competitor": N_("competitor"), "warning": N_("warning"), "warning standing since": N_("warning standing since"),
    "days warned": N_("days warned"), "ARR": N_("ARR"), "alert": N_("alert"), "health": N_("health"),
    "churn risk": N_("churn risk"), "first trigger": N_("first trigger"), "playbook": N_("playbook"),
    "metric": N_("metric"), "churned (median)": N_("churned (median)"),
    "look-alikes (median)": N_("look-alikes (median)"), "difference (95% CI)": N_("difference (95% CI)"),
    "pairs": N_("pairs"), "Holm-adjusted p": N_("Holm-adjusted p"), "attribute": N_("attribute"),
    "value": N_("value"), "missed": N_("missed"), "caught": N_("caught"), "share of missed": N_("share of missed"),
    "share of caught": N_("share of caught"), "theme": N_("theme"), "comments": N_("comments"),
    "example": N_("example"), "share": N_("share"), "churns": N_("churns"), "question": N_("question"),
    "churns flagged": N_("churns flagged"), "accounts that stayed, flagged": N_("accounts that stayed, flagged"),
    "check": N_("check"), "health score": N_("health score"), "health band": N_("health band"),
    "churn probability": N_("churn probability"), "risk threshold": N_("risk threshold"), "flagged": N_("flagged"),
    "by": N_("by"), "why": N_("why"), "this account": N_("this account"),
    "look-alikes' median": N_("look-alikes' median"), "reviewed account": N_("reviewed account"),
    "look-alike": N_("look-alike"), "rank": N_("rank"), "seen on": N_("seen on"), "MRR": N_("MRR"),
    "same plan": N_("same plan"), "distance": N_("distance"), "finding": N_("finding"), "evidence": N_("evidence"),
    "owner": N_("owner"),
}


def as_text(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with the columns :data:`COLUMN_TEXT` knows written as text."""
    out = table.copy()
    for column, fmt in COLUMN_TEXT.items():
        if column in out:
            out[column] = _each(out[column], fmt)
    return out


def translated(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with its headers in the run's language (:data:`HEADERS`; others as they are)."""
    return table.rename(columns=lambda c: segment_word() if c == "segment" else _(HEADERS[c])
                        if isinstance(c, str) and c in HEADERS else c)


def shown(table: pd.DataFrame) -> pd.DataFrame:
    """The table a reader sees: values as text, headers translated."""
    return translated(as_text(table))


def _labels(values: pd.Series, as_words: bool = True) -> pd.Series:
    return _each(values, lambda v: label_of(v, as_words))


WARNING_TEXT = {"standing": N_("flagged at the last check"), "cleared": N_("flagged earlier, cleared by the last check"),
                "missed": N_("never flagged"), "not checked": N_("no check before the churn")}


def warning_state(outcome: pd.Series, warned_at_last_check: pd.Series) -> pd.Series:
    """What the warnings said of each churn, in words (:data:`WARNING_TEXT`)."""
    state = outcome.where(outcome != "caught", np.where(warned_at_last_check.fillna(False).astype(bool),
                                                        "standing", "cleared"))
    return state.map(lambda s: _(WARNING_TEXT[s]) if s in WARNING_TEXT else np.nan)


def churn_list_display(churn_list: pd.DataFrame) -> pd.DataFrame:
    cols = ["account_id", "account_name", "churn_date", "arr_lost", "tenure_months", "segment", "plan", "reason",
            "competitor", "outcome", "flagged_since", "standing_lead_days"]
    out = churn_list[[c for c in cols if c in churn_list]].copy()
    if "reason" in out:
        out["reason"] = _labels(out["reason"])
    if "outcome" in out:
        out["outcome"] = warning_state(out["outcome"], churn_list["warned_at_last_check"])
    return out.rename(columns={"outcome": "warning", "flagged_since": "warning standing since",
                               "standing_lead_days": "days warned", "arr_lost": "ARR lost",
                               "tenure_months": "tenure (months)", "churn_date": "churn date",
                               "account_name": "account", "account_id": "id"})


def playbook_name(text: str) -> str:
    """The playbook's short name: the words before its first colon ("Adoption drive: ..." -> "Adoption drive";
    a Japanese playbook's full-width colon too)."""
    text = str(text or "")
    head = re.split("[:\uff1a]", text[:60], maxsplit=1)
    return head[0] if len(head) > 1 else text[:60]


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
    new = label_of("new")
    band = top["health_band_before"].map(lambda b: new if pd.isna(b) else label_of(b)) + " \u2192 " \
        + top["health_band"].map(label_of)
    before = top["churn_probability_before"].map(lambda p: new if pd.isna(p) else pct(p, 0))
    risk = before + " \u2192 " + top["churn_probability"].map(lambda p: pct(p, 0))
    trigger = top["trigger"].map(first_trigger).map(trigger_text)
    return pd.DataFrame({
        "id": top["account_id"], "account": top.get("account_name", top["account_id"]),
        "segment": top.get("segment", ""), "ARR": top.get("arr", np.nan), "alert": top["alert"].map(alert_kinds),
        "health": band, "churn risk": risk, "first trigger": trigger,
        "playbook": top["playbook"].map(lambda p: playbook_name(_(p) if isinstance(p, str) and p else p)),
    })


def contrast_display(contrast: pd.DataFrame) -> pd.DataFrame:
    if contrast.empty:
        return pd.DataFrame(columns=["metric", "churned (median)", "look-alikes (median)",
                                     "difference (95% CI)", "pairs", "Holm-adjusted p"])
    diff = [number(d, 2, signed=True) + (_(" ({ci})").format(ci=interval(lo, hi, "number", 2, signed=True))
                                         if pd.notna(lo) else "")
            for d, lo, hi in zip(contrast["paired_difference"], contrast["difference_low"], contrast["difference_high"])]
    return pd.DataFrame({
        "metric": _labels(contrast["label"], as_words=False), "churned (median)": contrast["churned_median"],
        "look-alikes (median)": contrast["comparables_median"], "difference (95% CI)": diff,
        "pairs": contrast["pairs"], "Holm-adjusted p": _each(contrast["p_holm"], p_value),
    })


def missed_display(missed: pd.DataFrame, rows: int = 8) -> pd.DataFrame:
    if missed.empty:
        return pd.DataFrame(columns=["attribute", "value", "missed", "caught", "share of missed", "share of caught",
                                     "Holm-adjusted p"])
    top = missed.head(rows)
    return pd.DataFrame({
        "attribute": _labels(top["attribute"]), "value": _labels(top["value"]),
        "missed": top["missed"], "caught": top["caught"], "share of missed": top["share_of_missed"],
        "share of caught": top["share_of_caught"], "Holm-adjusted p": _each(top["p_holm"], p_value),
    })


def churn_list(result: Result) -> Table:
    """The churn list section's table (the CSV has every column)."""
    return Table(shown(churn_list_display(result.churn_list())), max_rows=25)


def themes(result: Result) -> Table | None:
    """The comment themes of a month review: label, comments, the most typical one and the share."""
    if result.themes is None or result.themes.themes.empty or not result.is_month:
        return None
    return Table(shown(result.themes.themes.drop(columns="terms")))


def warning_record(result: Result) -> Table | None:
    """The early-warning record beside its comparator: for each question, the churns flagged and the
    accounts that stayed flagged over the same checks (this review's churns; a month review adds the
    roll-up window's)."""
    rows = []
    scopes = [(_("this review's churns") if not result.is_month else _("this month's churns"), result.record)]
    if result.is_month:
        scopes.append((_("churns of the last {months} months").format(months=result.settings.rollup_months),
                       result.record_window))
    for scope, record in scopes:
        for measure, question in (("last_check", _("flagged at the last check before the churn")),
                                  ("lookback", _("flagged at least once in the {n} monthly checks before").format(
                                      n=result.settings.timeline_months))):
            row = record_row(record, measure)
            if row is None or not row["churns"]:
                continue
            stayed = (_("{flagged} of {stayed} ({share})").format(
                flagged=f"{row['stayed_flagged']:,}", stayed=f"{row['stayed']:,}",
                share=share_ci(row["false_alarm_rate"], row["false_alarm_low"], row["false_alarm_high"]))
                if row["stayed"] else _("no account stayed"))
            rows.append({"churns": scope, "question": question, "churns flagged": flagged_share(row),
                         "accounts that stayed, flagged": stayed})
    if not rows:
        return None
    return Table(translated(pd.DataFrame(rows)),
                 caption=_("Churns flagged against accounts that stayed, over the same checks"))


def _flagged(values: pd.Series) -> np.ndarray:
    """Whether a check flagged: yes / no (ja: あり / なし)."""
    return np.where(values.astype(bool), pgettext("check flagged", "yes"), pgettext("check flagged", "no"))


def _same_plan(values: pd.Series) -> np.ndarray:
    """Whether a look-alike has the churned account's plan: yes / no (ja: 同じ / 異なる)."""
    return np.where(values.astype(bool), pgettext("same plan", "yes"), pgettext("same plan", "no"))


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
            "health band": _labels(checks["health_band"]), "churn probability": checks["churn_probability"],
            "risk threshold": checks["risk_threshold"], "flagged": _flagged(checks["flagged"]),
            "by": _labels(checks["source"].replace("", None)),
            "why": checks["trigger"].replace("", None).map(trigger_text)})
        out.append(Table(shown(table),
                         caption=_("The monthly checks of {account} before it left").format(account=row.account_id)))
    return out


def missed(result: Result) -> Table | None:
    return Table(shown(missed_display(result.missed))) if result.is_month and not result.missed.empty else None


def contrast(result: Result) -> Table | None:
    if result.contrast.empty:
        return None
    if not result.is_month and len(result.gone) == 1:  # one account: its numbers beside its look-alikes', no test
        table = pd.DataFrame({"metric": _labels(result.contrast["label"], as_words=False),
                              "this account": result.contrast["churned_median"],
                              "look-alikes' median": result.contrast["comparables_median"]})
        return Table(shown(table), caption=_("At the last check before it left"))
    return Table(shown(contrast_display(result.contrast)))


def pairs(result: Result) -> Table | None:
    """An account review's look-alikes, as matched."""
    if result.is_month or result.pairs.empty:
        return None
    pairs = result.pairs
    table = pd.DataFrame({"reviewed account": pairs["account_id"], "look-alike": pairs["comparable_id"],
                          "rank": pairs["rank"], "seen on": pairs["ref_date"], "tenure (months)": pairs["tenure_months"],
                          "MRR": pairs["mrr"], "segment": pairs["segment"], "plan": pairs["plan"],
                          "same plan": _same_plan(pairs["same_plan"]), "distance": pairs["distance"]})
    if pairs["account_id"].nunique() == 1:
        table = table.drop(columns="reviewed account")
    return Table(shown(table), caption=_("The retained look-alikes, seen on the day before the churn (tenure then, MRR "
                                         "at the month end before)"))


def alerts(result: Result) -> Table | None:
    """The most severe new alerts, one readable line each (the full list is alerts.csv)."""
    if not result.is_month:
        return None
    return Table(shown(alerts_display(result.alerts_table())),
                 caption=_("The most severe new alerts, largest ARR at risk first"), max_rows=20)


# --------------------------------------------------------------------------------------------------
# Lessons
# --------------------------------------------------------------------------------------------------
NO_PLAYBOOK = N_("No playbook mapped: add this reason to reason_playbooks in params/05_churn_postmortem.yml.")


def resolve_playbook(key: str | None, config, reason_playbooks: Mapping[str, str] | None = None) -> str:
    """A playbook text from a churn reason or a health component name: ``reason_playbooks`` maps a
    reason to a component name (its playbook in the health config) or to a playbook text. A playbook
    the catalog knows (the defaults of :data:`.settings.REASON_PLAYBOOKS`) reads in the run's language;
    one the team wrote reads as written."""
    reason_playbooks = reason_playbooks or {}
    target = reason_playbooks.get(key, key) if key is not None else None
    for component in getattr(config, "components", ()):
        if component.name == target:
            return _(component.playbook) if component.playbook else component.playbook
    if target is not None and target != key:
        return _(str(target))
    return _(NO_PLAYBOOK)


def lesson(finding: Finding, config, reason_playbooks: Mapping[str, str] | None = None) -> dict:
    """One finding as a row of the lessons table: ``finding, evidence, playbook``."""
    f = finding.facts
    playbook = lambda key: resolve_playbook(key, config, reason_playbooks)  # noqa: E731
    if finding.kind == "costliest_reason":
        return {"finding": _("'{reason}' is the costliest churn reason").format(reason=label_of(f["reason"])),
                "evidence": _("{arr} ARR ({share} of ARR lost), {churns}").format(
                    arr=money(f["arr_lost"], compact=True), share=pct(f["arr_share"], 0),
                    churns=counted(int(f["churns"]), "churn")),
                "playbook": playbook(f["reason"])}
    if finding.kind == "detection":
        s, r = f["summary"], f["record"]
        stayed = pct(r["false_alarm_rate"], pct_decimals(r["false_alarm_rate"]))
        finding_text = (_("At the last check before they left, the warnings flagged {share} of churns, a median {days} "
                          "days ahead, against {stayed} of accounts that stayed").format(
                            share=pct(r["recall"], 0), days=number(s["median_standing_lead_days"], 0), stayed=stayed)
                        if s.get("warned") else
                        _("At the last check before they left, the warnings flagged {share} of churns, against {stayed} "
                          "of accounts that stayed").format(share=pct(r["recall"], 0), stayed=stayed))
        return {"finding": finding_text,
                "evidence": _("{flagged} of checked churns; {stayed_flagged} of {stayed} accounts that stayed ({share}); "
                              "{late} of the standing warnings began less than 30 days ahead").format(
                    flagged=flagged_share(r), stayed_flagged=f"{r['stayed_flagged']:,}", stayed=f"{r['stayed']:,}",
                    share=share_ci(r["false_alarm_rate"], r["false_alarm_low"], r["false_alarm_high"]), late=f["late"]),
                "playbook": _(f["playbook"]) if isinstance(f["playbook"], str) and f["playbook"] else f["playbook"]}
    if finding.kind == "missed_trait":
        template = (_("Missed churns were concentrated in {attribute} = {value}")
                    if f["share_of_missed"] > f["share_of_caught"] else
                    _("Missed churns were rare in {attribute} = {value}"))
        return {"finding": template.format(attribute=label_of(f["attribute"]), value=label_of(f["value"])),
                "evidence": _("{missed} of missed vs {caught} of caught churns (Holm-adjusted {p})").format(
                    missed=pct(f["share_of_missed"], 0), caught=pct(f["share_of_caught"], 0), p=p_value(f["p_holm"])),
                "playbook": _("Score review: add or retune a health component for these accounts "
                              "(params/health_score.yml); {playbook}").format(playbook=playbook(f["top_reason"]))}
    if finding.kind == "missed_no_trait":
        top_reason = f["top_reason"]
        n = int(f["missed"])
        evidence = _("no segment, plan, tenure, size or reason differs between missed and caught churns after Holm "
                     "correction (alpha {alpha})").format(alpha=f["alpha"])
        if top_reason:
            evidence += _("; most common reason among them: {reason}").format(reason=label_of(top_reason))
        default = getattr(config, "default_playbook", "")
        return {"finding": ngettext("{churns} was never flagged, with no shared trait that stands out",
                                    "{churns} were never flagged, with no shared trait that stands out", n).format(
                    churns=counted(n, "churn")),
                "evidence": evidence,
                "playbook": playbook(top_reason) if top_reason else (_(default) if default else default)}
    if finding.kind == "usage_contrast":
        ci = (interval(f["difference_low"], f["difference_high"], "number", 2, confidence=0.95, signed=True)
              if pd.notna(f["difference_low"]) else "")
        lower = f["paired_difference"] < 0
        template = (_("Before churning, {metric} was lower than at retained look-alikes") if lower else
                    _("Before churning, {metric} was higher than at retained look-alikes"))
        text = template.format(metric=label_of(f["label"], as_words=False))
        if not f["significant"]:
            text += _(" (not significant)")
        inside = _("{ci}, {pairs}").format(ci=ci, pairs=counted(int(f["pairs"]), "pair")) if ci else \
            counted(int(f["pairs"]), "pair")
        if pd.notna(f["p_holm"]):
            inside += _(", Holm {p}").format(p=p_value(f["p_holm"]))
        return {"finding": text,
                "evidence": _("median paired difference {difference} ({inside})").format(
                    difference=number(f["paired_difference"], 2, signed=True), inside=inside),
                "playbook": resolve_playbook("usage_decline", config)}
    if finding.kind == "false_alarms":
        return {"finding": _("{share} of flagged accounts stayed for {days} days").format(
                    share=pct(f["false_alarm_rate"], 0), days=f["horizon_days"]),
                "evidence": _("{stayed} of {accounts} first flagged {start} to {end} ({share}); saves by CSMs count here "
                              "too").format(stayed=f["stayed"], accounts=counted(f["flagged_accounts"], "account"),
                                            start=day(f["window_start"]), end=day(f["window_end"]),
                                            share=share_ci(f["false_alarm_rate"], f["false_alarm_low"],
                                                           f["false_alarm_high"])),
                "playbook": _("Threshold review: if CSMs cannot work every alert, raise the risk threshold or the red "
                              "band (params) and watch the detection rate above.")}
    raise ValueError(f"unknown finding kind {finding.kind!r}")


def lessons(result: Result) -> Table | None:
    """Findings generated from the numbers, each with the playbook it points to and an empty
    ``owner`` to fill in at the review meeting (a month review: lessons are fleet-wide)."""
    if not result.is_month:
        return None
    rows = [lesson(f, result.config, result.settings.reason_playbooks) for f in result.findings]
    table = pd.DataFrame(rows, columns=["finding", "evidence", "playbook"])
    table["owner"] = ""
    return Table(translated(table), caption=_("Findings and the playbook each points to"))
