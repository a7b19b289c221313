"""The churn decomposition notebook runs on the small world the way the monthly run does, writes its
tables, and the numbers it shows are the numbers in its CSVs."""

from __future__ import annotations

import json

import nbformat
import pandas as pd
import pytest
import yaml

from conftest import ROOT, execute_notebook
from csresearch.analyses.churn_decomposition.compute_rates import bridge_gap_cents
from csresearch.analyses.churn_decomposition.settings import Settings
from csresearch.text import money, pct

NAME = "01_churn_decomposition"
TABLES = ["mrr_bridge", "churn_rates", "churn_by_segment", "cohort_retention", "churn_change_decomposition",
          "net_retention_12m"]


def test_parameters_cell_declares_every_key_of_its_yaml():
    from csresearch.report.run import declared_parameters

    declared = declared_parameters(ROOT / "notebooks" / f"{NAME}.ipynb")
    own = yaml.safe_load((ROOT / "params" / f"{NAME}.yml").read_text())
    assert set(own) <= set(declared)
    for shared in ("reactivation_window_days", "count_same_month_churn", "annualisation", "churn_convention",
                   "data", "column_mapping", "reject_invalid_rows", "month", "output_dir", "pseudonymise_accounts"):
        assert shared in declared


def test_yaml_values_are_the_settings_defaults_and_bad_values_are_refused():
    from pydantic import ValidationError

    own = yaml.safe_load((ROOT / "params" / f"{NAME}.yml").read_text())
    for key, value in own.items():
        assert key in Settings.model_fields, key
        assert value == Settings.model_fields[key].get_default(call_default_factory=True), key
    for bad in ({"trend_months": 0}, {"window_months": 0}, {"value_bands": [0]}, {"value_bands": [0, 10, 10]},
                {"multiple_comparison_correction": "holmes"}, {"confidence": 1.5}, {"split_columns": []},
                {"lookback_months": 24}):  # renamed to trend_months: the old name is refused, not ignored
        with pytest.raises(ValidationError):
            Settings(**bad)


@pytest.mark.slow
def test_notebook_renders_every_section_and_its_csvs_match(small_world_path, tmp_path):
    summary = execute_notebook(NAME, small_world_path, tmp_path, reactivation_window_days=20)
    out = tmp_path / NAME
    for table in TABLES:
        assert (out / f"{table}.csv").exists(), table
    assert summary["headline"].startswith("Logo churn")
    assert summary["bridge_max_gap_cents"] == 0 and summary["bridge_months"] == 24
    assert summary["conventions"]["reactivation_window_days"] == 20

    rates = pd.read_csv(out / "churn_rates.csv")
    month = rates[(rates["month"] == "2026-10") & (rates["window_months"] == 1)].iloc[0]
    assert summary["logo_churn_rate"] == pytest.approx(month["logo_churn_rate"])
    assert summary["logo_churn_ci"] == pytest.approx([month["logo_churn_low"], month["logo_churn_high"]])
    bridge = pd.read_csv(out / "mrr_bridge.csv")
    assert (bridge_gap_cents(bridge) == 0).all()

    # what the HTML shows is what the CSVs hold
    executed = nbformat.read(tmp_path / f"{NAME}.ipynb", as_version=4)
    shown = json.dumps(ensure_ascii=False, obj=[o for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", [])])
    assert pct(month["logo_churn_rate"]) in shown
    october = bridge[bridge["month"] == "2026-10"].iloc[0]
    assert money(october["ending_mrr"]) in shown
    assert "Traceback" not in shown and "Warning" not in shown
    retention = pd.read_csv(out / "net_retention_12m.csv").set_index("group")
    assert pct(retention.loc["all", "nrr"]) in shown and pct(retention.loc["all", "grr"]) in shown
    assert "not the 12-month cohort NRR" in shown      # the compounded monthly figure says what it is
    segments = pd.read_csv(out / "churn_by_segment.csv")
    assert set(segments["split"]) >= {"segment", "billing_period", "value_band", "acquisition_cohort"}
