"""A deterministic synthetic B2B SaaS world with planted, recorded truths.

``build_world()`` simulates accounts, subscriptions (with expansion, contraction, churn and
reactivation), product usage, onboarding, support, CS touchpoints, surveys, churn reasons, one
randomized CS experiment and one non-randomized feature adoption. Every causal mechanism that an
analysis in the workbook tries to recover is planted with a known size and written into
``World.truth`` (JSON-serialisable), so the notebooks can be checked against the truth.

Time runs on a monthly grid of *billing boundaries*: account ``i`` has a billing day ``d_i``
(2..28) and its boundaries fall on day ``d_i`` of every calendar month. Subscriptions start and end
only on boundaries, so a churn at the boundary in calendar month ``M`` is exactly the contract's
"MRR > 0 at the end of M-1 and 0 at the end of M". Period ``g`` is the month of service that ends at
the boundary of calendar month ``g`` (``g = 0`` is the first month of the data window).

See ``docs/synthetic-world.md`` for the mechanisms and their sizes.
"""

from __future__ import annotations

import copy
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["World", "build_world", "save_world", "TABLE_NAMES", "DEFAULT_PARAMS", "SYNTH_VERSION"]

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


@dataclass
class World:
    """Every contract table plus the JSON-serialisable ground truth."""

    tables: dict[str, pd.DataFrame]
    truth: dict

    def __repr__(self) -> str:  # pragma: no cover - convenience
        sizes = ", ".join(f"{k}={len(v):,}" for k, v in self.tables.items())
        return f"World({sizes})"


# ------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------
def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _logit(p):
    return np.log(p / (1.0 - p))


def _vec(mapping: dict, keys) -> np.ndarray:
    return np.array([float(mapping[k]) for k in keys])


def _probs(mapping: dict, keys) -> np.ndarray:
    v = _vec(mapping, keys)
    return v / v.sum()


def _choice_by_row(rng, prob_rows: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Draw one category per element, with probabilities prob_rows[idx] (vectorised)."""
    cum = np.cumsum(prob_rows, axis=1)
    cum[:, -1] = 1.0
    u = rng.random(len(idx))
    return (u[:, None] > cum[idx]).sum(axis=1)


def _days_to_dt(days: np.ndarray) -> np.ndarray:
    """int days since epoch (-1 = missing) -> datetime64[ns] at midnight (NaT for missing)."""
    days = np.asarray(days, dtype=np.int64)
    out = days.astype("datetime64[D]").astype("datetime64[ns]")
    out[days < 0] = np.datetime64("NaT")
    return out


def _secs_to_dt(secs: np.ndarray) -> np.ndarray:
    """int seconds since epoch (-1 = missing) -> datetime64[ns]."""
    secs = np.asarray(secs, dtype=np.int64)
    out = secs.astype("datetime64[s]").astype("datetime64[ns]")
    out[secs < 0] = np.datetime64("NaT")
    return out


def _iso(day: int) -> str:
    return str(np.datetime64(int(day), "D"))


def _merge_params(base: dict, overrides: dict) -> dict:
    params = copy.deepcopy(base)
    for key, value in overrides.items():
        if key not in params:
            raise TypeError(f"build_world() got an unknown parameter {key!r}")
        if isinstance(params[key], dict) and isinstance(value, dict):
            unknown = set(value) - set(params[key])
            if unknown:
                raise ValueError(f"parameter {key!r}: unknown key(s) {sorted(unknown)}")
            params[key] = {**params[key], **value}
        else:
            params[key] = value
    return params


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        v = float(obj)
        return None if not np.isfinite(v) else v
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    return obj


# ------------------------------------------------------------------------------------------------
# public API
# ------------------------------------------------------------------------------------------------
def build_world(
    accounts: int = 5000,
    months: int = 36,
    seed: int = 7,
    end_month: str = "2026-10",
    ttv_hazard_ratio: float = 1.8,
    **overrides,
) -> World:
    """Simulate the world. Same arguments -> identical tables and truth.

    ``overrides`` replace entries of :data:`DEFAULT_PARAMS` (dicts are merged key by key), e.g.
    ``build_world(600, 24, segment_base_monthly_hazard={"SMB": 0.05})``.
    """
    if accounts < 10:
        raise ValueError("accounts must be >= 10")
    if months < 12:
        raise ValueError("months must be >= 12 (the experiment and adoption study need room)")
    if ttv_hazard_ratio <= 0:
        raise ValueError("ttv_hazard_ratio must be > 0")
    params = _merge_params(DEFAULT_PARAMS, overrides)
    params.update(accounts=int(accounts), months=int(months), seed=int(seed), end_month=str(end_month),
                  ttv_hazard_ratio=float(ttv_hazard_ratio))
    return _Builder(params).build()


def _to_arrow(name: str, df: pd.DataFrame):
    import pyarrow as pa

    table = pa.Table.from_pandas(df, preserve_index=False)
    for col in DATE_COLUMNS.get(name, []):
        i = table.schema.get_field_index(col)
        table = table.set_column(i, col, table.column(col).cast(pa.timestamp("s")).cast(pa.date32()))
    for col in TIMESTAMP_COLUMNS.get(name, []):
        i = table.schema.get_field_index(col)
        table = table.set_column(i, col, table.column(col).cast(pa.timestamp("us")))
    return table


def _for_csv(name: str, df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for col in DATE_COLUMNS.get(name, []):
        out[col] = out[col].dt.strftime("%Y-%m-%d")
    for col in TIMESTAMP_COLUMNS.get(name, []):
        out[col] = out[col].dt.strftime("%Y-%m-%d %H:%M:%S")
    return out


def save_world(world: World, out: str | Path, fmt: str | None = None) -> Path:
    """Write the tables and the truth.

    ``out`` ending ``.duckdb``: one DuckDB file, one table per contract table (an existing file is
    replaced), truth in ``<stem>.truth.json`` beside it. Otherwise ``out`` is a folder of
    ``<table>.parquet`` (``fmt="parquet"``, the default) or ``<table>.csv`` (``fmt="csv"``) plus
    ``truth.json``. Dates are stored as DATE, event times as TIMESTAMP (UTC, naive).
    Returns the path written (file or folder).
    """
    out = Path(out)
    if out.suffix == ".duckdb":
        if fmt not in (None, "duckdb"):
            raise ValueError(f"fmt={fmt!r} does not apply to a .duckdb file")
        import duckdb

        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".writing")
        for p in (tmp, Path(str(tmp) + ".wal")):
            if p.exists():
                p.unlink()
        con = duckdb.connect(str(tmp))
        try:
            for name in TABLE_NAMES:
                arrow = _to_arrow(name, world.tables[name])
                con.register("_synth_src", arrow)
                con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM _synth_src')
                con.unregister("_synth_src")
            con.execute("CHECKPOINT")
        finally:
            con.close()
        stale_wal = Path(str(out) + ".wal")
        if stale_wal.exists():
            stale_wal.unlink()
        os.replace(tmp, out)
        truth_path = out.with_suffix(".truth.json")
    else:
        fmt = fmt or "parquet"
        if fmt not in ("parquet", "csv"):
            raise ValueError(f"fmt must be 'parquet' or 'csv', not {fmt!r}")
        out.mkdir(parents=True, exist_ok=True)
        other = "csv" if fmt == "parquet" else "parquet"
        for name in TABLE_NAMES:
            stale = out / f"{name}.{other}"
            if stale.exists():  # the loader prefers parquet: never leave a stale twin behind
                stale.unlink()
            if fmt == "parquet":
                import pyarrow.parquet as pq

                pq.write_table(_to_arrow(name, world.tables[name]), out / f"{name}.parquet")
            else:
                _for_csv(name, world.tables[name]).to_csv(out / f"{name}.csv", index=False)
        truth_path = out / "truth.json"
    truth_path.write_text(json.dumps(world.truth, indent=1, sort_keys=False))
    return out


# ------------------------------------------------------------------------------------------------
# the simulation
# ------------------------------------------------------------------------------------------------
class _Builder:
    OFF = 12  # grid column of window month 0; the grid starts 12 months before the window

    def __init__(self, p: dict):
        self.p = p
        self.n = p["accounts"]
        self.months = p["months"]
        end_m = np.datetime64(p["end_month"], "M")
        self.m0 = end_m - (self.months - 1)
        self.ws = int(self.m0.astype("datetime64[D]").astype(np.int64))
        self.we = int((end_m + 1).astype("datetime64[D]").astype(np.int64)) - 1  # last day, inclusive
        self.J = self.OFF + self.months + 26
        self.gs = np.arange(self.J) - self.OFF  # window month index of each grid column
        self.month_start = (self.m0 + self.gs).astype("datetime64[D]").astype(np.int64)
        seqs = np.random.SeedSequence(p["seed"]).spawn(len(_RNG_STREAMS))
        self.rng = {name: np.random.default_rng(s) for name, s in zip(_RNG_STREAMS, seqs)}
        self.tables: dict[str, pd.DataFrame] = {}
        self.truth: dict[str, Any] = {}

    # window month index of a month string / day
    def _month_index(self, month: str) -> int:
        return int(np.datetime64(month, "M") - self.m0)

    def _day_month_index(self, days: np.ndarray) -> np.ndarray:
        return (np.asarray(days).astype("datetime64[D]").astype("datetime64[M]") - self.m0).astype(np.int64)

    def build(self) -> World:
        self._accounts()
        self._onboarding_latent()
        self._latent_paths()
        self._simulate()
        self._subscriptions_table()
        self._usage()
        self._support()
        self._cs_activities()
        self._surveys()
        self._churn_reasons()
        self._experiments()
        self._onboarding_table()
        self._truth()
        tables = {name: self.tables[name] for name in TABLE_NAMES}
        self.truth["sizes"] = {name: int(len(df)) for name, df in tables.items()}
        return World(tables=tables, truth=_jsonable(self.truth))

    # -------------------------------------------------------------------------- accounts
    def _accounts(self):
        p, n, r = self.p, self.n, self.rng["accounts"]
        self.seg = r.choice(3, size=n, p=_probs(p["segment_shares"], SEGMENTS))
        self.region = r.choice(4, size=n, p=_probs(p["region_shares"], REGIONS))
        self.industry = r.integers(0, len(INDUSTRIES), size=n)
        ch_rows = np.array([_probs(p["channel_shares_by_segment"][s], CHANNELS) for s in SEGMENTS])
        self.channel = _choice_by_row(r, ch_rows, self.seg)
        tier_rows = np.array([_probs(p["touch_tier_shares_by_segment"][s], TIERS) for s in SEGMENTS])
        self.tier = _choice_by_row(r, tier_rows, self.seg)
        self.z = _vec(p["engagement_shift_by_channel"], CHANNELS)[self.channel] + r.standard_normal(n)
        self.pre = r.random(n) < p["pre_window_share"]
        self.bday_dom = r.integers(2, 29, size=n)  # billing day of month, 2..28
        g0 = np.empty(n, dtype=np.int64)
        npre = int(self.pre.sum())
        g0[self.pre] = -r.integers(1, p["pre_window_max_months"] + 1, size=npre)
        w = 1.0 + p["joiner_growth"] * np.arange(self.months) / max(self.months - 1, 1)
        g0[~self.pre] = r.choice(self.months, size=n - npre, p=w / w.sum())
        self.g0 = g0
        self.annual = r.random(n) < _vec(p["annual_share_by_segment"], SEGMENTS)[self.seg]
        self.s0 = self._bday_at(np.arange(n), g0)  # first subscription start (day)
        lag = r.integers(0, 60, size=n)
        created = self.s0 - lag
        created[~self.pre] = np.maximum(created[~self.pre], self.ws)
        self.created = created
        self.plan0 = _choice_by_row(
            r, np.array([_probs(p["plan_shares_by_segment"][s], PLANS) for s in SEGMENTS]), self.seg
        )
        med = _vec(p["seats_median_by_segment"], SEGMENTS)[self.seg]
        self.seats0 = np.maximum(1, np.round(np.exp(np.log(med) + p["seats_log_sd"] * r.standard_normal(n)))).astype(np.int64)
        self.addon0 = r.random(n) < p["addon_share_at_start"]
        self.ids = np.array([f"A{i + 1:05d}" for i in range(n)], dtype=object)
        # CSM book: high-touch and low-touch pools; tech-touch is pooled "Digital CS"
        rn = self.rng["names"]
        first = ["Ava", "Ben", "Chloe", "Diego", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kara",
                 "Liam", "Maya", "Nikhil", "Olivia", "Pavel", "Quinn", "Rosa", "Sam", "Tara", "Uma", "Victor"]
        last = ["Adams", "Brooks", "Chen", "Duarte", "Evans", "Fischer", "Garcia", "Hughes", "Ito", "Jensen",
                "Kowalski", "Lopez", "Moreau", "Nakamura", "Okafor", "Patel", "Rossi", "Silva", "Tanaka", "Weber"]
        people = [f"{a} {b}" for a in first for b in last]
        picks = rn.choice(len(people), size=22, replace=False)
        high_pool = [people[k] for k in picks[:12]]
        low_pool = [people[k] for k in picks[12:]]
        owner = np.empty(n, dtype=object)
        hi, lo = self.tier == 0, self.tier == 1
        owner[hi] = np.array(high_pool, dtype=object)[rn.integers(0, len(high_pool), hi.sum())]
        owner[lo] = np.array(low_pool, dtype=object)[rn.integers(0, len(low_pool), lo.sum())]
        owner[self.tier == 2] = "Digital CS"
        self.owner = owner
        self.account_names = self._company_names(rn)
        self.tables["accounts"] = pd.DataFrame({
            "account_id": self.ids,
            "created_at": _days_to_dt(self.created),
            "account_name": self.account_names,
            "segment": np.array(SEGMENTS, dtype=object)[self.seg],
            "industry": np.array(INDUSTRIES, dtype=object)[self.industry],
            "region": np.array(REGIONS, dtype=object)[self.region],
            "acquisition_channel": np.array(CHANNELS, dtype=object)[self.channel],
            "csm_owner": owner,
            "touch_tier": np.array(TIERS, dtype=object)[self.tier],
        })

    def _company_names(self, rn) -> np.ndarray:
        a = ["Acme", "Apex", "Arbor", "Atlas", "Aurora", "Beacon", "Birch", "Blue", "Bright", "Cedar",
             "Cobalt", "Copper", "Crest", "Delta", "Ember", "Evergreen", "Falcon", "Fern", "Granite",
             "Harbor", "Horizon", "Iron", "Juniper", "Keystone", "Lumen", "Maple", "Meridian", "Nimbus",
             "North", "Nova", "Oak", "Orbit", "Peak", "Pine", "Prairie", "Quartz", "Raven", "Ridge",
             "River", "Sage", "Silver", "Summit", "Terra", "Tidal", "Vertex", "Willow", "Zenith"]
        b = ["Analytics", "Bio", "Capital", "Cloud", "Data", "Dynamics", "Energy", "Foods", "Health",
             "Logic", "Logistics", "Media", "Metrics", "Networks", "Partners", "Robotics", "Security",
             "Software", "Solutions", "Studios", "Systems", "Tech", "Works", "Ventures", "Labs"]
        c = ["Inc", "LLC", "Ltd", "GmbH", "Group", "Co", "Corp", "SA", "BV", "Pty"]
        total = len(a) * len(b) * len(c)
        k = rn.choice(total, size=self.n, replace=self.n > total)
        ia, rest = np.divmod(k, len(b) * len(c))
        ib, ic = np.divmod(rest, len(c))
        names = [f"{a[x]} {b[y]} {c[w]}" for x, y, w in zip(ia, ib, ic)]
        return np.array(names, dtype=object)

    def _bday_at(self, idx: np.ndarray, g: np.ndarray) -> np.ndarray:
        """Boundary day of accounts idx in window month g (g may be any int)."""
        ms = (self.m0 + np.asarray(g, dtype=np.int64)).astype("datetime64[D]").astype(np.int64)
        return ms + self.bday_dom[idx] - 1

    # -------------------------------------------------------------------------- time to value
    def _onboarding_latent(self):
        p, r, n = self.p, self.rng["ttv"], self.n
        ref = p["ttv_reference_year"] or int(str(self.m0)[:4])
        self.ttv_ref_year = int(ref)
        self.cohort_year = self.s0.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
        med = _vec(p["ttv_median_days_by_segment"], SEGMENTS)[self.seg] * p["ttv_yearly_speedup"] ** (self.cohort_year - ref)
        self.ttv_median = med
        ttv = np.ceil(np.exp(np.log(med) + p["ttv_log_sd"] * r.standard_normal(n))).astype(np.int64)
        self.never_value = r.random(n) < p["ttv_never_share"]
        ttv[self.never_value] = -1
        self.ttv = np.maximum(ttv, np.where(self.never_value, -1, 1))
        self.slow = self.never_value | (self.ttv > p["ttv_threshold_days"])

    # -------------------------------------------------------------------------- latent paths
    def _latent_paths(self):
        p, n, J = self.p, self.n, self.J
        rt = self.rng["tickets"]
        rate = _vec(p["tickets_per_month_by_segment"], SEGMENTS)[self.seg] * np.exp(p["ticket_engagement_log_slope"] * self.z)
        lam = rate[:, None] * np.exp(p["ticket_month_log_sd"] * rt.standard_normal((n, J)) - p["ticket_month_log_sd"] ** 2 / 2)
        self.T = rt.poisson(lam)
        self.p_high = _sigmoid(p["high_ticket_share_logit"] + p["high_ticket_engagement_slope"] * self.z)
        self.HU = rt.binomial(self.T, self.p_high[:, None])
        # boundary days of every account on every grid column
        self.bd = self.month_start[None, :] + (self.bday_dom - 1)[:, None]
        ttv_fac = np.where(
            self.slow[:, None] & ((self.bd - self.s0[:, None]) > p["ttv_threshold_days"]),
            p["ttv_hazard_ratio"], 1.0,
        )
        base = _vec(p["segment_base_monthly_hazard"], SEGMENTS)[self.seg]
        self.H_static = (
            base[:, None]
            * np.exp(p["engagement_log_hazard_slope"] * self.z)[:, None]
            * ttv_fac
            * np.exp(p["ticket_log_hazard_per_high_ticket"] * self.HU
                     + p["ticket_log_hazard_per_other_ticket"] * (self.T - self.HU))
        )
        ru = self.rng["util"]
        self.u_lat = _sigmoid(p["utilisation_intercept"] + p["utilisation_slope"] * self.z[:, None]
                              + p["utilisation_month_sd"] * ru.standard_normal((n, J)))
        self.usage_noise = np.exp(p["usage_month_log_sd"] * ru.standard_normal((n, J)) - p["usage_month_log_sd"] ** 2 / 2)
        # randomized experiment (latent: applies to accounts active at assignment)
        re_ = self.rng["experiment"]
        self.exp_g = self._month_index(p["experiment_month"]) if p["experiment_month"] else self.months - 8
        if not (1 <= self.exp_g <= self.months - 1):
            raise ValueError("experiment_month must fall inside the data window (after its first month)")
        self.exp_day = int(self.month_start[self.OFF + self.exp_g])
        self.exp_end = self.exp_day + int(p["experiment_horizon_days"])
        self.exp_mult = _vec(p["experiment_hazard_multiplier_by_segment"], SEGMENTS)[self.seg]
        share = p["experiment_exposure_share"]
        self.exp_pi = _sigmoid(_logit(share) + p["experiment_exposure_engagement_slope"] * (self.z - self.z.mean()))
        self.exp_u_exposed = re_.random(n)
        self.exp_perm = re_.permutation(n)
        # feature adoption (latent date; the account adopts if active that day)
        ra = self.rng["adoption"]
        self.ad_g = self._month_index(p["adoption_study_month"]) if p["adoption_study_month"] else self.months // 3
        if not (1 <= self.ad_g <= self.months - 1):
            raise ValueError("adoption_study_month must fall inside the data window (after its first month)")
        self.ad_day0 = int(self.month_start[self.OFF + self.ad_g])
        spread_end = int(self.month_start[self.OFF + self.ad_g + p["adoption_spread_months"]])
        self.ad_prob = _sigmoid(p["adoption_logit_intercept"] + p["adoption_logit_engagement"] * self.z)
        self.would_adopt = ra.random(n) < self.ad_prob
        self.ad_day = ra.integers(self.ad_day0, spread_end, size=n)

    # -------------------------------------------------------------------------- main loop
    def _hazards(self, j: int, adopted: np.ndarray, in_exp: np.ndarray):
        """Control and as-treated hazards at grid column j (boundary of window month j-OFF)."""
        p = self.p
        b = self.bd[:, j]
        adopt_fac = np.where(adopted & (self.ad_day < b), p["adoption_hazard_ratio"], 1.0)
        h_ctl = np.minimum(self.H_static[:, j] * adopt_fac, p["hazard_cap"])
        in_h = (b > self.exp_day) & (b <= self.exp_end)
        h_exp = np.where(in_h, np.minimum(self.H_static[:, j] * adopt_fac * self.exp_mult, p["hazard_cap"]), h_ctl)
        return h_ctl, h_exp

    def _simulate(self):
        p, n, OFF, M = self.p, self.n, self.OFF, self.months
        r = self.rng["loop"]
        prices = _vec(p["list_price_per_seat"], PLANS)
        addon_price = float(p["list_price_per_seat"][ADDON])
        disc = np.where(self.annual, 1.0 - p["annual_discount"], 1.0)

        def mrr_of(plan, seats, who):
            return np.round(prices[plan] * seats * disc[who], 2)

        rows = {k: [] for k in ("acc", "product", "start", "end", "seats", "mrr")}

        def emit(acc, product, start, end, seats, mrr):
            rows["acc"].append(acc)
            rows["product"].append(product)
            rows["start"].append(start)
            rows["end"].append(end)
            rows["seats"].append(seats)
            rows["mrr"].append(mrr)

        active = np.zeros(n, bool)
        anchor = np.full(n, -10_000, dtype=np.int64)
        plan = self.plan0.copy()
        seats = self.seats0.copy()
        main_start = np.full(n, -1, dtype=np.int64)
        addon = np.zeros(n, bool)
        addon_seats = np.zeros(n, dtype=np.int64)
        addon_start = np.full(n, -1, dtype=np.int64)
        spell_start = np.full(n, -1, dtype=np.int64)
        react_g = np.full(n, 10**6, dtype=np.int64)
        spells = {"acc": [], "start": [], "end": []}
        churns = {"acc": [], "g": [], "day": []}
        n_react = 0

        # accounts that predate the window: active from their first start, one row each (+ add-on)
        pre = np.flatnonzero(self.pre)
        active[pre] = True
        anchor[pre] = self.g0[pre]
        main_start[pre] = self.s0[pre]
        spell_start[pre] = self.s0[pre]
        a0 = pre[self.addon0[pre]]
        addon[a0] = True
        addon_seats[a0] = seats[a0]
        addon_start[a0] = self.s0[a0]

        self.H_ctl = self.H_static.copy()
        self.H_real = self.H_static.copy()
        self.H_exp = self.H_static.copy()
        np.minimum(self.H_exp, p["hazard_cap"], out=self.H_exp)
        np.minimum(self.H_ctl, p["hazard_cap"], out=self.H_ctl)
        np.minimum(self.H_real, p["hazard_cap"], out=self.H_real)
        self.seats_period = np.zeros((n, self.J), dtype=np.int64)
        self.users = np.zeros((n, self.J), dtype=np.int64)
        ru = self.rng["util"]
        self.seats_period[:, OFF] = np.where(active, seats, 0)
        self.users[:, OFF] = ru.binomial(self.seats_period[:, OFF], self.u_lat[:, OFF])
        self.at_risk = np.zeros((n, M + 1), bool)  # period g fully active (g = 0..months)
        self.p_real = np.zeros((n, M))
        adopted = np.zeros(n, bool)
        candidate = np.zeros(n, bool)
        in_exp = np.zeros(n, bool)
        treat = np.zeros(n, bool)
        exposed = np.zeros(n, bool)
        self.anchor_at_exp = np.full(n, -10_000, dtype=np.int64)
        self.anchor_at_adopt = np.full(n, -10_000, dtype=np.int64)
        self.anchor_at_study = np.full(n, -10_000, dtype=np.int64)
        self.expansions = 0
        self.contractions = 0
        exp_lo = _vec(p["expansion_logit_intercept_by_segment"], SEGMENTS)[self.seg]

        for g in range(M):
            j = OFF + g
            b = self.bd[:, j]
            at_risk = active.copy()
            # feature adoption happens inside period g if the account is active through it
            new_ad = candidate & ~adopted & at_risk & self.would_adopt & (self.ad_day >= self.bd[:, j - 1]) & (self.ad_day < b)
            adopted |= new_ad
            self.anchor_at_adopt[new_ad] = anchor[new_ad]
            h_ctl, h_exp = self._hazards(j, adopted, in_exp)
            self.H_ctl[:, j] = h_ctl
            self.H_exp[:, j] = h_exp
            self.H_real[:, j] = np.where(in_exp & treat & exposed, h_exp, h_ctl)
            renewal = self.annual & ((g - anchor) % 12 == 0)
            surv12 = np.exp(np.log1p(-self.H_real[:, j - 11:j + 1]).sum(axis=1))
            prob = np.where(self.annual, np.where(renewal, 1.0 - surv12, 0.0), self.H_real[:, j])
            prob = np.where(at_risk, prob, 0.0)
            self.p_real[:, g] = prob
            self.at_risk[:, g] = at_risk
            churn = at_risk & (r.random(n) < prob)

            # --- churn: every open row ends on the boundary
            ci = np.flatnonzero(churn)
            if len(ci):
                emit(ci, plan[ci], main_start[ci], b[ci], seats[ci], mrr_of(plan[ci], seats[ci], ci))
                ca = ci[addon[ci]]
                emit(ca, np.full(len(ca), -1), addon_start[ca], b[ca], addon_seats[ca],
                     np.round(addon_price * addon_seats[ca] * disc[ca], 2))
                addon[ci] = False
                active[ci] = False
                spells["acc"].append(ci)
                spells["start"].append(spell_start[ci])
                spells["end"].append(b[ci])
                churns["acc"].append(ci)
                churns["g"].append(np.full(len(ci), g))
                churns["day"].append(b[ci])
                back = r.random(len(ci)) < p["reactivation_share"]
                lo_gap, hi_gap = p["reactivation_gap_months"]
                gaps = r.integers(lo_gap, hi_gap + 1, size=len(ci))
                react_g[ci] = np.where(back, g + gaps, 10**6)

            # --- expansion / contraction / add-on (monthly: every boundary; annual: at renewal)
            surv = at_risk & ~churn
            evaluate = surv & (~self.annual | renewal)
            util = np.where(seats > 0, self.users[:, j] / np.maximum(seats, 1), 0.0)
            pe = _sigmoid(exp_lo + p["expansion_logit_utilisation"] * (util - 0.75) + p["expansion_logit_engagement"] * self.z)
            pc = _sigmoid(p["contraction_logit_intercept"] + p["contraction_logit_utilisation"] * (util - 0.75)
                          + p["contraction_logit_engagement"] * self.z)
            pa = np.full(n, p["addon_monthly_purchase_prob"]) * np.exp(0.3 * self.z)
            pdrop = np.full(n, p["addon_monthly_drop_prob"])
            pe, pc, pa, pdrop = (np.where(self.annual, 1 - (1 - x) ** 12, x) for x in (pe, pc, pa, pdrop))
            tot = pe + pc
            scale = np.where(tot > 0.95, 0.95 / tot, 1.0)
            pe, pc = pe * scale, pc * scale
            u = r.random(n)
            expand = evaluate & (u < pe)
            contract = evaluate & (u >= pe) & (u < pe + pc) & (seats > 1)
            change = np.flatnonzero(expand | contract)
            grow = r.uniform(1.1, 1.6, n)
            shrink = r.uniform(0.6, 0.9, n)
            up = r.random(n) < p["plan_upgrade_share_on_expansion"]
            down = r.random(n) < p["plan_downgrade_share_on_contraction"]
            if len(change):
                emit(change, plan[change], main_start[change], b[change], seats[change],
                     mrr_of(plan[change], seats[change], change))
                new_seats = np.where(expand, np.ceil(seats * grow), np.maximum(1, np.floor(seats * shrink))).astype(np.int64)
                new_plan = np.where(expand & up, np.minimum(plan + 1, 2),
                                    np.where(contract & down, np.maximum(plan - 1, 0), plan))
                seats[change] = new_seats[change]
                plan[change] = new_plan[change]
                main_start[change] = b[change]
            self.expansions += int(expand.sum())
            self.contractions += int(contract.sum())
            ua, ud = r.random(n), r.random(n)
            buy = np.flatnonzero(evaluate & ~addon & (ua < pa))
            drop = np.flatnonzero(evaluate & addon & (ud < pdrop))
            if len(drop):
                emit(drop, np.full(len(drop), -1), addon_start[drop], b[drop], addon_seats[drop],
                     np.round(addon_price * addon_seats[drop] * disc[drop], 2))
                addon[drop] = False
            if len(buy):
                addon[buy] = True
                addon_seats[buy] = seats[buy]
                addon_start[buy] = b[buy]

            # --- new accounts and reactivations start on this boundary
            new = np.flatnonzero(~self.pre & (self.g0 == g))
            active[new] = True
            anchor[new] = g
            main_start[new] = b[new]
            spell_start[new] = b[new]
            na = new[self.addon0[new]]
            addon[na] = True
            addon_seats[na] = seats[na]
            addon_start[na] = b[na]
            back = np.flatnonzero((react_g == g) & ~active)
            if len(back):
                shrink_back = r.uniform(0.5, 1.0, len(back))
                seats[back] = np.maximum(1, np.round(seats[back] * shrink_back)).astype(np.int64)
                active[back] = True
                anchor[back] = g
                main_start[back] = b[back]
                spell_start[back] = b[back]
                react_g[back] = 10**6
                n_react += len(back)

            # --- assignments taken on the first day of the next month
            if g == self.exp_g - 1:
                in_exp = active.copy()
                self.anchor_at_exp = anchor.copy()
                order = self.exp_perm[in_exp[self.exp_perm]]  # complete randomization, 50/50
                treat = np.zeros(n, bool)
                treat[order[: len(order) // 2]] = True
                exposed = in_exp & treat & (self.exp_u_exposed < self.exp_pi)
            if g == self.ad_g - 1:
                candidate = active.copy()
                self.anchor_at_study = anchor.copy()

            # --- seats and active users of the next period
            self.seats_period[:, j + 1] = np.where(active, seats, 0)
            self.users[:, j + 1] = ru.binomial(self.seats_period[:, j + 1], self.u_lat[:, j + 1])

        self.at_risk[:, M] = active
        # hazards beyond the window (for the truth's expected retentions only)
        for j in range(OFF + M, self.J):
            h_ctl, h_exp = self._hazards(j, adopted, in_exp)
            self.H_ctl[:, j] = h_ctl
            self.H_exp[:, j] = h_exp
            self.H_real[:, j] = np.where(in_exp & treat & exposed, h_exp, h_ctl)
        # rows still open at the end of the window
        oi = np.flatnonzero(active)
        emit(oi, plan[oi], main_start[oi], np.full(len(oi), -1), seats[oi], mrr_of(plan[oi], seats[oi], oi))
        oa = oi[addon[oi]]
        emit(oa, np.full(len(oa), -1), addon_start[oa], np.full(len(oa), -1), addon_seats[oa],
             np.round(addon_price * addon_seats[oa] * disc[oa], 2))
        spells["acc"].append(oi)
        spells["start"].append(spell_start[oi])
        spells["end"].append(np.full(len(oi), -1))
        self.rows = {k: np.concatenate(v) for k, v in rows.items()}
        self.spells = {k: np.concatenate(v) for k, v in spells.items()}
        self.churns = {k: (np.concatenate(v) if v else np.zeros(0, np.int64)) for k, v in churns.items()}
        self.n_react = n_react
        self.adopted, self.candidate = adopted, candidate
        self.in_exp, self.treat, self.exposed = in_exp, treat, exposed
        self.final_active = active
        # first spell end (for onboarding: milestones after the first churn are never reached)
        first_end = np.full(n, -1, dtype=np.int64)
        if len(self.churns["acc"]):
            order = np.lexsort((self.churns["day"], self.churns["acc"]))
            acc_sorted = self.churns["acc"][order]
            firsts = np.r_[True, acc_sorted[1:] != acc_sorted[:-1]]
            first_end[acc_sorted[firsts]] = self.churns["day"][order][firsts]
        self.first_end = first_end

    # -------------------------------------------------------------------------- tables
    def _subscriptions_table(self):
        rw = self.rows
        order = np.lexsort((rw["product"] == -1, rw["start"], rw["acc"]))
        acc = rw["acc"][order]
        prod = rw["product"][order]
        names = np.array(list(PLANS) + [ADDON], dtype=object)[np.where(prod < 0, 3, prod)]
        k = len(order)
        self.tables["subscriptions"] = pd.DataFrame({
            "subscription_id": np.array([f"S{i + 1:07d}" for i in range(k)], dtype=object),
            "account_id": self.ids[acc],
            "product": names,
            "start_date": _days_to_dt(rw["start"][order]),
            "end_date": _days_to_dt(rw["end"][order]),
            "mrr": rw["mrr"][order].astype(float),
            "billing_period": np.where(self.annual[acc], "annual", "monthly").astype(object),
            "seats": rw["seats"][order].astype(np.int64),
            "currency": np.full(k, "USD", dtype=object),
        })

    def _usage(self):
        p, sp, n = self.p, self.spells, self.n
        r = self.rng["usage"]
        acc = sp["acc"]
        end = np.where(sp["end"] < 0, self.we + 1, sp["end"])
        churned = sp["end"] >= 0
        lo_on, hi_on = p["decline_onset_days"]
        onset = np.where(churned, end - r.integers(lo_on, hi_on + 1, size=len(acc)), -1)
        self.spell_onset = onset
        ds = np.maximum(sp["start"], self.ws)
        de = np.minimum(end, self.we + 1)
        L = np.maximum(de - ds, 0)
        sidx = np.repeat(np.arange(len(acc)), L)
        offs = np.arange(L.sum()) - np.repeat(np.cumsum(L) - L, L)
        day = ds[sidx] + offs
        a = acc[sidx]
        gm = self._day_month_index(day)
        dom = day - self.month_start[self.OFF + gm] + 1
        j = self.OFF + gm + (dom >= self.bday_dom[a])  # period index: the month of service ending next boundary
        users = self.users[a, j]
        weekday = (day + 3) % 7  # 0 = Monday
        cal_month = ((self.m0.astype(np.int64) + gm) % 12)
        season = np.asarray(p["seasonality_by_month"], float)[cal_month]
        rate = (p["events_per_user_weekday"] * users * np.exp(p["usage_log_rate_slope"] * self.z[a])
                * np.where(weekday >= 5, p["weekend_factor"], 1.0) * season * self.usage_noise[a, j])
        sc = churned[sidx]
        frac = np.where(sc, np.clip((day - onset[sidx]) / np.maximum(end[sidx] - onset[sidx], 1), 0.0, 1.0), 0.0)
        rate *= 1.0 - (1.0 - p["decline_floor"]) * frac
        post_adopt = self.adopted[a] & (day >= self.ad_day[a])
        rate *= np.where(post_adopt, 1.0 + p["adoption_usage_lift"], 1.0)
        counts = r.poisson(rate)
        self.expected_events = float(rate.sum())
        # events
        re_ = self.rng["events"]
        di = np.repeat(np.arange(len(day)), counts)
        ne = len(di)
        ea = a[di]
        # local business-hours profile, shifted to UTC by region (wraps within the day)
        hours_w = np.array([1, 1, 1, 1, 1, 2, 4, 8, 14, 16, 15, 13, 11, 14, 15, 14, 12, 9, 6, 4, 3, 2, 2, 1], float)
        hour = re_.choice(24, size=ne, p=hours_w / hours_w.sum())
        sec_local = hour * 3600 + re_.integers(0, 3600, size=ne)
        sec = (sec_local - np.array(REGION_UTC_OFFSET_H)[self.region[ea]] * 3600) % 86400
        t = day[di] * 86400 + sec
        # users: a stable pool per account; lower-numbered users are the more active ones
        eu = np.floor(users[di] * re_.random(ne) ** 1.5).astype(np.int64)
        pool = np.maximum(self.users.max(axis=1), 1)
        off = np.cumsum(pool) - pool
        user_ids = np.array([f"{self.ids[i]}-U{k + 1:04d}" for i in range(n) for k in range(pool[i])], dtype=object)
        # features: adopters add workflow_run on top of the base mix
        mix = _probs(p["feature_mix"], FEATURES)
        lift = p["adoption_usage_lift"]
        mix_ad = mix.copy()
        mix_ad[FEATURES.index("workflow_run")] += lift
        mix_ad /= mix_ad.sum()
        uf = re_.random(ne)
        f_base = np.searchsorted(np.cumsum(mix)[:-1], uf, side="right")
        f_ad = np.searchsorted(np.cumsum(mix_ad)[:-1], uf, side="right")
        feat = np.where(post_adopt[di], f_ad, f_base)
        order = np.lexsort((t, ea))
        self.tables["usage_events"] = pd.DataFrame({
            "account_id": self.ids[ea[order]],
            "user_id": user_ids[off[ea[order]] + eu[order]],
            "event_time": _secs_to_dt(t[order]),
            "event_name": np.array(FEATURES, dtype=object)[feat[order]],
            "quantity": np.ones(ne, dtype=float),
        })

    def _period_cells(self, rate_matrix_or_counts, counts: bool):
        """Expand active periods g = 0..months into one row per item; returns (acc, grid col, rank)."""
        OFF, M = self.OFF, self.months
        cols = np.arange(OFF, OFF + M + 1)
        if counts:
            c = rate_matrix_or_counts[:, cols] * self.at_risk
        else:
            c = rate_matrix_or_counts
        ai, gi = np.nonzero(c)
        k = c[ai, gi]
        acc = np.repeat(ai, k)
        j = np.repeat(gi + OFF, k)
        rank = np.arange(k.sum()) - np.repeat(np.cumsum(k) - k, k)
        return acc, j, rank

    def _times_in_period(self, r, acc, j, business=True):
        """A timestamp (seconds) uniformly placed in period j of each account (UTC business hours)."""
        start = self.bd[acc, j - 1]
        length = self.bd[acc, j] - start
        day = start + np.floor(r.random(len(acc)) * length).astype(np.int64)
        hour = r.integers(8, 18, len(acc)) if business else r.integers(0, 24, len(acc))
        local = hour * 3600 + r.integers(0, 3600, len(acc))
        sec = (local - np.array(REGION_UTC_OFFSET_H)[self.region[acc]] * 3600) % 86400
        return day * 86400 + sec

    def _support(self):
        r = self.rng["support"]
        acc, j, rank = self._period_cells(self.T, counts=True)
        is_high = rank < self.HU[acc, j]
        created = self._times_in_period(r, acc, j, business=False)
        keep = (created >= self.ws * 86400) & (created < (self.we + 1) * 86400)
        acc, j, is_high, created = acc[keep], j[keep], is_high[keep], created[keep]
        k = len(acc)
        # priority: 0 low, 1 normal, 2 high, 3 urgent
        pr = np.where(is_high, np.where(r.random(k) < 0.25, 3, 2), np.where(r.random(k) < 0.6, 1, 0))
        cat_hi = np.array([0.35, 0.25, 0.20, 0.10, 0.10, 0.0, 0.0])
        cat_lo = np.array([0.10, 0.05, 0.15, 0.05, 0.15, 0.35, 0.15])
        cat = _choice_by_row(r, np.vstack([cat_lo, cat_hi]), is_high.astype(int))
        med_h = np.array([60.0, 30.0, 12.0, 4.0])[pr]
        res_h = np.exp(np.log(med_h) + 0.8 * r.standard_normal(k))
        resolved = created + np.round(res_h * 3600).astype(np.int64)
        unresolved = (r.random(k) < 0.03) | (resolved > (self.we + 1) * 86400 - 1)
        resolved = np.where(unresolved, -1, resolved)
        answer = (r.random(k) < 0.4) & ~unresolved
        score = np.clip(np.round(4.1 + 0.4 * self.z[acc] - 0.35 * np.log(res_h / med_h) + 0.9 * r.standard_normal(k)), 1, 5)
        csat = np.where(answer, score, np.nan)
        order = np.lexsort((created, acc))
        self.tables["support_tickets"] = pd.DataFrame({
            "ticket_id": np.array([f"T{i + 1:07d}" for i in range(k)], dtype=object),
            "account_id": self.ids[acc[order]],
            "created_at": _secs_to_dt(created[order]),
            "resolved_at": _secs_to_dt(resolved[order]),
            "priority": np.array(["low", "normal", "high", "urgent"], dtype=object)[pr[order]],
            "category": np.array(TICKET_CATEGORIES, dtype=object)[cat[order]],
            "csat": csat[order].astype(float),
        })

    def _cs_activities(self):
        p, r, M = self.p, self.rng["cs"], self.months
        rate = _vec(p["cs_activities_per_month_by_tier"], TIERS)[self.tier] * np.exp(-0.15 * self.z)
        counts = r.poisson(np.repeat(rate[:, None], M + 1, axis=1)) * self.at_risk
        acc, j, _ = self._period_cells(counts, counts=False)
        t = self._times_in_period(r, acc, j)
        keep = (t >= self.ws * 86400) & (t < (self.we + 1) * 86400)
        acc, t = acc[keep], t[keep]
        k = len(acc)
        types = ("call", "email", "qbr", "training")
        rows = np.array([[0.35, 0.35, 0.12, 0.18], [0.25, 0.60, 0.03, 0.12], [0.0, 0.85, 0.0, 0.15]])
        ty = _choice_by_row(r, rows, self.tier[acc])
        order = np.lexsort((t, acc))
        self.tables["cs_activities"] = pd.DataFrame({
            "activity_id": np.array([f"C{i + 1:07d}" for i in range(k)], dtype=object),
            "account_id": self.ids[acc[order]],
            "occurred_at": _secs_to_dt(t[order]),
            "activity_type": np.array(types, dtype=object)[ty[order]],
            "owner": self.owner[acc[order]],
        })

    def _surveys(self):
        p, r, M = self.p, self.rng["surveys"], self.months
        parts = []
        for kind, rate in (("nps", p["nps_responses_per_month"]), ("csat", p["csat_responses_per_month"])):
            counts = r.poisson(rate, size=(self.n, M + 1)) * self.at_risk
            acc, j, _ = self._period_cells(counts, counts=False)
            t = self._times_in_period(r, acc, j)
            keep = (t >= self.ws * 86400) & (t < (self.we + 1) * 86400)
            acc, j, t = acc[keep], j[keep], t[keep]
            k = len(acc)
            if kind == "nps":
                score = np.clip(np.round(7.0 + 1.4 * self.z[acc] + 1.6 * r.standard_normal(k)), 0, 10)
            else:
                score = np.clip(np.round(3.9 + 0.5 * self.z[acc] + 0.8 * r.standard_normal(k)), 1, 5)
            users = np.maximum(self.users[acc, j], 1)
            uk = np.floor(users * r.random(k)).astype(np.int64)
            parts.append((acc, uk, t, np.full(k, kind, dtype=object), score))
        acc = np.concatenate([x[0] for x in parts])
        uk = np.concatenate([x[1] for x in parts])
        t = np.concatenate([x[2] for x in parts])
        kind = np.concatenate([x[3] for x in parts])
        score = np.concatenate([x[4] for x in parts])
        order = np.lexsort((t, acc))
        uid = np.array([f"{self.ids[a]}-U{k + 1:04d}" for a, k in zip(acc[order], uk[order])], dtype=object)
        self.tables["surveys"] = pd.DataFrame({
            "account_id": self.ids[acc[order]],
            "user_id": uid,
            "answered_at": _secs_to_dt(t[order]),
            "survey_type": kind[order],
            "score": score[order].astype(np.int64),
        })

    def _churn_reasons(self):
        p, r = self.p, self.rng["reasons"]
        ch = self.churns
        k = len(ch["acc"])
        acc, g, day = ch["acc"], ch["g"], ch["day"]
        j = self.OFF + g
        hu3 = self.HU[acc, j] + self.HU[acc, j - 1] + self.HU[acc, j - 2]
        tenure_m = (day - self.s0[acc]) / 30.4
        seg = self.seg[acc]
        # weights: low_usage, onboarding_failure, budget, competitor, product_gaps, support, company_closed
        w = np.column_stack([
            1.2 * np.exp(-1.0 * self.z[acc]),
            np.where(self.slow[acc] & (tenure_m <= 9), 2.0, 0.15),
            np.full(k, 1.0),
            np.where(seg == 0, 0.7, 1.2),
            np.full(k, 0.8),
            0.3 + 0.8 * hu3,
            np.where(seg == 0, 0.8, 0.2),
        ])
        prob = w / w.sum(axis=1, keepdims=True)
        self.reason_prob = prob
        u = r.random(k)
        reason = (u[:, None] > np.cumsum(prob, axis=1)[:, :-1]).sum(axis=1)
        covered = r.random(k) < p["churn_reason_coverage"]
        sub = {
            "low_usage": ["few_active_users", "not_part_of_workflow", "champion_left"],
            "onboarding_failure": ["never_went_live", "integration_stalled", "no_internal_owner"],
            "budget": ["budget_cut", "price_increase", "cost_consolidation"],
            "competitor": ["cheaper_alternative", "better_features", "bundled_with_suite"],
            "product_gaps": ["missing_integration", "reporting_limits", "no_mobile"],
            "support": ["slow_response", "unresolved_bugs", "poor_quality"],
            "company_closed": ["went_out_of_business", "acquired", "restructuring"],
        }
        templates = {
            "low_usage": [
                "We just weren't using it enough to justify the cost.",
                "Only {n} people on the team logged in regularly, adoption never took off.",
                "The tool never became part of our daily workflow.",
                "Our champion left and nobody else on the team was using it.",
            ],
            "onboarding_failure": [
                "Onboarding took too long and we never got to value.",
                "We could not finish the setup, the {integration} integration stalled.",
                "Implementation dragged on for months and we never went live.",
                "Nobody internally owned the rollout so the project never got off the ground.",
            ],
            "budget": [
                "Budget cuts this {period}, we have to reduce software spend.",
                "The price increase at renewal was too much for us.",
                "Finance asked us to consolidate tools to save costs.",
                "We can't afford it anymore given our budget this {period}.",
            ],
            "competitor": [
                "Switching to {competitor}, it is cheaper for our size.",
                "We moved to {competitor} because it has the features we need.",
                "{competitor} came bundled with our suite so we consolidated.",
                "Went with {competitor} after an evaluation, better fit for the team.",
            ],
            "product_gaps": [
                "Missing the {integration} integration we need.",
                "Reporting is too limited for what we need, we need custom dashboards.",
                "The product lacks features we need, like {feature}.",
                "No {feature} support, a dealbreaker for our team.",
            ],
            "support": [
                "Support was too slow, tickets stayed open for weeks.",
                "Too many bugs that never got fixed despite our tickets.",
                "We were frustrated with the support experience and response times.",
                "Recurring outages and slow support responses.",
            ],
            "company_closed": [
                "Our company is shutting down.",
                "We were acquired and the parent company uses another tool.",
                "Company is winding down operations.",
                "Restructuring, the team that used the product no longer exists.",
            ],
        }
        leads = ["", "", "", "Honestly, ", "To be frank: ", "Feedback from the admin: ", "Per the account owner, "]
        tails = ["", "", "", " Thanks for the help.", " We may come back later.", " No hard feelings.",
                 " Please cancel at the end of the term."]
        fills = {
            "integration": ["Salesforce", "HubSpot", "Zendesk", "Snowflake", "Jira", "NetSuite"],
            "feature": ["SSO", "a mobile app", "custom roles", "audit logs", "scheduled exports"],
            "period": ["quarter", "year", "fiscal year"],
            "n": ["two", "three", "a couple of", "very few"],
        }
        rows_acc, rows_day, rows_reason, rows_sub, rows_comp, rows_comment = [], [], [], [], [], []
        ti = r.integers(0, 4, k)
        li = r.integers(0, len(leads), k)
        tl = r.integers(0, len(tails), k)
        si = r.integers(0, 3, k)
        ci = r.integers(0, len(COMPETITORS), k)
        fi = r.integers(0, 1000, (k, 4))
        nocomment = r.random(k) < 0.1
        for x in np.flatnonzero(covered):
            name = CHURN_REASONS[reason[x]]
            comp = COMPETITORS[ci[x]] if name == "competitor" else None
            text = templates[name][ti[x]].format(
                competitor=comp or "",
                integration=fills["integration"][fi[x, 0] % 6],
                feature=fills["feature"][fi[x, 1] % 5],
                period=fills["period"][fi[x, 2] % 3],
                n=fills["n"][fi[x, 3] % 4],
            )
            if leads[li[x]] and not (comp and text.startswith(comp)):
                text = text[0].lower() + text[1:]
            text = leads[li[x]] + text + tails[tl[x]]
            rows_acc.append(acc[x])
            rows_day.append(day[x])
            rows_reason.append(name)
            rows_sub.append(sub[name][si[x]])
            rows_comp.append(comp)
            rows_comment.append(None if nocomment[x] else text)
        ra = np.array(rows_acc, dtype=np.int64)
        rd = np.array(rows_day, dtype=np.int64)
        order = np.lexsort((rd, ra)) if len(ra) else np.zeros(0, np.int64)
        self.tables["churn_reasons"] = pd.DataFrame({
            "account_id": self.ids[ra[order]] if len(ra) else np.array([], dtype=object),
            "churn_date": _days_to_dt(rd[order]),
            "reason": np.array(rows_reason, dtype=object)[order],
            "sub_reason": np.array(rows_sub, dtype=object)[order],
            "competitor": np.array(rows_comp, dtype=object)[order],
            "comment": np.array(rows_comment, dtype=object)[order],
        })
        self.reason_covered = covered
        self.reason_drawn = reason

    def _experiments(self):
        ei = np.flatnonzero(self.in_exp)
        ci = np.flatnonzero(self.candidate)
        ad = self.adopted[ci]
        exp_df = pd.DataFrame({
            "experiment_id": np.full(len(ei), EXP_ID, dtype=object),
            "account_id": self.ids[ei],
            "arm": np.where(self.treat[ei], "treatment", "control").astype(object),
            "assigned_at": _days_to_dt(np.full(len(ei), self.exp_day)),
            "exposed": self.exposed[ei].astype(bool),
        })
        ad_df = pd.DataFrame({
            "experiment_id": np.full(len(ci), ADOPT_ID, dtype=object),
            "account_id": self.ids[ci],
            "arm": np.where(ad, "adopter", "non_adopter").astype(object),
            "assigned_at": _days_to_dt(np.where(ad, self.ad_day[ci], self.ad_day0)),
            "exposed": ad.astype(bool),
        })
        self.tables["experiments"] = pd.concat([exp_df, ad_df], ignore_index=True)

    def _onboarding_table(self):
        r = self.rng["onboarding"]
        n = self.n
        s0 = self.s0
        reach = ~self.never_value
        ttv = np.maximum(self.ttv, 1)
        # kickoff <= integrated <= first_value <= go_live
        kick_days = np.where(reach, np.floor(r.uniform(0.0, 0.3, n) * np.minimum(ttv, 25)), r.integers(0, 8, n))
        kick = s0 + kick_days.astype(np.int64)
        integ_reach = reach | (r.random(n) < 0.5)
        integ_days = np.where(reach, kick_days + np.round((ttv - kick_days) * r.uniform(0.4, 0.9, n)),
                              kick_days + np.round(np.exp(np.log(40) + 0.6 * r.standard_normal(n))))
        integ = np.where(integ_reach, s0 + integ_days.astype(np.int64), -1)
        fv = np.where(reach, s0 + self.ttv, -1)
        live_reach = reach & (r.random(n) < 0.9)
        live = np.where(live_reach, fv + np.ceil(np.exp(np.log(21) + 0.5 * r.standard_normal(n))).astype(np.int64), -1)
        # never reached after the first churn or after the end of the window
        limit = np.where(self.first_end >= 0, self.first_end - 1, self.we)
        limit = np.minimum(limit, self.we)
        cols = []
        for m, d in zip(MILESTONES, (kick, integ, fv, live)):
            cols.append(np.where((d >= 0) & (d <= limit), d, -1))
        k = len(MILESTONES)
        self.tables["onboarding"] = pd.DataFrame({
            "account_id": np.repeat(self.ids, k),
            "milestone": np.tile(np.array(MILESTONES, dtype=object), n),
            "achieved_at": _days_to_dt(np.column_stack(cols).ravel()),
        })
        self.fv_observed = cols[2]

    # -------------------------------------------------------------------------- truth
    def _survival(self, Hm: np.ndarray, idx: np.ndarray, start: np.ndarray, end: np.ndarray,
                  anchor: np.ndarray) -> np.ndarray:
        """P(no churn at any boundary in (start, end]) under hazard matrix Hm, for accounts idx."""
        H = Hm[idx]
        logs = np.log1p(-H)
        cum = np.cumsum(logs, axis=1)
        b = self.bd[idx]
        in_h = (b > start[:, None]) & (b <= end[:, None])
        g = self.gs[None, :]
        renewal = ((g - anchor[:, None]) % 12 == 0) & (np.arange(self.J)[None, :] >= 12)
        ann = self.annual[idx][:, None]
        log12 = np.zeros_like(cum)
        log12[:, 12:] = cum[:, 12:] - cum[:, :-12]
        term = np.where(ann, np.where(renewal, log12, 0.0), logs)
        return np.exp(np.where(in_h, term, 0.0).sum(axis=1))

    def _truth(self):
        p, M = self.p, self.months
        ids = self.ids
        first_month = str(self.m0)
        last_month = str(self.m0 + (M - 1))
        t: dict[str, Any] = {}
        t["synth_version"] = SYNTH_VERSION
        t["window"] = {"first_month": first_month, "last_month": last_month,
                       "start_date": _iso(self.ws), "end_date": _iso(self.we), "months": M}
        # resolved values: build_world(**truth["params"]) rebuilds this exact world
        t["params"] = {**self.p, "experiment_month": str(self.m0 + self.exp_g),
                       "adoption_study_month": str(self.m0 + self.ad_g), "ttv_reference_year": self.ttv_ref_year}
        # ---- churn
        last12 = slice(M - 12, M)
        ar = self.at_risk[:, last12]
        pr = self.p_real[:, last12]
        by_seg = {}
        for s, name in enumerate(SEGMENTS):
            m = ar & (self.seg == s)[:, None]
            by_seg[name] = float(pr[m].mean()) if m.any() else None
        by_seg_n = {name: int((ar & (self.seg == s)[:, None]).sum()) for s, name in enumerate(SEGMENTS)}
        by_billing = {}
        for name, mask in (("monthly", ~self.annual), ("annual", self.annual)):
            m = ar & mask[:, None]
            by_billing[name] = float(pr[m].mean()) if m.any() else None
        t["churn"] = {
            "definition": "an account churns when all its subscriptions end (MRR > 0 at the end of month M-1, "
                          "0 at the end of M); ends fall on the account's billing day",
            "segment_base_monthly_hazard": p["segment_base_monthly_hazard"],
            "engagement_log_hazard_slope": p["engagement_log_hazard_slope"],
            "engagement_hazard_ratio_per_sd": float(np.exp(p["engagement_log_hazard_slope"])),
            "ttv_hazard_ratio": p["ttv_hazard_ratio"],
            "ttv_threshold_days": p["ttv_threshold_days"],
            "ttv_effect": ("hazard multiplied by ttv_hazard_ratio for churn dates more than ttv_threshold_days after the "
                           "first subscription start, for accounts that did not reach first_value within "
                           "ttv_threshold_days (or never). 1.0 = time to value has no effect on churn. Time to value "
                           "is drawn independently of engagement, but its distribution depends on segment and cohort "
                           "year, so compare within segment (segment confounds a pooled comparison)."),
            "ttv_has_effect": bool(p["ttv_hazard_ratio"] != 1.0),
            "ticket_log_hazard_per_high_ticket": p["ticket_log_hazard_per_high_ticket"],
            "ticket_log_hazard_per_other_ticket": p["ticket_log_hazard_per_other_ticket"],
            "hazard_formula": ("h = base[segment] * exp(engagement_slope * z) * ttv_factor * "
                               "exp(b_high * high_or_urgent_tickets_in_period + b_other * other_tickets_in_period) "
                               "* adoption_factor * experiment_factor, capped at hazard_cap; monthly billing: churn "
                               "probability h at each billing boundary; annual: 1 - prod(1 - h) over the 12 periods "
                               "of the term, only at the renewal anniversary"),
            "annual_churn_only_at_renewal": True,
            "expected_monthly_logo_churn_by_segment": by_seg,
            "expected_monthly_logo_churn": float(pr[ar].mean()) if ar.any() else None,
            "expected_monthly_logo_churn_by_billing_period": by_billing,
            "expected_churn_account_months_by_segment": by_seg_n,
            "expected_churn_period": {"first_month": str(self.m0 + (M - 12)), "last_month": last_month,
                                      "note": "mean planted churn probability over account-months active at the start "
                                              "of the month (MRR > 0 at the end of the previous month)"},
            "observed_churn_events": int(len(self.churns["acc"])),
            "null_drivers": ["region", "industry", "csm_owner", "cs_activities (no causal effect; more "
                             "activities go to low-engagement high-touch accounts)"],
            "engagement_shift_by_acquisition_channel": p["engagement_shift_by_channel"],
        }
        # churned accounts: first churn + decline onset; later churns listed
        sp = self.spells
        ch_mask = sp["end"] >= 0
        sacc, send, sons = sp["acc"][ch_mask], sp["end"][ch_mask], self.spell_onset[ch_mask]
        order = np.lexsort((send, sacc))
        churned: dict[str, dict] = {}
        for a, e, o in zip(sacc[order], send[order], sons[order]):
            key = ids[a]
            item = {"churn_date": _iso(e), "decline_onset": _iso(o)}
            if key not in churned:
                churned[key] = dict(item)
            else:
                churned[key].setdefault("later_churns", []).append(item)
        spell_count = np.bincount(sp["acc"], minlength=self.n)
        for a in np.flatnonzero(spell_count > 1):
            starts = np.sort(sp["start"][sp["acc"] == a])
            churned[ids[a]]["reactivated_at"] = [_iso(s) for s in starts[1:]]
        t["churned_accounts"] = churned
        t["usage_decline"] = {"onset_days_before_churn": p["decline_onset_days"], "floor_at_churn": p["decline_floor"],
                              "shape": "linear from 1 at the onset to floor at the churn date"}
        t["reactivation"] = {"share_of_churns": p["reactivation_share"], "gap_months": p["reactivation_gap_months"],
                             "reactivations_in_window": int(self.n_react),
                             "accounts_reactivated": int((spell_count > 1).sum())}
        # ---- onboarding
        years = sorted(set(int(y) for y in self.cohort_year))
        med = {}
        for y in years:
            f = p["ttv_yearly_speedup"] ** (y - self.ttv_ref_year)
            med[str(y)] = {s: float(p["ttv_median_days_by_segment"][s] * f) for s in SEGMENTS}
        t["onboarding"] = {
            "milestones": list(MILESTONES),
            "value_milestone": "first_value",
            "ttv_distribution": "lognormal days from first subscription start, median by segment x speedup^(year - ref)",
            "ttv_log_sd": p["ttv_log_sd"],
            "ttv_never_share": p["ttv_never_share"],
            "ttv_reference_year": self.ttv_ref_year,
            "ttv_yearly_speedup": p["ttv_yearly_speedup"],
            "ttv_median_days_by_cohort_year": med,
            "slow_ttv_share_by_segment": {s: float(self.slow[self.seg == i].mean()) if (self.seg == i).any() else None
                                          for i, s in enumerate(SEGMENTS)},
            "note": "milestones after the account's first churn or after the window are null (not reached)",
        }
        # ---- experiment
        ei = np.flatnonzero(self.in_exp)
        anc = self.anchor_at_exp[ei]
        start = np.full(len(ei), self.exp_day)
        end = np.full(len(ei), self.exp_end)
        H_ctl = self.H_ctl
        H_trt = self.H_exp
        r_ctl = self._survival(H_ctl, ei, start, end, anc)
        r_trt = self._survival(H_trt, ei, start, end, anc)
        delta = r_trt - r_ctl
        pi = self.exp_pi[ei]
        itt = pi * delta
        seg_e = self.seg[ei]
        t["experiments"] = {
            EXP_ID: {
                "type": "randomized",
                "control_arm": "control",
                "treatment_arm": "treatment",
                "assigned_at": _iso(self.exp_day),
                "horizon_days": int(p["experiment_horizon_days"]),
                "eligibility": "accounts active on assigned_at, complete randomization 50/50",
                "n_assigned": int(len(ei)),
                "n_treatment": int(self.treat[ei].sum()),
                "n_exposed": int(self.exposed[ei].sum()),
                "exposure": "P(exposed | treatment) = sigmoid(logit(share) + slope * (z - mean z)); control never exposed",
                "exposure_share_param": p["experiment_exposure_share"],
                "expected_exposure_share": float(pi.mean()) if len(pi) else None,
                "hazard_multiplier_if_exposed_by_segment": p["experiment_hazard_multiplier_by_segment"],
                "outcome": "retained = no churn (all subscriptions ended) in (assigned_at, assigned_at + horizon_days]",
                "expected_retention_6m_control": float(r_ctl.mean()) if len(ei) else None,
                "ate_retention_6m": float(itt.mean()) if len(ei) else None,
                "cate_retention_6m_by_segment": {s: (float(itt[seg_e == i].mean()) if (seg_e == i).any() else None)
                                                 for i, s in enumerate(SEGMENTS)},
                "effect_if_exposed_retention_6m": float(delta.mean()) if len(ei) else None,
                "effect_if_exposed_retention_6m_by_segment": {
                    s: (float(delta[seg_e == i].mean()) if (seg_e == i).any() else None) for i, s in enumerate(SEGMENTS)},
                "true_uplift_by_account": {ids[a]: round(float(v), 6) for a, v in zip(ei, itt)},
                "true_uplift_definition": "intention-to-treat: P(exposed | treatment) x (expected 6-month retention "
                                          "if exposed - if not), from the planted probabilities",
            },
        }
        # ---- adoption
        ci = np.flatnonzero(self.candidate)
        ad_mask = self.adopted[ci]
        adi = ci[ad_mask]
        non = ci[~ad_mask]
        hz = p["adoption_retention_horizon_days"]
        H_no = self.H_ctl.copy()
        bd_adi = self.bd[adi]
        after = bd_adi > self.ad_day[adi][:, None]
        H_no[adi] = np.where(after, np.minimum(self.H_ctl[adi] / p["adoption_hazard_ratio"], p["hazard_cap"]), self.H_ctl[adi])
        s_ad = self.ad_day[adi]
        r_with = self._survival(self.H_ctl, adi, s_ad, s_ad + hz, self.anchor_at_adopt[adi])
        r_without = self._survival(H_no, adi, s_ad, s_ad + hz, self.anchor_at_adopt[adi])
        s_non = np.full(len(non), self.ad_day0)
        r_non = self._survival(self.H_ctl, non, s_non, s_non + hz, self.anchor_at_study[non])
        t["experiments"][ADOPT_ID] = {
            "type": "observational (non-randomized feature adoption)",
            "arms": {"adopter": "assigned_at = adoption date, exposed = True",
                     "non_adopter": "assigned_at = study start, exposed = False"},
            "control_arm": "non_adopter",
            "study_start": _iso(self.ad_day0),
            "adoption_window": [_iso(self.ad_day0),
                                _iso(int(self.month_start[self.OFF + self.ad_g + p["adoption_spread_months"]]) - 1)],
            "eligibility": "accounts active on study_start; an account adopts on its latent adoption date if still active",
            "selection_mechanism": ("P(would adopt) = sigmoid(adoption_logit_intercept + adoption_logit_engagement * z): "
                                    "engaged accounts (more usage, lower churn) adopt more; adopters must also survive "
                                    "to their adoption date (immortal time)"),
            "adoption_logit_intercept": p["adoption_logit_intercept"],
            "adoption_logit_engagement": p["adoption_logit_engagement"],
            "n_eligible": int(len(ci)),
            "n_adopters": int(len(adi)),
            "true_effect_usage_pct": float(p["adoption_usage_lift"] * 100),
            "usage_effect": "events per seat x (1 + lift) from the adoption date (the extra events are workflow_run); "
                            "no other difference in usage trends (parallel trends)",
            "true_hazard_ratio": p["adoption_hazard_ratio"],
            "retention_horizon_days": int(hz),
            "expected_retention_effect_on_adopters": float((r_with - r_without).mean()) if len(adi) else None,
            "expected_retention_adopters": float(r_with.mean()) if len(adi) else None,
            "expected_retention_non_adopters_from_study_start": float(r_non.mean()) if len(non) else None,
            "naive_expected_retention_difference": (float(r_with.mean() - r_non.mean())
                                                    if len(adi) and len(non) else None),
            "naive_note": "adopters' expected retention over the horizon from their adoption date minus "
                          "non-adopters' from study start: biased upward by selection on engagement",
            "mean_engagement_adopters": float(self.z[adi].mean()) if len(adi) else None,
            "mean_engagement_non_adopters": float(self.z[non].mean()) if len(non) else None,
        }
        # ---- upsell
        t["upsell"] = {
            "expansion_model": "logit P(expansion at a billing boundary) = intercept[segment] + b_util * "
                               "(seat_utilisation - 0.75) + b_eng * z; annual accounts: 1 - (1 - p)^12 at renewal only",
            "seat_utilisation": "active users in the month of service / seats (active users ~ Binomial(seats, "
                                "sigmoid(utilisation_intercept + utilisation_slope * z + noise)))",
            "expansion_logit_intercept_by_segment": p["expansion_logit_intercept_by_segment"],
            "expansion_logit_utilisation": p["expansion_logit_utilisation"],
            "expansion_logit_engagement": p["expansion_logit_engagement"],
            "contraction_logit_intercept": p["contraction_logit_intercept"],
            "contraction_logit_utilisation": p["contraction_logit_utilisation"],
            "contraction_logit_engagement": p["contraction_logit_engagement"],
            "expansion_seat_growth": [1.1, 1.6],
            "contraction_seat_factor": [0.6, 0.9],
            "plan_upgrade_share_on_expansion": p["plan_upgrade_share_on_expansion"],
            "addon": {"product": ADDON, "monthly_purchase_prob": p["addon_monthly_purchase_prob"],
                      "purchase_engagement_log_slope": 0.3, "monthly_drop_prob": p["addon_monthly_drop_prob"]},
            "expansions": int(self.expansions),
            "contractions": int(self.contractions),
            "features": ["seat_utilisation", "engagement (latent; proxied by events per seat)", "segment"],
        }
        t["usage"] = {
            "features": list(FEATURES),
            "events_per_user_weekday": p["events_per_user_weekday"],
            "usage_log_rate_slope": p["usage_log_rate_slope"],
            "weekend_factor": p["weekend_factor"],
            "expected_events": self.expected_events,
            "engagement": "latent z ~ channel shift + N(0,1), constant per account; drives usage, utilisation, "
                          "churn, tickets, NPS/CSAT, expansion and adoption",
        }
        t["support"] = {
            "tickets_per_month_by_segment": p["tickets_per_month_by_segment"],
            "ticket_engagement_log_slope": p["ticket_engagement_log_slope"],
            "high_or_urgent_share": "sigmoid(high_ticket_share_logit + high_ticket_engagement_slope * z)",
        }
        t["surveys"] = {"nps": "round(7.0 + 1.4 z + N(0, 1.6)) clipped to 0-10",
                        "csat": "round(3.9 + 0.5 z + N(0, 0.8)) clipped to 1-5"}
        cov = self.reason_covered
        t["churn_reasons"] = {
            "coverage": p["churn_reason_coverage"],
            "recorded": int(cov.sum()),
            "of_churn_events": int(len(cov)),
            "themes": list(CHURN_REASONS),
            "reason_model": "categorical with weights: low_usage 1.2 exp(-z); onboarding_failure 2.0 if slow time to "
                            "value and tenure <= 9 months else 0.15; budget 1; competitor 0.7 (SMB) / 1.2; "
                            "product_gaps 0.8; support 0.3 + 0.8 x high/urgent tickets in the last 3 periods; "
                            "company_closed 0.8 (SMB) / 0.2",
            "planted_mix": {name: float(self.reason_prob[:, i].mean()) if len(cov) else None
                            for i, name in enumerate(CHURN_REASONS)},
            "comments": "4 templates per theme with slot fillers, optional lead-ins and tails; ~10% empty",
        }
        t["accounts"] = {"pre_window_share": p["pre_window_share"],
                         "pre_window_accounts": int(self.pre.sum()),
                         "left_truncation": "pre-window accounts are observed only because they survived to the window start"}
        self.truth = t
