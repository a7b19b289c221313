"""Claims of the experiments report, re-derived from the table written beside it (issue 16, claims
tests): the headline's clause for each experiment and every KPI on the index must cite the primary
estimate of the primary outcome in experiment_summary.csv, at the precision they print, with the
direction and the verdict ("raised", "no detectable effect", "cannot be measured") that the CSV's
own interval and Holm-adjusted p-value imply.

The test reads the CSV (not the result object), parses the numbers out of the sentences, and checks
each against the CSV value rounded to the decimals the sentence shows; it never calls the report's
formatters. Worlds: the e-mail world (three arms, event outcomes, no exposure recorded) run as the
notebook runs, the demo world, the small world, and small worlds of awkward shapes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from conftest import execute_notebook, world_path
from csresearch.analyses.experiments import report, words
from csresearch.analyses.experiments.settings import Settings

NOTEBOOK = "04_uplift_experiments"
ALPHA = 0.05
NUMBER = re.compile(r"[−+-]?\$?\d[\d,]*(?:\.\d+)?")
BAD = re.compile(r"(?<![A-Za-z])(nan|NaN|inf|n/a|None)(?![A-Za-z])|−nan|\bnull\b")


def _value(token: str) -> tuple[float, int]:
    """A printed number and how many decimals it shows: '−$2.31' -> (-2.31, 2)."""
    clean = token.replace("\u2212", "-").replace("$", "").replace(",", "").replace("+", "")
    decimals = len(clean.split(".")[1]) if "." in clean else 0
    return float(clean), decimals


def _matches(token: str, value: float, scale: float) -> bool:
    shown, decimals = _value(token)
    return abs(shown - value * scale) <= 0.5 * 10 ** -decimals + 1e-9


def _scale(unit: str) -> float:
    return 100.0 if unit == "points" else 1.0


def _detected(row: pd.Series) -> bool:
    excludes = row["low"] > 0 or row["high"] < 0
    return bool(excludes and (int(row["comparisons"]) == 1 or row["p_holm"] < ALPHA))


def _cited(text: str, row: pd.Series, after: str) -> None:
    """The estimate printed after ``after`` and the two bounds after 'CI' are the row's."""
    scale = _scale(row["unit"])
    estimate = NUMBER.search(text, text.index(after) + len(after))
    assert estimate and _matches(estimate.group(), abs(row["estimate"]), scale), (text, row["estimate"])
    bounds = NUMBER.findall(text[text.index(" CI ", estimate.end()) + 4:])[:2]
    assert _matches(bounds[0], row["low"], scale) and _matches(bounds[1], row["high"], scale), (text, row["low"],
                                                                                                 row["high"])
    assert bounds[0] != bounds[1], f"an interval rounded to a point: {text}"


def _clauses(headline: str, names: list[str]) -> dict[str, str]:
    """Each experiment's clause of the headline, found by its name (in the order they appear)."""
    found = sorted((headline.index(n), n) for n in names if n in headline)
    return {n: headline[start:(found[i + 1][0] if i + 1 < len(found) else len(headline))]
            for i, (start, n) in enumerate(found)}


def check_claims(summary: dict, table: pd.DataFrame, settings: Settings) -> int:
    """Re-derive the headline and the KPIs of one report from its experiment_summary table; returns
    how many claims were checked."""
    headline, kpis = summary["headline"], summary["kpis"]
    assert not BAD.search(headline), headline
    ids = [e["experiment_id"] for e in summary["experiments"]]  # the experiments read out
    names = {e: (settings.experiments[e].description if e in settings.experiments else "") or e for e in ids}
    clauses = _clauses(headline, list(names.values()))
    checked = 0
    for eid in ids:
        s = settings.experiments.get(eid, settings.experiment_defaults)
        primary = s.primary_outcome if s.primary_outcome in s.outcomes else s.outcomes[0]
        rows = table[(table["experiment_id"] == eid) & (table["outcome"] == primary) & (table["primary"] == True)]  # noqa: E712
        rows = rows[rows["estimator"] != "cannot be measured"]
        clause = clauses[names[eid]]
        if rows.empty:
            unmeasured = table[(table["experiment_id"] == eid) & (table["outcome"] == primary)
                               & (table["estimator"] == "cannot be measured")]
            if len(unmeasured) and (unmeasured["arm"] == "every arm").any():
                reason = unmeasured[unmeasured["arm"] == "every arm"]["verdict"].iloc[0]
                assert "cannot be measured" in clause and reason.split(": ")[1].split(".")[0] in clause, (clause, reason)
                assert "no detectable" not in clause and "MDE" not in clause
            else:
                assert "not estimable" in clause or "too early" in clause or "too few" in clause, clause
            checked += 1
            continue
        several = len(rows) > 1
        for _, row in rows.iterrows():
            label = row["outcome_label"]
            part = clause
            if several:  # each comparison's part of the clause starts with "<arm> vs <control>"
                start = clause.index(f"{row['arm']} vs {row['control_arm']}")
                part = clause[start:]
            if _detected(row):
                if row["design"] == "randomised":
                    verb = "raised" if row["estimate"] > 0 else "lowered"
                    assert f"{verb} {label} by" in part, (part, row.to_dict())
                    _cited(part, row, f"{verb} {label} by ")
                else:
                    more = "higher" if row["estimate"] > 0 else "lower"
                    # the sequential-trial estimate compares adopters with accounts not adopting yet, and
                    # never calls itself an upper bound (the direction of confounding is not known)
                    who = ("accounts not yet adopting" if str(row["estimator"]).startswith("sequential trials")
                           else "non-users")
                    assert f"had {label} " in part and f" {more} than comparable {who}" in part, part
                    assert "upper bound" not in part, part
                    _cited(part, row, f"had {label} ")
            else:
                assert "no detectable" in part.split(";")[0] and "raised" not in part.split(";")[0].split(" MDE")[0], part
                if row["design"] == "randomised":
                    mde = NUMBER.search(part, part.index("(MDE ") + 5)
                    assert mde and _matches(mde.group(), row["mde"], _scale(row["unit"])), (part, row["mde"])
                elif str(row["estimator"]).startswith("sequential trials"):
                    assert "comparable accounts not yet adopting" in part, part   # its comparator, not never-users
            checked += 1
        # the index's KPIs: one per comparison, the same numbers
        mine = [k for k in kpis if k["experiment_id"] == eid]
        assert len(mine) == len(rows), (eid, mine)
        for k, (_, row) in zip(mine, rows.iterrows()):
            assert (k["arm"], k["outcome"]) == (row["arm"], row["outcome"])
            assert k["value"] == pytest.approx(row["estimate"], rel=1e-9, abs=1e-12)
            assert (k["low"], k["high"]) == (pytest.approx(row["low"], abs=1e-12), pytest.approx(row["high"], abs=1e-12))
            assert not BAD.search(k["display"]), k
            shown = NUMBER.findall(k["display"])
            scale = _scale(row["unit"])
            assert _matches(shown[0], row["estimate"], scale) and _matches(shown[-2], row["low"], scale) \
                and _matches(shown[-1], row["high"], scale), (k["display"], row.to_dict())
            checked += 1
    assert len(kpis) == sum(1 for k in kpis if k["experiment_id"] in ids)
    return checked


def _published(result, tmp_path: Path) -> tuple[dict, pd.DataFrame]:
    """What the notebook publishes for a result (summary.json's headline and KPIs, and the CSV read back)."""
    path = tmp_path / "experiment_summary.csv"
    result.tables()["experiment_summary"].to_csv(path, index=False)
    summary = {"headline": words.headline(result), "kpis": [k.as_dict() for k in words.kpis(result)],
               "experiments": result.summary()["experiments"]}
    return json.loads(json.dumps(summary)), pd.read_csv(path)


@pytest.mark.slow
def test_claims_on_the_email_world_as_the_notebook_writes_them(tmp_path):
    # three experiments: the two-arm outreach experiment, the adoption study (not randomised) and the
    # three-arm e-mail experiment (event outcomes, exposure not recorded)
    path = world_path(accounts=3000, months=24, seed=201, end_month="2026-10", email_experiment=True)
    summary = execute_notebook(NOTEBOOK, path, tmp_path, uplift_n_estimators=20)
    table = pd.read_csv(tmp_path / NOTEBOOK / "experiment_summary.csv")
    assert {"exp_email_campaign", "exp_cs_outreach_2026"} <= set(table["experiment_id"])
    assert check_claims(summary, table, Settings()) >= 2 + 2 + 2  # 2 e-mail arms (+ KPIs), outreach, adoption
    # the e-mail experiment's clause names both arms against no_email
    assert "email_a vs no_email" in summary["headline"] and "email_b vs no_email" in summary["headline"]
    html = (tmp_path / f"{NOTEBOOK}.ipynb").read_text()
    assert "95% CI nan" not in html and "nan to nan" not in html


@pytest.mark.slow
def test_claims_on_the_demo_world(demo_dataset, tmp_path):
    result = report.build(demo_dataset, pd.Period("2026-10", "M"), Settings(uplift_models=[]))
    summary, table = _published(result, tmp_path)
    assert check_claims(summary, table, Settings()) == 4  # two experiments: a clause and a KPI each


def test_claims_on_the_small_world(small_dataset, tmp_path):
    result = report.build(small_dataset, pd.Period("2026-10", "M"), Settings(uplift_models=[]))
    summary, table = _published(result, tmp_path)
    assert check_claims(summary, table, Settings()) >= 2


@pytest.mark.parametrize("scenario", ["no_churn", "everyone_churns", "single_account", "one_churn_date"])
def test_claims_on_awkward_small_worlds(scenario, tmp_path):
    import duckdb

    import matrix_worlds as mw

    con = duckdb.connect(str(world_path(accounts=150, months=24, seed=5, end_month="2026-10")), read_only=True)
    tables = {t: con.table(t).df() for (t,) in con.execute("SHOW TABLES").fetchall()}
    con.close()
    cut, month = mw.cut(tables, 24)
    folder = mw.write(mw.scenario(cut, scenario, month), tmp_path / scenario)
    from csresearch.data import open_dataset

    result = report.build(open_dataset(folder), month, Settings(uplift_models=[]))
    summary, table = _published(result, tmp_path)
    assert check_claims(summary, table, Settings()) >= 1
