"""Claims of the churn postmortem (issue 16): run the notebook on the small world as the monthly run does,
then re-derive every number of its headline and of every KPI on the index from the CSV tables written
beside it, with independent code (pandas, statsmodels' Wilson interval, scipy's bootstrap), never from the
report's own result. A KPI added without a re-derivation here fails the test.

Each shown number is compared with the re-derived one at the precision it is shown: a percentage shown
with d decimals must be within half a unit of its last digit of 100 x the re-derived share.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import execute_notebook

NAME = "05_churn_postmortem"
PCT = r"(\d+(?:\.\d+)?)"
SHARE = rf"{PCT}%, 95% CI {PCT}\u2013{PCT}%"  # 50%, 95% CI 9–91%
RATE = rf"{PCT}% \(95% CI {PCT}\u2013{PCT}%\)"  # 25% (95% CI 18–33%)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(small_world_path, tmp_path_factory):
    out = tmp_path_factory.mktemp("claims")
    summary = execute_notebook(NAME, small_world_path, out)
    return summary, out / NAME


def csv(folder: Path, name: str, **kw) -> pd.DataFrame:
    return pd.read_csv(folder / f"{name}.csv", **kw)


def wilson(k: int, n: int) -> tuple[float, float]:
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(k, n, alpha=0.05, method="wilson")
    return float(low), float(high)


def shown_as(text: str, value: float) -> bool:
    """``text`` (a percentage as shown, "23" or "0.4") is ``value`` (a share) at the precision shown."""
    decimals = len(text.split(".")[1]) if "." in text else 0
    return abs(float(text) - 100 * value) <= 0.5 * 10 ** -decimals + 1e-9


def money_shown_as(text: str, value: float) -> bool:
    """``text`` ("$71k", "$1.2M", "$4,210") is ``value`` dollars at the precision shown."""
    m = re.fullmatch(r"\$([\d,]+(?:\.\d+)?)([kM]?)", text)
    assert m, text
    number, unit = float(m[1].replace(",", "")), {"": 1, "k": 1e3, "M": 1e6}[m[2]]
    decimals = len(m[1].split(".")[1]) if "." in m[1] else 0
    return abs(number * unit - value) <= 0.5 * unit * 10 ** -decimals + 1e-6


def assert_share(groups: tuple[str, str, str], k: int, n: int) -> None:
    rate, low, high = (float(g) for g in groups)
    expected = (k / n, *wilson(k, n))
    assert all(shown_as(g, v) for g, v in zip(groups, expected)), (groups, expected)


def median_and_interval(values: np.ndarray) -> tuple[float, float, float]:
    """The median and its 95% percentile bootstrap interval as the report computes them (2,000 resamples,
    seed 0, of the values in ascending order)."""
    from scipy.stats import bootstrap

    res = bootstrap((np.sort(values),), np.median, confidence_level=0.95, n_resamples=2000, method="percentile",
                    random_state=0)
    return float(np.median(values)), float(res.confidence_interval.low), float(res.confidence_interval.high)


def re_derived(folder: Path) -> dict:
    """Every number of the headline and the KPIs, from the CSVs alone."""
    churned = csv(folder, "churned_accounts")
    churned = churned[churned["status"] == "churned"]
    reasons = csv(folder, "reasons")
    recorded = reasons[reasons["reason"] != "not recorded"].sort_values("arr_lost", ascending=False, kind="stable")
    comparison = csv(folder, "warning_comparison")
    judged = comparison[(comparison["group"] == "churned") & (comparison["checks"] > 0)]
    stayed = comparison[comparison["group"] == "stayed"]
    audit = csv(folder, "warning_audit")
    review = audit[audit["in_review"] & audit["warned_at_last_check"]]
    rule = csv(folder, "alert_rule_audit")
    rule = rule[rule["rule"] == "band"]  # the rule in use (alert_top_share set)
    outcomes = csv(folder, "flag_outcomes")
    return {
        "churns": len(churned), "arr_lost": churned["arr_lost"].sum(),
        "top_reason": recorded.iloc[0]["reason"], "top_share": recorded.iloc[0]["arr_lost"] / reasons["arr_lost"].sum(),
        "churns_checked": len(judged), "churns_flagged": int(judged["flagged_at_last_check"].sum()),
        "stayed": len(stayed), "stayed_flagged": int(stayed["flagged_at_last_check"].sum()),
        "standing_days": review["standing_lead_days"].to_numpy(dtype=float),
        "alerts": len(csv(folder, "alerts")),
        "rule_alerts": int(rule["alerts"].sum()), "rule_borne_out": int(rule["churned"].sum()),
        "flagged_accounts": len(outcomes), "flags_not_followed": int((~outcomes["churned_within_horizon"]).sum()),
    }


def test_the_headline_is_re_derived_from_the_csvs(run):
    summary, folder = run
    truth = re_derived(folder)
    text = summary["headline"]
    pattern = (rf"^(\d+) accounts churned in October 2026, taking (\S+) ARR; '(.+?)' cost the most \({PCT}% of "
               rf"ARR lost\)\. At the last check before they left, the warnings flagged (\d+) of (\d+) \({SHARE}\) "
               rf"against {RATE} of the ([\d,]+) accounts that stayed; those warnings had stood a median (\d+) days; "
               rf"(\d+) paying accounts? raised a new alert this month\.$")
    m = re.match(pattern, text)
    assert m, text
    g = m.groups()
    assert int(g[0]) == truth["churns"] and money_shown_as(g[1], truth["arr_lost"])
    assert g[2] == truth["top_reason"].replace("_", " ") and shown_as(g[3], truth["top_share"])
    assert (int(g[4]), int(g[5])) == (truth["churns_flagged"], truth["churns_checked"])
    assert_share(g[6:9], truth["churns_flagged"], truth["churns_checked"])
    assert_share(g[9:12], truth["stayed_flagged"], truth["stayed"])
    assert int(g[12].replace(",", "")) == truth["stayed"]
    assert int(g[13]) == round(float(np.median(truth["standing_days"])))
    assert int(g[14]) == truth["alerts"]


def test_every_kpi_is_re_derived_from_the_csvs(run):
    summary, folder = run
    truth = re_derived(folder)
    kpis = {k["name"]: k for k in summary["kpis"]}
    assert set(kpis) == {"Churned accounts", "ARR lost", "Flagged at the last check before churn",
                         "Median standing warning", "New alerts", "Alert false alarms (past months)",
                         "Flags without a churn within 90 days"}, "a KPI without its re-derivation here"

    assert kpis["Churned accounts"]["value"] == truth["churns"] and kpis["Churned accounts"]["display"] == str(truth["churns"])
    assert kpis["ARR lost"]["value"] == pytest.approx(truth["arr_lost"])
    assert money_shown_as(kpis["ARR lost"]["display"], truth["arr_lost"])

    flagged = kpis["Flagged at the last check before churn"]
    m = re.fullmatch(rf"(\d+) of (\d+) \({SHARE}\); stayed: {RATE}", flagged["display"])
    assert m, flagged["display"]
    assert (int(m[1]), int(m[2])) == (truth["churns_flagged"], truth["churns_checked"])
    assert_share(m.groups()[2:5], truth["churns_flagged"], truth["churns_checked"])
    assert_share(m.groups()[5:8], truth["stayed_flagged"], truth["stayed"])
    assert flagged["value"] == pytest.approx(truth["churns_flagged"] / truth["churns_checked"])
    assert flagged["comparator"] == pytest.approx(truth["stayed_flagged"] / truth["stayed"])

    lead = kpis["Median standing warning"]
    median, low, high = median_and_interval(truth["standing_days"])
    m = re.fullmatch(r"(\d+) days before the churn \(95% CI (\d+)\u2013(\d+)\)", lead["display"])
    assert m, lead["display"]
    assert lead["value"] == pytest.approx(median)
    assert [int(x) for x in m.groups()] == [round(median), round(low), round(high)]

    assert kpis["New alerts"]["value"] == truth["alerts"]
    assert kpis["New alerts"]["display"] == f"{truth['alerts']} account" + ("" if truth["alerts"] == 1 else "s")

    false_alarms = kpis["Alert false alarms (past months)"]
    m = re.fullmatch(RATE, false_alarms["display"])
    assert m, false_alarms["display"]
    n, wrong = truth["rule_alerts"], truth["rule_alerts"] - truth["rule_borne_out"]
    assert_share(m.groups(), wrong, n)
    assert false_alarms["value"] == pytest.approx(wrong / n)

    not_followed = kpis["Flags without a churn within 90 days"]
    m = re.fullmatch(RATE, not_followed["display"])
    assert m, not_followed["display"]
    assert_share(m.groups(), truth["flags_not_followed"], truth["flagged_accounts"])


def test_no_flag_claim_stands_without_its_comparator(run):
    """Issue 16.2: "flagged before churn" never reaches the index without the share of accounts that stayed
    flagged at the same checks."""
    summary, _ = run
    texts = [summary["headline"], *(f"{k['name']}: {k['display']}" for k in summary["kpis"])]
    for text in texts:
        if re.search(r"flagged (\d+ of|at the last)", text, re.IGNORECASE):
            assert "stayed" in text, text
