"""The experiments report runs the way the monthly run runs it (papermill, kernel named) on the small
world, renders a section per experiment and writes its tables and summary.json."""

from __future__ import annotations

import pandas as pd
import pytest

from conftest import execute_notebook

NOTEBOOK = "04_uplift_experiments"


@pytest.mark.slow
def test_experiments_notebook_on_the_small_world(small_world_path, small_truth, tmp_path):
    # October 2026 on the small world: the adoption study is still running (365-day window) and the
    # outreach experiment ended in August 2026 (within the default ended_within_months = 6): both render
    summary = execute_notebook(NOTEBOOK, small_world_path, tmp_path, uplift_n_estimators=30)
    out = tmp_path / NOTEBOOK
    experiments = {e["experiment_id"]: e for e in summary["experiments"]}
    assert set(experiments) == set(small_truth["experiments"])
    outreach = experiments["exp_cs_outreach_2026"]
    assert outreach["randomized"] and not outreach["srm"]["flagged"]
    assert outreach["uplift_model"] in ("S-learner", "T-learner", "X-learner", "R-learner", "DR-learner",
                                        "uplift forest")
    assert "observational" in experiments["feature_workflow_automation"]
    assert summary["headline"].startswith("2 experiments read out for October 2026")
    # every estimate carries an interval; the primary ones reach the index page as KPIs
    table = pd.read_csv(out / "experiment_summary.csv")
    assert {"experiment_id", "outcome", "estimator", "estimate", "low", "high", "mde", "verdict"} <= set(table.columns)
    assert (table["low"] <= table["estimate"]).all() and (table["estimate"] <= table["high"]).all()
    assert len(summary["kpis"]) == 2
    for name in ("effects_by_segment", "qini", "targeting"):
        assert len(pd.read_csv(out / f"{name}.csv")) > 0, name
    assert set(pd.read_csv(out / "targeting.csv")["policy"]) == {"top k% by predicted uplift",
                                                                "top k% by churn risk", "random k%"}
