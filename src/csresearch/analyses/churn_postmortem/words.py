"""Sentences, the headline, the conventions box, the lessons and the KPI text of the churn postmortem,
read from its result."""

from __future__ import annotations

from typing import Mapping

import pandas as pd

from ...core import risk
from ...text import count, day, interval, money, month_label, number, p_value, pct, plural, window_label, words
from ..base import Kpi, kpi
from .compute_checks import Checks
from .compute_churns import NOT_RECORDED
from .compute_reasons import Themes
from .result import Result
from .settings import Settings

RECOMPUTED = "recomputed as of the previous month (no earlier run found)"
TABLE_EFFECTS = {
    "churn_reasons": "churn reasons, competitors and comments",
    "usage_events": "usage timelines and usage comparisons",
    "support_tickets": "ticket timelines",
    "surveys": "NPS timelines",
    "cs_activities": "CSM activity timelines",
}


# --------------------------------------------------------------------------------------------------
# The units of this report's numbers (csresearch.text writes them)
# --------------------------------------------------------------------------------------------------
def share_ci(rate: float, low: float, high: float) -> str:
    """A share with its Wilson interval, in whole percent: ``50%, 95% CI 9–91%``."""
    return f"{pct(rate, 0)}, {interval(low, high, 'pct', 0, confidence=0.95)}"


def days_ci(low: float, high: float) -> str:
    """An interval of days: ``95% CI 40–80``."""
    return interval(low, high, "number", 0, confidence=0.95)


def _were(n: int) -> str:
    return "was" if n == 1 else "were"


def _about(x: float, noun: str) -> str:
    """A measured number of days or months, rounded to whole ones: ``61 days``, ``1 month``."""
    return plural(int(round(x)), noun) if pd.notna(x) else f"an unknown number of {noun}s"


# --------------------------------------------------------------------------------------------------
# Headline and the accounts reviewed
# --------------------------------------------------------------------------------------------------
def headline(result: Result) -> str:
    """The report's first sentence (a month review or an account review)."""
    if result.is_month:
        n = severe = None
        if result.alerts is not None:
            n = len(result.alerts)
            if result.settings.alert_top_share is None:  # the previous rule: its severe kinds
                severe = int(result.alerts["alert"].str.contains("red|threshold").sum())
        return month_headline(result.month, result.churned, result.pareto, result.audit_summary, n, severe)
    return accounts_headline(result.churned, result.audit, result.settings.timeline_months)


def month_headline(month: pd.Period, churned: pd.DataFrame, pareto: pd.DataFrame, summary: Mapping,
                   new_alerts: int | None, severe_alerts: int | None = None) -> str:
    """The month review's first sentence: churns and ARR lost, the costliest reason, how many the
    warnings caught and how early, and the new alerts."""
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
    if summary.get("checked"):
        text += (f". The health score or risk list flagged {summary['caught']} of {summary['checked']} "
                 f"({share_ci(summary['detection_rate'], summary['detection_low'], summary['detection_high'])})")
        if summary.get("caught"):
            text += f" a median {_about(summary['median_lead_days'], 'day')} before they left"
    return text + alert_text + "."


def account_sentence(row: Mapping, audit_row: Mapping | None, timeline_months: int) -> str:
    """One sentence per reviewed account: what happened, why, and whether we saw it coming."""
    label = row.get("account_name") or row["account_id"]
    label = f"{label} ({row['account_id']})" if label != row["account_id"] else label
    status = row.get("status", "churned")
    if status == "never paid":
        return f"{label} never had a paying subscription up to the report month: there is no churn to review."
    if status == "active":
        return (f"{label} has not churned: it is still paying {money(float(row.get('current_mrr') or 0), compact=True)}"
                f" MRR after {_about(row['tenure_months'], 'month')}.")
    reason = row.get("reason")
    why = f" (reason: {words(reason)}" + (f", to {row['competitor']}" if row.get("competitor") else "") + ")" \
        if reason and reason != NOT_RECORDED else " (no cancellation reason recorded)"
    text = (f"{label} churned on {day(row['churn_date'])} after {_about(row['tenure_months'], 'month')}, "
            f"taking {money(float(row['arr_lost']), compact=True)} ARR{why}")
    if audit_row is None or audit_row.get("outcome") == "not checked":
        return text + "; no monthly check fell before its churn, so no warning could be judged."
    if audit_row.get("outcome") == "caught":
        return (text + f"; first flagged {plural(int(audit_row['lead_days']), 'day')} before "
                f"({day(audit_row['first_flagged'])}, by the {audit_row['flagged_by']}).")
    return text + f"; never flagged by the health score or the risk list in the {timeline_months} months before."


def accounts_headline(churned: pd.DataFrame, audit: pd.DataFrame, timeline_months: int) -> str:
    """The account review's first sentence (one account: its story; several: the tally)."""
    audit_of = audit.set_index(["account_id", "churn_date"]) if len(audit) else None

    def audit_row(r):
        if audit_of is None or pd.isna(r["churn_date"]) or (r["account_id"], r["churn_date"]) not in audit_of.index:
            return None
        return audit_of.loc[(r["account_id"], r["churn_date"])].to_dict()
    if len(churned) == 1:
        row = churned.iloc[0].to_dict()
        return account_sentence(row, audit_row(row), timeline_months)
    gone = churned[churned["status"] == "churned"]
    caught = sum(1 for _, r in gone.iterrows() if (audit_row(r) or {}).get("outcome") == "caught")
    return (f"{plural(len(churned), 'account')} reviewed: {len(gone)} churned, taking "
            f"{money(float(gone['arr_lost'].sum()), compact=True)} ARR; {caught} of {len(gone)} "
            f"{_were(len(gone))} flagged before they left.")


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


# --------------------------------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------------------------------
def churn_list(result: Result) -> str:
    """The churn list section: the tally of a month, or one sentence per reviewed account."""
    return churn_list_sentence(result.churned) if result.is_month else account_sentences(result)


def churn_list_sentence(churned: pd.DataFrame) -> str:
    gone = churned[churned["status"] == "churned"]
    if gone.empty:
        return "No churn to list."
    seg = gone["segment"].fillna("unknown").value_counts()
    parts = ", ".join(f"{n} {s}" for s, n in seg.items())
    competitor = gone["competitor"].notna().sum() if "competitor" in gone else 0
    return (f"{plural(len(gone), 'churn')}, {money(float(gone['arr_lost'].sum()), compact=True)} ARR lost in total "
            f"({parts}); median tenure {_about(gone['tenure_months'].median(), 'month')}; the largest single "
            f"loss was {money(float(gone['arr_lost'].max()), compact=True)}."
            + (f" {competitor} left for a named competitor." if competitor else ""))


def account_sentences(result: Result) -> str:
    audit = result.review_audit().set_index(["account_id", "churn_date"])
    lines = []
    for _, row in result.churned.iterrows():
        key = (row["account_id"], row["churn_date"])
        audit_row = audit.loc[key].to_dict() if pd.notna(row["churn_date"]) and key in audit.index else None
        lines.append("- " + account_sentence(row.to_dict(), audit_row, result.settings.timeline_months))
    return "\n".join(lines)


def reasons(result: Result) -> str:
    return reasons_sentence(result.pareto)


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
    if result.is_month:
        if gone.empty:
            return "No churn this month, so no timelines."
        shown = min(len(gone), max_panels)
        text = f"{shown} of {len(gone)} churned accounts drawn (largest ARR lost first)."
        if not result.key_events:
            return text + " No usage data: the panels show only the flags."
        return text + f" Usage counts the key events: {', '.join(words(e) for e in result.key_events)}."
    return (f"Key events: {', '.join(words(e) for e in result.key_events) or 'none (no usage data)'}. "
            f"Health score every {result.settings.account_health_every_days or 30} days; "
            "crosses mark the checks that flagged the account.")


def audit_review(result: Result) -> str:
    """The early-warning audit of this review's churns."""
    return audit_sentence(result.audit_summary, result.review_audit(), scope_text(result))


def audit_window(result: Result) -> str:
    """The early-warning audit over the roll-up window."""
    return audit_sentence(result.audit_summary_all, result.audit, window_text(result))


def audit_sentence(summary: Mapping, audit: pd.DataFrame, scope: str) -> str:
    if not summary.get("churns"):
        return f"No churn {scope} to audit."
    if not summary.get("checked"):
        return f"No check fell before the churns {scope}, so the warnings cannot be judged."
    text = (f"Of {plural(summary['checked'], 'churn')} {scope} that a check saw, the health score or the risk list "
            f"flagged {summary['caught']} "
            f"({share_ci(summary['detection_rate'], summary['detection_low'], summary['detection_high'])}) "
            "at least once in the look-back")
    if summary.get("caught"):
        text += f", first a median {_about(summary['median_lead_days'], 'day')} before the churn"
        if pd.notna(summary.get("median_lead_low")):
            text += f" ({days_ci(summary['median_lead_low'], summary['median_lead_high'])})"
        standing = audit.loc[audit["outcome"] == "caught", "standing_lead_days"].dropna()
        if len(standing):
            text += (f". The warning still standing at the last check before the churn began a median "
                     f"{_about(standing.median(), 'day')} before it ({plural(len(standing), 'account')})")
    if summary.get("not_checked"):
        n = summary["not_checked"]
        text += f". {plural(n, 'churn')} fell before any check and {'is' if n == 1 else 'are'} left out"
    return text + "."


def missed(result: Result) -> str:
    return missed_sentence(result.missed, result.audit_summary_all)


def missed_sentence(missed: pd.DataFrame, summary: Mapping, alpha: float = 0.05) -> str:
    if not summary.get("missed"):
        return "No churn was missed: every checked churn was flagged at least once."
    n = int(summary["missed"])
    never = f"{plural(n, 'churn')} {_were(n)} never flagged"
    if missed.empty:
        return f"{never}; too few caught or missed churns to compare them."
    significant = missed[missed["p_holm"] < alpha]
    if significant.empty:
        lead = missed.iloc[0]
        return (f"{never}. No segment, plan, tenure, size or reason sets {'it' if n == 1 else 'them'} apart after "
                f"Holm correction across {plural(len(missed), 'comparison')}; the largest gap is "
                f"{words(lead['attribute'])} = {words(lead['value'])} ({pct(lead['share_of_missed'], 0)} of missed vs "
                f"{pct(lead['share_of_caught'], 0)} of caught, Holm {p_value(lead['p_holm'])}).")
    s = significant.iloc[0]
    return (f"{never}; they are over-represented in {words(s['attribute'])} = {words(s['value'])} "
            f"({pct(s['share_of_missed'], 0)} of missed vs {pct(s['share_of_caught'], 0)} of caught, Holm-adjusted "
            f"{p_value(s['p_holm'])}).")


def false_alarm(result: Result) -> str:
    return false_alarm_sentence(result.false_alarm)


def false_alarm_sentence(fa: Mapping) -> str:
    if not fa.get("flagged_accounts"):
        return "No flag is old enough to judge whether it was a false alarm."
    return (f"Of {plural(fa['flagged_accounts'], 'account')} first flagged between {day(fa['window_start'])} and "
            f"{day(fa['window_end'])}, {count(fa['stayed'])} "
            f"({share_ci(fa['false_alarm_rate'], fa['false_alarm_low'], fa['false_alarm_high'])}) "
            f"{_were(fa['stayed'])} still customers {fa['horizon_days']} days later. Flags younger "
            f"than {fa['horizon_days']} days are not judged yet (censored), and an account a CSM saved counts as a "
            "false alarm here, so this is an upper bound on wasted effort.")


def contrast(result: Result) -> str:
    return contrast_sentence(result.contrast, result.usage_share)


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
    return alerts_sentence(result.alerts, result.month, previous_source(result))


def alerts_sentence(alerts_table: pd.DataFrame | None, month: pd.Period, source: str) -> str:
    if alerts_table is None:
        return "Alerts could not be computed (see the notes above)."
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
    return (f"entered the top {pct(s.alert_top_share, 0)} of paying accounts by churn probability{cap} since last month "
            "(or is in it at its first score)")


def alert_rule(result: Result) -> str:
    """The alert rule in words and how often its alerts, and the previous rule's, were false on the past
    months whose horizon has passed (:func:`.compute_alerts.alert_audit`), generated from the numbers."""
    s, summary = result.settings, result.alert_rule_summary
    text = f"An account alerts when it {alert_rule_text(s)}."
    now = summary.get("this_month")
    if now and now["band"]:
        text += (f" This month the band holds the {count(now['band'])} riskiest of {plural(now['paying'], 'paying account')}"
                 f" (churn probability {pct(now['min_probability'], 0)} or more).")
    band, previous = summary.get("band", {}), summary.get("previous", {})
    if not band.get("months"):
        return text + " No past month's alerts can be judged yet (their horizon has not passed)."

    def judged(part: Mapping) -> str:
        return (f"{plural(part['alerts'], 'alert')} ({number(part['alerts_per_month'], 0)} a month), of which "
                f"{count(part['false_alarms'])} "
                f"({share_ci(part['false_alarm_rate'], part['false_alarm_low'], part['false_alarm_high'])}) "
                f"{_were(part['false_alarms'])} false alarms")

    months = window_label(pd.Period(band["first_month"], "M"), pd.Period(band["last_month"], "M"))
    current, other = ("band", "previous") if s.alert_top_share is not None else ("previous", "band")
    other_words = ("the previous rule (turned red, green to yellow, crossed the risk threshold)" if other == "previous"
                   else f"the top-{pct(s.alert_top_share or 0.02, 0)} band rule")
    parts = {"band": band, "previous": previous}
    text += (f" On the {plural(band['months'], 'past month')} whose {s.horizon_days} days have passed ({months}), it raised "
             f"{judged(parts[current])}: still paying {s.horizon_days} days later. {other_words[0].upper() + other_words[1:]} "
             f"raised {judged(parts[other])}. Among all paying accounts, {pct(band['base_rate'], 0)} churned within "
             f"{s.horizon_days} days of a check; a save by a CSM counts as a false alarm here.")
    return text


def rollup(result: Result) -> str:
    return rollup_sentence(result.rollup_total)


def rollup_sentence(total: Mapping | None) -> str:
    """The roll-up's misses (:func:`.compute_audit.rollup_total`)."""
    if total is None:
        return "No checked churn in these months."
    return (f"Over these {plural(total['months'], 'month')}, {total['missed']} of {total['checked_churns']} checked "
            f"churns ({share_ci(total['missed_share'], total['missed_low'], total['missed_high'])}) "
            f"{_were(total['missed'])} never flagged; the highest monthly share was "
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
    """Headline numbers for the index page (with the link to alerts.csv)."""
    s, fa, gone = result.audit_summary, result.false_alarm, result.gone
    out = []
    if result.is_month:
        out.append(kpi("Churned accounts", int(len(gone)), count(len(gone))))
        out.append(kpi("ARR lost", float(gone["arr_lost"].sum()), money(float(gone["arr_lost"].sum()), compact=True)))
    else:
        out.append(kpi("Accounts reviewed", int(len(result.churned)), f"{len(result.churned)} ({len(gone)} churned)"))
    if s.get("checked"):
        out.append(kpi("Flagged before churn", s["detection_rate"],
                       f"{s['caught']} of {s['checked']} "
                       f"({share_ci(s['detection_rate'], s['detection_low'], s['detection_high'])})"))
    if s.get("caught"):
        ci = "" if pd.isna(s["median_lead_low"]) else f" ({days_ci(s['median_lead_low'], s['median_lead_high'])})"
        out.append(kpi("Median warning lead", s["median_lead_days"],
                       f"{_about(s['median_lead_days'], 'day')}{ci}"))
    n_alerts = result.new_alerts
    out.append(kpi("New alerts", n_alerts, plural(n_alerts, "account"), link=alerts_link(result)["href"]))
    rule = result.alert_rule_summary.get(result.current_rule, {})
    if rule.get("alerts"):
        out.append(kpi("Alert false alarms (past months)", rule["false_alarm_rate"],
                       _rate_and_ci(rule["false_alarm_rate"], rule["false_alarm_low"], rule["false_alarm_high"])))
    if fa.get("flagged_accounts"):
        out.append(kpi("False-alarm rate", fa["false_alarm_rate"],
                       _rate_and_ci(fa["false_alarm_rate"], fa["false_alarm_low"], fa["false_alarm_high"])))
    return out


def _rate_and_ci(rate: float, low: float, high: float) -> str:
    """``28% (95% CI 20–37%)``."""
    return f"{pct(rate, 0)} ({interval(low, high, 'pct', 0, confidence=0.95)})"


def records(result: Result) -> dict:
    """The words of summary.json beside the result's numbers: title, notes, where the previous list
    came from, the sampling and the alert rule in words, and the link to alerts.csv."""
    return {
        "title": "Churn postmortem" if result.is_month else "Churn postmortem: account review",
        "previous_list_source": previous_source(result),
        "notes": notes(result),
        "risk_model_sampling": sampling_text(result.checks) if result.checks is not None else "",
        "alert_rule": alert_rule_text(result.settings),
        "links": [alerts_link(result)],
    }
