"""The churn postmortem's one call: ``build(ds, month, settings, health_config=..., ...) -> Result``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ...core import health
from ...data import Dataset
from ...errors import NotEnoughData
from ...period import DAYS_PER_MONTH, month_end
from . import compute_review as review
from .compute_alerts import alert_audit, month_alerts
from .compute_audit import (
    false_alarms,
    lead_time_summary,
    missed_profile,
    rollup,
    rollup_total,
    stayers,
    warning_record,
)
from .compute_checks import run_checks
from .compute_churns import parse_account_ids
from .compute_comparables import comparables, last_check_before, trajectory_contrast, usage_retained_share
from .compute_lessons import findings
from .compute_reasons import comment_themes, reasons_by_segment, reasons_pareto
from .compute_timelines import key_events
from .result import Result
from .settings import Settings

__all__ = ["Settings", "Result", "build"]


def build(ds: Dataset, month: pd.Period | str, settings: Settings, *,
          health_config: health.HealthConfig | str | Path, names: pd.Series | None = None,
          previous_at_risk: str | Path | None = None) -> Result:
    """Compute a postmortem: a month's churns (``settings.account_ids`` None) or a few accounts' story.

    ``health_config``: the health-score definition, loaded or its file (the notebook resolves
    ``settings.health_score_file`` against the project). ``names``: display names by account id
    (pseudonyms when the report pseudonymises). ``previous_at_risk``: the previous month's at-risk
    list CSV from an earlier run, if any (otherwise the list is recomputed as of then).
    """
    s = settings
    month = pd.Period(month, "M")
    ids = parse_account_ids(s.account_ids)
    as_of = month_end(month)
    config = health_config if isinstance(health_config, health.HealthConfig) else \
        health.load_health_config(health_config)

    # the churn list and every churn (for the roll-up and the audit)
    every, churned = review.review_churns(ds, month, ids, s, names)
    gone = churned[churned["status"] == "churned"]
    themes = comment_themes(churned[["account_id", "comment"]], s.comment_themes) if "comment" in churned else \
        comment_themes(pd.DataFrame(columns=["account_id", "comment"]))

    # checks: far enough back for every audited churn's look-back
    months_back = review.months_of_checks(month, churned, s.rollup_months, s.timeline_months)
    checks = run_checks(ds, month, config, months_back=months_back, horizon_days=s.horizon_days,
                        risk_threshold=s.risk_threshold, refit_months=s.refit_months,
                        training_months=s.training_months, reactivation_window_days=s.reactivation_window_days,
                        value_milestone=s.value_milestone, max_train_rows=s.max_train_rows)

    # timelines of the reviewed accounts
    reviewed = churned["account_id"].tolist()
    start, end = review.timeline_window(churned, as_of, s.timeline_months)
    key = key_events(ds, s.key_event_count, as_of)
    weekly, events, mrr = review.account_timelines(ds, reviewed, start, end, key)
    health_history = review.review_health(
        ds, checks, reviewed, start, end, config, s.account_health_every_days, s.value_milestone,
        fine=ids is not None and bool(s.account_health_every_days))

    # the early-warning audit over the roll-up window (plus the reviewed accounts' churns), against the
    # accounts that stayed over the same monthly checks
    audit = review.audited(every, churned, checks.scores, month, s.rollup_months, s.timeline_months)
    own = review.review_rows(audit, churned)
    stayed = review.review_stayers(checks.scores, every, churned, month, s.timeline_months)
    month_stayed = stayed if ids is None else stayers(checks.scores, every[["account_id", "churn_date", "churn_month"]],
                                                       month, s.timeline_months)
    false_alarm, flag_outcomes = false_alarms(
        checks.scores, every[["account_id", "churn_date"]], as_of + pd.Timedelta(days=1), horizon_days=s.horizon_days,
        window_days=int(s.rollup_months * DAYS_PER_MONTH))

    # comparable retained accounts and how they differed
    pairs = comparables(ds, gone, as_of, s.comparables_per_account, s.retained_days, s.reactivation_window_days)
    aligned = review.comparable_usage(ds, pairs, key)
    contrast = trajectory_contrast(last_check_before(checks.scores, pairs, checks.frame))

    # alerts going forward: this month's at-risk list against the previous month's
    previous_list, previous_file = review.previous_at_risk_list(previous_at_risk)
    current_list = prev_list = alerts = None
    skipped = None
    try:
        current_list, prev_list, alerts = month_alerts(ds, checks, month, s.horizon_days, config, names,
                                                       previous_list, s.alert_top_share, s.alert_max_accounts)
    except NotEnoughData as exc:  # e.g. too little history to fit the risk model
        skipped = str(exc)
    rule_audit, rule_summary = alert_audit(checks, every[["account_id", "churn_date"]], as_of, s.horizon_days,
                                           s.alert_top_share or 0.02, s.alert_max_accounts)
    this_month = review.band_this_month(checks, month, s.alert_top_share, s.alert_max_accounts)
    if this_month is not None:
        rule_summary["this_month"] = this_month

    pareto = reasons_pareto(gone)
    audit_summary_all = lead_time_summary(audit)
    window_record = warning_record(audit, month_stayed)
    missed = missed_profile(audit)
    roll_reasons, roll_missed = rollup(every, audit, month, s.rollup_months)
    return Result(
        month=month, account_ids=ids, settings=s, config=config, churns=every, churned=churned,
        pareto=pareto, by_segment=reasons_by_segment(gone), themes=themes, checks=checks, audit=audit,
        audit_summary=lead_time_summary(own), audit_summary_all=audit_summary_all,
        stayed=stayed, record=warning_record(own, stayed), record_window=window_record,
        missed=missed, false_alarm=false_alarm, flag_outcomes=flag_outcomes,
        key_events=key, weekly=weekly, events=events, mrr=mrr,
        health=health_history, window=(start, end), pairs=pairs, aligned=aligned, contrast=contrast,
        usage_share=usage_retained_share(aligned),
        current_list=current_list, previous_list=prev_list, previous_file=previous_file, alerts=alerts,
        alerts_skipped=skipped,
        findings=findings(pareto, audit_summary_all, missed, audit, contrast, false_alarm,
                          getattr(config, "default_playbook", ""), window_record),
        rollup_reasons=roll_reasons, rollup_missed=roll_missed, rollup_total=rollup_total(roll_missed),
        missing_tables=review.missing_tables(ds),
        alert_rule_audit=rule_audit, alert_rule_summary=rule_summary,
    )
