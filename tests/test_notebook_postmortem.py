"""The churn postmortem notebook, executed the way the monthly run executes it: the month review on the
small world, and a single-account review of an account with no usage, tickets, surveys or CSM activity."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from conftest import execute_notebook

NAME = "05_churn_postmortem"
OUTPUTS = ["churned_accounts.csv", "reasons.csv", "warning_audit.csv", "warning_record.csv", "warning_comparison.csv",
           "flag_outcomes.csv", "alerts.csv", "alert_rule_audit.csv", "summary.json"]
FLEET_SECTIONS = ("Themes in the comments", "Missed churns and false alarms", "Alerts going forward", "Lessons")


@pytest.fixture(autouse=True)
def inline_charts(monkeypatch):
    """The kernel draws charts inline, as in the monthly run (conftest's Agg would draw none)."""
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")


def images(executed: Path) -> int:
    nb = json.loads(executed.read_text())
    return sum("image/png" in o.get("data", {}) for c in nb["cells"] for o in c.get("outputs", []))


def shown_text(executed: Path) -> str:
    """Every markdown and text output the executed notebook shows (its own markdown cells excluded)."""
    nb = json.loads(executed.read_text())
    parts = []
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            for kind in ("text/markdown", "text/html", "text/plain"):
                if kind in data:
                    parts.append("".join(data[kind]) if isinstance(data[kind], list) else data[kind])
            if "text" in out:
                parts.append("".join(out["text"]) if isinstance(out["text"], list) else out["text"])
    return "\n".join(parts)


@pytest.fixture(scope="module")
def world_with_silent_account(small_world_path, tmp_path_factory) -> Path:
    """The small world plus Z00001 ("Silent Co"): paid $100 a month from 2025-03-01 until it churned on
    2026-10-10, and left no usage event, ticket, survey answer, CSM activity or cancellation form."""
    out = tmp_path_factory.mktemp("silent") / "world.duckdb"
    con = duckdb.connect(str(out))
    con.execute(f"ATTACH '{small_world_path}' AS src (READ_ONLY)")
    names = [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = 'src'").fetchall()]
    for name in names:
        con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM src.main."{name}"')
    con.execute("INSERT INTO accounts (account_id, created_at, account_name, segment) "
                "VALUES ('Z00001', DATE '2025-03-01', 'Silent Co', 'SMB')")
    con.execute("INSERT INTO subscriptions (subscription_id, account_id, product, start_date, end_date, mrr) "
                "VALUES ('ZS0001', 'Z00001', 'Starter', DATE '2025-03-01', DATE '2026-10-10', 100.0)")
    con.close()
    return out


@pytest.mark.slow
def test_month_review_renders_every_section(small_world_path, small_truth, tmp_path):
    summary = execute_notebook(NAME, small_world_path, tmp_path)
    out = tmp_path / NAME
    assert all((out / f).exists() for f in OUTPUTS)
    assert summary["mode"] == "month" and "churned in October 2026" in summary["headline"]

    # the churn list is the world's October churns (first unpaid day in October), no more, no fewer
    planted = {account for account, item in small_truth["churned_accounts"].items()
               for churn in [item, *item.get("later_churns", [])]
               if churn["churn_date"].startswith("2026-10")}
    churned = pd.read_csv(out / "churned_accounts.csv")
    assert set(churned["account_id"]) == planted
    assert summary["churned_accounts"] == len(churned) == len(planted)
    assert summary["arr_lost"] == pytest.approx(churned["arr_lost"].sum())

    reasons = pd.read_csv(out / "reasons.csv")
    assert reasons["churns"].sum() == len(churned)
    audit = pd.read_csv(out / "warning_audit.csv", parse_dates=["churn_date", "first_flagged"])
    assert set(audit["outcome"]) <= {"caught", "missed", "not checked"}
    caught = audit[audit["outcome"] == "caught"]
    assert (caught["first_flagged"] < caught["churn_date"]).all()  # no flag on or after the churn counts
    assert audit.loc[audit["in_review"], "account_id"].nunique() == len(churned)

    # alerts: the index page shows the count and links the CSV
    alerts = pd.read_csv(out / "alerts.csv")
    assert summary["new_alerts"] == len(alerts)
    assert alerts["trigger"].notna().all() and alerts["playbook"].notna().all()
    kpi = next(k for k in summary["kpis"] if k["name"] == "New alerts")
    assert kpi["value"] == len(alerts)
    assert {"href": f"{NAME}/alerts.csv", "text": f"alerts.csv ({len(alerts):,} new alerts)"} in summary["links"]
    assert summary["lessons"] >= 3
    # charts: Pareto, segments, themes, small multiples, lead times, comparables, alerts, roll-up
    assert images(tmp_path / f"{NAME}.ipynb") >= 8
    shown = shown_text(tmp_path / f"{NAME}.ipynb")
    assert all(section in shown for section in FLEET_SECTIONS)
    # the warnings' record always beside its comparator (the re-derivation of every number is test_claims_postmortem)
    record = pd.read_csv(out / "warning_record.csv").set_index("measure")
    assert record.loc["last_check", "churns"] == audit.loc[audit["in_review"] & (audit["outcome"] != "not checked")].shape[0]
    assert record.loc["last_check", "stayed"] > 100


@pytest.mark.slow
def test_single_account_review_of_an_account_with_no_activity(world_with_silent_account, tmp_path):
    summary = execute_notebook(NAME, world_with_silent_account, tmp_path, account_ids="Z00001")
    out = tmp_path / NAME
    assert all((out / f).exists() for f in OUTPUTS)
    assert summary["mode"] == "accounts" and summary["account_ids"] == ["Z00001"]
    # 2025-03-01 .. 2026-10-10 is 588 days, 19.3 months; ARR lost 12 x $100
    assert summary["headline"].startswith(
        "Silent Co (Z00001) churned on 10 Oct 2026 after 19 months, taking $1,200 ARR (no cancellation reason recorded)")
    churned = pd.read_csv(out / "churned_accounts.csv")
    assert churned["account_id"].tolist() == ["Z00001"] and churned["arr_lost"].iloc[0] == 1200
    # Issue 17.7: the account's story only. The old expectation here (at least six charts) counted the fleet-wide
    # padding the issue names (one-bar Pareto, one-cell heat map, empty themes, fleet alerts and roll-up): now the
    # account's page and, at most, its look-alikes' usage.
    assert 1 <= images(tmp_path / f"{NAME}.ipynb") <= 2
    shown = shown_text(tmp_path / f"{NAME}.ipynb")
    assert not any(section in shown for section in FLEET_SECTIONS), [s for s in FLEET_SECTIONS if s in shown]
    assert "Silent Co (Z00001): " in shown  # what warned it and when, from its monthly checks
    assert {k["name"] for k in summary["kpis"]} <= {"Accounts reviewed", "Flagged at the last check before churn",
                                                   "Median standing warning"}
    assert summary["links"] == []  # no link to the fleet's alerts.csv from an account review


def test_parameter_file_matches_the_notebook_defaults():
    """Every key of params/05_churn_postmortem.yml is declared in the parameters cell, with the same
    default, so a papermill run without the file (the tests) behaves like the monthly run."""
    import ast

    import yaml

    from csresearch.report.run import declared_parameters

    root = Path(__file__).resolve().parents[1]
    declared = declared_parameters(root / "notebooks" / f"{NAME}.ipynb")
    own = yaml.safe_load((root / "params" / f"{NAME}.yml").read_text())
    assert set(own) <= set(declared)
    for key, value in own.items():
        assert ast.literal_eval(declared[key]) == value, key
    shared = {"reactivation_window_days", "count_same_month_churn", "churn_convention", "value_milestone", "data",
              "column_mapping", "reject_invalid_rows", "month", "output_dir", "pseudonymise_accounts"}
    assert shared <= set(declared)
