"""The churn postmortem's result: numbers and tables of one review, no words."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ...period import month_end
from ..base import AnalysisResult
from .compute_audit import warning_record
from .compute_checks import Checks
from .compute_lessons import Finding
from .compute_reasons import Themes
from .settings import Settings


@dataclass
class Result(AnalysisResult):
    """Everything a postmortem shows, computed once by :func:`.report.build`: a month's churns
    (``account_ids`` None) or a few accounts' story."""

    account_ids: list[str] | None = None
    settings: Settings = field(default_factory=lambda: Settings.model_validate({}))  # the defaults
    config: Any = None                                   # the health-score definition (core.health.HealthConfig)
    churns: pd.DataFrame = field(default_factory=pd.DataFrame)    # every churn up to the month end, with reasons
    churned: pd.DataFrame = field(default_factory=pd.DataFrame)   # the churn list of this review
    pareto: pd.DataFrame = field(default_factory=pd.DataFrame)
    by_segment: pd.DataFrame = field(default_factory=pd.DataFrame)
    themes: Themes | None = None
    checks: Checks | None = None
    audit: pd.DataFrame = field(default_factory=pd.DataFrame)     # churns of the roll-up window (and reviewed accounts)
    audit_summary: dict = field(default_factory=dict)             # this review's churns
    audit_summary_all: dict = field(default_factory=dict)         # the whole roll-up window
    stayed: pd.DataFrame = field(default_factory=pd.DataFrame)    # the comparator: accounts that stayed, same checks
    record: pd.DataFrame = field(default_factory=pd.DataFrame)    # this review's churns against the stayers
    record_window: pd.DataFrame = field(default_factory=pd.DataFrame)  # the roll-up window's churns against them
    missed: pd.DataFrame = field(default_factory=pd.DataFrame)
    false_alarm: dict = field(default_factory=dict)
    flag_outcomes: pd.DataFrame = field(default_factory=pd.DataFrame)  # each flagged account: churned within horizon?
    key_events: list[str] = field(default_factory=list)
    weekly: pd.DataFrame = field(default_factory=pd.DataFrame)
    events: dict = field(default_factory=dict)
    mrr: pd.DataFrame = field(default_factory=pd.DataFrame)
    health: pd.DataFrame = field(default_factory=pd.DataFrame)
    window: tuple[pd.Timestamp, pd.Timestamp] | None = None
    pairs: pd.DataFrame = field(default_factory=pd.DataFrame)
    aligned: pd.DataFrame = field(default_factory=pd.DataFrame)
    contrast: pd.DataFrame = field(default_factory=pd.DataFrame)
    usage_share: pd.DataFrame = field(default_factory=pd.DataFrame)  # recent usage as a share of the own earlier level
    current_list: pd.DataFrame | None = None
    previous_list: pd.DataFrame | None = None
    previous_file: str | None = None        # where the earlier run's list came from (None: recomputed)
    alerts: pd.DataFrame | None = None      # None: alerts could not be computed (alerts_skipped says why)
    alerts_skipped: str | None = None
    findings: list[Finding] = field(default_factory=list)
    rollup_reasons: pd.DataFrame = field(default_factory=pd.DataFrame)
    rollup_missed: pd.DataFrame = field(default_factory=pd.DataFrame)
    rollup_total: dict | None = None
    missing_tables: list[str] = field(default_factory=list)
    alert_rule_audit: pd.DataFrame | None = None   # past months: alerts and churns per rule
    alert_rule_summary: dict = field(default_factory=dict)

    # ---- what kind of review ---------------------------------------------------------------------
    @property
    def is_month(self) -> bool:
        return self.account_ids is None

    @property
    def as_of(self) -> pd.Timestamp:
        return month_end(self.month)

    @property
    def gone(self) -> pd.DataFrame:
        """The reviewed accounts that churned (an account review may hold active ones)."""
        return self.churned[self.churned["status"] == "churned"]

    @property
    def new_alerts(self) -> int:
        return 0 if self.alerts is None else int(len(self.alerts))

    @property
    def current_rule(self) -> str:
        """The alert rule in use: ``band`` (top risk band) or ``previous`` (health or threshold)."""
        return "band" if self.settings.alert_top_share is not None else "previous"

    # ---- tables ----------------------------------------------------------------------------------
    def record_of(self, month: pd.Period | str) -> pd.DataFrame:
        """The early-warning record of the review's churns of one month against that month's stayers
        (an account review may hold churns of several months)."""
        month = pd.Period(month, "M")
        own = self.review_audit()
        own = own[own["churn_month"] == month] if "churn_month" in own else own
        stayed = self.stayed[self.stayed["month"] == month] if len(self.stayed) else self.stayed
        return warning_record(own, stayed if len(stayed) else pd.DataFrame(
            columns=["flagged_in_lookback", "flagged_at_last_check"]))

    def review_audit(self) -> pd.DataFrame:
        """The audit rows of this review's churns."""
        keys = self.churned.loc[self.churned["churn_date"].notna(), ["account_id", "churn_date"]]
        return self.audit.merge(keys, on=["account_id", "churn_date"])

    def key_event_usage(self) -> pd.DataFrame:
        """Weekly key-event total per reviewed account: ``account_id, week, value``."""
        usage = self.weekly[self.weekly["metric"] != "active users"]
        return usage.groupby(["account_id", "week"], as_index=False)["value"].sum()

    def panels(self, max_panels: int) -> pd.DataFrame:
        """The month review's small panels: churned accounts, largest ARR lost first, at most
        ``max_panels`` (``account_id, arr_lost, churn_date, flagged_since``)."""
        audit = self.review_audit()[["account_id", "churn_date", "flagged_since"]]
        panels = self.gone.merge(audit, on=["account_id", "churn_date"], how="left").head(max_panels)
        return panels[["account_id", "arr_lost", "churn_date", "flagged_since"]]

    def account_checks(self, account_id: str) -> pd.DataFrame:
        """The monthly checks of one account in the timeline window: ``observation_date, health_score,
        health_band, churn_probability, risk_threshold, flagged, source, trigger`` (the checks the audit
        judges, the same for a month review and an account review)."""
        cols = ["observation_date", "health_score", "health_band", "churn_probability", "risk_threshold", "flagged",
                "scored", "source", "trigger"]
        if self.checks is None:
            return pd.DataFrame(columns=cols)
        rows = self.checks.scores[self.checks.scores["account_id"] == account_id]
        if self.window is not None:
            rows = rows[(rows["observation_date"] >= self.window[0]) & (rows["observation_date"] <= self.window[1])]
        return rows[cols].sort_values("observation_date").reset_index(drop=True)

    def page_data(self, account_id: str) -> dict:
        """One account's timelines for its full page: ``mrr, weekly, events, health, checks,
        churn_date, flagged_since, start, end``."""
        if self.window is None:
            raise ValueError("page_data needs a built result (no timeline window)")
        row = self.churned.set_index("account_id").loc[account_id]
        audit = self.review_audit().set_index("account_id")
        since = audit["flagged_since"].get(account_id) if account_id in audit.index else pd.NaT
        events = {k: (None if v is None else v[v["account_id"] == account_id]) for k, v in self.events.items()}
        mrr = self.mrr[self.mrr["account_id"] == account_id][["month_end", "mrr"]]
        if pd.notna(row["churn_date"]):  # month-end MRR would carry the last month past the churn: end it there
            mrr = pd.concat([mrr[mrr["month_end"] < row["churn_date"]],
                             pd.DataFrame({"month_end": [row["churn_date"]], "mrr": [0.0]})], ignore_index=True)
        return {
            "mrr": mrr,
            "weekly": self.weekly[self.weekly["account_id"] == account_id],
            "events": events,
            "health": self.health[self.health["account_id"] == account_id],
            "checks": self.account_checks(account_id),
            "churn_date": row["churn_date"], "flagged_since": since,
            "start": self.window[0], "end": self.window[1],
        }

    def audit_table(self) -> pd.DataFrame:
        """The early-warning audit as published (``warning_audit.csv``): one row per churn audited."""
        cols = ["account_id", "account_name", "churn_date", "churn_month", "in_review", "outcome", "checks",
                "first_flagged", "lead_days", "flagged_by", "first_trigger", "first_playbook", "last_check",
                "warned_at_last_check", "flagged_since", "standing_lead_days", "standing_source", "standing_trigger", "arr_lost",
                "tenure_months", "tenure_band", "size_band", "segment", "plan", "reason"]
        out = self.audit[[c for c in cols if c in self.audit]].copy()
        out["tenure_months"] = out["tenure_months"].round(1)
        return out.sort_values(["churn_date", "account_id"], ascending=[False, True]).reset_index(drop=True)

    def alerts_table(self) -> pd.DataFrame:
        """The alerts as published (``alerts.csv``)."""
        cols = ["account_id", "account_name", "segment", "arr", "alert", "risk_rank", "trigger", "playbook",
                "health_band_before",
                "health_band", "health_score_before", "health_score", "churn_probability_before", "churn_probability",
                "touch_tier"]
        if self.alerts is None:
            return pd.DataFrame(columns=cols)
        return self.alerts[[c for c in cols if c in self.alerts]].reset_index(drop=True)

    def churn_list(self) -> pd.DataFrame:
        """The churn list as published (``churned_accounts.csv``)."""
        cols = ["account_id", "account_name", "status", "churn_date", "arr_lost", "tenure_months", "segment", "plan",
                "reason", "sub_reason", "competitor", "comment"]
        out = self.churned[[c for c in cols if c in self.churned]].copy()
        audit = self.review_audit()[["account_id", "churn_date", "outcome", "first_flagged", "lead_days", "flagged_by",
                                     "warned_at_last_check", "flagged_since", "standing_lead_days"]]
        out = out.merge(audit, on=["account_id", "churn_date"], how="left")
        if self.themes is not None:
            theme = self.themes.assignments.drop_duplicates("account_id").set_index("account_id")["theme"]
            out["comment_theme"] = out["account_id"].map(theme)
        else:
            out["comment_theme"] = None
        out["tenure_months"] = out["tenure_months"].round(1)
        return out

    def comparison_table(self) -> pd.DataFrame:
        """Every account behind the early-warning record (``warning_comparison.csv``): the review's
        churns (``group`` churned) and the accounts that stayed over the same checks (``group``
        stayed), each with its checks and whether it was flagged in the look-back and at its last check."""
        cols = ["group", "month", "account_id", "churn_date", "checks", "flagged_in_lookback", "flagged_at_last_check",
                "last_check", "flagged_since", "standing_lead_days"]
        churns = self.review_audit()
        churns = pd.DataFrame({
            "group": "churned", "month": churns.get("churn_month", churns["churn_date"].dt.to_period("M")),
            "account_id": churns["account_id"], "churn_date": churns["churn_date"], "checks": churns["checks"],
            "flagged_in_lookback": churns["outcome"].eq("caught"),
            "flagged_at_last_check": churns["warned_at_last_check"].astype(bool),
            "last_check": churns["last_check"], "flagged_since": churns["flagged_since"],
            "standing_lead_days": churns["standing_lead_days"]})
        stayed = self.stayed.assign(group="stayed") if len(self.stayed) else pd.DataFrame(columns=cols)
        parts = [p.reindex(columns=cols) for p in (churns, stayed) if len(p)]
        if not parts:
            return pd.DataFrame(columns=cols)
        return pd.concat(parts, ignore_index=True)

    def tables(self) -> dict[str, pd.DataFrame]:
        rule_audit = self.alert_rule_audit if self.alert_rule_audit is not None else pd.DataFrame(
            columns=["month", "rule", "alerts", "churned", "paying", "paying_churned"])
        return {"churned_accounts": self.churn_list(), "reasons": self.pareto,
                "warning_audit": self.audit_table(), "warning_record": self.record,
                "warning_comparison": self.comparison_table(), "flag_outcomes": self.flag_outcomes,
                "alerts": self.alerts_table(), "alert_rule_audit": rule_audit}

    def summary(self) -> dict[str, Any]:
        """The numbers of summary.json (the sentences beside them: :func:`.words.records`)."""
        gone = self.gone
        return {
            "mode": "month" if self.is_month else "accounts",
            "account_ids": self.account_ids,
            "churned_accounts": int(len(gone)),
            "arr_lost": float(gone["arr_lost"].sum()),
            "audit": dict(self.audit_summary),
            "audit_window": dict(self.audit_summary_all),
            "warning_record": {} if self.record.empty else self.record.set_index("measure").to_dict("index"),
            "false_alarm": dict(self.false_alarm),
            "new_alerts": self.new_alerts,
            "alerts_by_type": ({} if self.alerts is None else
                               self.alerts["alert"].str.split("; ").explode().value_counts().to_dict()),
            "lessons": len(self.findings),
            "alert_rule_audit": self.alert_rule_summary,
            "risk_model_fits": {str(when.date()): (None if s is None else {
                "rows": s.rows, "churned": s.churned, "others": s.others, "others_kept": s.others_kept,
                "weight": s.weight}) for when, s in (self.checks.fits if self.checks is not None else {}).items()},
        }
