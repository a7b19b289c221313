"""Tests of the synthetic world (csresearch.data.synth).

Worlds here are small (600-3000 accounts x 24 months, about a second each) and built once per
module. Every statistical check names its tolerance and why; the worlds are deterministic, so a
check that passes passes every time, and the tolerances are chosen so that it would also pass for
almost any other seed (several standard errors of room).
"""

from __future__ import annotations

import hashlib
import json
import re

import duckdb
import numpy as np
import pandas as pd
import pytest

from csresearch.data.synth import DATE_COLUMNS, TABLE_NAMES, TIMESTAMP_COLUMNS, World, build_world, save_world

SMALL = dict(accounts=600, months=24, seed=11, end_month="2026-10")
# bigger, for rates by segment and time-to-value contrasts (still ~1-2 s to build)
MEDIUM = dict(accounts=3000, months=24, seed=5, end_month="2026-10")

EXPECTED_COLUMNS = {
    "accounts": ["account_id", "created_at", "account_name", "segment", "industry", "region",
                 "acquisition_channel", "csm_owner", "touch_tier"],
    "subscriptions": ["subscription_id", "account_id", "product", "start_date", "end_date", "mrr",
                      "billing_period", "seats", "currency"],
    "usage_events": ["account_id", "user_id", "event_time", "event_name", "quantity"],
    "onboarding": ["account_id", "milestone", "achieved_at"],
    "support_tickets": ["ticket_id", "account_id", "created_at", "resolved_at", "priority", "category", "csat"],
    "cs_activities": ["activity_id", "account_id", "occurred_at", "activity_type", "owner"],
    "surveys": ["account_id", "user_id", "answered_at", "survey_type", "score"],
    "experiments": ["experiment_id", "account_id", "arm", "assigned_at", "exposed"],
    "churn_reasons": ["account_id", "churn_date", "reason", "sub_reason", "competitor", "comment"],
}


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(**SMALL)


@pytest.fixture(scope="module")
def medium() -> World:
    return build_world(**MEDIUM)


def _digest(df: pd.DataFrame) -> str:
    return hashlib.sha256(pd.util.hash_pandas_object(df, index=True).values.tobytes()).hexdigest()


def _window(w: World) -> tuple[pd.Timestamp, pd.Timestamp]:
    return pd.Timestamp(w.truth["window"]["start_date"]), pd.Timestamp(w.truth["window"]["end_date"])


def _month_end_mrr(w: World) -> tuple[pd.DataFrame, np.ndarray]:
    """Account x month-end MRR as the contract defines it (subscriptions active on the last day), from
    the month before the window (so that a churn in the window's first month is visible) to its last."""
    subs, acc = w.tables["subscriptions"], w.tables["accounts"]
    first = pd.Period(w.truth["window"]["first_month"], freq="M") - 1
    months = pd.period_range(first, w.truth["window"]["last_month"], freq="M")
    ends = months.to_timestamp(how="end").normalize()
    pos = pd.Series(np.arange(len(acc)), index=acc["account_id"])[subs["account_id"]].to_numpy()
    end = subs["end_date"].fillna(pd.Timestamp("2262-01-01")).to_numpy()
    start = subs["start_date"].to_numpy()
    mrr = np.zeros((len(acc), len(ends)))
    for k, e in enumerate(ends.to_numpy()):
        on = (start <= e) & (end > e)
        np.add.at(mrr[:, k], pos[on], subs["mrr"].to_numpy()[on])
    return acc, mrr


def _churn_dates(subs: pd.DataFrame) -> pd.DataFrame:
    """Every churn in the data: the end of a paying spell (no subscription covers the day after)."""
    s = subs.sort_values(["account_id", "start_date"]).copy()
    s["end"] = s["end_date"].fillna(pd.Timestamp("2262-01-01"))
    s["cover"] = s.groupby("account_id")["end"].cummax()
    nxt = s.groupby("account_id")["start_date"].shift(-1)
    is_end = (nxt.isna() | (nxt > s["cover"])) & (s["cover"] < pd.Timestamp("2262-01-01"))
    # a later row that starts exactly on the cover date continues the spell (a price change)
    out = s.loc[is_end, ["account_id", "cover"]].rename(columns={"cover": "churn_date"})
    return out.drop_duplicates().reset_index(drop=True)


# ------------------------------------------------------------------------------------------------
# determinism and API
# ------------------------------------------------------------------------------------------------
def test_same_seed_identical_tables_and_truth(world):
    again = build_world(**SMALL)
    for name in TABLE_NAMES:
        assert _digest(world.tables[name]) == _digest(again.tables[name]), name
    assert json.dumps(world.truth, sort_keys=True) == json.dumps(again.truth, sort_keys=True)


def test_different_seed_differs(world):
    other = build_world(**{**SMALL, "seed": SMALL["seed"] + 1})
    differs = [name for name in TABLE_NAMES if _digest(world.tables[name]) != _digest(other.tables[name])]
    assert set(differs) == set(TABLE_NAMES)


def test_truth_params_rebuild_the_same_world(world):
    again = build_world(**world.truth["params"])
    for name in TABLE_NAMES:
        assert _digest(world.tables[name]) == _digest(again.tables[name]), name


def test_unknown_override_is_an_error():
    with pytest.raises(TypeError):
        build_world(accounts=50, months=12, no_such_parameter=1)
    with pytest.raises(ValueError):
        build_world(accounts=50, months=12, segment_base_monthly_hazard={"Startup": 0.1})


def test_overrides_are_applied_and_recorded():
    w = build_world(accounts=300, months=12, seed=3, segment_base_monthly_hazard={"SMB": 0.08})
    params = w.truth["params"]
    assert params["segment_base_monthly_hazard"] == {"SMB": 0.08, "Mid-Market": 0.015, "Enterprise": 0.007}
    assert w.truth["churn"]["segment_base_monthly_hazard"]["SMB"] == 0.08


# ------------------------------------------------------------------------------------------------
# schema and window
# ------------------------------------------------------------------------------------------------
def test_tables_columns_and_types(world):
    assert list(world.tables) == list(TABLE_NAMES)
    for name, cols in EXPECTED_COLUMNS.items():
        df = world.tables[name]
        assert list(df.columns) == cols, name
        assert len(df) > 0, name
        for col in DATE_COLUMNS.get(name, []):
            assert str(df[col].dtype) == "datetime64[ns]", (name, col)
            values = df[col].dropna()
            assert (values == values.dt.normalize()).all(), (name, col)  # day precision
        for col in TIMESTAMP_COLUMNS.get(name, []):
            assert str(df[col].dtype) == "datetime64[ns]", (name, col)
    for name, df in world.tables.items():
        for col in df.columns:
            if df[col].dtype == object:
                assert df[col].dropna().map(type).eq(str).all(), (name, col)
    assert world.tables["experiments"]["exposed"].dtype == bool
    assert world.tables["subscriptions"]["seats"].dtype == np.int64
    acc = world.tables["accounts"]
    assert acc["account_id"].is_unique
    assert acc["account_id"].str.fullmatch(r"A\d{5}").all()
    assert set(acc["segment"]) == {"SMB", "Mid-Market", "Enterprise"}
    assert set(acc["touch_tier"]) <= {"high", "low", "tech"}
    assert set(acc["acquisition_channel"]) <= {"inbound", "outbound", "partner", "self_serve"}
    assert set(acc["region"]) == {"NA", "EMEA", "APAC", "LATAM"}
    for name in TABLE_NAMES:
        if name != "accounts" and "account_id" in world.tables[name]:
            assert world.tables[name]["account_id"].isin(acc["account_id"]).all(), name
    assert world.tables["subscriptions"]["subscription_id"].is_unique
    assert world.tables["support_tickets"]["ticket_id"].is_unique
    assert world.tables["cs_activities"]["activity_id"].is_unique
    assert not world.tables["experiments"].duplicated(["experiment_id", "account_id"]).any()
    assert not world.tables["onboarding"].duplicated(["account_id", "milestone"]).any()


def test_segment_mix(medium):
    # shares drawn independently per account: SD <= 0.009 at n = 3000, so +-0.04 is > 4 SD
    share = medium.tables["accounts"]["segment"].value_counts(normalize=True)
    assert abs(share["SMB"] - 0.6) < 0.04
    assert abs(share["Mid-Market"] - 0.3) < 0.04
    assert abs(share["Enterprise"] - 0.1) < 0.04


def test_nothing_after_the_window_and_left_truncation(world):
    ws, we = _window(world)
    assert world.truth["window"] == {"first_month": "2024-11", "last_month": "2026-10",
                                     "start_date": "2024-11-01", "end_date": "2026-10-31", "months": 24}
    end_excl = we + pd.Timedelta(days=1)
    t = world.tables
    for name, cols in {**DATE_COLUMNS, **TIMESTAMP_COLUMNS}.items():
        for col in cols:
            assert (t[name][col].dropna() < end_excl).all(), (name, col)
    for name, col in [("usage_events", "event_time"), ("support_tickets", "created_at"),
                      ("cs_activities", "occurred_at"), ("surveys", "answered_at")]:
        assert t[name][col].min() >= ws, name
    # about 25% of accounts predate the window (binomial SD 0.018 at n = 600: +-0.07 is ~4 SD)
    acc, subs = t["accounts"], t["subscriptions"]
    first = subs.groupby("account_id")["start_date"].min().reindex(acc["account_id"]).to_numpy()
    pre = first < ws
    assert abs(pre.mean() - 0.25) < 0.07
    assert ((acc["created_at"].to_numpy() < ws) == pre).all()
    assert (acc["created_at"].to_numpy() <= first).all()


# ------------------------------------------------------------------------------------------------
# subscriptions
# ------------------------------------------------------------------------------------------------
def test_subscription_rules(world):
    s = world.tables["subscriptions"]
    ended = s.dropna(subset=["end_date"])
    assert (ended["end_date"] > ended["start_date"]).all()
    assert (s["mrr"] > 0).all()
    assert (s["seats"] >= 1).all()
    assert set(s["currency"]) == {"USD"}
    assert set(s["billing_period"]) == {"monthly", "annual"}
    assert s.groupby("account_id")["billing_period"].nunique().max() == 1
    # several subscriptions per account: price changes and the add-on product
    per_account = s.groupby("account_id").size()
    assert (per_account > 1).mean() > 0.2
    assert s["product"].nunique() >= 4
    # at most one open plan row and one open add-on row per account
    is_addon = s["product"].eq("Insights Add-on").rename("addon")
    open_rows = s[s["end_date"].isna()].groupby([s["account_id"], is_addon]).size()
    assert open_rows.max() == 1


def test_annual_mrr_is_price_over_12():
    w = build_world(accounts=400, months=12, seed=2)
    s = w.tables["subscriptions"]
    prices = w.truth["params"]["list_price_per_seat"]
    disc = 1 - w.truth["params"]["annual_discount"]
    factor = np.where(s["billing_period"] == "annual", disc, 1.0)
    expected = (s["product"].map(prices) * s["seats"] * factor).round(2)
    assert np.allclose(s["mrr"], expected)


def test_annual_accounts_end_only_on_renewal_anniversaries(world):
    s = world.tables["subscriptions"]
    ann = s[(s["billing_period"] == "annual") & s["end_date"].notna()]
    assert len(ann) > 20
    months = (ann["end_date"].dt.year - ann["start_date"].dt.year) * 12 + (
        ann["end_date"].dt.month - ann["start_date"].dt.month)
    assert (ann["end_date"].dt.day == ann["start_date"].dt.day).all()
    assert (months % 12 == 0).all() and (months >= 12).all()
    # and every row of an annual spell starts on an anniversary of the spell's first start
    first = s[s["billing_period"] == "annual"].groupby("account_id")["start_date"].transform("min")
    rows = s[s["billing_period"] == "annual"]
    assert (rows["start_date"].dt.day == first.dt.day).all()


def test_churn_ends_every_subscription_and_matches_truth(world):
    subs = world.tables["subscriptions"]
    churns = _churn_dates(subs)
    truth = world.truth["churned_accounts"]
    from_truth = sorted(
        (a, d)
        for a, v in truth.items()
        for d in [v["churn_date"]] + [x["churn_date"] for x in v.get("later_churns", [])]
    )
    from_data = sorted((a, str(d.date())) for a, d in zip(churns["account_id"], churns["churn_date"]))
    assert from_data == from_truth
    assert world.truth["churn"]["observed_churn_events"] == len(from_data)


def test_reactivations_exist(medium):
    acc, mrr = _month_end_mrr(medium)
    paying = mrr > 0
    seen_before = np.maximum.accumulate(paying, axis=1)
    reactivated = (~paying[:, :-1] & seen_before[:, :-1] & paying[:, 1:]).any(axis=1)
    assert reactivated.sum() > 0
    assert reactivated.sum() == medium.truth["reactivation"]["accounts_reactivated"]
    # the gap is 1-6 months: no reactivated account is off for more than 6 month-ends in a row
    for i in np.flatnonzero(reactivated):
        row = paying[i]
        gaps, run = [], 0
        for k in range(1, len(row)):
            if not row[k] and row[: k].any():
                run += 1
            else:
                if run and row[k]:
                    gaps.append(run)
                run = 0
        assert gaps and max(gaps) <= 6


def test_movements_expansion_and_contraction_exist(medium):
    _, mrr = _month_end_mrr(medium)
    prev, cur = mrr[:, :-1], mrr[:, 1:]
    assert ((prev > 0) & (cur > prev + 0.005)).sum() > 50     # expansion
    assert ((cur > 0) & (cur < prev - 0.005)).sum() > 20      # contraction


# ------------------------------------------------------------------------------------------------
# churn: planted rates and their ordering
# ------------------------------------------------------------------------------------------------
def test_churn_rate_by_segment_ordering_and_truth(medium):
    acc, mrr = _month_end_mrr(medium)
    prev, cur = mrr[:, :-1] > 0, mrr[:, 1:] > 0
    churn = prev & ~cur
    seg = acc["segment"].to_numpy()
    rate = {s: churn[seg == s].sum() / prev[seg == s].sum() for s in ("SMB", "Mid-Market", "Enterprise")}
    # planted base hazards 3.0% > 1.5% > 0.7%: the gaps are > 4 standard errors at this size
    assert rate["SMB"] > rate["Mid-Market"] > rate["Enterprise"]
    # last 12 months: the observed rate must sit within a 99.9% Wilson interval (z = 3.29) of the
    # planted expectation, which is the mean of exactly the probabilities that generated these churns
    truth = medium.truth["churn"]
    last = slice(prev.shape[1] - 12, prev.shape[1])
    for s in ("SMB", "Mid-Market", "Enterprise"):
        n = prev[seg == s][:, last].sum()
        k = churn[seg == s][:, last].sum()
        assert n == truth["expected_churn_account_months_by_segment"][s]
        z = 3.29
        phat = k / n
        centre = (phat + z * z / (2 * n)) / (1 + z * z / n)
        half = z * np.sqrt(phat * (1 - phat) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        assert centre - half <= truth["expected_monthly_logo_churn_by_segment"][s] <= centre + half, s


def _landmark_rate_ratio(w: World) -> float:
    """Churn rate per account-day after day 30, slow vs fast time to value, Mantel-Haenszel over segment,
    among accounts whose first subscription started inside the window and were still paying on day 30."""
    ws, we = _window(w)
    subs, acc, ob = w.tables["subscriptions"], w.tables["accounts"], w.tables["onboarding"]
    first = subs.groupby("account_id")["start_date"].min()
    churns = _churn_dates(subs).groupby("account_id")["churn_date"].min()
    fv = ob[ob["milestone"] == "first_value"].set_index("account_id")["achieved_at"]
    d = pd.DataFrame({"start": first})
    d["churn"] = churns.reindex(d.index)
    d["segment"] = acc.set_index("account_id")["segment"].reindex(d.index)
    d["slow"] = ~((fv.reindex(d.index) - d["start"]).dt.days <= 30)
    land = d["start"] + pd.Timedelta(days=30)
    d = d[(d["start"] >= ws) & (land <= we) & (d["churn"].isna() | (d["churn"] > land))]
    stop = d["churn"].fillna(we + pd.Timedelta(days=1))
    d["days"] = (stop - land[d.index]).dt.days
    d["event"] = d["churn"].notna()
    num = den = 0.0
    for _, g in d.groupby("segment"):
        a, b = g[g["slow"]], g[~g["slow"]]
        t = g["days"].sum()
        num += a["event"].sum() * b["days"].sum() / t
        den += b["event"].sum() * a["days"].sum() / t
    return num / den


def test_slow_time_to_value_churns_more():
    # ttv_hazard_ratio 2.5 on 3000 accounts: ~250 post-landmark churns, log rate-ratio SE ~0.15;
    # annual accounts dilute the ratio (their churn waits for renewal), so require > 1.4 (~3 SE below
    # the planted value). With ratio 1.0 the estimate must stay within ~3 SE of 1.
    planted = build_world(**{**MEDIUM, "ttv_hazard_ratio": 2.5})
    assert _landmark_rate_ratio(planted) > 1.4
    null = build_world(**{**MEDIUM, "ttv_hazard_ratio": 1.0})
    assert 0.65 < _landmark_rate_ratio(null) < 1.5
    assert null.truth["churn"]["ttv_has_effect"] is False
    assert null.truth["churn"]["ttv_hazard_ratio"] == 1.0
    assert planted.truth["churn"]["ttv_threshold_days"] == 30


def test_onboarding_milestones(medium):
    ob = medium.tables["onboarding"]
    assert set(ob["milestone"]) == {"kickoff", "integrated", "first_value", "go_live"}
    wide = ob.pivot(index="account_id", columns="milestone", values="achieved_at")
    both = wide.dropna(subset=["kickoff", "first_value"])
    assert (both["kickoff"] <= both["first_value"]).all()
    live = wide.dropna(subset=["first_value", "go_live"])
    assert (live["first_value"] <= live["go_live"]).all()
    # about 15% never reach first_value: among accounts that started >= 1 year before the window end
    # and never churned, the censoring by the window end and by churn is negligible. Binomial SD is
    # ~0.01 here; +-0.05 also absorbs the ~1% whose slow onboarding runs past the window end.
    ws, we = _window(medium)
    first = medium.tables["subscriptions"].groupby("account_id")["start_date"].min()
    old = first[first <= we - pd.Timedelta(days=365)].index
    stay = old.difference(pd.Index(list(medium.truth["churned_accounts"])))
    never = wide.loc[stay, "first_value"].isna().mean()
    assert abs(never - 0.15) < 0.05
    med = medium.truth["onboarding"]["ttv_median_days_by_cohort_year"]
    years = sorted(med)
    assert med[years[-1]]["SMB"] < med[years[0]]["SMB"]  # onboarding gets faster in later cohorts


# ------------------------------------------------------------------------------------------------
# usage
# ------------------------------------------------------------------------------------------------
def test_no_events_outside_active_periods(world):
    con = duckdb.connect()
    con.register("ev", world.tables["usage_events"])
    con.register("subs", world.tables["subscriptions"])
    outside = con.sql(
        """
        SELECT count(*) FROM ev
        WHERE NOT EXISTS (
            SELECT 1 FROM subs s
            WHERE s.account_id = ev.account_id
              AND s.start_date <= ev.event_time
              AND (s.end_date IS NULL OR ev.event_time < s.end_date))
        """
    ).fetchone()[0]
    assert outside == 0
    ev = world.tables["usage_events"]
    assert set(ev["event_name"]) == {"login", "report_view", "dashboard_create", "export",
                                     "integration_sync", "workflow_run", "comment", "api_call"}
    assert (ev["quantity"] == 1).all()
    assert (ev["user_id"].str[:6] == ev["account_id"]).all()
    # support, CS and survey activity also happen only while paying
    for name, col in [("support_tickets", "created_at"), ("cs_activities", "occurred_at"), ("surveys", "answered_at")]:
        con.register("x", world.tables[name])
        bad = con.sql(
            f"""SELECT count(*) FROM x WHERE NOT EXISTS (SELECT 1 FROM subs s WHERE s.account_id = x.account_id
                AND s.start_date <= x.{col} AND (s.end_date IS NULL OR x.{col} < s.end_date))"""
        ).fetchone()[0]
        assert bad == 0, name
        con.unregister("x")


def test_usage_declines_before_churn(medium):
    ev = medium.tables["usage_events"]
    ws, _ = _window(medium)
    churns = _churn_dates(medium.tables["subscriptions"])
    first = medium.tables["subscriptions"].groupby("account_id")["start_date"].min()
    churns = churns[(churns["churn_date"] >= ws + pd.Timedelta(days=150))
                    & (churns["churn_date"] - first.reindex(churns["account_id"]).to_numpy() >= pd.Timedelta(days=150))]
    churns = churns.drop_duplicates("account_id")
    e = ev[ev["account_id"].isin(churns["account_id"])].merge(churns, on="account_id")
    days_before = (e["churn_date"] - e["event_time"]).dt.total_seconds() / 86400
    last30 = e[(days_before > 0) & (days_before <= 30)].groupby("account_id").size()
    early = e[(days_before > 90) & (days_before <= 120)].groupby("account_id").size()
    ids = churns["account_id"]
    last30, early = last30.reindex(ids, fill_value=0), early.reindex(ids, fill_value=0)
    assert len(ids) > 100
    # planted: usage falls linearly to 20% at churn from an onset 30-120 days before, so the last 30
    # days carry ~30-60% of the earlier level (expected ratio ~0.45); require < 0.7 in aggregate
    assert last30.sum() / early.sum() < 0.7
    # and per account (Poisson noise on small accounts makes some ties and reversals): > 70% lower
    assert (last30 < early).mean() > 0.7
    truth = medium.truth["churned_accounts"]
    for a in ids[:50]:
        onset = pd.Timestamp(truth[a]["decline_onset"])
        gap = (pd.Timestamp(truth[a]["churn_date"]) - onset).days
        assert 30 <= gap <= 120


def test_engagement_drives_usage_and_surveys(medium):
    # NPS and events per seat share the latent engagement: their account-level correlation is positive.
    ev = medium.tables["usage_events"].groupby("account_id").size()
    seats = medium.tables["subscriptions"].groupby("account_id")["seats"].mean()
    nps = medium.tables["surveys"].query("survey_type == 'nps'").groupby("account_id")["score"].mean()
    d = pd.concat([np.log(ev / seats).rename("use"), nps.rename("nps")], axis=1).dropna()
    assert d.corr().loc["use", "nps"] > 0.1


# ------------------------------------------------------------------------------------------------
# support, reasons, experiments
# ------------------------------------------------------------------------------------------------
def test_support_tickets_and_reasons(world):
    t = world.tables["support_tickets"]
    resolved = t.dropna(subset=["resolved_at"])
    assert (resolved["resolved_at"] >= resolved["created_at"]).all()
    assert set(t["priority"]) == {"low", "normal", "high", "urgent"}
    csat = t["csat"].dropna()
    assert csat.between(1, 5).all() and t["csat"].isna().any()
    s = world.tables["surveys"]
    assert s.loc[s["survey_type"] == "nps", "score"].between(0, 10).all()
    assert s.loc[s["survey_type"] == "csat", "score"].between(1, 5).all()
    r = world.tables["churn_reasons"]
    n_churns = world.truth["churn"]["observed_churn_events"]
    # coverage 90%: binomial SD ~0.02 at ~200 churns, so +-0.08
    assert abs(len(r) / n_churns - 0.9) < 0.08
    assert set(r["reason"]) <= {"low_usage", "onboarding_failure", "budget", "competitor", "product_gaps",
                                "support", "company_closed"}
    assert r.loc[r["reason"] == "competitor", "competitor"].notna().all()
    assert r.loc[r["reason"] != "competitor", "competitor"].isna().all()
    assert r["comment"].notna().mean() > 0.8


def test_at_risk_accounts_open_more_high_priority_tickets(medium):
    t = medium.tables["support_tickets"]
    churned = t["account_id"].isin(list(medium.truth["churned_accounts"]))
    high = t["priority"].isin(["high", "urgent"])
    assert high[churned].mean() > high[~churned].mean()


def test_randomized_experiment(world):
    e = world.tables["experiments"]
    x = e[e["experiment_id"] == "exp_cs_outreach_2026"]
    truth = world.truth["experiments"]["exp_cs_outreach_2026"]
    counts = x["arm"].value_counts()
    assert abs(counts["treatment"] - counts["control"]) <= 1          # complete randomization 50/50
    assert not x.loc[x["arm"] == "control", "exposed"].any()
    # exposure ~85% of treatment: binomial SD ~0.025 for ~200 treated, so +-0.1
    assert abs(x.loc[x["arm"] == "treatment", "exposed"].mean() - 0.85) < 0.1
    assert (x["assigned_at"] == pd.Timestamp(truth["assigned_at"])).all()
    assert truth["control_arm"] == "control" and truth["horizon_days"] == 182
    assert len(truth["true_uplift_by_account"]) == len(x)
    assert np.isclose(np.mean(list(truth["true_uplift_by_account"].values())), truth["ate_retention_6m"], atol=1e-6)
    cate = truth["cate_retention_6m_by_segment"]
    assert cate["SMB"] > cate["Mid-Market"] > cate["Enterprise"] == 0.0
    # everyone assigned was paying on assigned_at
    subs = world.tables["subscriptions"]
    day = pd.Timestamp(truth["assigned_at"])
    paying = subs[(subs["start_date"] <= day) & (subs["end_date"].isna() | (subs["end_date"] > day))]["account_id"]
    assert set(x["account_id"]) == set(paying)


def test_feature_adoption_is_selected_on_engagement(medium):
    e = medium.tables["experiments"]
    x = e[e["experiment_id"] == "feature_workflow_automation"]
    truth = medium.truth["experiments"]["feature_workflow_automation"]
    assert set(x["arm"]) == {"adopter", "non_adopter"}
    assert (x["exposed"] == (x["arm"] == "adopter")).all()
    start = pd.Timestamp(truth["study_start"])
    assert (x.loc[x["arm"] == "non_adopter", "assigned_at"] == start).all()
    assert (x.loc[x["arm"] == "adopter", "assigned_at"] >= start).all()
    assert x.loc[x["arm"] == "adopter", "assigned_at"].nunique() > 30   # spread over months
    # selection: adopters used the product more per seat *before* the study started
    ev = medium.tables["usage_events"]
    pre = ev[(ev["event_time"] < start) & (ev["event_time"] >= start - pd.Timedelta(days=180))]
    per = pre.groupby("account_id").size()
    seats = medium.tables["subscriptions"].groupby("account_id")["seats"].mean()
    use = (per / seats).reindex(x["account_id"]).fillna(0).to_numpy()
    adopter = (x["arm"] == "adopter").to_numpy()
    assert use[adopter].mean() > 1.3 * use[~adopter].mean()
    assert truth["true_effect_usage_pct"] == 15.0
    assert truth["naive_expected_retention_difference"] > truth["expected_retention_effect_on_adopters"] > 0


# ------------------------------------------------------------------------------------------------
# truth and saving
# ------------------------------------------------------------------------------------------------
def test_truth_is_json_and_sizes_match(world):
    text = json.dumps(world.truth)
    assert json.loads(text) == world.truth
    for key in ("sizes", "params", "window", "churn", "churned_accounts", "onboarding", "experiments", "upsell"):
        assert key in world.truth, key
    assert world.truth["sizes"] == {name: len(df) for name, df in world.tables.items()}
    for key in ("segment_base_monthly_hazard", "engagement_log_hazard_slope", "ttv_hazard_ratio",
                "ttv_threshold_days", "expected_monthly_logo_churn_by_segment", "expected_monthly_logo_churn"):
        assert key in world.truth["churn"], key
    assert world.truth["params"]["seed"] == SMALL["seed"]


def _normalise(name: str, df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    for col in DATE_COLUMNS.get(name, []) + TIMESTAMP_COLUMNS.get(name, []):
        df[col] = pd.to_datetime(df[col]).astype("datetime64[ns]")
    for col in df.columns:
        if df[col].dtype == object or str(df[col].dtype).startswith("string"):
            df[col] = df[col].astype(object).where(df[col].notna(), None)
    return df.reset_index(drop=True)


def test_save_world_duckdb_round_trip(world, tmp_path):
    out = save_world(world, tmp_path / "data" / "demo.duckdb")
    assert out == tmp_path / "data" / "demo.duckdb"
    assert json.loads((tmp_path / "data" / "demo.truth.json").read_text()) == world.truth
    # saving again replaces the file
    save_world(world, out)
    con = duckdb.connect(str(out), read_only=True)
    names = {r[0] for r in con.sql("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert names == set(TABLE_NAMES)
    types = dict(con.sql("SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 'subscriptions'").fetchall())
    assert types["start_date"] == "DATE" and types["end_date"] == "DATE"
    for name in TABLE_NAMES:
        back = con.sql(f'SELECT * FROM "{name}"').df()
        pd.testing.assert_frame_equal(_normalise(name, back), _normalise(name, world.tables[name]), check_dtype=False)
    con.close()


def test_save_world_parquet_and_csv_round_trip(world, tmp_path):
    folder = save_world(world, tmp_path / "pq")
    assert json.loads((folder / "truth.json").read_text()) == world.truth
    for name in TABLE_NAMES:
        back = pd.read_parquet(folder / f"{name}.parquet")
        pd.testing.assert_frame_equal(_normalise(name, back), _normalise(name, world.tables[name]), check_dtype=False)
    csv = save_world(world, tmp_path / "csv", fmt="csv")
    acc = pd.read_csv(csv / "accounts.csv", parse_dates=["created_at"])
    assert len(acc) == len(world.tables["accounts"])
    assert acc["created_at"].equals(world.tables["accounts"]["created_at"])


def test_saved_world_passes_the_contract(world, tmp_path):
    from csresearch.data import open_dataset

    out = save_world(world, tmp_path / "w.duckdb")
    ds = open_dataset(out)
    q = ds.quality
    assert (q["rows_rejected"] == 0).all()
    assert dict(zip(q["table"], q["rows_read"])) == world.truth["sizes"]


@pytest.mark.slow
def test_default_world_is_big_and_fast(tmp_path):
    import time

    t0 = time.perf_counter()
    w = build_world()
    save_world(w, tmp_path / "demo.duckdb")
    elapsed = time.perf_counter() - t0
    assert elapsed < 60
    assert 2_000_000 <= len(w.tables["usage_events"]) <= 5_000_000
    assert len(w.tables["accounts"]) == 5000
    assert re.fullmatch(r"A\d{5}", w.tables["accounts"]["account_id"].iloc[-1])
