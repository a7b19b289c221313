"""The early-warning record in words: a share of churns flagged always beside the share of accounts
that stayed and were flagged over the same checks (:func:`.compute_audit.warning_record`), lead times
from the warning still standing at the churn, and the units of this report's numbers (written by
:mod:`csresearch.text`). Read by :mod:`.words` and :mod:`.views`."""

from __future__ import annotations

import re
from typing import Mapping

import pandas as pd

from ...i18n import N_, _, ngettext, pgettext
from ...period import DAYS_PER_MONTH
from ...text import day, interval, money, pct, words
from .compute_checks import Checks
from .compute_churns import NOT_RECORDED

# machine values of this report's tables and sentences (reasons, bands, states, metric labels) as a
# reader names them: the English is the value in words (``low_usage`` -> "low usage"), so an English
# run reads exactly as before; another language reads its catalog. A value not listed (a company's own
# reason code, a plan name) is shown as it is, in words.
VALUE_LABELS = {
    # cancellation reasons and sub-reasons of the data contract's example categories
    "budget": N_("budget"), "competitor": N_("competitor"), "onboarding_failure": N_("onboarding failure"),
    "low_usage": N_("low usage"), "support": N_("support"), "product_gaps": N_("product gaps"),
    "company_closed": N_("company closed"), NOT_RECORDED: N_("not recorded"),
    "price_increase": N_("price increase"), "budget_cut": N_("budget cut"),
    "cost_consolidation": N_("cost consolidation"), "acquired": N_("acquired"), "restructuring": N_("restructuring"),
    "went_out_of_business": N_("went out of business"), "cheaper_alternative": N_("cheaper alternative"),
    "better_features": N_("better features"), "bundled_with_suite": N_("bundled with suite"),
    "not_part_of_workflow": N_("not part of workflow"), "few_active_users": N_("few active users"),
    "champion_left": N_("champion left"), "no_internal_owner": N_("no internal owner"),
    "never_went_live": N_("never went live"), "integration_stalled": N_("integration stalled"),
    "no_mobile": N_("no mobile"), "missing_integration": N_("missing integration"),
    "reporting_limits": N_("reporting limits"), "unresolved_bugs": N_("unresolved bugs"),
    "slow_response": N_("slow response"), "poor_quality": N_("poor quality"),
    # attributes compared between missed and caught churns, and their bands
    "plan": N_("plan"), "tenure_band": N_("tenure band"), "size_band": N_("size band"),
    "reason": N_("reason"), "unknown": N_("unknown"), "all": N_("all"),
    "observation_date": N_("observation date"),  # a stratum of the risk model's training sample
    "under 6 months": N_("under 6 months"), "6-12 months": N_("6-12 months"), "1-2 years": N_("1-2 years"),
    "2+ years": N_("2+ years"), "smallest quarter": N_("smallest quarter"), "second quarter": N_("second quarter"),
    "third quarter": N_("third quarter"), "largest quarter": N_("largest quarter"),
    # health bands, what flagged, alert kinds, statuses
    "red": N_("red"), "yellow": N_("yellow"), "green": N_("green"), "new": N_("new"),
    "health score and risk list": N_("health score and risk list"), "health score": N_("health score"),
    "risk list": N_("risk list"), "turned red": N_("turned red"), "dropped green to yellow": N_("dropped green to yellow"),
    "crossed the risk threshold": N_("crossed the risk threshold"), "red at first score": N_("red at first score"),
    "above the risk threshold at first score": N_("above the risk threshold at first score"),
    "entered the top risk band": N_("entered the top risk band"),
    "in the top risk band at first score": N_("in the top risk band at first score"),
    "churned": N_("churned"), "active": N_("active"), "never paid": N_("never paid"),
    "retained look-alikes": N_("retained look-alikes"),
    # the metrics churned accounts are compared on with their look-alikes
    "events per seat (30 days)": N_("events per seat (30 days)"),
    "usage trend (last vs prior 30 days)": N_("usage trend (last vs prior 30 days)"),
    "active users per seat": N_("active users per seat"),
    "high-priority tickets (90 days)": N_("high-priority tickets (90 days)"),
    "NPS answer (180 days)": N_("NPS answer (180 days)"), "CSM touches (90 days)": N_("CSM touches (90 days)"),
    "churn risk (model)": N_("churn risk (model)"),
    # ticket priorities and CSM activity types of the contract's examples
    "urgent": N_("urgent"), "critical": N_("critical"), "high": N_("high"), "normal": N_("normal"),
    "medium": N_("medium"), "low": N_("low"), "call": N_("call"), "email": N_("email"), "qbr": N_("qbr"),
    "training": N_("training"), "meeting": N_("meeting"),
}


def label_of(value, as_words: bool = True) -> str:
    """A machine value as a reader names it, in the run's language (:data:`VALUE_LABELS`); any other
    value in words (``low_usage`` -> "low usage"), or as it is (``as_words=False``: a label already)."""
    key = str(value)
    if key == "segment":
        return segment_word()
    if key in VALUE_LABELS:
        return _(VALUE_LABELS[key])
    return words(value) if as_words else key


def segment_word() -> str:
    """"segment" as this report's headers and attributes name it (the catalog's plain "segment" is a
    caption of another report)."""
    return pgettext("churn postmortem", "segment")


def alert_kinds(text) -> str:
    """An alert's kinds joined by "; " (``turned red; crossed the risk threshold``), each in words."""
    return _("; ").join(label_of(k) for k in str(text).split("; "))


RISK_TRIGGER = re.compile(r"churn risk (\d+)% \(risk model\)")


def trigger_text(text) -> str:
    """A check's or an alert's trigger with this report's own phrases in the run's language (the churn
    risk of :func:`.compute_checks.run_checks`, the fallbacks of :mod:`.compute_alerts`); the health
    score's and the risk model's reasons are written by :mod:`csresearch.core` and read as they are."""
    if not isinstance(text, str):
        return text
    text = RISK_TRIGGER.sub(lambda m: _("churn risk {percent} (risk model)").format(percent=m.group(1) + "%"), text)
    if text == "health score fell (no single component red)":
        return _("health score fell (no single component red)")
    if text.startswith("model: "):
        return _("model: {reasons}").format(reasons=text[len("model: "):])
    return text


def sentences(*parts: str) -> str:
    """Sentences one after another: a space between them, none after a Japanese full stop."""
    return " ".join(p for p in parts if p).replace("\u3002 ", "\u3002")


def counted(n: float, noun: str) -> str:
    """``3 accounts`` / ``1 day``: a count with its noun, in the run's language (Japanese has one form)."""
    n = int(n)
    forms = {
        "account": lambda: ngettext("{n} account", "{n} accounts", n),
        "paying account": lambda: ngettext("{n} paying account", "{n} paying accounts", n),
        "churn": lambda: ngettext("{n} churn", "{n} churns", n),
        "day": lambda: ngettext("{n} day", "{n} days", n),
        "month": lambda: ngettext("{n} month", "{n} months", n),
        "past month": lambda: ngettext("{n} past month", "{n} past months", n),
        "monthly check": lambda: ngettext("{n} monthly check", "{n} monthly checks", n),
        "alert": lambda: ngettext("{n} alert", "{n} alerts", n),
        "new alert": lambda: ngettext("{n} new alert", "{n} new alerts", n),
        "comment": lambda: ngettext("{n} comment", "{n} comments", n),
        "theme": lambda: ngettext("{n} theme", "{n} themes", n),
        "reason": lambda: ngettext("{n} reason", "{n} reasons", n),
        "pair": lambda: ngettext("{n} pair", "{n} pairs", n),
        "comparison": lambda: ngettext("{n} comparison", "{n} comparisons", n),
        "retained look-alike": lambda: ngettext("{n} retained look-alike", "{n} retained look-alikes", n),
    }
    return forms[noun]().format(n=f"{n:,}")


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
    return _("{share}, {ci}").format(share=pct(rate, d), ci=interval(low, high, "pct", d, confidence=0.95))


def rate_ci(rate: float, low: float, high: float) -> str:
    """``28% (95% CI 20–37%)``."""
    d = pct_decimals(rate, low, high)
    return _("{rate} ({ci})").format(rate=pct(rate, d), ci=interval(low, high, "pct", d, confidence=0.95))


def days_ci(low: float, high: float) -> str:
    """An interval of days: ``95% CI 40–80``."""
    return interval(low, high, "number", 0, confidence=0.95)


def about(x: float, noun: str) -> str:
    """A measured number of days or months, rounded to whole ones: ``61 days``, ``1 month``."""
    if pd.notna(x):
        return counted(int(round(x)), noun)
    return _("an unknown number of days") if noun == "day" else _("an unknown number of months")


def tenure(months: float) -> str:
    """How long an account had paid: ``19 months``, or ``24 days`` under a month."""
    if pd.notna(months) and months < 1:
        return counted(int(round(months * DAYS_PER_MONTH)), "day")
    return about(months, "month")


def record_row(record: pd.DataFrame | None, measure: str) -> dict | None:
    """One measure of an early-warning record (``lookback`` or ``last_check``), counts as integers; None
    without a record."""
    if record is None or record.empty or measure not in set(record["measure"]):
        return None
    row = record.set_index("measure").loc[measure].to_dict()
    return {k: int(v) if k in COUNTS else v for k, v in row.items()}


COUNTS = ("churns", "churns_flagged", "stayed", "stayed_flagged")


def stayed_rate(row: Mapping) -> str:
    """The share of accounts that stayed and were flagged, with its interval."""
    return rate_ci(row["false_alarm_rate"], row["false_alarm_low"], row["false_alarm_high"])


def against(row: Mapping) -> str:
    """The comparator of a share of churns flagged: ``against 24% (95% CI 22–27%) of the 1,234
    accounts that stayed``, or why there is none."""
    if not row.get("stayed"):
        return _("; no account stayed over the same checks, so how often the warnings flag accounts that stay "
                 "cannot be measured")
    return _(" against {rate} of the {accounts} that stayed").format(
        rate=stayed_rate(row), accounts=counted(row["stayed"], "account"))


def flagged_share(row: Mapping) -> str:
    """``9 of 12 (75%, 95% CI 47–91%)``: churns flagged, of the churns a check saw."""
    return _("{flagged} of {churns} ({share})").format(
        flagged=row["churns_flagged"], churns=row["churns"],
        share=share_ci(row["recall"], row["recall_low"], row["recall_high"]))


def flaggers(checks: Checks | None) -> str:
    """What flags in this data: ``the health score or the risk list``, or the one that could be computed."""
    modelled = checks is not None and bool(checks.models)
    health = checks is not None and checks.health_scored
    if health and modelled:
        return _("the health score or the risk list")
    return _("the health score") if health else _("the risk list") if modelled else _("no warning")


def source_text(source) -> str:
    """What flagged a check (``health score``, ``risk list`` or both), in the run's language."""
    return label_of(source)


def account_sentence(row: Mapping, audit_row: Mapping | None, timeline_months: int,
                     record: pd.DataFrame | None = None) -> str:
    """One sentence per reviewed account: what happened, why, and what warned and when, beside how often
    the same checks flagged accounts that stayed (``record``: the early-warning record of its churn
    month, :meth:`.result.Result.record_of`)."""
    label = row.get("account_name") or row["account_id"]
    label = _("{name} ({id})").format(name=label, id=row["account_id"]) if label != row["account_id"] else label
    status = row.get("status", "churned")
    if status == "never paid":
        return _("{account} never had a paying subscription up to the report month: there is no churn to "
                 "review.").format(account=label)
    if status == "active":
        return _("{account} has not churned: it is still paying {mrr} MRR after {tenure}.").format(
            account=label, mrr=money(float(row.get("current_mrr") or 0), compact=True),
            tenure=about(row["tenure_months"], "month"))
    reason = row.get("reason")
    if reason and reason != NOT_RECORDED:
        why = (_(" (reason: {reason}, to {competitor})").format(reason=label_of(reason), competitor=row["competitor"])
               if row.get("competitor") else _(" (reason: {reason})").format(reason=label_of(reason)))
    else:
        why = _(" (no cancellation reason recorded)")
    text = _("{account} churned on {day} after {tenure}, taking {arr} ARR{why}").format(
        account=label, day=day(row["churn_date"]), tenure=tenure(row["tenure_months"]),
        arr=money(float(row["arr_lost"]), compact=True), why=why)
    if audit_row is None or audit_row.get("outcome") == "not checked":
        return text + _("; no monthly check fell before its churn, so no warning could be judged.")
    last, ever = (record_row(record, m) if record is not None else None for m in ("last_check", "lookback"))
    if audit_row.get("warned_at_last_check"):
        text += _("; the {source} flagged it at the last check before it left ({last_check}), a warning standing "
                  "since {since} ({days} before the churn)").format(
            source=source_text(audit_row["standing_source"]), last_check=day(audit_row["last_check"]),
            since=day(audit_row["flagged_since"]), days=counted(int(audit_row["standing_lead_days"]), "day"))
        stayed = "" if last is None else stayed_clause(last, "last_check")
    elif audit_row.get("outcome") == "caught":
        text += _("; flagged on {first} by the {source}, but no longer at the last check before it left "
                  "({last_check})").format(first=day(audit_row["first_flagged"]),
                                           source=source_text(audit_row["flagged_by"]),
                                           last_check=day(audit_row["last_check"]))
        stayed = "" if ever is None else stayed_clause(ever, "lookback", timeline_months)
    else:
        text += _("; never flagged by the health score or the risk list in the {checks} before").format(
            checks=counted(timeline_months, "monthly check"))
        stayed = "" if ever is None else stayed_clause(ever, "same")
    return text + stayed + _(".")


def stayed_clause(row: Mapping, when: str, timeline_months: int = 0) -> str:
    """``; at that check the warnings flagged 24% (...) of the 1,234 accounts that stayed``; ``when``:
    ``last_check`` (at that check), ``lookback`` (at least once in the same monthly checks) or ``same``
    (over the same checks)."""
    if not row.get("stayed"):
        return _("; no account stayed over the same checks to compare with")
    rate, accounts = stayed_rate(row), counted(int(row["stayed"]), "account")
    if when == "last_check":
        return _("; at that check the warnings flagged {rate} of the {accounts} that stayed").format(
            rate=rate, accounts=accounts)
    if when == "lookback":
        return _("; at least once in the same {checks} the warnings flagged {rate} of the {accounts} that "
                 "stayed").format(checks=counted(timeline_months, "monthly check"), rate=rate, accounts=accounts)
    return _("; over the same checks the warnings flagged {rate} of the {accounts} that stayed").format(
        rate=rate, accounts=accounts)


def record_sentence(summary: Mapping, record: pd.DataFrame, scope: str, timeline_months: int, who: str,
                    stayed_as: str | None = None) -> str:
    """The early-warning record: churns flagged at the last check and at least once in the look-back,
    each against the accounts that stayed, and how long the standing warnings had stood. ``scope``:
    ``in November 2026`` (:func:`.words.scope_text`); ``stayed_as``: who the comparator is (None:
    the accounts that stayed over the same checks)."""
    if not summary.get("churns"):
        return _("No churn {scope} to audit.").format(scope=scope)
    if not summary.get("checked"):
        return _("No check that could flag fell before the churns {scope}, so the warnings cannot be "
                 "judged.").format(scope=scope)
    last, ever = record_row(record, "last_check"), record_row(record, "lookback")
    assert last is not None and ever is not None, "a record has both measures"
    text = _("Of {churns} {scope} that a check saw, {who} flagged {last} ({last_share}) at the last check before "
             "they left and {ever} ({ever_share}) at least once in the {checks} before.").format(
        churns=counted(summary["checked"], "churn"), scope=scope, who=who, last=last["churns_flagged"],
        last_share=share_ci(last["recall"], last["recall_low"], last["recall_high"]), ever=ever["churns_flagged"],
        ever_share=share_ci(ever["recall"], ever["recall_low"], ever["recall_high"]),
        checks=counted(timeline_months, "monthly check"))
    if last["stayed"]:
        stayed_as = stayed_as if stayed_as is not None else _("that stayed over the same checks")
        text = sentences(text, _("Of the {accounts} {stayed_as}, {last} were flagged at their last check and {ever} at "
                                 "least once.").format(accounts=counted(int(last["stayed"]), "account"),
                                                       stayed_as=stayed_as, last=stayed_rate(last),
                                                       ever=stayed_rate(ever)))
    else:
        text = sentences(text, _("No account stayed over the same checks, so how often the warnings flag accounts "
                                 "that stay cannot be measured."))
    if summary.get("warned"):
        low, high = summary.get("median_standing_lead_low", float("nan")), summary.get("median_standing_lead_high",
                                                                                        float("nan"))
        median, churns = about(summary["median_standing_lead_days"], "day"), counted(summary["warned"], "churn")
        if pd.notna(low) and pd.notna(high):
            text = sentences(text, _("The warning still standing at the churn began a median {median} before it "
                                     "({ci}; {churns}).").format(median=median, ci=days_ci(low, high), churns=churns))
        else:
            text = sentences(text, _("The warning still standing at the churn began a median {median} before it "
                                     "({churns}).").format(median=median, churns=churns))
    if summary.get("not_checked"):
        n = int(summary["not_checked"])
        text = sentences(text, ngettext("{churns} fell before any check and is left out.",
                                        "{churns} fell before any check and are left out.", n).format(
            churns=counted(n, "churn")))
    return text

