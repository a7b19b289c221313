"""The postmortem's conventions box, method notes and notes (split from :mod:`.words`, which re-exports
every name): the same rules hold, whole sentences per variant through the catalog."""

from __future__ import annotations

from ...core import risk
from ...i18n import N_, _
from ...text import count, day, month_label, pct
from .compute_checks import Checks
from .result import Result
from .settings import Settings
from .words_warning import counted, label_of, pct_decimals

# what each optional table feeds, said when it is missing
TABLE_EFFECTS = {
    "churn_reasons": N_("churn reasons, competitors and comments"),
    "usage_events": N_("usage timelines and usage comparisons"),
    "support_tickets": N_("ticket timelines"),
    "surveys": N_("NPS timelines"),
    "cs_activities": N_("CSM activity timelines"),
}


def alert_rule_text(s: Settings) -> str:
    if s.alert_top_share is None:
        return _("turned red, dropped green to yellow, or crossed the risk threshold since last month")
    cap = (_(", at most {accounts}").format(accounts=counted(s.alert_max_accounts, "account"))
           if s.alert_max_accounts is not None else "")
    return _("entered the top {share} of paying accounts by churn probability{cap} since last month (or is in it at "
             "its first score)").format(share=pct(s.alert_top_share, pct_decimals(s.alert_top_share)), cap=cap)

def conventions(result: Result) -> tuple[dict, dict]:
    """The conventions box of the report and a note on some of them (the keys a reader does not set
    are in the run's language; the parameters keep their names)."""
    s, checks = result.settings, result.checks
    assert checks is not None, "a built postmortem has its checks"
    if s.risk_threshold is not None:
        threshold = pct(s.risk_threshold, 0)
    elif checks.thresholds:
        threshold = _("1.5 x the churn rate known at the check (the at-risk list's rule; {rate} this month)").format(
            rate=pct(checks.thresholds[max(checks.thresholds)]))
    else:
        threshold = _("1.5 x the churn rate known at the check")
    health_every = (_("monthly") if result.is_month or not s.account_health_every_days
                    else _("every {days} days (reviewed accounts), monthly (others)").format(
                        days=s.account_health_every_days))
    values = {
        _("review"): _("every churn of {month}").format(month=month_label(result.month)) if result.is_month
        else _("accounts {ids} (as of the end of {month})").format(ids=", ".join(result.account_ids or []),
                                                                    month=month_label(result.month)),
        _("churn definition"): _("paying spells (csresearch.core.revenue.paying_spells): churn date = first unpaid day"),
        "churn_convention": s.churn_convention,
        "reactivation_window_days": s.reactivation_window_days,
        "count_same_month_churn": s.count_same_month_churn,
        "value_milestone": s.value_milestone,
        _("ARR lost"): _("12 x MRR on the last paid day"),
        _("health score"): s.health_score_file,
        _("flagged"): _("health band red, or churn risk within {days} days >= {threshold}").format(
            days=s.horizon_days, threshold=threshold),
        _("look-back"): _("the {checks} before each churn").format(checks=counted(s.timeline_months, "monthly check")),
        _("compared with"): _("accounts that stayed: checked in the same monthly checks, no churn from the first of "
                              "them to the month's end"),
        _("warning lead"): _("from the start of the warning still standing at the last check before the churn"),
        _("checks"): _("risk list monthly (model refitted every {months} months); health score {every}").format(
            months=s.refit_months, every=health_every),
        _("alerts"): _("an account {rule}").format(rule=alert_rule_text(s)),
        "timeline_months": s.timeline_months,
        "rollup_months": s.rollup_months,
        _("comparables"): _("{n} per churn, retained >= {days} days").format(n=s.comparables_per_account,
                                                                            days=s.retained_days),
        "reason_match_days": s.reason_match_days,
    }
    notes = {
        "churn_convention": _("month_end: a churn belongs to the month of its first unpaid day; period_start: of its "
                              "last paid day"),
        "reactivation_window_days": _("a gap shorter than this is not a churn"),
        "count_same_month_churn": _("false drops accounts that joined and left within one month"),
        _("checks"): _("each check uses only data from before its date"),
        "reason_match_days": _("a cancellation form within this many days of the billing churn date is its reason"),
    }
    return values, notes


def method_notes(result: Result) -> str:
    """How censoring, leakage, multiple comparisons and selection bias are handled, in a few lines."""
    s = result.settings
    sampling = sampling_text(result.checks) if result.checks is not None else _("no risk model was fitted.")
    return _(
        "**How to read the numbers.** "
        "*Leakage:* every check uses only data from before its date, and the risk model at each check learned only "
        "from outcomes known by then (churn windows of {days} days already closed). "
        "*Censoring:* a flag younger than {days} days is not judged a hit or a false alarm yet; churns are "
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
        "*Sampling:* {sampling}").format(days=s.horizon_days, sampling=sampling)


def sampling_text(checks: Checks) -> str:
    """What the risk model's refits were trained on, generated from the fits (a sample is stated with
    its numbers: :func:`csresearch.core.risk.sampling_sentence`)."""
    fits = checks.fits
    if not fits:
        return _("No risk model could be fitted (too little closed history).")
    cap = count(checks.max_train_rows) if checks.max_train_rows is not None else _("no cap")
    sampled = {when: s for when, s in fits.items() if s is not None}
    if not sampled:
        return _("Each of the risk model's {n} refits was trained on every closed observation (the cap, "
                 "max_train_rows, is {cap} rows).").format(n=len(fits), cap=cap)
    latest = max(sampled)
    return (risk_sampling_sentence(sampled[latest])
            + _(" (numbers of the refit at the {day} check; {sampled} of the {fits} refits were sampled this way, "
                "max_train_rows = {cap}).").format(day=day(latest), sampled=len(sampled), fits=len(fits), cap=cap))


def risk_sampling_sentence(sampling: risk.Sampling) -> str:
    """What a sampled refit was trained on, in the run's language, without its final full stop (the
    English is :func:`csresearch.core.risk.sampling_sentence`'s, word for word)."""
    if sampling.target != "churned":
        return risk.sampling_sentence(sampling, "The risk models").rstrip(".")
    share = sampling.share
    strata = " x ".join(label_of(s) for s in sampling.strata)
    return _("The risk models were fitted on all {churned} churned observations and a stratified {share} sample of "
             "the {others} others{by}, {rows} rows in all; the sampled rows are weighted by {weight} on average "
             "(stratum size / rows kept) so probabilities stay calibrated").format(
        churned=f"{sampling.churned:,}", share=f"{share:.1%}" if share >= 0.001 else f"{share:.2%}",
        others=count(sampling.others), rows=f"{sampling.rows:,}", weight=f"{sampling.weight:.1f}",
        by=_(" (proportional within each {strata})").format(strata=strata) if strata else "")


def notes(result: Result) -> list[str]:
    """Sections switched off or limited: optional tables missing, alerts that could not be computed."""
    out = [_("no `{table}` table: {effect} skipped").format(table=table, effect=_(TABLE_EFFECTS[table]))
           for table in result.missing_tables]
    if result.alerts_skipped is not None:
        out.append(_("alerts skipped: {reason}").format(reason=result.alerts_skipped))
    return out


def notes_text(result: Result) -> str:
    found = notes(result)
    if not found:
        return _("Every optional table this report uses is present.")
    return _("**Sections switched off or limited:** {notes}.").format(notes=_("; ").join(found))
