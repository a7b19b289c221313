"""The onboarding-survival notebook runs the way the monthly run does (papermill, small world) and
its headline, summary.json and CSVs agree with each other."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from conftest import execute_notebook

NAME = "02_onboarding_survival"


@pytest.fixture(scope="module")
def executed(small_world_path, tmp_path_factory):
    out = tmp_path_factory.mktemp("survival_nb")
    summary = execute_notebook(NAME, small_world_path, out)
    return summary, out / NAME, out / f"{NAME}.ipynb"


@pytest.mark.slow
def test_notebook_writes_every_output(executed):
    summary, folder, _ = executed
    for name in ["km_by_cohort.csv", "survival_table.csv", "ttv_by_cohort.csv", "cox_summary.csv"]:
        assert name in summary["tables"] and (folder / name).exists(), name
    assert (folder / "summary.json").exists()
    assert summary["headline"] and summary["kpis"]
    assert {"reactivation_window_days", "value_milestone", "landmark"} <= set(summary["conventions"])


@pytest.mark.slow
def test_headline_kpis_and_csvs_agree(executed):
    summary, folder, _ = executed
    cox = pd.read_csv(folder / "cox_summary.csv")
    fast = cox[cox["covariate"] == f"outcome: {summary['fast_group']}"].iloc[0]
    hr = summary["fast_value_hazard_ratio"]
    assert fast["hazard_ratio"] == pytest.approx(hr["hazard_ratio"])
    assert fast["lower"] == pytest.approx(hr["lower"]) and fast["upper"] == pytest.approx(hr["upper"])
    # the headline quotes the hazard ratio and the 12-month survival of the two onboarding groups
    assert f"{hr['hazard_ratio']:.2f} ({hr['lower']:.2f}\u2013{hr['upper']:.2f})" in summary["headline"]
    table = pd.read_csv(folder / "survival_table.csv")
    groups = table[table["kind"].str.startswith("onboarding outcome")].set_index("group")
    quoted = [int(x) for x in re.findall(r"keep (\d+)%", summary["headline"]) + re.findall(r"vs (\d+)%", summary["headline"])]
    month = int(re.search(r"at (\d+) months", summary["headline"]).group(1))
    shown = [round(100 * groups.loc[g, f"survival_{month}m"]) for g in (summary["fast_group"], summary["reference_group"])]
    assert quoted == shown
    overall = table[table["kind"] == "all accounts"].iloc[0]
    kpi = next(k for k in summary["kpis"] if k["name"].startswith("Still paying"))
    assert kpi["value"] == pytest.approx(overall[f"survival_{kpi['name'].split()[-2]}m"])
    assert summary["overall"]["accounts"] == overall["accounts"]


@pytest.mark.slow
def test_report_has_every_section_and_no_error_output(executed):
    _, _, ipynb = executed
    nb = json.loads(ipynb.read_text())
    # headings come from the catalog (nb.section), so they are cell outputs, not markdown sources
    shown = [o.get("data", {}).get(kind, "") for c in nb["cells"] if c["cell_type"] == "code"
             for o in c.get("outputs", []) for kind in ("text/markdown", "text/html")]
    text = "\n".join(["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]
                      + ["".join(part) if isinstance(part, list) else part for part in shown])
    for section in ["Data quality", "by onboarding cohort", "Survival table", "onboarding outcome", "Time to value",
                    "Cox model", "lifetime value"]:
        assert section in text, section
    outputs = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert not [o for o in outputs if o.get("name") == "stderr"], "warnings would land in the report"
    # (charts are not counted: conftest's MPLBACKEND=Agg reaches the kernel, so none are embedded here)
