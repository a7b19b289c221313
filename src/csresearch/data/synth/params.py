"""The synthetic world's fixed vocabulary and tunables: SYNTH_VERSION, the table names and their
date/timestamp columns, the category lists (segments, regions, plans, features, ...), the experiment
ids, DEFAULT_PARAMS (every tunable, overridable through ``build_world(**overrides)``) and the names
of the random streams."""

from __future__ import annotations

from typing import Any

# Bumped whenever the same arguments would produce different tables; recorded in the truth, so that
# caches of built worlds can be keyed on it.
SYNTH_VERSION = 1

TABLE_NAMES = (
    "accounts",
    "subscriptions",
    "usage_events",
    "onboarding",
    "support_tickets",
    "cs_activities",
    "surveys",
    "experiments",
    "churn_reasons",
)
# contract "date" columns (stored as DATE / date32; datetime64 at midnight in pandas)
DATE_COLUMNS = {
    "accounts": ["created_at"],
    "subscriptions": ["start_date", "end_date"],
    "onboarding": ["achieved_at"],
    "experiments": ["assigned_at"],
    "churn_reasons": ["churn_date"],
}
# contract "timestamp" columns
TIMESTAMP_COLUMNS = {
    "usage_events": ["event_time"],
    "support_tickets": ["created_at", "resolved_at"],
    "cs_activities": ["occurred_at"],
    "surveys": ["answered_at"],
}

SEGMENTS = ("SMB", "Mid-Market", "Enterprise")
REGIONS = ("NA", "EMEA", "APAC", "LATAM")
REGION_UTC_OFFSET_H = (-5, 1, 8, -3)
CHANNELS = ("inbound", "outbound", "partner", "self_serve")
TIERS = ("high", "low", "tech")
INDUSTRIES = (
    "Software", "Financial Services", "Healthcare", "Retail", "Manufacturing", "Education",
    "Media", "Professional Services", "Logistics", "Real Estate",
)
PLANS = ("Starter", "Growth", "Enterprise")
ADDON = "Insights Add-on"
FEATURES = (
    "login", "report_view", "dashboard_create", "export", "integration_sync", "workflow_run",
    "comment", "api_call",
)
MILESTONES = ("kickoff", "integrated", "first_value", "go_live")
TICKET_CATEGORIES = ("bug", "performance", "integration", "account_access", "billing", "how_to", "feature_request")
CHURN_REASONS = ("low_usage", "onboarding_failure", "budget", "competitor", "product_gaps", "support", "company_closed")
COMPETITORS = ("Northstar CX", "Pulseboard", "Retainly", "HelmSuccess", "Clarion", "Tallyho")  # fictional

EXP_ID = "exp_cs_outreach_2026"
ADOPT_ID = "feature_workflow_automation"
EMAIL_ID = "exp_email_campaign"

# The optional three-arm e-mail experiment (``build_world(email_experiment=True)`` or a dict of
# overrides of these): two e-mails and no e-mail, randomised among the accounts paying on the
# assignment day, with planted visit and purchase rates per arm. Not part of DEFAULT_PARAMS, so the
# default world (tables, truth, SYNTH_VERSION) is unchanged; recorded in ``truth["params"]`` only
# when used.
EMAIL_EXPERIMENT_DEFAULTS: dict[str, Any] = {
    "month": None,                         # None: end_month - 2 months (assigned on its first day)
    "horizon_days": 30,                    # visits and purchases are counted in [assigned_at, +horizon)
    "control_arm": "no_email",
    "split": {"no_email": 1 / 3, "email_a": 1 / 3, "email_b": 1 / 3},   # complete randomisation
    "visit_rate": {"no_email": 0.10, "email_a": 0.18, "email_b": 0.15},  # P(at least one visit)
    "purchase_rate_given_visit": {"no_email": 0.10, "email_a": 0.15, "email_b": 0.12},
    "extra_visits_mean": 0.5,              # a visitor makes 1 + Poisson(this) visits
    "spend_mean": 120.0,                   # a purchase's amount: lognormal with this mean ($)
    "spend_log_sd": 0.6,
    "record_exposure": False,              # False: `exposed` is null (e-mail opens not tracked)
}

# Every tunable of the world. ``build_world(**overrides)`` may replace any of them (dict-valued
# parameters are merged key by key). All are recorded in ``truth["params"]``.
DEFAULT_PARAMS: dict[str, Any] = {
    # --- population
    "pre_window_share": 0.25,            # accounts whose first subscription predates the window
    "pre_window_max_months": 36,         # how far before the window they may have started
    "joiner_growth": 1.0,                # new-account intake rises linearly by this factor over the window
    "segment_shares": {"SMB": 0.60, "Mid-Market": 0.30, "Enterprise": 0.10},
    "region_shares": {"NA": 0.45, "EMEA": 0.30, "APAC": 0.15, "LATAM": 0.10},
    "channel_shares_by_segment": {
        "SMB": {"inbound": 0.35, "outbound": 0.10, "partner": 0.10, "self_serve": 0.45},
        "Mid-Market": {"inbound": 0.35, "outbound": 0.35, "partner": 0.20, "self_serve": 0.10},
        "Enterprise": {"inbound": 0.20, "outbound": 0.55, "partner": 0.25, "self_serve": 0.0},
    },
    "touch_tier_shares_by_segment": {
        "SMB": {"high": 0.0, "low": 0.20, "tech": 0.80},
        "Mid-Market": {"high": 0.30, "low": 0.60, "tech": 0.10},
        "Enterprise": {"high": 0.85, "low": 0.15, "tech": 0.0},
    },
    # latent engagement z = channel shift + N(0, 1); region, industry and csm_owner have no effect
    "engagement_shift_by_channel": {"inbound": 0.15, "outbound": -0.10, "partner": 0.10, "self_serve": -0.15},
    # --- billing
    "annual_share_by_segment": {"SMB": 0.25, "Mid-Market": 0.55, "Enterprise": 0.85},
    "annual_discount": 0.15,
    "list_price_per_seat": {"Starter": 25.0, "Growth": 45.0, "Enterprise": 75.0, ADDON: 10.0},
    "plan_shares_by_segment": {
        "SMB": {"Starter": 0.70, "Growth": 0.30, "Enterprise": 0.0},
        "Mid-Market": {"Starter": 0.15, "Growth": 0.70, "Enterprise": 0.15},
        "Enterprise": {"Starter": 0.0, "Growth": 0.25, "Enterprise": 0.75},
    },
    "seats_median_by_segment": {"SMB": 3.0, "Mid-Market": 9.0, "Enterprise": 25.0},
    "seats_log_sd": 0.55,
    "addon_share_at_start": 0.12,
    "addon_monthly_purchase_prob": 0.008,
    "addon_monthly_drop_prob": 0.01,
    # --- churn hazard (per account-month, multiplicative)
    "segment_base_monthly_hazard": {"SMB": 0.030, "Mid-Market": 0.015, "Enterprise": 0.007},
    "engagement_log_hazard_slope": -0.5,   # per SD of latent engagement
    "ttv_threshold_days": 30,
    "ticket_log_hazard_per_high_ticket": 0.30,   # per high/urgent ticket opened in the same period
    "ticket_log_hazard_per_other_ticket": 0.05,  # per low/normal ticket opened in the same period
    "hazard_cap": 0.9,
    "reactivation_share": 0.08,
    "reactivation_gap_months": [1, 6],
    # --- onboarding / time to value (lognormal days from first subscription start)
    "ttv_median_days_by_segment": {"SMB": 18.0, "Mid-Market": 28.0, "Enterprise": 45.0},
    "ttv_log_sd": 0.7,
    "ttv_never_share": 0.15,
    "ttv_yearly_speedup": 0.85,            # median multiplied by this per cohort year after ttv_reference_year
    "ttv_reference_year": None,            # None: the year of the window's first month
    # --- usage
    "events_per_user_weekday": 0.20,      # at engagement 0, before seasonality and noise
    "usage_log_rate_slope": 0.5,           # per SD of engagement, events per active user
    "utilisation_intercept": 0.9,          # active users ~ Binomial(seats, sigmoid(a + b z + noise))
    "utilisation_slope": 0.7,
    "utilisation_month_sd": 0.35,
    "usage_month_log_sd": 0.2,
    "weekend_factor": 0.3,
    "seasonality_by_month": [1.0, 1.0, 1.02, 1.0, 1.0, 0.97, 0.92, 0.88, 1.0, 1.03, 1.0, 0.85],
    "feature_mix": {"login": 0.30, "report_view": 0.22, "dashboard_create": 0.06, "export": 0.08,
                    "integration_sync": 0.10, "workflow_run": 0.04, "comment": 0.10, "api_call": 0.10},
    "decline_onset_days": [30, 120],       # usage starts declining this many days before churn
    "decline_floor": 0.2,                  # usage multiplier reached at the churn date
    # --- support, CS, surveys
    "tickets_per_month_by_segment": {"SMB": 0.35, "Mid-Market": 0.8, "Enterprise": 1.8},
    "ticket_engagement_log_slope": -0.4,
    "ticket_month_log_sd": 0.5,
    "high_ticket_share_logit": -1.7,       # share of high/urgent tickets: sigmoid(a + b z)
    "high_ticket_engagement_slope": -0.5,
    "cs_activities_per_month_by_tier": {"high": 2.5, "low": 0.6, "tech": 0.15},
    "nps_responses_per_month": 0.15,
    "csat_responses_per_month": 0.10,
    # --- upsell: logit P(expansion) per account-month = a_segment + b_util (util - 0.75) + b_eng z
    "expansion_logit_intercept_by_segment": {"SMB": -3.9, "Mid-Market": -3.5, "Enterprise": -3.3},
    "expansion_logit_utilisation": 4.0,
    "expansion_logit_engagement": 0.4,
    "contraction_logit_intercept": -4.6,
    "contraction_logit_utilisation": -3.0,
    "contraction_logit_engagement": -0.3,
    "plan_upgrade_share_on_expansion": 0.2,
    "plan_downgrade_share_on_contraction": 0.15,
    # --- churn reasons
    "churn_reason_coverage": 0.9,
    # --- randomized experiment
    "experiment_month": None,              # None: end_month - 7 months
    "experiment_horizon_days": 182,
    "experiment_hazard_multiplier_by_segment": {"SMB": 0.55, "Mid-Market": 0.8, "Enterprise": 1.0},
    "experiment_exposure_share": 0.85,     # mean P(exposed | treatment); rises with engagement
    "experiment_exposure_engagement_slope": 0.5,
    # --- non-randomized feature adoption
    "adoption_study_month": None,          # None: window start + months // 3
    "adoption_spread_months": 9,
    "adoption_logit_intercept": -1.2,
    "adoption_logit_engagement": 1.2,      # the selection: engaged accounts adopt more
    "adoption_usage_lift": 0.15,           # +15% events per seat after adoption (all extra: workflow_run)
    "adoption_hazard_ratio": 0.85,         # churn hazard multiplier after adoption
    "adoption_retention_horizon_days": 365,
}

_RNG_STREAMS = (
    "accounts", "names", "ttv", "tickets", "util", "loop", "usage", "events", "support",
    "cs", "surveys", "reasons", "experiment", "adoption", "onboarding",
)
# Optional parts draw from their own children of the seed, after those of _RNG_STREAMS (SeedSequence
# children are keyed by their index, so an optional part never moves another part's draws).
_EMAIL_STREAM = len(_RNG_STREAMS)        # 15: the e-mail experiment
_TEXTS_STREAM = len(_RNG_STREAMS) + 1    # 16: the survey answers
