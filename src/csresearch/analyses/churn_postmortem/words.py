"""Sentences, the headline, the conventions box and the KPI text of the churn postmortem, read from its
result. A month review tells the month's churns against the fleet; an account review tells the
reviewed accounts' story only (no fleet-wide section: :func:`fleet_section` is empty for it).

Every share of churns flagged is stated beside the share of accounts that stayed and were flagged over
the same checks (:func:`.compute_audit.warning_record`): a recall without its false-alarm rate says
nothing about the warnings.

Every sentence is written in English and marked for the catalog (:mod:`csresearch.i18n`): whole
sentences per variant, named placeholders filled after translation, plurals with ``ngettext``; the
report's headings and the paragraphs under them are :data:`SECTIONS`."""

from __future__ import annotations

from typing import Mapping

import pandas as pd

from ...i18n import N_, _, ngettext
from ...text import count, day, money, month_label, number, p_value, pct, window_label, words
from ..base import Kpi, Section, kpi
from .compute_churns import NOT_RECORDED
from .compute_reasons import Themes
from .result import Result
from .words_method import (  # noqa: F401 (re-exported: the notebook reads them as words.X)
    alert_rule_text,
    conventions,
    method_notes,
    notes,
    notes_text,
    risk_sampling_sentence,
    sampling_text,
)
from .words_warning import (
    about,
    account_sentence,
    against,
    counted,
    days_ci,
    flagged_share,
    flaggers,
    label_of,
    pct_decimals,
    rate_ci,
    record_row,
    record_sentence,
    sentences,
    share_ci,
    source_text,
    stayed_clause,
    trigger_text,
)

RECOMPUTED = N_("recomputed as of the previous month (no earlier run found)")

# the notebook's headings and the paragraphs under them: nb.section(words.section("churn_list")); the
# fleet-wide ones of a month review (themes, missed, alerts, lessons) through :func:`fleet_section`
SECTIONS = {
    "intro": Section("churn-postmortem", N_("Churn postmortem"), N_(
        "What we lost, why, whether we saw it coming, and what we change. The month review covers every churn of "
        "the month against the accounts that stayed; an account review (`csresearch run --only 05_churn_postmortem "
        "-p account_ids=A00012`) tells one or a few accounts' story only: their timeline, what warned and when, "
        "what they said when they left, and the retained accounts most like them."), level=1),
    "quality": Section("data-quality", N_("Data quality"), N_(
        "Every row read is either used or rejected with a reason. Optional tables that are missing switch off the "
        "sections that need them, and say so.")),
    "churn_list": Section("churn-list", N_("1. The churn list"), N_(
        "Each churned account with the ARR it took, how long it had been a customer, its segment and plan, what it "
        "said on the cancellation form and what the warnings said of it. ARR lost is 12 x the MRR on its last paid "
        "day.")),
    "reasons": Section("why-they-left", N_("2. Why they left"), N_(
        "Reasons come from the cancellation form (self-reported, one per churn); churns without a form are kept as "
        "*not recorded* rather than dropped. A month review ranks them by accounts and by ARR (fix the few reasons "
        "that hold most of the loss first) and groups the free-text comments; an account review quotes each "
        "account's form.")),
    "timelines": Section("timelines", N_("3. Timelines"), N_(
        "What each account's last months looked like: usage of the key events, and the monthly checks at which the "
        "health score or the risk list flagged it (shaded), against the churn date (black line); the dashed line is "
        "the start of the warning still standing at the churn. A month review draws one small panel per churn "
        "(largest ARR first); an account review a full page: MRR, usage, tickets, NPS, CSM activities and the "
        "checks.")),
    "warnings": Section("what-warned", N_("4. What warned, and when"), N_(
        "Each churn is checked against the health score (red band) and the risk list (churn probability at or "
        "above the threshold) as they stood at each monthly check before it. A share of churns flagged means "
        "little alone: the same checks also flag accounts that stay, so every share below stands beside the share "
        "of accounts that stayed and were flagged over the same checks. The lead time counts from the start of the "
        "warning still standing at the last check before the churn, not from an old flag that had cleared.")),
    "comparables": Section("comparable-accounts", N_("5. Comparable retained accounts"), N_(
        "For each churned account, the retained accounts most like it on the day before it left: same segment (and "
        "plan when enough share it), nearest tenure and MRR. How did their paths differ? Matching is on what we can "
        "see only, so the differences describe, they do not prove cause.")),
    "themes": Section("comment-themes", N_("Themes in the comments"), N_(
        "The free-text comments grouped by the words they share (TF-IDF and non-negative matrix factorisation, "
        "computed here; no text leaves the machine). A theme is named by its most typical words."), level=3),
    "missed": Section("missed-churns", N_("Missed churns and false alarms"), N_(
        "What the churns that were never flagged have in common (each attribute value compared between missed and "
        "caught churns, Fisher's exact test, Holm-corrected across all values), and how often a flag was not "
        "followed by a churn within {horizon_days} days."), level=3),
    "alerts": Section("alerts", N_("6. Alerts going forward"), N_(
        "Paying accounts whose warning got worse since last month, each with what drives its risk, how its health "
        "score moved and the playbook to run; below, how often such alerts were false on past months whose outcome "
        "is known, against the previous rule. The full list is `alerts.csv`, linked from the index page.")),
    "lessons": Section("lessons", N_("7. Lessons"), N_(
        "Findings generated from the numbers above, each pointing to the playbook it calls for; the owner column is "
        "filled in at the review meeting. Below, the reasons and missed signals over the last months.")),
}


def section(key: str) -> Section:
    return SECTIONS[key]


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
        out.append(_("The health score cannot be computed on this data: none of its components' metrics (usage, "
                     "tickets, NPS, onboarding) is in the tables, so only the risk list can flag."))
    if checks.unmodelled:
        dates = sorted(checks.unmodelled)
        reason = checks.unmodelled[dates[-1]]
        if not checks.models:
            out.append(_("No risk model could be fitted: {reason}.").format(reason=reason))
        elif len(dates) > 1:
            out.append(_("No risk model stood at the checks of {first} to {last} ({reason}).").format(
                first=day(dates[0]), last=day(dates[-1]), reason=reason))
        else:
            out.append(_("No risk model stood at the {day} check ({reason}).").format(day=day(dates[0]), reason=reason))
    if not checks.health_scored and not checks.models:
        out.append(_("Nothing could flag, so no warning can be judged."))
    return sentences(*out)


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
        alert_text = _("; {severe} turned red or crossed the risk threshold this month ({alerts} in all)").format(
            severe=counted(severe_alerts, "paying account"), alerts=counted(new_alerts, "alert"))
    elif new_alerts is not None:
        alert_text = _("; {accounts} raised a new alert this month").format(
            accounts=counted(new_alerts, "paying account"))
    if churned.empty:
        return _("No account churned in {month}{alerts}.").format(month=name, alerts=alert_text)
    n, arr = len(churned), float(churned["arr_lost"].sum())
    text = _("{accounts} churned in {month}, taking {arr} ARR").format(
        accounts=counted(n, "account"), month=name, arr=money(arr, compact=True))
    recorded = pareto[pareto["reason"] != NOT_RECORDED] if not pareto.empty else pareto
    if len(recorded):
        top = recorded.iloc[0]
        text += _("; '{reason}' cost the most ({share} of ARR lost)").format(
            reason=label_of(top["reason"]), share=pct(top["arr_share"], 0))
    row = record_row(record, "last_check")
    if row is not None and row["churns"]:
        text += _(". At the last check before they left, the warnings flagged {flagged}{against}").format(
            flagged=flagged_share(row), against=against(row))
        if summary.get("warned"):
            text += _("; those warnings had stood a median {median}").format(
                median=about(summary["median_standing_lead_days"], "day"))
    return text + alert_text + _(".")


def account_sentences(result: Result) -> list[str]:
    """One sentence per reviewed account (:func:`account_sentence`), in the churn list's order."""
    audit = result.review_audit().set_index(["account_id", "churn_date"])
    lines = []
    for _i, row in result.churned.iterrows():
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
    text = _("{accounts} reviewed: {churned} churned, taking {arr} ARR").format(
        accounts=counted(len(churned), "account"), churned=len(gone),
        arr=money(float(gone["arr_lost"].sum()), compact=True))
    row = record_row(result.record, "last_check")
    if row is not None and row["churns"]:
        text += _("; at the last check before they left, the warnings flagged {flagged}{against}").format(
            flagged=flagged_share(row), against=against(row))
    return text + _(".")


def label(result: Result, account_id: str) -> str:
    """An account as the report names it: ``Acme (A00012)``, or the id alone without a name."""
    row = result.churned.set_index("account_id").get("account_name", pd.Series(dtype=object)).get(account_id)
    return _("{name} ({id})").format(name=row, id=account_id) if isinstance(row, str) and row and row != account_id \
        else account_id


def panel_label(result: Result, account_id: str, arr_lost: float) -> str:
    """The title of an account's small panel: its name and the ARR it took."""
    return _("{account} · {arr} ARR").format(account=label(result, account_id), arr=money(arr_lost, compact=True))


def page_label(result: Result, account_id: str) -> str:
    """The title of an account's full page: name, status, ARR lost and reason."""
    row = result.churned.set_index("account_id").loc[account_id]
    status = "" if row["status"] == "churned" else f" · {label_of(row['status'])}"
    reason = (_(" · reason: {reason}").format(reason=label_of(row["reason"]))
              if row.get("reason") not in (None, NOT_RECORDED) else "")
    value = (_("{arr} ARR lost").format(arr=money(float(row["arr_lost"]), compact=True)) if row["status"] == "churned"
             else "")
    return f"{label(result, account_id)}{status} · {value}{reason}".replace(" ·  ·", " ·").strip(" ·")


def scope_text(result: Result) -> str:
    if result.is_month:
        return _("in {month}").format(month=month_label(result.month))
    return ngettext("of the reviewed account", "of the reviewed accounts", len(result.account_ids or []))


def window_text(result: Result) -> str:
    months = result.settings.rollup_months
    first = result.month - (months - 1)
    return _("over the {months} {window}").format(months=counted(months, "month"),
                                                  window=window_label(first, result.month))


def fleet_section(result: Result, key: str) -> Section:
    """The heading and introduction of a fleet-wide section of the month review (``themes``, ``missed``,
    ``alerts``, ``lessons``), translated (the notebook shows it with ``nb.section``); empty for an
    account review, which tells the reviewed accounts' story only."""
    shown = SECTIONS[key]
    if not result.is_month or key == "themes" and ("churn_reasons" in result.missing_tables or result.gone.empty):
        return Section(shown.anchor, "", "", shown.level)
    return Section(shown.anchor, _(shown.heading),
                   _(shown.text).format(horizon_days=result.settings.horizon_days), shown.level)


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
        return _("No churn to list.")
    seg = gone["segment"].fillna("unknown").value_counts()
    parts = _(", ").join(_("{n} {segment}").format(n=n, segment=label_of(s)) for s, n in seg.items())
    competitor = gone["competitor"].notna().sum() if "competitor" in gone else 0
    text = _("{churns}, {arr} ARR lost in total ({segments}); median tenure {tenure}; the largest single loss was "
             "{largest}.").format(churns=counted(len(gone), "churn"), arr=money(float(gone["arr_lost"].sum()), compact=True),
                                  segments=parts, tenure=about(gone["tenure_months"].median(), "month"),
                                  largest=money(float(gone["arr_lost"].max()), compact=True))
    return text + (_(" {n} left for a named competitor.").format(n=competitor) if competitor else "")


def reasons(result: Result) -> str:
    """Why they left: the month's reasons ranked, or each reviewed account's own form."""
    if "churn_reasons" in result.missing_tables:
        return _("No `churn_reasons` table: why accounts left cannot be read from a cancellation form.")
    if not result.is_month:
        return "\n".join("- " + line for line in account_reasons(result.gone, result.settings.reason_match_days))
    return reasons_sentence(result.pareto)


def account_reasons(gone: pd.DataFrame, match_days: int) -> list[str]:
    """Each reviewed churn's cancellation form: reason, sub-reason, competitor and comment."""
    lines = []
    for row in gone.itertuples(index=False):
        name = getattr(row, "account_name", None) or row.account_id
        who = _("{name} ({id})").format(name=name, id=row.account_id) if name != row.account_id else name
        if row.reason in (None, NOT_RECORDED):
            lines.append(_("{account}: no cancellation form within {days} of its churn.").format(
                account=who, days=counted(match_days, "day")))
            continue
        detail = _(", ").join(label_of(v) for v in (getattr(row, "sub_reason", None), getattr(row, "competitor", None))
                              if isinstance(v, str) and v)
        comment = getattr(row, "comment", None)
        said = (_(" and wrote: \u201c{comment}\u201d").format(comment=comment.strip())
                if isinstance(comment, str) and comment.strip() else _("; no comment."))
        lines.append(_("{account} gave '{reason}'").format(account=who, reason=label_of(row.reason))
                     + (_(" ({detail})").format(detail=detail) if detail else "") + said)
    return lines or [_("None of the reviewed accounts churned, so there is no cancellation form to read.")]


def reasons_sentence(pareto: pd.DataFrame) -> str:
    if pareto.empty:
        return _("No churn, so no reasons to rank.")
    top = pareto.sort_values("arr_lost", ascending=False)
    needed = int((top["cum_arr_share"] < 0.8).sum()) + 1
    named = _(", ").join(label_of(r) for r in top["reason"].head(needed))
    by_count = pareto.sort_values(["churns", "arr_lost"], ascending=False).iloc[0]
    unknown = int(pareto.loc[pareto["reason"] == NOT_RECORDED, "churns"].sum())
    text = ngettext("{reasons} accounts for at least 80% of the ARR lost: {named}.",
                    "{reasons} account for at least 80% of the ARR lost: {named}.", needed).format(
        reasons=counted(needed, "reason"), named=named)
    text += _(" By number of accounts, '{reason}' leads ({n} of {total}).").format(
        reason=label_of(by_count["reason"]), n=int(by_count["churns"]), total=int(pareto["churns"].sum()))
    if unknown:
        text += ngettext(" {churns} has no cancellation reason recorded: it is kept as 'not recorded'.",
                         " {churns} have no cancellation reason recorded: they are kept as 'not recorded'.",
                         unknown).format(churns=counted(unknown, "churn"))
    return text


def themes(result: Result) -> str:
    """The comment themes of a month review ("" for an account review, whose comments are quoted whole,
    and when there is no ``churn_reasons`` table, which :func:`reasons` says)."""
    if not result.is_month or "churn_reasons" in result.missing_tables:
        return ""
    if result.themes is None:
        return _("No free-text comments to group.")
    return themes_sentence(result.themes)


def method_text(method: str) -> str:
    """How the themes were found (:attr:`csresearch.core.themes.Themes.method`), in the run's language."""
    parts = {"TF-IDF + NMF": _("TF-IDF + NMF"), "TF-IDF (one theme)": _("TF-IDF (one theme)"),
             "Japanese words by MeCab (fugashi) with UniDic": _("Japanese words by MeCab (fugashi) with UniDic")}
    return _("; ").join(parts.get(p, p) for p in str(method).split("; "))


def themes_sentence(themes: Themes) -> str:
    if themes.themes.empty:
        return _("No free-text comments to group.")
    top = themes.themes.iloc[0]
    n = int(themes.themes["comments"].sum())
    return ngettext(
        "{comments} falls into {themes} ({method}, computed locally); the largest, '{theme}', holds {n}, "
        "e.g. \u201c{example}\u201d",
        "{comments} fall into {themes} ({method}, computed locally); the largest, '{theme}', holds {n}, "
        "e.g. \u201c{example}\u201d", n).format(
        comments=counted(n, "comment"), themes=counted(len(themes.themes), "theme"), method=method_text(themes.method),
        theme=top["theme"], n=int(top["comments"]), example=top["example"])


def timelines(result: Result) -> str:
    """What the timelines section drew."""
    max_panels = result.settings.small_multiples_max
    gone = result.gone
    marks = _("the dashed line marks the start of the warning still standing at the churn")
    if result.is_month:
        if gone.empty:
            return _("No churn this month, so no timelines.")
        shown = min(len(gone), max_panels)
        text = _("{shown} of {total} churned accounts drawn (largest ARR lost first); {marks}.").format(
            shown=shown, total=len(gone), marks=marks)
        if not result.key_events:
            return text + _(" No usage data: the panels show only the flags.")
        return text + _(" Usage counts the key events: {events}.").format(
            events=_(", ").join(words(e) for e in result.key_events))
    every = result.settings.account_health_every_days
    scored = result.checks is not None and result.checks.health_scored
    score = (_("no health score (none of its metrics is in the data): the last panel shows the churn risk")
             if not scored else _("health score every {days} days between the monthly checks").format(days=every)
             if every else _("health score at the monthly checks"))
    return _("Key events: {events}; {score}; shading marks the monthly checks that flagged the account (the checks "
             "the month review judges); {marks}.").format(
        events=_(", ").join(words(e) for e in result.key_events) or _("none (no usage data)"), score=score,
        marks=marks)


def audit_review(result: Result) -> str:
    """What warned and when: the review's churns against the accounts that stayed over the same checks
    (a month review), or each reviewed account's checks (an account review)."""
    sources = flag_sources(result)
    if not result.is_month:
        lines = [account_warning(result, a) for a in result.gone["account_id"]]
        parts = [sources] if sources else []
        parts.append("\n".join("- " + line for line in lines) if lines else _("None of the reviewed accounts churned."))
        return "\n\n".join(parts)
    text = record_sentence(result.audit_summary, result.record, scope_text(result), result.settings.timeline_months,
                           flaggers(result.checks))
    return sentences(sources, text)


def audit_window(result: Result) -> str:
    """The early-warning record over the roll-up window (a month review only)."""
    if not result.is_month:
        return ""
    return record_sentence(result.audit_summary_all, result.record_window, window_text(result),
                           result.settings.timeline_months, flaggers(result.checks),
                           stayed_as=_("still paying at the end of {month}").format(month=month_label(result.month)))


def account_warning(result: Result, account_id: str) -> str:
    """What warned one reviewed account and when: its monthly checks in the look-back, the flags, and the
    warning standing at the last check (the dates the month review reports)."""
    audit = result.review_audit().set_index("account_id")
    who = label(result, account_id)
    if account_id not in audit.index or audit.loc[account_id, "outcome"] == "not checked":
        return _("{account}: no monthly check that could flag fell before its churn.").format(account=who)
    row = audit.loc[account_id]
    checks = result.account_checks(account_id)
    seen = checks[(checks["observation_date"] < row["churn_date"]) & checks["scored"].astype(bool)
                  & (checks["observation_date"] >= row["churn_date"] - pd.DateOffset(months=result.settings.timeline_months))]
    flagged = seen[seen["flagged"].astype(bool)]
    text = _("{account}: flagged at {flagged} of its {checks} before it left").format(
        account=who, flagged=len(flagged), checks=counted(int(row["checks"]), "monthly check"))
    if len(flagged):
        text += _(" ({days})").format(days=_(", ").join(day(d) for d in flagged["observation_date"]))
    if row["warned_at_last_check"]:
        text += _("; the warning standing at the last check ({last_check}) began {since}, {days} before the churn, "
                  "by the {source}: {trigger}").format(
            last_check=day(row["last_check"]), since=day(row["flagged_since"]),
            days=counted(int(row["standing_lead_days"]), "day"), source=source_text(row["standing_source"]),
            trigger=trigger_text(row["standing_trigger"]))
    elif len(flagged):
        text += _("; not flagged at the last check ({last_check})").format(last_check=day(row["last_check"]))
    record = result.record_of(row["churn_month"])
    comparator = record_row(record, "last_check" if row["warned_at_last_check"] else "lookback")
    if comparator is not None:
        text += stayed_clause(comparator, "last_check" if row["warned_at_last_check"] else "same")
    return text + _(".")


def missed(result: Result) -> str:
    return missed_sentence(result.missed, result.audit_summary_all) if result.is_month else ""


def missed_sentence(missed: pd.DataFrame, summary: Mapping, alpha: float = 0.05) -> str:
    if not summary.get("checked"):
        return _("No churn that a check saw, so no missed churn to profile.")
    if not summary.get("missed"):
        return _("No churn was missed: every checked churn was flagged at least once.")
    n = int(summary["missed"])
    never = ngettext("{churns} was never flagged", "{churns} were never flagged", n).format(churns=counted(n, "churn"))
    if missed.empty:
        return _("{never}; too few caught or missed churns to compare them.").format(never=never)
    significant = missed[missed["p_holm"] < alpha]
    if significant.empty:
        lead = missed.iloc[0]
        return ngettext(
            "{never}. No segment, plan, tenure, size or reason sets it apart after Holm correction across "
            "{comparisons}; the largest gap is {attribute} = {value} ({missed} of missed vs {caught} of caught, Holm "
            "{p}).",
            "{never}. No segment, plan, tenure, size or reason sets them apart after Holm correction across "
            "{comparisons}; the largest gap is {attribute} = {value} ({missed} of missed vs {caught} of caught, Holm "
            "{p}).", n).format(
            never=never, comparisons=counted(len(missed), "comparison"), attribute=label_of(lead["attribute"]),
            value=label_of(lead["value"]), missed=pct(lead["share_of_missed"], 0), caught=pct(lead["share_of_caught"], 0),
            p=p_value(lead["p_holm"]))
    s = significant.sort_values("lift", ascending=False, kind="stable").iloc[0]  # as the lessons pick it
    over = s["share_of_missed"] > s["share_of_caught"]
    template = (_("{never}; they are over-represented in {attribute} = {value} ({missed} of missed vs {caught} of "
                  "caught, Holm-adjusted {p}).") if over else
                _("{never}; they are under-represented in {attribute} = {value} ({missed} of missed vs {caught} of "
                  "caught, Holm-adjusted {p})."))
    return template.format(never=never, attribute=label_of(s["attribute"]), value=label_of(s["value"]),
                           missed=pct(s["share_of_missed"], 0), caught=pct(s["share_of_caught"], 0),
                           p=p_value(s["p_holm"]))


def false_alarm(result: Result) -> str:
    return false_alarm_sentence(result.false_alarm) if result.is_month else ""


def false_alarm_sentence(fa: Mapping) -> str:
    if not fa.get("flagged_accounts"):
        return (_("No account was flagged between {start} and {end}, so no flag is old enough to judge whether a churn "
                  "followed it.").format(start=day(fa["window_start"]), end=day(fa["window_end"]))
                if fa.get("window_start") else _("No flag is old enough to judge whether a churn followed it."))
    stayed = int(fa["stayed"])
    text = ngettext("Of {accounts} first flagged between {start} and {end}, {stayed} ({share}) was still customers "
                    "{days} days later.",
                    "Of {accounts} first flagged between {start} and {end}, {stayed} ({share}) were still customers "
                    "{days} days later.", stayed).format(
        accounts=counted(fa["flagged_accounts"], "account"), start=day(fa["window_start"]), end=day(fa["window_end"]),
        stayed=count(stayed), share=share_ci(fa["false_alarm_rate"], fa["false_alarm_low"], fa["false_alarm_high"]),
        days=fa["horizon_days"])
    return sentences(text, _("Flags younger than {days} days are not judged yet (censored), and an account a CSM "
                             "saved counts as a false alarm here, so this is an upper bound on wasted effort.").format(
        days=fa["horizon_days"]))


def contrast(result: Result) -> str:
    if not result.is_month and len(result.gone) == 1:
        return account_contrast_sentence(result, result.gone["account_id"].iloc[0])
    return contrast_sentence(result.contrast, result.usage_share)


def account_contrast_sentence(result: Result, account_id: str) -> str:
    """One churned account against its look-alikes: no test on one pair, the numbers side by side."""
    pairs = result.pairs
    if pairs.empty:
        return _("No retained account like it (same segment, paying on its last day and after) was found.")
    text = _("The table sets {account} beside its {lookalikes} at the last check before it left (one account: the "
             "numbers side by side, no test).").format(account=label(result, account_id),
                                                       lookalikes=counted(len(pairs), "retained look-alike"))
    share = result.usage_share
    if len(share) == 2:
        s = share.set_index("group")["median_share"]
        text += _(" In its last 4 weeks it used the product at {own} of its own level 4\u20136 months earlier; its "
                  "look-alikes, on the same weeks, at a median {theirs}.").format(
            own=pct(s.get("churned"), 0), theirs=pct(s.get("retained look-alikes"), 0))
    return text


def contrast_sentence(contrast: pd.DataFrame, share: pd.DataFrame, alpha: float = 0.05) -> str:
    """How churned accounts differed from their look-alikes; ``share``: recent usage as a share of
    each group's own earlier level (:func:`.compute_comparables.usage_retained_share`)."""
    text = ""
    if len(share) == 2:
        s = share.set_index("group")["median_share"]
        text = _("In the last 4 weeks before the churn, churned accounts used the product at a median {churned} of "
                 "their own level 4\u20136 months earlier; their retained look-alikes, on the same weeks, at "
                 "{retained}. ").format(churned=pct(s.get("churned"), 0), retained=pct(s.get("retained look-alikes"), 0))
    if contrast.empty:
        return text if text else _("No comparable retained accounts were found.")
    sig = contrast[contrast["p_holm"] < alpha]
    if sig.empty:
        return text + _("No single metric differs significantly after Holm correction.")
    names = _(", ").join((_("{metric} (lower)") if r.paired_difference < 0 else _("{metric} (higher)")).format(
        metric=label_of(r.label, as_words=False)) for r in sig.itertuples())
    return text + _("At the last check before the churn, they differed from their look-alikes in: {metrics} (Holm "
                    "p < {alpha}).").format(metrics=names, alpha=alpha)


def previous_source(result: Result) -> str:
    """Where the previous month's at-risk list came from."""
    if result.previous_file is None:
        return _(RECOMPUTED)
    return _("the earlier run's list ({file})").format(file=result.previous_file)


def alerts(result: Result) -> str:
    if not result.is_month:
        return ""
    if result.alerts is None:
        return _("Alerts cannot be computed: {reason}.").format(
            reason=result.alerts_skipped or _("no at-risk list could be made"))
    return alerts_sentence(result.alerts, result.month, previous_source(result))


def alerts_sentence(alerts_table: pd.DataFrame, month: pd.Period, source: str) -> str:
    if alerts_table.empty:
        return _("No paying account's warning got worse in {month}.").format(month=month_label(month))
    kinds = alerts_table["alert"].str.split("; ").explode().value_counts()
    parts = _(", ").join(_("{n} {kind}").format(n=n, kind=label_of(k)) for k, n in kinds.items())
    arr = (_(", {arr} ARR").format(arr=money(float(alerts_table["arr"].sum()), compact=True))
           if "arr" in alerts_table else "")
    return _("{accounts}{arr} raised a new alert in {month}: {kinds}. Compared with the previous month's at-risk "
             "list, {source}.").format(accounts=counted(len(alerts_table), "paying account"), arr=arr,
                                       month=month_label(month), kinds=parts, source=source)


def alert_rule(result: Result) -> str:
    """The alert rule in words and how often its alerts, and the previous rule's, were false on the past
    months whose horizon has passed (:func:`.compute_alerts.alert_audit`), generated from the numbers."""
    if not result.is_month:
        return ""
    s, summary = result.settings, result.alert_rule_summary
    text = _("An account alerts when it {rule}.").format(rule=alert_rule_text(s))
    now = summary.get("this_month")
    if now and now["band"]:
        floor = now["min_probability"]
        text += _(" This month the band holds the {n} riskiest of {paying} (churn probability {floor} or "
                  "more).").format(n=count(now["band"]), paying=counted(now["paying"], "paying account"),
                                   floor=pct(floor, pct_decimals(floor)))
    band, previous = summary.get("band", {}), summary.get("previous", {})
    if not band.get("months"):
        return text + _(" No past month's alerts can be judged yet (their horizon has not passed).")

    def judged(part: Mapping) -> str:
        if not part["alerts"]:
            return _("no alert")
        per_month = part["alerts_per_month"]
        return ngettext("{alerts} ({per_month} a month), of which {false} ({share}) was a false alarm",
                        "{alerts} ({per_month} a month), of which {false} ({share}) were false alarms",
                        part["false_alarms"]).format(
            alerts=counted(part["alerts"], "alert"), per_month=number(per_month, 0 if per_month >= 1 else 1),
            false=count(part["false_alarms"]),
            share=share_ci(part["false_alarm_rate"], part["false_alarm_low"], part["false_alarm_high"]))

    months = window_label(pd.Period(band["first_month"], "M"), pd.Period(band["last_month"], "M"))
    current, other = ("band", "previous") if s.alert_top_share is not None else ("previous", "band")
    other_words = (_("The previous rule (turned red, green to yellow, crossed the risk threshold)") if other == "previous"
                   else _("The top-{share} band rule").format(share=pct(s.alert_top_share or 0.02, 0)))
    parts = {"band": band, "previous": previous}
    text += _(" On the {months} whose {days} days have passed ({window}), it raised {judged}").format(
        months=counted(band["months"], "past month"), days=s.horizon_days, window=months, judged=judged(parts[current]))
    if parts[current]["alerts"]:
        text += _(": still paying {days} days later").format(days=s.horizon_days)
    text += _(". {other} raised {judged}. Among all paying accounts, {base} churned within {days} days of a check; a "
              "save by a CSM counts as a false alarm here.").format(
        other=other_words, judged=judged(parts[other]), base=pct(band["base_rate"], pct_decimals(band["base_rate"])),
        days=s.horizon_days)
    return text


def rollup(result: Result) -> str:
    return rollup_sentence(result.rollup_total) if result.is_month else ""


def rollup_sentence(total: Mapping | None) -> str:
    """The roll-up's misses (:func:`.compute_audit.rollup_total`)."""
    if total is None:
        return _("No checked churn in these months.")
    return ngettext(
        "Over these {months}, {missed} of {checked} checked churns ({share}) was never flagged; the highest monthly "
        "share was {worst_month} ({worst_missed} of {worst_checked}). Monthly shares rest on few churns: read their "
        "intervals before calling a trend.",
        "Over these {months}, {missed} of {checked} checked churns ({share}) were never flagged; the highest monthly "
        "share was {worst_month} ({worst_missed} of {worst_checked}). Monthly shares rest on few churns: read their "
        "intervals before calling a trend.", int(total["missed"])).format(
        months=counted(total["months"], "month"), missed=total["missed"], checked=total["checked_churns"],
        share=share_ci(total["missed_share"], total["missed_low"], total["missed_high"]),
        worst_month=month_label(total["worst_month"]), worst_missed=total["worst_missed"],
        worst_checked=total["worst_checked"])


# --------------------------------------------------------------------------------------------------
# The index page: KPIs and the words of summary.json
# --------------------------------------------------------------------------------------------------
def alerts_link(result: Result) -> dict:
    return {"href": f"{result.settings.notebook}/alerts.csv",
            "text": _("alerts.csv ({alerts})").format(alerts=counted(result.new_alerts, "new alert"))}


def kpis(result: Result) -> list[Kpi]:
    """Headline numbers for the index page. The share of churns flagged never stands alone: its KPI
    carries the share of accounts that stayed flagged at the same checks."""
    s, fa, gone = result.audit_summary, result.false_alarm, result.gone
    out = []
    if result.is_month:
        out.append(kpi(_("Churned accounts"), int(len(gone)), count(len(gone))))
        out.append(kpi(_("ARR lost"), float(gone["arr_lost"].sum()), money(float(gone["arr_lost"].sum()), compact=True)))
    else:
        out.append(kpi(_("Accounts reviewed"), int(len(result.churned)),
                       _("{reviewed} ({churned} churned)").format(reviewed=len(result.churned), churned=len(gone))))
    row = record_row(result.record, "last_check")
    if row is not None and row["churns"]:
        stayed = (_("; stayed: {rate}").format(rate=rate_ci(row["false_alarm_rate"], row["false_alarm_low"],
                                                              row["false_alarm_high"]))
                  if row["stayed"] else _("; no account stayed to compare with"))
        out.append(kpi(_("Flagged at the last check before churn"), row["recall"],
                       f"{flagged_share(row)}{stayed}", comparator=row["false_alarm_rate"] if row["stayed"] else None))
    if s.get("warned"):
        low, high = s["median_standing_lead_low"], s["median_standing_lead_high"]
        ci = "" if pd.isna(low) else _(" ({ci})").format(ci=days_ci(low, high))
        out.append(kpi(_("Median standing warning"), s["median_standing_lead_days"],
                       _("{median} before the churn{ci}").format(median=about(s["median_standing_lead_days"], "day"),
                                                                ci=ci)))
    if not result.is_month:
        return out
    n_alerts = result.new_alerts
    out.append(kpi(_("New alerts"), n_alerts, counted(n_alerts, "account"), link=alerts_link(result)["href"]))
    rule = result.alert_rule_summary.get(result.current_rule, {})
    if rule.get("alerts"):
        out.append(kpi(_("Alert false alarms (past months)"), rule["false_alarm_rate"],
                       rate_ci(rule["false_alarm_rate"], rule["false_alarm_low"], rule["false_alarm_high"])))
    if fa.get("flagged_accounts"):
        out.append(kpi(_("Flags without a churn within {days} days").format(days=fa["horizon_days"]),
                       fa["false_alarm_rate"],
                       rate_ci(fa["false_alarm_rate"], fa["false_alarm_low"], fa["false_alarm_high"])))
    return out


def records(result: Result) -> dict:
    """The words of summary.json beside the result's numbers: title, notes, where the previous list
    came from, the sampling and the alert rule in words, and the link to alerts.csv (a month review)."""
    return {
        "title": _("Churn postmortem") if result.is_month else _("Churn postmortem: account review"),
        "previous_list_source": previous_source(result),
        "notes": notes(result),
        "risk_model_sampling": sampling_text(result.checks) if result.checks is not None else "",
        "alert_rule": alert_rule_text(result.settings),
        "links": [alerts_link(result)] if result.is_month else [],
    }
