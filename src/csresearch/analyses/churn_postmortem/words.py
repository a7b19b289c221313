"""Sentences, the headline, the conventions box and the KPI text of the churn postmortem, read from its
result. A month review tells the month's churns against the fleet; an account review tells the
reviewed accounts' story only (no fleet-wide section: :func:`fleet_section` is empty for it).

Every share of churns flagged is stated beside the share of accounts that stayed and were flagged over
the same checks (:func:`.compute_audit.warning_record`): a recall without its false-alarm rate says
nothing about the warnings."""

from __future__ import annotations

from typing import Mapping

import pandas as pd

from ...core import risk
from ...text import count, day, money, month_label, number, p_value, pct, plural, window_label, words
from ..base import Kpi, kpi
from .compute_checks import Checks
from .compute_churns import NOT_RECORDED
from .compute_reasons import Themes
from .result import Result
from .settings import Settings
from .words_warning import (
    about,
    account_sentence,
    against,
    days_ci,
    flagged_share,
    flaggers,
    pct_decimals,
    rate_ci,
    record_row,
    record_sentence,
    share_ci,
    stayed_clause,
    were,
)

RECOMPUTED = "recomputed as of the previous month (no earlier run found)"
TABLE_EFFECTS = {
    "churn_reasons": "churn reasons, competitors and comments",
    "usage_events": "usage timelines and usage comparisons",
    "support_tickets": "ticket timelines",
    "surveys": "NPS timelines",
    "cs_activities": "CSM activity timelines",
}


# --------------------------------------------------------------------------------------------------
# What could flag
# --------------------------------------------------------------------------------------------------
def flag_sources(result: Result) -> str:
    """Why the health score or the risk list could not flag at some checks (one sentence each), or ""."""
    checks = result.checks
    if checks is None:
        return ""
    out = []
    if not checks.health_scored:
        out.append("The health score cannot be computed on this data: none of its components' metrics (usage, "
                   "tickets, NPS, onboarding) is in the tables, so only the risk list can flag.")
    if checks.unmodelled:
        dates = sorted(checks.unmodelled)
        reason = checks.unmodelled[dates[-1]]
        when = f"at the checks of {day(dates[0])} to {day(dates[-1])}" if len(dates) > 1 else f"at the {day(dates[0])} check"
        if not checks.models:
            out.append(f"No risk model could be fitted: {reason}.")
        else:
            out.append(f"No risk model stood {when} ({reason}).")
    if not checks.health_scored and not checks.models:
        out.append("Nothing could flag, so no warning can be judged.")
    return " ".join(out)


# --------------------------------------------------------------------------------------------------
# Headline and the accounts reviewed
# --------------------------------------------------------------------------------------------------
def headline(result: Result) -> str:
    """The report's first sentence (a month review or an account review)."""
    if not result.is_month:
        return accounts_headline(result)
    n = severe = None
    if result.alerts is not None:
        n = len(result.alerts)
        if result.settings.alert_top_share is None:  # the previous rule: its severe kinds
            severe = int(result.alerts["alert"].str.contains("red|threshold").sum())
    return month_headline(result.month, result.churned, result.pareto, result.audit_summary, result.record, n,
                          severe)


def month_headline(month: pd.Period, churned: pd.DataFrame, pareto: pd.DataFrame, summary: Mapping,
                   record: pd.DataFrame, new_alerts: int | None, severe_alerts: int | None = None) -> str:
    """The month review's first sentence: churns and ARR lost, the costliest reason, how many churns the
    warnings flagged at the last check before they left against how many accounts that stayed, how
    long those warnings had stood, and the new alerts."""
    name = month_label(month)
    alert_text = ""
    if new_alerts is not None and severe_alerts is not None:
        alert_text = (f"; {plural(severe_alerts, 'paying account')} turned red or crossed the risk threshold this "
                      f"month ({plural(new_alerts, 'alert')} in all)")
    elif new_alerts is not None:
        alert_text = f"; {plural(new_alerts, 'paying account')} raised a new alert this month"
    if churned.empty:
        return f"No account churned in {name}{alert_text}."
    n, arr = len(churned), float(churned["arr_lost"].sum())
    text = f"{plural(n, 'account')} churned in {name}, taking {money(arr, compact=True)} ARR"
    recorded = pareto[pareto["reason"] != NOT_RECORDED] if not pareto.empty else pareto
    if len(recorded):
        top = recorded.iloc[0]
        text += f"; '{words(top['reason'])}' cost the most ({pct(top['arr_share'], 0)} of ARR lost)"
    row = record_row(record, "last_check")
    if row is not None and row["churns"]:
        text += f". At the last check before they left, the warnings flagged {flagged_share(row)}{against(row)}"
        if summary.get("warned"):
            text += f"; those warnings had stood a median {about(summary['median_standing_lead_days'], 'day')}"
    return text + alert_text + "."


def account_sentences(result: Result) -> list[str]:
    """One sentence per reviewed account (:func:`account_sentence`), in the churn list's order."""
    audit = result.review_audit().set_index(["account_id", "churn_date"])
    lines = []
    for _, row in result.churned.iterrows():
        key = (row["account_id"], row["churn_date"])
        audit_row = audit.loc[key].to_dict() if pd.notna(row["churn_date"]) and key in audit.index else None
        record = result.record_of(audit_row["churn_month"]) if audit_row is not None else None
        lines.append(account_sentence(row.to_dict(), audit_row, result.settings.timeline_months, record))
    return lines


def accounts_headline(result: Result) -> str:
    """The account review's first sentence (one account: its story; several: the tally, the churns
    flagged at the last check against the accounts that stayed over the same checks)."""
    churned = result.churned
    if len(churned) == 1:
        return account_sentences(result)[0]
    gone = result.gone
    text = (f"{plural(len(churned), 'account')} reviewed: {len(gone)} churned, taking "
            f"{money(float(gone['arr_lost'].sum()), compact=True)} ARR")
    row = record_row(result.record, "last_check")
    if row is not None and row["churns"]:
        text += f"; at the last check before they left, the warnings flagged {flagged_share(row)}{against(row)}"
    return text + "."


def label(result: Result, account_id: str) -> str:
    """An account as the report names it: ``Acme (A00012)``, or the id alone without a name."""
    row = result.churned.set_index("account_id").get("account_name", pd.Series(dtype=object)).get(account_id)
    return f"{row} ({account_id})" if isinstance(row, str) and row and row != account_id else account_id


def panel_label(result: Result, account_id: str, arr_lost: float) -> str:
    """The title of an account's small panel: its name and the ARR it took."""
    return f"{label(result, account_id)} · {money(arr_lost, compact=True)} ARR"


def page_label(result: Result, account_id: str) -> str:
    """The title of an account's full page: name, status, ARR lost and reason."""
    row = result.churned.set_index("account_id").loc[account_id]
    status = "" if row["status"] == "churned" else f" · {row['status']}"
    reason = f" · reason: {words(row['reason'])}" if row.get("reason") not in (None, NOT_RECORDED) else ""
    value = f"{money(float(row['arr_lost']), compact=True)} ARR lost" if row["status"] == "churned" else ""
    return f"{label(result, account_id)}{status} · {value}{reason}".replace(" ·  ·", " ·").strip(" ·")


def scope_text(result: Result) -> str:
    if result.is_month:
        return f"in {month_label(result.month)}"
    return "of the reviewed account" + ("s" if len(result.account_ids or []) != 1 else "")


def window_text(result: Result) -> str:
    months = result.settings.rollup_months
    first = result.month - (months - 1)
    return f"over the {plural(months, 'month')} {window_label(first, result.month)}"


def fleet_section(result: Result, key: str) -> str:
    """The heading and introduction of a fleet-wide section of the month review (``themes``, ``missed``,
    ``alerts``, ``lessons``); empty for an account review, which tells the reviewed accounts' story only."""
    if not result.is_month or key == "themes" and ("churn_reasons" in result.missing_tables or result.gone.empty):
        return ""
    s = result.settings
    return {
        "themes": "### Themes in the comments\nThe free-text comments grouped by the words they share (TF-IDF and "
                  "non-negative matrix factorisation, computed here; no text leaves the machine). A theme is named by "
                  "its most typical words.",
        "missed": "### Missed churns and false alarms\nWhat the churns that were never flagged have in common (each "
                  "attribute value compared between missed and caught churns, Fisher's exact test, Holm-corrected "
                  "across all values), and how often a flag was not followed by a churn within "
                  f"{s.horizon_days} days.",
        "alerts": "## 6. Alerts going forward\nPaying accounts whose warning got worse since last month, each with "
                  "what drives its risk, how its health score moved and the playbook to run; below, how often such "
                  "alerts were false on past months whose outcome is known, against the previous rule. The full "
                  "list is `alerts.csv`, linked from the index page.",
        "lessons": "## 7. Lessons\nFindings generated from the numbers above, each pointing to the playbook it calls "
                   "for; the owner column is filled in at the review meeting. Below, the reasons and missed signals "
                   "over the last months.",
    }[key]


# --------------------------------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------------------------------
def churn_list(result: Result) -> str:
    """The churn list section: the tally of a month, or one sentence per reviewed account (none for a
    single account: the headline is its sentence)."""
    if result.is_month:
        return churn_list_sentence(result.churned)
    if len(result.churned) == 1:
        return ""
    return "\n".join("- " + line for line in account_sentences(result))


def churn_list_sentence(churned: pd.DataFrame) -> str:
    gone = churned[churned["status"] == "churned"]
    if gone.empty:
        return "No churn to list."
    seg = gone["segment"].fillna("unknown").value_counts()
    parts = ", ".join(f"{n} {s}" for s, n in seg.items())
    competitor = gone["competitor"].notna().sum() if "competitor" in gone else 0
    return (f"{plural(len(gone), 'churn')}, {money(float(gone['arr_lost'].sum()), compact=True)} ARR lost in total "
            f"({parts}); median tenure {about(gone['tenure_months'].median(), 'month')}; the largest single "
            f"loss was {money(float(gone['arr_lost'].max()), compact=True)}."
            + (f" {competitor} left for a named competitor." if competitor else ""))


def reasons(result: Result) -> str:
    """Why they left: the month's reasons ranked, or each reviewed account's own form."""
    if "churn_reasons" in result.missing_tables:
        return "No `churn_reasons` table: why accounts left cannot be read from a cancellation form."
    if not result.is_month:
        return "\n".join("- " + line for line in account_reasons(result.gone, result.settings.reason_match_days))
    return reasons_sentence(result.pareto)


def account_reasons(gone: pd.DataFrame, match_days: int) -> list[str]:
    """Each reviewed churn's cancellation form: reason, sub-reason, competitor and comment."""
    lines = []
    for row in gone.itertuples(index=False):
        name = getattr(row, "account_name", None) or row.account_id
        who = f"{name} ({row.account_id})" if name != row.account_id else name
        if row.reason in (None, NOT_RECORDED):
            lines.append(f"{who}: no cancellation form within {plural(match_days, 'day')} of its churn.")
            continue
        detail = ", ".join(words(v) for v in (getattr(row, "sub_reason", None), getattr(row, "competitor", None))
                           if isinstance(v, str) and v)
        comment = getattr(row, "comment", None)
        said = (f" and wrote: \u201c{comment.strip()}\u201d" if isinstance(comment, str) and comment.strip()
                else "; no comment.")
        lines.append(f"{who} gave '{words(row.reason)}'" + (f" ({detail})" if detail else "") + said)
    return lines or ["None of the reviewed accounts churned, so there is no cancellation form to read."]


def reasons_sentence(pareto: pd.DataFrame) -> str:
    if pareto.empty:
        return "No churn, so no reasons to rank."
    top = pareto.sort_values("arr_lost", ascending=False)
    needed = int((top["cum_arr_share"] < 0.8).sum()) + 1
    named = ", ".join(words(r) for r in top["reason"].head(needed))
    by_count = pareto.sort_values(["churns", "arr_lost"], ascending=False).iloc[0]
    unknown = pareto.loc[pareto["reason"] == NOT_RECORDED, "churns"].sum()
    text = (f"{plural(needed, 'reason')} account{'s' if needed == 1 else ''} for at least 80% of the ARR lost: "
            f"{named}. By number of accounts, '{words(by_count['reason'])}' leads ({int(by_count['churns'])} of "
            f"{int(pareto['churns'].sum())}).")
    if unknown:
        text += (f" {plural(int(unknown), 'churn')} {'has' if unknown == 1 else 'have'} no cancellation reason "
                 f"recorded: {'it is' if unknown == 1 else 'they are'} kept as 'not recorded'.")
    return text


def themes(result: Result) -> str:
    """The comment themes of a month review ("" for an account review, whose comments are quoted whole,
    and when there is no ``churn_reasons`` table, which :func:`reasons` says)."""
    if not result.is_month or "churn_reasons" in result.missing_tables:
        return ""
    if result.themes is None:
        return "No free-text comments to group."
    return themes_sentence(result.themes)


def themes_sentence(themes: Themes) -> str:
    if themes.themes.empty:
        return "No free-text comments to group."
    top = themes.themes.iloc[0]
    n = int(themes.themes["comments"].sum())
    return (f"{plural(n, 'comment')} fall{'s' if n == 1 else ''} into {plural(len(themes.themes), 'theme')} "
            f"({themes.method}, computed locally); the largest, '{top['theme']}', holds {int(top['comments'])}, "
            f"e.g. \u201c{top['example']}\u201d")


def timelines(result: Result) -> str:
    """What the timelines section drew."""
    max_panels = result.settings.small_multiples_max
    gone = result.gone
    marks = "the dashed line marks the start of the warning still standing at the churn"
    if result.is_month:
        if gone.empty:
            return "No churn this month, so no timelines."
        shown = min(len(gone), max_panels)
        text = f"{shown} of {len(gone)} churned accounts drawn (largest ARR lost first); {marks}."
        if not result.key_events:
            return text + " No usage data: the panels show only the flags."
        return text + f" Usage counts the key events: {', '.join(words(e) for e in result.key_events)}."
    every = result.settings.account_health_every_days
    scored = result.checks is not None and result.checks.health_scored
    score = ("no health score (none of its metrics is in the data): the last panel shows the churn risk"
             if not scored else f"health score every {every} days between the monthly checks" if every
             else "health score at the monthly checks")
    return (f"Key events: {', '.join(words(e) for e in result.key_events) or 'none (no usage data)'}; {score}; "
            f"shading marks the monthly checks that flagged the account (the checks the month review judges); {marks}.")


def audit_review(result: Result) -> str:
    """What warned and when: the review's churns against the accounts that stayed over the same checks
    (a month review), or each reviewed account's checks (an account review)."""
    sources = flag_sources(result)
    if not result.is_month:
        lines = [account_warning(result, a) for a in result.gone["account_id"]]
        parts = [sources] if sources else []
        parts.append("\n".join("- " + line for line in lines) if lines else "None of the reviewed accounts churned.")
        return "\n\n".join(parts)
    text = record_sentence(result.audit_summary, result.record, scope_text(result), result.settings.timeline_months,
                           flaggers(result.checks))
    return f"{sources} {text}" if sources else text


def audit_window(result: Result) -> str:
    """The early-warning record over the roll-up window (a month review only)."""
    if not result.is_month:
        return ""
    return record_sentence(result.audit_summary_all, result.record_window, window_text(result),
                           result.settings.timeline_months, flaggers(result.checks),
                           stayed_as=f"still paying at the end of {month_label(result.month)}")


def account_warning(result: Result, account_id: str) -> str:
    """What warned one reviewed account and when: its monthly checks in the look-back, the flags, and the
    warning standing at the last check (the dates the month review reports)."""
    audit = result.review_audit().set_index("account_id")
    who = label(result, account_id)
    if account_id not in audit.index or audit.loc[account_id, "outcome"] == "not checked":
        return f"{who}: no monthly check that could flag fell before its churn."
    row = audit.loc[account_id]
    checks = result.account_checks(account_id)
    seen = checks[(checks["observation_date"] < row["churn_date"]) & checks["scored"].astype(bool)
                  & (checks["observation_date"] >= row["churn_date"] - pd.DateOffset(months=result.settings.timeline_months))]
    flagged = seen[seen["flagged"].astype(bool)]
    text = (f"{who}: flagged at {len(flagged)} of its {plural(int(row['checks']), 'monthly check')} before it left"
            + (f" ({', '.join(day(d) for d in flagged['observation_date'])})" if len(flagged) else ""))
    if row["warned_at_last_check"]:
        text += (f"; the warning standing at the last check ({day(row['last_check'])}) began "
                 f"{day(row['flagged_since'])}, {plural(int(row['standing_lead_days']), 'day')} before the churn, "
                 f"by the {row['standing_source']}: {row['standing_trigger']}")
    elif len(flagged):
        text += f"; not flagged at the last check ({day(row['last_check'])})"
    record = result.record_of(row["churn_month"])
    comparator = record_row(record, "last_check" if row["warned_at_last_check"] else "lookback")
    if comparator is not None:
        text += stayed_clause(comparator, "at that check" if row["warned_at_last_check"] else "over the same checks")
    return text + "."


def missed(result: Result) -> str:
    return missed_sentence(result.missed, result.audit_summary_all) if result.is_month else ""


def missed_sentence(missed: pd.DataFrame, summary: Mapping, alpha: float = 0.05) -> str:
    if not summary.get("checked"):
        return "No churn that a check saw, so no missed churn to profile."
    if not summary.get("missed"):
        return "No churn was missed: every checked churn was flagged at least once."
    n = int(summary["missed"])
    never = f"{plural(n, 'churn')} {were(n)} never flagged"
    if missed.empty:
        return f"{never}; too few caught or missed churns to compare them."
    significant = missed[missed["p_holm"] < alpha]
    if significant.empty:
        lead = missed.iloc[0]
        return (f"{never}. No segment, plan, tenure, size or reason sets {'it' if n == 1 else 'them'} apart after "
                f"Holm correction across {plural(len(missed), 'comparison')}; the largest gap is "
                f"{words(lead['attribute'])} = {words(lead['value'])} ({pct(lead['share_of_missed'], 0)} of missed vs "
                f"{pct(lead['share_of_caught'], 0)} of caught, Holm {p_value(lead['p_holm'])}).")
    s = significant.sort_values("lift", ascending=False, kind="stable").iloc[0]  # as the lessons pick it
    side = "over" if s["share_of_missed"] > s["share_of_caught"] else "under"
    return (f"{never}; they are {side}-represented in {words(s['attribute'])} = {words(s['value'])} "
            f"({pct(s['share_of_missed'], 0)} of missed vs {pct(s['share_of_caught'], 0)} of caught, Holm-adjusted "
            f"{p_value(s['p_holm'])}).")


def false_alarm(result: Result) -> str:
    return false_alarm_sentence(result.false_alarm) if result.is_month else ""


def false_alarm_sentence(fa: Mapping) -> str:
    if not fa.get("flagged_accounts"):
        return (f"No account was flagged between {day(fa['window_start'])} and {day(fa['window_end'])}, so no flag is "
                f"old enough to judge whether a churn followed it." if fa.get("window_start") else
                "No flag is old enough to judge whether a churn followed it.")
    return (f"Of {plural(fa['flagged_accounts'], 'account')} first flagged between {day(fa['window_start'])} and "
            f"{day(fa['window_end'])}, {count(fa['stayed'])} "
            f"({share_ci(fa['false_alarm_rate'], fa['false_alarm_low'], fa['false_alarm_high'])}) "
            f"{were(fa['stayed'])} still customers {fa['horizon_days']} days later. Flags younger "
            f"than {fa['horizon_days']} days are not judged yet (censored), and an account a CSM saved counts as a "
            "false alarm here, so this is an upper bound on wasted effort.")


def contrast(result: Result) -> str:
    if not result.is_month and len(result.gone) == 1:
        return account_contrast_sentence(result, result.gone["account_id"].iloc[0])
    return contrast_sentence(result.contrast, result.usage_share)


def account_contrast_sentence(result: Result, account_id: str) -> str:
    """One churned account against its look-alikes: no test on one pair, the numbers side by side."""
    pairs = result.pairs
    if pairs.empty:
        return "No retained account like it (same segment, paying on its last day and after) was found."
    text = (f"The table sets {label(result, account_id)} beside its "
            f"{plural(len(pairs), 'retained look-alike')} at the last check before it left (one account: the numbers "
            "side by side, no test).")
    share = result.usage_share
    if len(share) == 2:
        s = share.set_index("group")["median_share"]
        text += (f" In its last 4 weeks it used the product at {pct(s.get('churned'), 0)} of its own level 4\u20136 "
                 f"months earlier; its look-alikes, on the same weeks, at a median {pct(s.get('retained look-alikes'), 0)}.")
    return text


def contrast_sentence(contrast: pd.DataFrame, share: pd.DataFrame, alpha: float = 0.05) -> str:
    """How churned accounts differed from their look-alikes; ``share``: recent usage as a share of
    each group's own earlier level (:func:`.compute_comparables.usage_retained_share`)."""
    text = ""
    if len(share) == 2:
        s = share.set_index("group")["median_share"]
        text = (f"In the last 4 weeks before the churn, churned accounts used the product at a median "
                f"{pct(s.get('churned'), 0)} of their own level 4\u20136 months earlier; their retained look-alikes, "
                f"on the same weeks, at {pct(s.get('retained look-alikes'), 0)}. ")
    if contrast.empty:
        return text + "No comparable retained accounts were found." if not text else text
    sig = contrast[contrast["p_holm"] < alpha]
    if sig.empty:
        return text + "No single metric differs significantly after Holm correction."
    names = ", ".join(f"{r.label} ({'lower' if r.paired_difference < 0 else 'higher'})" for r in sig.itertuples())
    return text + f"At the last check before the churn, they differed from their look-alikes in: {names} (Holm p < {alpha})."


def previous_source(result: Result) -> str:
    """Where the previous month's at-risk list came from."""
    if result.previous_file is None:
        return RECOMPUTED
    return f"the earlier run's list ({result.previous_file})"


def alerts(result: Result) -> str:
    if not result.is_month:
        return ""
    if result.alerts is None:
        return f"Alerts cannot be computed: {result.alerts_skipped or 'no at-risk list could be made'}."
    return alerts_sentence(result.alerts, result.month, previous_source(result))


def alerts_sentence(alerts_table: pd.DataFrame, month: pd.Period, source: str) -> str:
    if alerts_table.empty:
        return f"No paying account's warning got worse in {month_label(month)}."
    kinds = alerts_table["alert"].str.split("; ").explode().value_counts()
    parts = ", ".join(f"{n} {k}" for k, n in kinds.items())
    arr = f", {money(float(alerts_table['arr'].sum()), compact=True)} ARR" if "arr" in alerts_table else ""
    return (f"{plural(len(alerts_table), 'paying account')}{arr} raised a new alert in {month_label(month)}: "
            f"{parts}. Compared with the previous month's at-risk list, {source}.")


def alert_rule_text(s: Settings) -> str:
    if s.alert_top_share is None:
        return "turned red, dropped green to yellow, or crossed the risk threshold since last month"
    cap = f", at most {plural(s.alert_max_accounts, 'account')}" if s.alert_max_accounts is not None else ""
    return (f"entered the top {pct(s.alert_top_share, pct_decimals(s.alert_top_share))} of paying accounts by churn "
            f"probability{cap} since last month (or is in it at its first score)")


def alert_rule(result: Result) -> str:
    """The alert rule in words and how often its alerts, and the previous rule's, were false on the past
    months whose horizon has passed (:func:`.compute_alerts.alert_audit`), generated from the numbers."""
    if not result.is_month:
        return ""
    s, summary = result.settings, result.alert_rule_summary
    text = f"An account alerts when it {alert_rule_text(s)}."
    now = summary.get("this_month")
    if now and now["band"]:
        floor = now["min_probability"]
        text += (f" This month the band holds the {count(now['band'])} riskiest of {plural(now['paying'], 'paying account')}"
                 f" (churn probability {pct(floor, pct_decimals(floor))} or more).")
    band, previous = summary.get("band", {}), summary.get("previous", {})
    if not band.get("months"):
        return text + " No past month's alerts can be judged yet (their horizon has not passed)."

    def judged(part: Mapping) -> str:
        if not part["alerts"]:
            return "no alert"
        per_month = part["alerts_per_month"]
        return (f"{plural(part['alerts'], 'alert')} ({number(per_month, 0 if per_month >= 1 else 1)} a month), "
                f"of which {count(part['false_alarms'])} "
                f"({share_ci(part['false_alarm_rate'], part['false_alarm_low'], part['false_alarm_high'])}) "
                + ("was a false alarm" if part["false_alarms"] == 1 else "were false alarms"))

    months = window_label(pd.Period(band["first_month"], "M"), pd.Period(band["last_month"], "M"))
    current, other = ("band", "previous") if s.alert_top_share is not None else ("previous", "band")
    other_words = ("the previous rule (turned red, green to yellow, crossed the risk threshold)" if other == "previous"
                   else f"the top-{pct(s.alert_top_share or 0.02, 0)} band rule")
    parts = {"band": band, "previous": previous}
    text += (f" On the {plural(band['months'], 'past month')} whose {s.horizon_days} days have passed ({months}), it raised "
             f"{judged(parts[current])}" + (f": still paying {s.horizon_days} days later" if parts[current]["alerts"] else "")
             + f". {other_words[0].upper() + other_words[1:]} raised {judged(parts[other])}. Among all paying accounts, "
             f"{pct(band['base_rate'], pct_decimals(band['base_rate']))} churned within {s.horizon_days} days of a check; "
             "a save by a CSM counts as a false alarm here.")
    return text


def rollup(result: Result) -> str:
    return rollup_sentence(result.rollup_total) if result.is_month else ""


def rollup_sentence(total: Mapping | None) -> str:
    """The roll-up's misses (:func:`.compute_audit.rollup_total`)."""
    if total is None:
        return "No checked churn in these months."
    return (f"Over these {plural(total['months'], 'month')}, {total['missed']} of {total['checked_churns']} checked "
            f"churns ({share_ci(total['missed_share'], total['missed_low'], total['missed_high'])}) "
            f"{were(total['missed'])} never flagged; the highest monthly share was "
            f"{month_label(total['worst_month'])} ({total['worst_missed']} of "
            f"{total['worst_checked']}). Monthly shares rest on few churns: read their intervals before calling a "
            "trend.")


# --------------------------------------------------------------------------------------------------
# Conventions, method, notes
# --------------------------------------------------------------------------------------------------
def conventions(result: Result) -> tuple[dict, dict]:
    """The conventions box of the report and a note on some of them."""
    s, checks = result.settings, result.checks
    assert checks is not None, "a built postmortem has its checks"
    if s.risk_threshold is not None:
        threshold = pct(s.risk_threshold, 0)
    elif checks.thresholds:
        threshold = (f"1.5 x the churn rate known at the check (the at-risk list's rule; "
                     f"{pct(checks.thresholds[max(checks.thresholds)])} this month)")
    else:
        threshold = "1.5 x the churn rate known at the check"
    health_every = ("monthly" if result.is_month or not s.account_health_every_days
                    else f"every {s.account_health_every_days} days (reviewed accounts), monthly (others)")
    values = {
        "review": f"every churn of {month_label(result.month)}" if result.is_month
        else f"accounts {', '.join(result.account_ids or [])} (as of the end of {month_label(result.month)})",
        "churn definition": "paying spells (csresearch.core.revenue.paying_spells): churn date = first unpaid day",
        "churn_convention": s.churn_convention,
        "reactivation_window_days": s.reactivation_window_days,
        "count_same_month_churn": s.count_same_month_churn,
        "value_milestone": s.value_milestone,
        "ARR lost": "12 x MRR on the last paid day",
        "health score": s.health_score_file,
        "flagged": f"health band red, or churn risk within {s.horizon_days} days >= {threshold}",
        "look-back": f"the {plural(s.timeline_months, 'monthly check')} before each churn",
        "compared with": ("accounts that stayed: checked in the same monthly checks, no churn from the first of them "
                          "to the month's end"),
        "warning lead": "from the start of the warning still standing at the last check before the churn",
        "checks": f"risk list monthly (model refitted every {s.refit_months} months); health score {health_every}",
        "alerts": f"an account {alert_rule_text(s)}",
        "timeline_months": s.timeline_months,
        "rollup_months": s.rollup_months,
        "comparables": f"{s.comparables_per_account} per churn, retained >= {s.retained_days} days",
        "reason_match_days": s.reason_match_days,
    }
    notes = {
        "churn_convention": "month_end: a churn belongs to the month of its first unpaid day; period_start: of its last paid day",
        "reactivation_window_days": "a gap shorter than this is not a churn",
        "count_same_month_churn": "false drops accounts that joined and left within one month",
        "checks": "each check uses only data from before its date",
        "reason_match_days": "a cancellation form within this many days of the billing churn date is its reason",
    }
    return values, notes


def method_notes(result: Result) -> str:
    """How censoring, leakage, multiple comparisons and selection bias are handled, in a few lines."""
    s = result.settings
    return (
        "**How to read the numbers.** "
        f"*Leakage:* every check uses only data from before its date, and the risk model at each check learned only "
        f"from outcomes known by then (churn windows of {s.horizon_days} days already closed). "
        f"*Censoring:* a flag younger than {s.horizon_days} days is not judged a hit or a false alarm yet; churns are "
        "read as of the report month's end, so a later reactivation can restate them. "
        "*Comparator:* the share of churns flagged is read beside the share of accounts that stayed and were flagged "
        "at the same monthly checks, each with a Wilson 95% interval; a score that flags everyone would catch every "
        "churn and flag every account that stays. "
        "*Lead time* counts from the start of the warning still standing at the last check before the churn, not "
        "from an older flag that had cleared. "
        "*Multiple comparisons:* what missed churns have in common, and how churned accounts differ from their "
        "look-alikes, are tested across many values at once, so p-values are Holm-corrected. "
        "*Selection bias:* cancellation reasons are self-reported; look-alikes are matched on what we observe, not on "
        "why accounts differ; a flag that prompted a CSM save counts as a false alarm. "
        "Rates carry Wilson 95% intervals; medians bootstrap 95% intervals. "
        f"*Sampling:* {sampling_text(result.checks) if result.checks is not None else 'no risk model was fitted.'}"
    )


def sampling_text(checks: Checks) -> str:
    """What the risk model's refits were trained on, generated from the fits (a sample is stated with
    its numbers: :func:`csresearch.core.risk.sampling_sentence`)."""
    fits = checks.fits
    if not fits:
        return "No risk model could be fitted (too little closed history)."
    cap = count(checks.max_train_rows) if checks.max_train_rows is not None else "no cap"
    sampled = {when: s for when, s in fits.items() if s is not None}
    if not sampled:
        return (f"Each of the risk model's {len(fits)} refits was trained on every closed observation (the cap, "
                f"max_train_rows, is {cap} rows).")
    latest = max(sampled)
    return (risk.sampling_sentence(sampled[latest], "The risk models").rstrip(".")
            + f" (numbers of the refit at the {day(latest)} check; {len(sampled)} of the {len(fits)} refits were "
            f"sampled this way, max_train_rows = {cap}).")


def notes(result: Result) -> list[str]:
    """Sections switched off or limited: optional tables missing, alerts that could not be computed."""
    out = [f"no `{table}` table: {TABLE_EFFECTS[table]} skipped" for table in result.missing_tables]
    if result.alerts_skipped is not None:
        out.append(f"alerts skipped: {result.alerts_skipped}")
    return out


def notes_text(result: Result) -> str:
    found = notes(result)
    if not found:
        return "Every optional table this report uses is present."
    return "**Sections switched off or limited:** " + "; ".join(found) + "."


# --------------------------------------------------------------------------------------------------
# The index page: KPIs and the words of summary.json
# --------------------------------------------------------------------------------------------------
def alerts_link(result: Result) -> dict:
    return {"href": f"{result.settings.notebook}/alerts.csv",
            "text": f"alerts.csv ({plural(result.new_alerts, 'new alert')})"}


def kpis(result: Result) -> list[Kpi]:
    """Headline numbers for the index page. The share of churns flagged never stands alone: its KPI
    carries the share of accounts that stayed flagged at the same checks."""
    s, fa, gone = result.audit_summary, result.false_alarm, result.gone
    out = []
    if result.is_month:
        out.append(kpi("Churned accounts", int(len(gone)), count(len(gone))))
        out.append(kpi("ARR lost", float(gone["arr_lost"].sum()), money(float(gone["arr_lost"].sum()), compact=True)))
    else:
        out.append(kpi("Accounts reviewed", int(len(result.churned)), f"{len(result.churned)} ({len(gone)} churned)"))
    row = record_row(result.record, "last_check")
    if row is not None and row["churns"]:
        stayed = (f"; stayed: {rate_ci(row['false_alarm_rate'], row['false_alarm_low'], row['false_alarm_high'])}"
                  if row["stayed"] else "; no account stayed to compare with")
        out.append(kpi("Flagged at the last check before churn", row["recall"],
                       f"{flagged_share(row)}{stayed}", comparator=row["false_alarm_rate"] if row["stayed"] else None))
    if s.get("warned"):
        low, high = s["median_standing_lead_low"], s["median_standing_lead_high"]
        ci = "" if pd.isna(low) else f" ({days_ci(low, high)})"
        out.append(kpi("Median standing warning", s["median_standing_lead_days"],
                       f"{about(s['median_standing_lead_days'], 'day')} before the churn{ci}"))
    if not result.is_month:
        return out
    n_alerts = result.new_alerts
    out.append(kpi("New alerts", n_alerts, plural(n_alerts, "account"), link=alerts_link(result)["href"]))
    rule = result.alert_rule_summary.get(result.current_rule, {})
    if rule.get("alerts"):
        out.append(kpi("Alert false alarms (past months)", rule["false_alarm_rate"],
                       rate_ci(rule["false_alarm_rate"], rule["false_alarm_low"], rule["false_alarm_high"])))
    if fa.get("flagged_accounts"):
        out.append(kpi(f"Flags without a churn within {fa['horizon_days']} days", fa["false_alarm_rate"],
                       rate_ci(fa["false_alarm_rate"], fa["false_alarm_low"], fa["false_alarm_high"])))
    return out


def records(result: Result) -> dict:
    """The words of summary.json beside the result's numbers: title, notes, where the previous list
    came from, the sampling and the alert rule in words, and the link to alerts.csv (a month review)."""
    return {
        "title": "Churn postmortem" if result.is_month else "Churn postmortem: account review",
        "previous_list_source": previous_source(result),
        "notes": notes(result),
        "risk_model_sampling": sampling_text(result.checks) if result.checks is not None else "",
        "alert_rule": alert_rule_text(result.settings),
        "links": [alerts_link(result)] if result.is_month else [],
    }
