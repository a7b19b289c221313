"""The experiments report runs the way the monthly run runs it (papermill, kernel named) on the small
world, renders a section per experiment and writes its tables and summary.json."""

from __future__ import annotations

import re

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
    assert {"experiment_id", "arm", "control_arm", "outcome", "outcome_label", "estimator", "estimate", "low", "high",
            "p_holm", "mde", "verdict"} <= set(table.columns)
    estimated = table[table["estimator"] != "cannot be measured"]
    assert (estimated["low"] <= estimated["estimate"]).all() and (estimated["estimate"] <= estimated["high"]).all()
    assert table["verdict"].notna().all() or (table.loc[table["verdict"].isna(), "estimator"].str.startswith(
        ("Cox", "RMST", "naive: users", "difference-in-differences"))).all()
    arms = pd.read_csv(out / "arm_outcomes.csv")
    assert set(arms["arm"]) == {"control", "treatment", "adopter", "non_adopter"}
    assert (arms["low"] <= arms["mean"]).all() and (arms["mean"] <= arms["high"]).all()
    assert len(summary["kpis"]) == 2
    for name in ("effects_by_segment", "qini", "targeting"):
        assert len(pd.read_csv(out / f"{name}.csv")) > 0, name
    assert set(pd.read_csv(out / "targeting.csv")["policy"]) == {"top k% by predicted uplift",
                                                                "top k% by churn risk", "random k%"}


BAD = re.compile(r"(?<![A-Za-z])(nan|NaN|inf|n/a|None)(?![A-Za-z])|−nan|\bnull\b")


def _page_text(result) -> str:
    """Every sentence, table cell and caption an experiment's section shows (as display.show_table
    shows a missing cell: '–'), plus the headline and the KPIs."""
    import matplotlib.pyplot as plt

    from csresearch.analyses.base import Table
    from csresearch.analyses.experiments import charts, views, words

    texts = [words.headline(result), words.windows_sentence(result)] + [k.display for k in words.kpis(result)]
    for r in result.readouts:
        for block in views.readout_blocks(r, charts.readout_figures(r)):
            if isinstance(block, str):
                texts.append(block)
            elif isinstance(block, Table):
                cells = block.data.astype(object).where(block.data.notna(), "–").to_numpy().ravel()
                texts += [str(c) for c in cells] + [block.caption or ""]
        plt.close("all")
    return "\n".join(texts)


@pytest.mark.slow
@pytest.mark.parametrize("scenario", [None, "no_churn", "everyone_churns", "single_account", "no_expansion",
                                      "one_churn_date", "no_events"])
def test_every_section_reads_as_sentences_on_awkward_worlds(scenario, tmp_path):
    # the matrix worlds with an experiments table (tests/test_matrix.py checks the words that read a
    # result; this checks the whole page: every section, table cell and caption), and the e-mail world
    # without its usage_events (its event outcomes cannot be measured): never nan, n/a or None, never
    # "95% CI nan to nan"
    import duckdb

    import matrix_worlds as mw
    from conftest import world_path
    from csresearch.analyses.experiments import report
    from csresearch.data import open_dataset

    if scenario == "no_events":
        path = world_path(accounts=3000, months=24, seed=201, end_month="2026-10", email_experiment=True)
        ds = open_dataset(path, tables=["accounts", "subscriptions", "experiments"])
        result = report.build(ds, pd.Period("2026-10", "M"), report.Settings(uplift_n_estimators=10))
        email = next(r for r in result.readouts if r.experiment_id == "exp_email_campaign")
        assert email.primary_effect() is None and email.primary_unmeasured()["reason"] == "no usage_events"
        assert "E-mail campaign: visit rate within 30 days cannot be measured: the data has no usage_events table" \
            in report_headline(result)
    else:
        con = duckdb.connect(str(world_path(accounts=150, months=24, seed=5, end_month="2026-10")), read_only=True)
        tables = {t: con.table(t).df() for (t,) in con.execute("SHOW TABLES").fetchall()}
        con.close()
        cut, month = mw.cut(tables, 24)
        folder = mw.write(mw.scenario(cut, scenario, month) if scenario else cut, tmp_path / "world")
        result = report.build(open_dataset(folder), month, report.Settings(uplift_n_estimators=10))
    page = _page_text(result)
    broken = [page[max(0, m.start() - 120): m.end() + 40] for m in BAD.finditer(page)]
    assert not broken, broken[:5]


def report_headline(result) -> str:
    from csresearch.analyses.experiments import words

    return words.headline(result)
