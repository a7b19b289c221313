"""The churn drivers report runs end to end on the small world the way the monthly run executes it,
and writes every table a CSM or another notebook reads."""

from __future__ import annotations

import pandas as pd
import pytest

from conftest import execute_notebook

OUTPUTS = ("drivers.csv", "cohorts.csv", "model_backtest.csv", "health_score_validation.csv",
           "at_risk_accounts.csv", "at_risk_by_owner.csv", "renewals_next_90_days.csv", "expansion_candidates.csv",
           "summary.json")


@pytest.mark.slow
def test_drivers_notebook_on_the_small_world(small_world_path, tmp_path):
    # fewer shuffles and resamples than the monthly run: this checks the plumbing, not the precision
    summary = execute_notebook("03_churn_drivers", small_world_path, tmp_path, history_months=15,
                               permutation_repeats=3, bootstrap_resamples=50, backtest_folds=2)
    out = tmp_path / "03_churn_drivers"
    for name in OUTPUTS:
        assert (out / name).exists(), name
    assert set(summary["tables"]) >= set(OUTPUTS[:-1])
    # 600 accounts: under every scale cap, so nothing is sampled (and the report says nothing about it)
    assert summary["sampling"] and all(v is None for v in summary["sampling"].values())
    # 600 accounts: ~25 churners per test date, so the AUC interval is about +-0.06 wide; the planted
    # engagement and renewal effects give ~0.85 (demo-world test), so 0.7 fails only a broken model
    auc = summary["backtest"]["gbm"]["auc"]
    assert auc > 0.7, summary["backtest"]
    assert "ARR" in summary["headline"] and summary["arr_at_risk"] > 0
    # the KPIs carry a machine key, the same in every language (the monthly brief finds them by it)
    assert [k["key"] for k in summary["kpis"]] == ["arr_at_risk", "accounts_at_risk", "red_accounts", "model_auc"]

    at_risk = pd.read_csv(out / "at_risk_accounts.csv")
    assert len(at_risk) == summary["paying_accounts"] and at_risk["account_id"].is_unique
    assert at_risk["arr_at_risk"].is_monotonic_decreasing
    for column in ("account_name", "csm_owner", "churn_probability", "health_score", "health_band", "top_reasons",
                   "arr_at_risk", "suggested_touch_tier", "playbook"):
        assert at_risk[column].notna().all(), column
    assert at_risk["churn_probability"].between(0, 1).all() and at_risk["health_score"].between(0, 100).all()
    # every owner's CSV is written and listed; the small world's annual contracts carry a renewal date
    assert all(f in summary["tables"] for f in summary["owner_files"].values())
    assert all((out / f).exists() for f in summary["owner_files"].values())
    annual = at_risk["billing_period"] == "annual"
    assert annual.any() and at_risk.loc[annual, "renewal_date"].notna().all()
    assert at_risk.loc[at_risk["billing_period"] == "monthly", "renewal_date"].isna().all()
    drivers_csv = pd.read_csv(out / "drivers.csv")
    assert drivers_csv["importance"].is_monotonic_decreasing and drivers_csv["statement"].str.len().gt(20).all()
    validation = pd.read_csv(out / "health_score_validation.csv")
    assert {"discrimination", "churn rate by band", "early warning"} <= set(validation["section"])
