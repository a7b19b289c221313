"""The monthly brief (the index page, issue 17.1).

- its trend lines are the package's own numbers as of each month end: the last point of logo churn,
  12-month GRR and NRR equals the churn decomposition report's, every monthly logo churn point equals
  the report's rates table, and GRR, NRR and ARR equal a recomputation straight from the subscriptions
  (pandas, MRR on the last day of each month) at an earlier month too;
- the change's interval: the paired delta-method interval of two overlapping ratios agrees with an
  account-level bootstrap, and collapses to zero width for identical cohorts;
- the card prints the series' last point; a change is coloured red/green only outside noise;
- each report's headline is one sentence under 25 words whose numbers are its summary's;
- a failed notebook, a missing table or missing trend lines are said in words (no nan/None/n/a), data
  values are escaped, alerts.csv is linked once, plurals are right, earlier months are linked, and the
  page stays under 100 KB.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from csresearch import style
from csresearch.report import brief, brief_words, index
from csresearch.text import money, pct

MONTH = pd.Period("2026-10", "M")
BAD_WORDS = re.compile(r"\bnan\b|\bNone\b|n/a|\binf\b|NaN")


# --- the trend lines ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tables(small_dataset):
    return small_dataset.table("subscriptions"), small_dataset.table("accounts")


@pytest.fixture(scope="module")
def series(tables):
    return brief.month_series(*tables, MONTH)


@pytest.fixture(scope="module")
def churn_result(tables):
    from csresearch.analyses.churn_decomposition.report import Settings, churn_report

    return churn_report(*tables, MONTH, Settings(trend_months=12))


def _mrr_at(subscriptions: pd.DataFrame, month: pd.Period) -> pd.Series:
    """MRR per account on the month's last day, straight from the contract's definition."""
    last_day = month.to_timestamp(how="end").normalize()
    active = (subscriptions["start_date"] <= last_day) & (
        subscriptions["end_date"].isna() | (subscriptions["end_date"] > last_day))
    return subscriptions[active].groupby("account_id")["mrr"].sum()


def _cohort_by_hand(subscriptions: pd.DataFrame, month: pd.Period) -> tuple[float, float]:
    then, now = _mrr_at(subscriptions, month - 12), _mrr_at(subscriptions, month)
    then = then[then > 0]
    now = now.reindex(then.index).fillna(0.0)
    return now.sum() / then.sum(), np.minimum(now, then).sum() / then.sum()


def test_the_last_points_are_the_churn_reports_numbers(series, churn_result):
    summary = churn_result.summary()
    assert series["months"][-1] == "2026-10" and len(series["months"]) == 12
    assert series["logo_churn"]["value"][-1] == pytest.approx(summary["logo_churn_rate"], abs=1e-12)
    assert series["grr_12m"]["value"][-1] == pytest.approx(summary["grr_12m"], abs=1e-12)
    assert series["nrr_12m"]["value"][-1] == pytest.approx(summary["nrr_12m"], abs=1e-12)
    assert [series["grr_12m"]["low"][-1], series["grr_12m"]["high"][-1]] == pytest.approx(summary["grr_12m_ci"])


def test_every_logo_churn_point_is_the_reports_monthly_rate(series, churn_result):
    rates = churn_result.rates
    monthly = rates[rates["window_months"] == 1].set_index("month")["logo_churn_rate"]
    for label, value in zip(series["months"], series["logo_churn"]["value"]):
        assert value == pytest.approx(monthly[pd.Period(label, "M")], abs=1e-12), label


def test_retention_and_arr_equal_a_recomputation_from_the_subscriptions(series, tables):
    subscriptions = tables[0]
    for k in (-1, -7):  # the report month and one half a year earlier: each point is as of its own month end
        month = pd.Period(series["months"][k], "M")
        nrr, grr = _cohort_by_hand(subscriptions, month)
        assert series["nrr_12m"]["value"][k] == pytest.approx(nrr, rel=1e-12), month
        assert series["grr_12m"]["value"][k] == pytest.approx(grr, rel=1e-12), month
        assert series["arr"]["value"][k] == pytest.approx(12 * _mrr_at(subscriptions, month).sum(), abs=0.01)
    arr = series["arr"]["value"]
    assert series["arr"]["change"] == pytest.approx(arr[-1] - arr[-2])
    assert series["arr"]["change_low"] is None, "ARR is a count of money billed: its change is exact"


def test_the_logo_churn_change_has_newcombes_interval(series):
    from statsmodels.stats.proportion import confint_proportions_2indep

    logo = series["logo_churn"]
    low, high = confint_proportions_2indep(logo["churned"][-1], logo["at_risk"][-1], logo["churned"][-2],
                                           logo["at_risk"][-2], method="newcomb", compare="diff")
    assert (logo["change_low"], logo["change_high"]) == pytest.approx((low, high))
    assert logo["change_low"] < logo["change"] < logo["change_high"]
    json.dumps(series)  # the manifest holds it: plain JSON values only


def test_the_paired_ratio_difference_interval_agrees_with_a_bootstrap():
    rng = np.random.default_rng(3)
    n = 800
    then_a = rng.lognormal(6, 1, n)
    then_b = np.where(rng.random(n) < 0.9, then_a * rng.uniform(0.95, 1.05, n), 0.0)  # 90% shared accounts
    now_a = then_a * rng.uniform(0.5, 1.3, n) * (rng.random(n) > 0.1)
    now_b = np.where(then_b > 0, now_a * rng.uniform(0.9, 1.1, n), 0.0)
    low, high = brief.ratio_difference_interval(now_a, then_a, now_b, then_b)
    diff = now_a.sum() / then_a.sum() - now_b.sum() / then_b.sum()
    assert low < diff < high
    picks = rng.integers(0, n, size=(2000, n))
    boot = now_a[picks].sum(1) / then_a[picks].sum(1) - now_b[picks].sum(1) / then_b[picks].sum(1)
    # 2,000 resamples estimate the bootstrap's standard error to about 1.6%; the delta method's linearisation
    # adds a few percent at 800 lognormal accounts: 10% apart would mean a wrong formula, not noise
    assert (high - low) / 2 / 1.959964 == pytest.approx(boot.std(ddof=1), rel=0.10)
    # identical cohorts: no difference and no spread; too few accounts: no interval
    same = brief.ratio_difference_interval(now_a, then_a, now_a, then_a)
    assert same == pytest.approx((0.0, 0.0), abs=1e-15)
    assert brief.ratio_difference_interval([1.0], [1.0], [1.0], [2.0]) == (None, None)


# --- the cards ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("change, low, high, higher_better, exact, tone", [
    (-0.005, -0.013, 0.003, False, False, "noise"),   # churn down, interval holds 0
    (-0.005, -0.009, -0.001, False, False, "better"),  # churn down for sure
    (0.004, 0.001, 0.007, False, False, "worse"),
    (0.006, 0.001, 0.011, True, False, "better"),     # GRR up
    (-583.0, None, None, True, True, "worse"),        # ARR down (exact)
    (0.006, None, None, True, False, "flat"),         # no interval, not exact: not coloured
    (0.0, None, None, True, True, "flat"),
])
def test_a_change_is_coloured_only_outside_noise(change, low, high, higher_better, exact, tone):
    assert brief_words.change_class(change, low, high, higher_better, exact) == tone


def _manifest(series: dict, notebooks: list[dict], month: str = "2026-10") -> dict:
    return {"month": month, "generated_at": "2026-11-02T06:00:00+00:00", "adhoc": None, "brief": series,
            "data": {"source": "demo.duckdb", "fingerprint": "f00", "coverage": {"partial_month": False},
                     "quality": [{"table": "accounts", "rows_read": 10, "rows_used": 10, "rows_rejected": 0}]},
            "notebooks": notebooks}


def _entry(name: str, summary: dict | None, status: str = "ok", error: str | None = None) -> dict:
    return {"notebook": name, "status": status, "seconds": 12.3, "html": f"{name}.html", "parameters": {},
            "error": error, "summary": summary or {}}


def test_each_card_prints_its_series_last_point(series, churn_result):
    cards = {c["key"]: c for c in brief_words.number_cards(series, _manifest(series, []), {})}
    summary = churn_result.summary()
    assert cards["logo_churn"]["value"] == pct(summary["logo_churn_rate"])
    assert cards["grr_12m"]["value"] == pct(summary["grr_12m"])
    assert cards["nrr_12m"]["value"] == pct(summary["nrr_12m"])
    assert cards["arr"]["value"] == money(series["arr"]["value"][-1], compact=True)
    for key in ("logo_churn", "grr_12m", "nrr_12m", "arr"):
        assert cards[key]["series"][-1] == series[key]["value"][-1], key
        assert "on September" in cards[key]["change"]
    assert cards["arr_at_risk"]["value"] is None and "not run" in cards["arr_at_risk"]["why"]


def test_sparkline_draws_the_values_and_breaks_at_gaps():
    svg = index.sparkline([1.0, 2.0, None, 2.0, 3.0], "worse", "x", [f"2026-0{i}" for i in range(1, 6)], str,
                          width=100, height=30)
    assert svg.count("<polyline") == 2, "a month with no value breaks the line"
    # the last value is the highest: its dot sits at the top padding, in the colour of a worse change
    assert f'<circle cx="97.0" cy="3.0" r="3" fill="{style.WORSE}"/>' in svg, "worse: the charts' colour for worse"
    assert index.sparkline([None, 1.0], "flat", "x", ["2026-01", "2026-02"], str) == ""


# --- one sentence per report ---------------------------------------------------------------------------------

SUMMARIES = {
    "00_data_overview": {"kpis": [{"name": "MRR at month end", "value": 1717570.0, "display": "$1,717,570"},
                                  {"name": "Paying accounts", "value": 3158, "display": "3,158"}],
                         "data_quality": {"rows_read": 3713867, "rows_used": 3713867, "rows_rejected": 0}},
    "01_churn_decomposition": {"logo_churn_rate": 0.022446, "logo_churn_ci": [0.017775, 0.028309],
                               "nrr_12m": 0.949143, "grr_12m": 0.784035, "window_months": 3,
                               "change_driver": {"segment": "SMB · monthly", "total_effect": 0.00196,
                                                 "total_change": -0.00079, "total_ci": [-0.0024, 0.0063]}},
    "02_onboarding_survival": {"overall": {"survival_12m": 0.7122}, "ttv_buckets_days": [30, 90],
                               "fast_value_hazard_ratio": {"hazard_ratio": 0.6839, "lower": 0.5764, "upper": 0.8114}},
    "03_churn_drivers": {"arr_at_risk": 781149.6, "arr": 20610840.0, "horizon_days": 90, "red_accounts": 566,
                         "paying_accounts": 3158, "backtest": {"gbm": {"auc": 0.8402}}},
    "04_uplift_experiments": {
        "experiments": [{"experiment_id": "exp_a", "status": "ended 2026-09"},
                        {"experiment_id": "exp_b", "status": "running"}],
        "kpis": [{"name": "Proactive CSM outreach: 182-day retention", "experiment_id": "exp_a",
                  "value": 0.0529, "display": "+5.3 pt (95% CI 2.7–7.8 pt)"},
                 {"name": "Onboarding webinar: 90-day retention", "experiment_id": "exp_b",
                  "value": 0.01, "display": "+1.0 pt (95% CI −2.0 to +4.0 pt)"}]},
    "05_churn_postmortem": {"churned_accounts": 69, "arr_lost": 225903.0, "new_alerts": 41,
                            "alerts_by_type": {"entered the top risk band": 41},
                            "warning_record": {"last_check": {"churns": 69, "churns_flagged": 55,
                                                              "false_alarm_rate": 657 / 2994}},
                            "alert_rule_audit": {"band": {"alerts_per_month": 33.6, "first_month": "2026-01",
                                                          "last_month": "2026-08"}}},
}
EXPECTED = {  # the numbers each headline must carry, as the summary holds them
    "00_data_overview": ["3,158 paying accounts", "$1,717,570"],
    "01_churn_decomposition": ["2.2%", "95% CI 1.8–2.8%", "NRR 94.9%", "GRR 78.4%"],
    "02_onboarding_survival": ["71%", "30 days", "0.68", "0.58–0.81"],
    "03_churn_drivers": ["$781k", "$20.6M", "90 days", "566 of 3,158", "AUC 0.84"],
    "04_uplift_experiments": ["2 experiments", "+5.3 pt (95% CI 2.7–7.8 pt)"],
    "05_churn_postmortem": ["69 accounts", "$226k", "55 of 69", "22% of the accounts that stayed"],
}


@pytest.mark.parametrize("name", sorted(SUMMARIES))
def test_each_headline_is_one_short_sentence_with_the_summarys_numbers(name):
    text = brief_words.report_headline(_entry(name, SUMMARIES[name]), MONTH)
    assert brief_words.word_count(text) <= brief_words.HEADLINE_WORDS, text
    assert text.endswith(".") and text.count(". ") == 0, text
    for piece in EXPECTED[name]:
        assert piece in text, (piece, text)
    assert not BAD_WORDS.search(text)


def test_a_detection_rate_never_reaches_the_index_without_its_false_alarm_comparator():
    """Issue 16.2: '55 of 69 churns were flagged' means little when 22% of the accounts that stayed were
    flagged too; without the comparator in the summary, the detection clause is left out."""
    summary = {**SUMMARIES["05_churn_postmortem"], "warning_record": {"last_check": {"churns": 69, "churns_flagged": 55}}}
    text = brief_words.report_headline(_entry("05_churn_postmortem", summary), MONTH)
    assert "69 accounts" in text and "55 of 69" not in text and "flagged" not in text, text


def test_a_headline_without_its_numbers_falls_back_in_words():
    long = " ".join(["word"] * 40)
    assert brief_words.report_headline(_entry("07_new", {"headline": "Short; and more."}), MONTH) == "Short; and more."
    assert brief_words.report_headline(_entry("07_new", {"headline": long + "; rest"}), MONTH).startswith("The report")
    assert brief_words.report_headline(_entry("07_new", {"headline": long, "kpis": [
        {"name": "Things", "display": "12"}]}), MONTH) == "Things: 12."
    failed = brief_words.report_headline(_entry("03_churn_drivers", None, "failed", "Boom"), MONTH)
    assert "failed" in failed
    thin = brief_words.report_headline(
        _entry("02_onboarding_survival", None, "not enough data", "6 months of history: a curve needs 12."), MONTH)
    assert thin == "Not enough data: 6 months of history: a curve needs 12."


def test_the_segment_that_moved_churn_reads_as_report_01_names_it():
    """01's summary keeps the machine cell ('SMB · monthly', cut by 'segment x billing_period'); the brief names
    it as 01's page does: unchanged in English, 'SMB · 月次' in Japanese; an older summary without the cut as is."""
    from csresearch import i18n

    cut = {**SUMMARIES["01_churn_decomposition"], "change_driver": {
        **SUMMARIES["01_churn_decomposition"]["change_driver"], "segmented_by": "segment x billing_period"}}
    manifest = _manifest({}, [_entry("01_churn_decomposition", cut)])
    assert "SMB · monthly moved it most" in brief_words.driver_sentence(manifest)
    with i18n.using("ja"):
        assert "SMB · 月次" in brief_words.driver_sentence(manifest)
        old = _manifest({}, [_entry("01_churn_decomposition", SUMMARIES["01_churn_decomposition"])])
        assert "SMB · monthly" in brief_words.driver_sentence(old)


def test_where_to_act_sentences():
    manifest = _manifest({}, [_entry(n, s) for n, s in SUMMARIES.items()])
    driver = brief_words.driver_sentence(manifest)
    assert driver == ("Logo churn moved −0.1 pt from May–Jul 2026 to Aug–Oct 2026; SMB · monthly moved it most, "
                      "+0.2 pt (95% CI −0.2 to +0.6 pt), within noise.")
    lines = brief_words.experiment_lines(manifest)
    assert lines == ["Proactive CSM outreach: 182-day retention: +5.3 pt (95% CI 2.7–7.8 pt), ended Sep 2026."]
    assert brief_words.alerts_sentence(manifest) == "41 accounts raised a new alert: 41 entered the top risk band."
    one = _manifest({}, [_entry("05_churn_postmortem", {**SUMMARIES["05_churn_postmortem"], "new_alerts": 1,
                                                         "alerts_by_type": {"entered the top risk band": 1}})])
    assert brief_words.alerts_sentence(one).startswith("1 account raised")


@pytest.mark.parametrize("statuses, line", [
    (["ok"] * 6, "All 6 reports are up to date."),
    (["ok"], "The report is up to date."),
    (["ok", "failed"], "1 of 2 reports failed."),
    (["ok", "stale", "not enough data"], "1 of 3 reports failed; 1 had not enough data."),
    (["ok", "not enough data"], "1 of 2 reports had not enough data."),
])
def test_status_line_plurals(statuses, line):
    manifest = _manifest({}, [_entry(f"0{i}_x", {}, s) for i, s in enumerate(statuses)])
    assert brief_words.status_line(manifest) == line


# --- the page ----------------------------------------------------------------------------------------------------

PAYLOAD = "<script>alert('CSR-XSS')</script>"


def _write_month(folder: Path, manifest: dict, at_risk: pd.DataFrame | None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if at_risk is not None:
        (folder / "03_churn_drivers").mkdir(exist_ok=True)
        at_risk.to_csv(folder / "03_churn_drivers" / "at_risk_accounts.csv", index=False)
    return index.write(folder / "index.html", manifest, [], folder.parent)


def _at_risk(with_owner: bool) -> pd.DataFrame:
    rows = pd.DataFrame({
        "rank": range(1, 8), "account_id": [f"A{i:05d}" for i in range(1, 8)],
        "account_name": [f"Acme {PAYLOAD}"] + [f"Account {i}" for i in range(2, 8)],
        "arr_at_risk": [13455.58, 10892.07, 7832.38, 7766.0, 7352.0, 100.0, 50.0],
        "top_reasons": ["renewal due in 1 month; low usage; low NPS"] * 7})
    if with_owner:  # the list as 03 writes it now: every paying account, the flagged ones marked
        rows["at_risk"] = [True, True, True, False, True, True, True]
        rows["csm_owner"] = ["Dana <b>Ito</b>", "", "Li", "Li", "Kim", "Kim", "Kim"]
        rows["renewal_date"] = ["2026-12-15", "", "2027-01-02", "2027-01-02", "2027-02-01", "", ""]
    return rows


def test_the_brief_on_a_full_month(tmp_path, series):
    summaries = {**SUMMARIES, "04_uplift_experiments": {**SUMMARIES["04_uplift_experiments"], "kpis": [
        {**SUMMARIES["04_uplift_experiments"]["kpis"][0], "name": f"Outreach {PAYLOAD}"}]}}
    manifest = _manifest(series, [_entry(n, s) for n, s in summaries.items()])
    reports = tmp_path / "reports"
    for earlier in ("2026-08", "2026-09", "2026-11"):  # a later month is not an earlier one
        (reports / earlier).mkdir(parents=True)
        (reports / earlier / "index.html").write_text("x")
    (reports / "lab").mkdir()
    (reports / "2026-09" / "03_churn_drivers").mkdir()
    (reports / "2026-09" / "03_churn_drivers" / "summary.json").write_text(json.dumps({"arr_at_risk": 700000.0}))
    page = _write_month(reports / "2026-10", manifest, _at_risk(with_owner=True))
    text = page.read_text()
    assert page.stat().st_size < 100_000
    assert "<script" not in text and "&lt;script&gt;" in text, "data values are escaped"
    assert "Dana &lt;b&gt;Ito&lt;/b&gt;" in text
    assert len(re.findall(r'href="[^"]*alerts\.csv"', text)) == 1, "one link to alerts.csv"
    assert "All 6 reports are up to date." in text
    assert not BAD_WORDS.search(re.sub(r"<[^>]+>", " ", text))
    # the call list: the top 5 flagged accounts by rank, owner and renewal date shown, a blank owner said in words
    assert "Account 5" in text and "Account 6" in text and "Account 4" not in text and "Account 7" not in text
    assert "15 Dec 2026" in text and "no owner" in text and "none on file" in text
    assert "carries no CSM owner" not in text
    # the change on last month of the model's ARR at risk reads last month's published summary
    assert "+$81k on September" in text
    # earlier months, newest first; not the later month, not the lab folder
    assert re.findall(r'href="\.\./(\d{4}-\d{2})/index.html"', text) == ["2026-09", "2026-08"]
    # six cards, four with a line whose last dot is the card's change colour
    assert text.count('class="num"') == 6 and text.count("<svg") == 4
    # no run times or notebook ids in the text a reader sees
    visible = re.sub(r"<[^>]+>", " ", text)
    assert "12.3" not in visible and "03_churn_drivers" not in visible.replace("03_churn_drivers/at_risk", "")


def test_the_brief_when_a_notebook_failed_and_a_table_is_missing(tmp_path, series):
    notebooks = [
        _entry("00_data_overview", SUMMARIES["00_data_overview"]),
        _entry("01_churn_decomposition", None, "failed", "RuntimeError: planted <b>failure</b>"),
        _entry("03_churn_drivers", SUMMARIES["03_churn_drivers"]),  # its at-risk CSV is missing
        _entry("04_uplift_experiments", None, "not enough data", "no experiments table: nothing to read out."),
        {**_entry("05_churn_postmortem", SUMMARIES["05_churn_postmortem"], "stale", "WorkerDied"),
         "failed_html": "05_churn_postmortem.failed.html", "kept_from": "2026-11-01T06:00:00+00:00"},
    ]
    page = _write_month(tmp_path / "reports" / "2026-10", _manifest(series, notebooks), None)
    text = page.read_text()
    visible = re.sub(r"<[^>]+>", " ", text)
    assert not BAD_WORDS.search(visible), BAD_WORDS.search(visible)
    assert "2 of 5 reports failed; 1 had not enough data." in text
    assert "The churn decomposition failed this month." in text, "the churn driver is said missing in words"
    assert "The experiments report had not enough data this month." in text
    assert "No accounts to list: the churn drivers report recorded no at-risk list this month." in text
    assert "05_churn_postmortem.failed.html" in text and "stale" in text
    assert "planted &lt;b&gt;failure&lt;/b&gt;" in text
    # the trend lines come from the data, so the churn numbers stand without report 01
    assert pct(series["logo_churn"]["value"][-1]) in text
    assert "No earlier month has been published" in text


def test_the_brief_without_trend_lines_or_an_owner_column(tmp_path):
    manifest = _manifest({"error": "no subscription with MRR above zero started by the end of 2026-10"},
                         [_entry("03_churn_drivers", SUMMARIES["03_churn_drivers"])])
    text = _write_month(tmp_path / "reports" / "2026-10", manifest, _at_risk(with_owner=False)).read_text()
    visible = re.sub(r"<[^>]+>", " ", text)
    assert visible.count("Not computed: no subscription with MRR above zero") == 4
    assert "The at-risk list carries no CSM owner or renewal date yet." in text
    assert "The report is up to date." in text
    assert not BAD_WORDS.search(visible)


def test_a_short_hand_made_history_by_hand():
    """Three accounts (conftest.tiny_tables): A1 pays 100 from 5 Jan 2024 to 5 Jun 2024; A2 pays 1,000 from
    1 Feb 2024; A3 pays 250 from 10 Mar 2024 plus 50 from 1 Apr to 1 Sep 2024. As of September 2024:
    ARR 12 x 1,250 = 15,000 (August: 12 x 1,300 = 15,600); June's logo churn 1 of 3 (A1), September's 0 of 2;
    nobody paid in September 2023, so there is no 12-month cohort, and the card says so."""
    from conftest import tiny_tables

    t = tiny_tables()
    series = brief.month_series(t["subscriptions"], t["accounts"], "2024-09")
    months = series["months"]
    assert months[0] == "2023-10" and months[-1] == "2024-09"
    logo = dict(zip(months, series["logo_churn"]["value"]))
    assert logo["2024-06"] == pytest.approx(1 / 3) and logo["2024-09"] == 0.0 and logo["2023-10"] is None
    assert series["arr"]["value"][-2:] == [15600.0, 15000.0] and series["arr"]["change"] == -600.0
    assert series["grr_12m"]["value"] == [None] * 12 and "September 2023" in series["grr_12m"]["why"]
    cards = {c["key"]: c for c in brief_words.number_cards(series, _manifest(series, [], "2024-09"), {})}
    assert cards["grr_12m"]["value"] is None
    assert cards["grr_12m"]["why"] == ("no account was paying at the end of September 2023, "
                                       "so there is no 12-month cohort")
    assert cards["logo_churn"]["value"] == "0.0%" and cards["logo_churn"]["tone"] == "flat"
    assert cards["arr"]["change"] == "−$600 net on August" and cards["arr"]["tone"] == "worse"
    json.dumps(series)


# --- the brief in Japanese and yen ---------------------------------------------------------------------------

# what may stay in Latin letters on a Japanese page: acronyms, units, and the data's or the files' own names
LATIN_ALLOWED = re.compile(
    r"(?<![A-Za-z])(?:NRR|GRR|ARR|MRR|CSM|TTV|AUC|CI|pt)(?![A-Za-z])|\bA\d{5}\b|[\w.-]+\.(?:csv|json|duckdb|html)\b|"
    r"\d{4}-\d{2}-\d{2}T[\d:+]+|\bf00\b|\bWorkerDied\b|\bRuntimeError\b")

SUMMARIES_JA = {  # the summaries a Japanese run records: KPI names and displays in Japanese, names from the data
    **SUMMARIES,
    "00_data_overview": {"kpis": [{"key": "mrr", "name": "月末MRR", "value": 206108400.0, "display": "206,108,400円"},
                                  {"key": "paying_accounts", "name": "有料顧客数", "value": 3158, "display": "3,158社"}],
                         "data_quality": {"rows_read": 3713867, "rows_used": 3713860, "rows_rejected": 7}},
    "01_churn_decomposition": {**SUMMARIES["01_churn_decomposition"],
                               "change_driver": {**SUMMARIES["01_churn_decomposition"]["change_driver"],
                                                 "segment": "中小企業 · 月額"}},
    "03_churn_drivers": {**SUMMARIES["03_churn_drivers"], "arr_at_risk": 93740000.0, "arr": 2473300800.0},
    "04_uplift_experiments": {**SUMMARIES["04_uplift_experiments"], "kpis": [
        {**k, "name": name, "display": display} for k, name, display in zip(
            SUMMARIES["04_uplift_experiments"]["kpis"],
            ("CSMからの能動的アプローチ：182日継続率", "オンボーディングウェビナー：90日継続率"),
            ("+5.3pt（95%信頼区間 2.7–7.8pt）", "+1.0pt（95%信頼区間 −2.0～+4.0pt）"))]},
    "05_churn_postmortem": {**SUMMARIES["05_churn_postmortem"], "arr_lost": 27110000.0},
}


def _at_risk_ja() -> pd.DataFrame:
    return pd.DataFrame({
        "rank": range(1, 7), "account_id": [f"A{i:05d}" for i in range(1, 7)],
        "account_name": ["株式会社リンクス", "合同会社協和建設", "", "有限会社松風", "株式会社若葉", "株式会社常盤"],
        "at_risk": [True] * 6, "csm_owner": ["高橋 美咲", "", "鈴木 亮", "清水 由佳", "高橋 結衣", "小林 陽菜"],
        "renewal_date": ["2026-12-13", "", "2027-02-02", "2027-01-07", "", ""],
        "billing_period": ["annual", "monthly", "annual", "annual", "annual", "annual"],
        "arr_at_risk": [1614670.0, 1307048.0, 939885.0, 931904.0, "", 100.0],
        "top_reasons": ["更新まで1か月; シートあたりイベント数 1.30（標準 3.50）"] * 6})


@pytest.fixture()
def japanese():
    """Japanese words and yen for the test, English and dollars again after it (the process's settings)."""
    from csresearch import i18n, text

    before_language, before_currency = i18n.get_language(), text.currency()
    i18n.set_language("ja")
    text.use_locale("ja", "JPY")
    yield
    i18n.set_language(before_language)
    text.use_locale(before_language, before_currency)


def _seen(page: str) -> str:
    """The text a reader sees or hears: the body's text and the charts' titles and labels."""
    body = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.S)
    labels = " ".join(re.findall(r'(?:aria-label|title)="([^"]*)"', body))
    return re.sub(r"<[^>]+>", " ", body) + " " + labels


def _english_left(seen: str) -> list[str]:
    return re.findall(r"[A-Za-z]{2,}", LATIN_ALLOWED.sub(" ", seen))


def test_the_brief_in_japanese_and_yen(tmp_path, series, japanese):
    reports = tmp_path / "reports"
    (reports / "2026-09" / "03_churn_drivers").mkdir(parents=True)
    (reports / "2026-09" / "index.html").write_text("x")
    (reports / "2026-09" / "03_churn_drivers" / "summary.json").write_text(json.dumps({"arr_at_risk": 90000000.0}))
    manifest = _manifest(series, [_entry(n, s) for n, s in SUMMARIES_JA.items()])
    page = _write_month(reports / "2026-10", manifest, _at_risk_ja())
    text = page.read_text()
    seen = _seen(text)
    assert '<html lang="ja">' in text
    assert "$" not in seen, "yen, never dollars"
    assert _english_left(seen) == [], "every word of the page from the Japanese catalog"
    assert not BAD_WORDS.search(seen)
    assert page.stat().st_size < 100_000, "the embedded font subset keeps the page small"
    # the page's words, and numbers in yen the summaries hold (compact forms in 万 and 億)
    for said in ("カスタマーサクセス月次サマリー — 2026年10月", "6件のレポートはすべて最新です。", "今月のアクション",
                 "解約率（2026年10月）", "9月比", "解約リスクのあるARR（今後90日）", "9,374万円",
                 "9月のレポート比 +374万円",  # 93.74M − 90.00M yen = 3.74M = 374万
                 "更新日", "担当未設定", "未登録", "月額契約（期間なし）", "スコアなし",
                 "41社が高リスク帯に入りました", "2026年1月～8月の月平均 34件",
                 "2026年10月末時点で有料顧客3,158社、MRRは206,108,400円。3,713,867行中7行を除外。",
                 "2026年10月の解約率は2.2%（95%信頼区間 1.8–2.8%）。12か月コホートはNRR 94.9%、GRR 78.4%。",
                 "ARR 24.7億円のうち9,374万円が90日以内に解約する見込み。3,158社中566社がレッド。バックテストのAUCは0.84。",
                 "2026年10月に69社が解約し、ARR 2,711万円を失いました。",
                 "解約した69社中55社は事前に検知済み（継続顧客での検知率は22%）。",
                 "最も大きく動かしたのは中小企業 · 月額で、+0.2pt（95%信頼区間 −0.2～+0.6pt、誤差の範囲内）です。",
                 "CSMからの能動的アプローチ：182日継続率：+5.3pt（95%信頼区間 2.7–7.8pt）（2026年9月終了）。",
                 "2026年9月"):  # the earlier month's link
        assert said in seen, said


def test_the_brief_in_japanese_when_reports_failed_or_lack_data(tmp_path, japanese):
    notebooks = [
        _entry("01_churn_decomposition", None, "failed", "RuntimeError: 計算に失敗しました"),
        _entry("03_churn_drivers", SUMMARIES_JA["03_churn_drivers"]),  # its at-risk CSV is missing
        _entry("04_uplift_experiments", None, "not enough data", "実験テーブルがありません。読み出す結果がありません。"),
        {**_entry("05_churn_postmortem", SUMMARIES_JA["05_churn_postmortem"], "stale", "WorkerDied"),
         "failed_html": "05_churn_postmortem.failed.html", "kept_from": "2026-11-01T06:00:00+00:00"},
    ]
    manifest = _manifest({"error": "2026年10月末までに開始した、MRRが0より大きい契約がありません"}, notebooks)
    manifest["data"]["coverage"] = {"partial_month": True, "last": "2026-10-20"}
    text = _write_month(tmp_path / "reports" / "2026-10", manifest, None).read_text()
    seen = _seen(text)
    assert "$" not in seen and _english_left(seen) == [] and not BAD_WORDS.search(seen)
    for said in ("途中月：データは2026年10月のうち2026年10月20日までです。", "4件中2件のレポートが失敗。1件はデータ不足。",
                 "算出できません：2026年10月末までに開始した",
                 "解約の分解レポートの今月の実行は失敗しました。",
                 "データ不足：実験テーブルがありません。",
                 "リストに載せる顧客はいません：今月の解約要因レポートにリスク顧客リストがありません。",
                 "前回正常に作成されたレポート（2026年11月1日）を表示しています。", "失敗の内容",
                 "今月の実行は失敗しました。表示できる正常なレポートはありません。",
                 "このフォルダーに公開済みの過去の月はありません。", "前回分", "失敗"):
        assert said in seen, said


def test_the_brief_in_english_reads_the_same_manifest_in_english(tmp_path, series):
    """The same Japanese-world manifest in an English run: the page's own words are English again (the data's
    names stay as they are), so the language is the run's, not the data's."""
    manifest = _manifest(series, [_entry(n, s) for n, s in SUMMARIES_JA.items()])
    text = _write_month(tmp_path / "reports" / "2026-10", manifest, _at_risk_ja()).read_text()
    assert '<html lang="en">' in text and "Customer success brief — October 2026" in text
    assert "All 6 reports are up to date." in text and "カスタマーサクセス" not in text


@pytest.mark.slow
def test_the_runner_writes_a_japanese_run_s_brief_in_japanese_and_yen(tmp_path, monkeypatch):
    """A run with language=ja and currency=JPY (one trivial notebook, so it is quick): the runner sets the
    catalog's language and the money's currency before it computes the trend lines and writes the index."""
    import shutil
    import sys

    import yaml

    from conftest import ROOT, SMALL, world_path
    from csresearch import i18n, text
    from csresearch.report.run import run_month

    sys.path.insert(0, str(ROOT / "tools"))
    from new_notebook import write as write_notebook

    root = tmp_path / "project"
    (root / "notebooks").mkdir(parents=True)
    shutil.copytree(ROOT / "params", root / "params")
    write_notebook(root / "notebooks" / "97_quiet.ipynb", [
        ("params", "data = None\nmonth = None\noutput_dir = None\nlanguage = None\ncurrency = None"),
        ("code", "pass"),
    ])
    settings = yaml.safe_load((root / "params" / "defaults.yml").read_text())
    settings["run"]["notebooks"] = ["97_quiet"]
    (root / "params" / "defaults.yml").write_text(yaml.safe_dump(settings))
    monkeypatch.chdir(root)
    before_language, before_currency = i18n.get_language(), text.currency()
    try:
        ok, folder = run_month(month="2026-10", data=str(world_path(**SMALL, locale="ja")), root=root,
                               reports_dir=root / "reports",
                               overrides={"language": "ja", "currency": "JPY"}, progress=lambda _: None)
    finally:  # the run sets this process's language and currency: give the next test English and dollars
        i18n.set_language(before_language)
        text.use_locale(before_language, before_currency)
    assert ok
    page = (folder / "index.html").read_text()
    seen = _seen(page)
    assert '<html lang="ja">' in page and "カスタマーサクセス月次サマリー — 2026年10月" in seen
    assert "解約率（2026年10月）" in seen and "9月比" in seen and "円" in seen
    assert "$" not in seen, "yen, never dollars"
    manifest = json.loads((folder / "manifest.json").read_text())
    # the data's path and the notebook's own name (no title known for it) are names, not words to translate
    names = seen.replace(manifest["data"]["source"], " ").replace("97_quiet", " ")
    assert _english_left(names) == [], _english_left(names)
    arr = manifest["brief"]["arr"]["value"][-1]
    from csresearch.text import money as money_of

    with i18n.using("ja"):
        text.use_locale("ja", "JPY")
        try:
            assert money_of(arr, compact=True) in seen, "the ARR card in yen, as the series holds it"
        finally:
            text.use_locale(before_language, before_currency)


def test_no_catalog_call_hides_inside_an_f_string():
    """Babel's extractor reads an f-string (Python 3.11) as one string token: a ``_("...")`` inside one never
    reaches the catalog, so ``tools/i18n.py check`` cannot see it missing and the page keeps it in English."""
    import ast

    from conftest import ROOT

    hidden = []
    report = ROOT / "src" / "csresearch" / "report"
    for path in (report / "index.py", report / "brief.py", report / "brief_words.py"):  # the brief's modules
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.JoinedStr):
                hidden += [f"{path.name}:{call.lineno}" for call in ast.walk(node) if isinstance(call, ast.Call)
                           and isinstance(call.func, ast.Name) and call.func.id in ("_", "ngettext", "pgettext")
                           and call.args and isinstance(call.args[0], ast.Constant)]
    assert hidden == []


def _contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two #rrggbb colours."""
    def luminance(colour: str) -> float:
        rgb = [int(colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_change_colours_mean_what_the_charts_mean_and_can_be_read():
    """Dots: the charts' WORSE / BETTER / NEUTRAL; the change's 12.5 px words: the same hue, at least 4.5:1 on the
    card's #fafafa (WCAG AA for small text)."""
    assert index.TONE == {"better": style.BETTER, "worse": style.WORSE, "noise": style.NEUTRAL, "flat": style.NEUTRAL}
    for tone in ("better", "worse", "noise"):
        colour = re.search(r"\.%s\b[^{]*\{ color: (#[0-9A-Fa-f]{6}); \}" % tone, index._CSS).group(1)
        assert _contrast(colour, "#fafafa") >= 4.5, (tone, colour)
    assert _contrast(style.BETTER, "#fafafa") < 4.5, "why the words take the dark shade: the chart colour is too light"
