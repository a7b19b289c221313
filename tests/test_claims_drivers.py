"""Claims of the churn-drivers report (issue 16): the headline and every KPI are re-derived from the CSV
tables written beside the report, so a sentence can never quote a number its own tables do not hold.

- the notebook on the small world (a time-ordered backtest): ARR at risk, the top-20 share, the red
  accounts, the strongest driver and the backtest AUC with its interval;
- report.build on two awkward worlds of the data-shape matrix, its tables written as CSV the way the
  notebook writes them: six months of events (no churn model: the list ranks by the health score) and
  every churn on one date (no time-ordered backtest: the model is checked across accounts, and the
  headline says why, naming the date).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

import matrix_worlds as mw
from conftest import HEALTH_FILE, execute_notebook, world_path
from csresearch.analyses.churn_drivers import report, words
from csresearch.data import open_dataset
from csresearch.text import count, interval, money, number, pct, plural

pytestmark = pytest.mark.slow
MATRIX_BASE = dict(accounts=150, months=24, seed=5, end_month="2026-10")  # the matrix test's base world


# --------------------------------------------------------------------------------------------------
# Re-derivations from the CSVs alone
# --------------------------------------------------------------------------------------------------
def auc_text(row: pd.Series) -> str:
    """The pooled AUC as the report must quote it, from a model_backtest.csv row."""
    if pd.notna(row["auc_low"]) and pd.notna(row["auc_high"]):
        return f"{number(row['auc'], 2)} ({interval(row['auc_low'], row['auc_high'], 'number', 2, confidence=0.95)})"
    few = int(min(row["churners"], row["test_accounts"] - row["churners"]))
    assert few < 10, "an interval is missing although there are enough churners"
    return f"{number(row['auc'], 2)} (no interval: only {plural(few, 'churner')}, and an interval needs 10)"


def expected_from_csvs(folder: Path, primary: str = "gbm", top_n: int = 20) -> dict:
    """Every number the headline and the KPIs quote, worked out from the CSVs."""
    at_risk = pd.read_csv(folder / "at_risk_accounts.csv")
    n, arr = len(at_risk), float(at_risk["arr"].sum())
    red = int((at_risk["health_band"] == "red").sum())
    out: dict = {"n": n, "arr": arr, "red": red, "red_arr": float(at_risk.loc[at_risk["health_band"] == "red", "arr"].sum()),
                 "at_risk": int(at_risk["at_risk"].sum())}
    if "arr_at_risk" in at_risk:
        risk = float(at_risk["arr_at_risk"].sum())
        top = float(at_risk["arr_at_risk"].sort_values(ascending=False).head(top_n).sum())
        out.update(risk=risk, top=top, top_n=min(top_n, n))
    drivers = pd.read_csv(folder / "drivers.csv")
    if len(drivers):
        strongest = drivers.loc[drivers["importance"].idxmax()]
        out.update(driver=strongest["label"], direction=strongest["direction"])
    backtest = pd.read_csv(folder / "model_backtest.csv")
    pooled = backtest[(backtest["test_date"] == "pooled") & (backtest["model"] == primary)]
    if len(pooled):
        out["pooled"] = pooled.iloc[0]
        out["folds"] = [str(x) for x in backtest["test_date"].unique() if x != "pooled"]
    return out


def check_headline_with_model(headline: str, e: dict, check: str = "Backtest") -> None:
    assert headline.startswith(
        f"{money(e['risk'], compact=True)} of {money(e['arr'], compact=True)} ARR ({pct(e['risk'] / e['arr'])}) is "
        f"expected to churn in the next 90 days; the top {e['top_n']} of {plural(e['n'], 'account')} hold "
        f"{pct(e['top'] / e['risk'], 0)} of it, and {plural(e['red'], 'account')} {'is' if e['red'] == 1 else 'are'} "
        f"red. Strongest driver: {e['driver']} ({e['direction']}). {check} AUC {auc_text(e['pooled'])}"), headline


def check_kpis(kpis: list[dict], e: dict) -> None:
    by_name = {k["name"]: k for k in kpis}
    if "risk" in e:
        assert by_name["ARR at risk"]["value"] == pytest.approx(e["risk"], abs=0.01)
        assert by_name["ARR at risk"]["display"] == f"{money(e['risk'])} of {money(e['arr'])} ARR"
    else:
        assert "ARR at risk" not in by_name  # no model: no probability, so no ARR at risk is claimed
    assert by_name["Red accounts"]["value"] == e["red"]
    assert by_name["Red accounts"]["display"] == f"{count(e['red'])} of {count(e['n'])}"
    auc = [k for k in kpis if k["name"].startswith("Model AUC")]
    if "pooled" in e:
        (k,) = auc
        assert k["value"] == pytest.approx(e["pooled"]["auc"]) and k["display"] == auc_text(e["pooled"])
    else:
        assert not auc
    if "risk" in e:  # at risk: a churn probability at or above the threshold the summary records
        assert by_name["Accounts at risk"]["value"] == e["at_risk"]
        assert by_name["Accounts at risk"]["display"].startswith(f"{count(e['at_risk'])} of {count(e['n'])} (churn "
                                                                 "risk ")
    else:
        assert "Accounts at risk" not in by_name  # no model: at risk is red, the red KPI says it
    assert set(by_name) <= {"ARR at risk", "Accounts at risk", "Red accounts", "Model AUC (backtest)",
                            "Model AUC (across accounts)"}


def check_call_list(folder: Path, summary: dict, days: int = 90) -> None:
    """The call list's files agree with at_risk_accounts.csv: each account in exactly one owner's CSV
    (rows = sum of the owners'), the owners' table sums them, the renewals calendar is the list's term
    renewals in the window, soonest first, and the at_risk flag is the threshold the summary records."""
    calls = pd.read_csv(folder / "at_risk_accounts.csv", parse_dates=["renewal_date"])
    for column in ("account_id", "account_name", "csm_owner", "segment", "arr", "renewal_date", "days_to_renewal",
                   "health_score", "health_band", "health_triggers", "playbook", "touch_tier", "at_risk"):
        assert column in calls, column
    assert calls["csm_owner"].notna().all()
    owners = pd.read_csv(folder / "at_risk_by_owner.csv")
    parts = {f: pd.read_csv(folder / f) for f in owners["file"]}
    assert sorted(str(p.relative_to(folder)) for p in (folder / "at_risk_by_owner").iterdir()) == sorted(parts)
    assert sum(len(p) for p in parts.values()) == len(calls) == owners["accounts"].sum()
    joined = pd.concat(parts.values())
    assert joined["account_id"].is_unique and set(joined["account_id"]) == set(calls["account_id"])
    for f, part in parts.items():
        assert part["csm_owner"].nunique() == 1 and part["rank"].is_monotonic_increasing, f
    assert sorted(summary["owner_files"].values()) == sorted(parts)
    assert owners["at_risk_accounts"].sum() == calls["at_risk"].sum()
    if "churn_probability" in calls:
        threshold = summary["risk_threshold"]
        assert (calls["at_risk"] == (calls["churn_probability"] >= threshold)).all()
        assert owners["arr_at_risk"].sum() == pytest.approx(calls["arr_at_risk"].sum())
    else:
        assert summary["risk_threshold"] is None and (calls["at_risk"] == (calls["health_band"] == "red")).all()
    as_of = pd.Timestamp(summary["as_of"])
    renewals = pd.read_csv(folder / f"renewals_next_{days}_days.csv", parse_dates=["renewal_date"])
    due = calls[(calls["renewal_date"] >= as_of) & (calls["renewal_date"] < as_of + pd.Timedelta(days=days))]
    assert sorted(renewals["account_id"]) == sorted(due["account_id"])
    assert renewals["renewal_date"].is_monotonic_increasing
    assert (calls.loc[calls["billing_period"] == "monthly", "renewal_date"].isna()).all()
    assert summary["renewals"]["contracts"] == len(renewals) and owners["renewals_due"].sum() == len(renewals)


# --------------------------------------------------------------------------------------------------
# The notebook on the small world
# --------------------------------------------------------------------------------------------------
def test_headline_and_kpis_of_the_notebook_come_from_its_csvs(small_world_path, tmp_path):
    summary = execute_notebook("03_churn_drivers", small_world_path, tmp_path, history_months=15,
                               permutation_repeats=3, bootstrap_resamples=50, backtest_folds=2)
    folder = tmp_path / "03_churn_drivers"
    e = expected_from_csvs(folder)
    assert summary["model_check"] == "time-ordered" and e["folds"]  # this world supports a backtest
    check_headline_with_model(summary["headline"], e)
    check_kpis(summary["kpis"], e)
    check_call_list(folder, summary)
    # the summary's numbers are the tables' numbers too
    assert summary["arr_at_risk"] == pytest.approx(e["risk"], abs=0.01) and summary["red_accounts"] == e["red"]
    validation = pd.read_csv(folder / "health_score_validation.csv")
    auc = validation[validation["section"] == "discrimination"].iloc[0]
    assert summary["health_auc"][0] == pytest.approx(auc["value"])


# --------------------------------------------------------------------------------------------------
# report.build on awkward worlds, tables written as the notebook writes them
# --------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def matrix_tables() -> dict[str, pd.DataFrame]:
    con = duckdb.connect(str(world_path(**MATRIX_BASE)), read_only=True)
    tables = {t: con.table(t).df() for (t,) in con.execute("SHOW TABLES").fetchall()}
    con.close()
    return tables


def build_and_write(tables: dict[str, pd.DataFrame], months: int, shape: str, scenario: str | None,
                    folder: Path):
    cut, month = mw.cut(tables, months)
    shaped = mw.keep_tables(cut, shape)
    if scenario:
        shaped = mw.scenario(shaped, scenario, month)
    ds = open_dataset(mw.write(shaped, folder / "data"))
    settings = report.Settings(permutation_repeats=3, bootstrap_resamples=50)
    result = report.build(ds, month, settings, health_config=HEALTH_FILE)
    out = folder / "csv"
    out.mkdir()
    for name, table in result.tables().items():
        (out / f"{name}.csv").parent.mkdir(parents=True, exist_ok=True)  # at_risk_by_owner/<owner>.csv
        table.to_csv(out / f"{name}.csv", index=False)
    return result, out


def test_without_a_model_the_headline_counts_red_accounts_from_the_list(matrix_tables, tmp_path):
    """Six months of accounts, subscriptions and events: five churns, too few for any model. The
    headline says why and quotes the red accounts and their ARR from at_risk_accounts.csv, which has
    no probability column (nothing is guessed)."""
    result, folder = build_and_write(matrix_tables, 6, "events", None, tmp_path)
    e = expected_from_csvs(folder)
    assert "risk" not in e and "pooled" not in e
    headline = words.headline(result)
    assert headline.startswith("No churn model this month: only ")
    m = re.search(r"only (\d+) of the ([\d,]+) observations whose 90-day window has closed churned", headline)
    assert m and int(m.group(1)) < 10
    labelled = result.frame["churned"].notna()
    assert int(m.group(1)) == int(result.frame.loc[labelled, "churned"].sum())
    assert int(m.group(2).replace(",", "")) == int(labelled.sum())
    assert headline.endswith(f"By the health score, {count(e['red'])} of {plural(e['n'], 'paying account')} "
                             f"({money(e['red_arr'], compact=True)} of {money(e['arr'], compact=True)} ARR) "
                             f"{'is' if e['red'] == 1 else 'are'} red.")
    check_kpis([k.as_dict() for k in words.kpis(result)], e)
    check_call_list(folder, json.loads(json.dumps(result.summary(), default=str)))
    # the list is the health score's order: lowest score first
    at_risk = pd.read_csv(folder / "at_risk_accounts.csv")
    assert at_risk["health_score"].is_monotonic_increasing


def test_churn_on_one_date_is_said_and_the_cross_validated_auc_is_the_tables(matrix_tables, tmp_path):
    """Every churn on one day: no model can be trained on earlier months and tested on later ones. The
    headline says so, naming the date and the count that the observations hold, and quotes the
    cross-validated AUC of model_backtest.csv."""
    result, folder = build_and_write(matrix_tables, 24, "all", "one_churn_date", tmp_path)
    e = expected_from_csvs(folder)
    assert e["folds"] and all(f.startswith("fold ") for f in e["folds"])
    headline = words.headline(result)
    check_headline_with_model(headline, e, check="Cross-validated")
    churned = result.frame[result.frame["churned"] == 1]
    top = churned["churn_date"].value_counts()
    said = (f"{top.iloc[0]:,} of the {len(churned):,} churned observations churned on one date "
            f"({top.index[0].strftime('%-d %b %Y')})")
    if top.iloc[0] == len(churned):
        said = f"all {len(churned):,} churned observations churned on one date ({top.index[0].strftime('%-d %b %Y')})"
    assert said in headline, headline
    check_kpis([k.as_dict() for k in words.kpis(result)], e)
    assert json.dumps(result.summary(), default=str)  # the summary serialises with no model test dates
    assert np.isfinite(e["pooled"]["auc"])
