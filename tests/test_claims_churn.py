"""Claims of the churn decomposition, re-derived from the CSVs written beside it (issue 16).

The notebook runs the way the monthly run does (papermill) on the small world; the demo world and a
few awkward shapes of issue 15's matrix are built without a kernel and their tables written and read
back as CSV. Every number the headline and each KPI quote is read back out of the text and compared,
at the precision printed, with the CSV row it claims to come from:

- the segment named is the one with the largest contribution (either sign) in
  churn_change_decomposition.csv, with that row's contribution, interval and rates;
- the rates quoted are churn_rates.csv's (the trailing window now and before, the month's rates);
- the change's interval is the Newcombe interval of the CSV's counts;
- NRR and GRR are net_retention_12m.csv's, whose columns add up, and equal a recomputation straight
  from the subscriptions (MRR on the two month ends, with pandas, not the package);
- the net MRR change is mrr_bridge.csv's.

A headline whose shape is not recognised fails the test: a claim nobody checks is how a wrong one
slips in.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import matrix_worlds as mw
from conftest import execute_notebook, world_path

pytestmark = pytest.mark.slow

NAME = "01_churn_decomposition"
MONTH = pd.Period("2026-10")
WINDOW = 3
DASH, MINUS = "\u2013", "\u2212"
NUM = r"(\d[\d,]*(?:\.\d+)?)"
SIGNED = rf"([+{MINUS}]?\d[\d,]*(?:\.\d+)?)"
INTERVAL = rf"{SIGNED}(?: to |{DASH}){SIGNED}"          # −0.9 to +1.6 / 2.0–3.8 / −0.5–−0.1 (pt)
PCT_INTERVAL = rf"{SIGNED}%?(?: to |{DASH}){SIGNED}%"   # 2.0–3.8% / −0.9% to +2.7%


def _value(text: str) -> float:
    return float(text.replace(",", "").replace(MINUS, "-").replace("+", ""))


def _decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


def shown_as(text: str, value: float, scale: float = 100.0) -> bool:
    """``text`` is ``value`` x ``scale`` rounded to the digits ``text`` prints."""
    return abs(_value(text) - value * scale) <= 0.5 * 10 ** -_decimals(text) + 1e-9


def read_tables(folder: Path) -> dict[str, pd.DataFrame]:
    tables = {p.stem: pd.read_csv(p) for p in folder.glob("*.csv")}
    for table in tables.values():
        for column in ("month", "cohort_month", "first_month"):
            if column in table:
                table[column] = table[column].astype(str)
    return tables


def mrr_on(subscriptions: pd.DataFrame, day: pd.Timestamp) -> pd.Series:
    """Account MRR on a day, by the contract's rule (start <= day < end), straight from the rows."""
    active = subscriptions[(subscriptions["start_date"] <= day)
                           & (subscriptions["end_date"].isna() | (subscriptions["end_date"] > day))]
    mrr = active.groupby("account_id")["mrr"].sum()
    return mrr[mrr > 0]


# --------------------------------------------------------------------------------------------------
# The checks
# --------------------------------------------------------------------------------------------------
def check_headline(headline: str, tables: dict[str, pd.DataFrame], month: pd.Period, window: int) -> str:
    """Re-derive every number of the headline; returns the shape it had (for the caller's records)."""
    from statsmodels.stats.proportion import confint_proportions_2indep

    rates = tables["churn_rates"].set_index(["month", "window_months"])
    now = rates.loc[(str(month), window)]
    head = re.match(rf"Logo churn (?:was|rose to|fell to|held at) {NUM}%", headline)
    assert head, headline
    assert shown_as(head.group(1), now["logo_churn_rate"]), (headline, now["logo_churn_rate"])
    ci = re.search(rf"\(95% CI {PCT_INTERVAL}\)", headline)
    assert ci and shown_as(ci.group(1), now["logo_churn_low"]) and shown_as(ci.group(2), now["logo_churn_high"])
    if "there is no earlier window" in headline:
        return "no earlier window"
    decomposition = tables.get("churn_change_decomposition", pd.DataFrame())
    logo = decomposition[decomposition["metric"] == "logo_churn"] if len(decomposition) else decomposition
    before_key = (str(month - window), window)
    if before_key in rates.index:               # the window before, as churn_rates.csv holds it
        assert logo["overall_before"].iloc[0] == pytest.approx(rates.loc[before_key, "logo_churn_rate"])
    assert logo["overall_after"].iloc[0] == pytest.approx(now["logo_churn_rate"])
    if "no paying account churned in either window" in headline:
        assert logo["events_before"].sum() == 0 and logo["events_after"].sum() == 0
        counts = re.search(rf"\({NUM} and {NUM} account-months at risk\)", headline)
        assert counts and (_value(counts.group(1)), _value(counts.group(2))) == (
            logo["base_before"].sum(), logo["base_after"].sum())
        return "no churn"
    change = logo["overall_after"].iloc[0] - logo["overall_before"].iloc[0]
    moved = re.search(rf"(?:, |\(){SIGNED} pt(?: on |, 95% CI)", headline)
    assert moved and shown_as(moved.group(1), change), (headline, change)
    low, high = confint_proportions_2indep(logo["events_after"].sum(), logo["base_after"].sum(),
                                           logo["events_before"].sum(), logo["base_before"].sum(),
                                           method="newcomb", compare="diff", alpha=0.05)
    change_ci = re.search(rf"95% CI of the change {INTERVAL} pt", headline)
    assert change_ci and shown_as(change_ci.group(1), low) and shown_as(change_ci.group(2), high), headline
    if re.search(rf"from {NUM}% in", headline):
        assert shown_as(re.search(rf"from {NUM}% in", headline).group(1), logo["overall_before"].iloc[0])
    # the segment named is the one with the largest contribution in the table printed below it
    lead = logo.loc[logo["total_effect"].abs().idxmax()]
    named = re.search(r"contribution was (.+?)'s, |came from (.+?), [+\u2212]|; (.+?) alone moved it |"
                      r"contribution, (.+?)'s, went against", headline)
    assert named, headline
    segment = next(g for g in named.groups() if g)
    assert segment == lead["segment"], (segment, lead["segment"], logo[["segment", "total_effect"]])
    others = [s for s in logo["segment"] if s != segment]
    assert not [s for s in others if s in headline.replace(segment, "")], headline
    part = headline[named.end():]
    contribution = re.search(rf"{SIGNED} pt \(95% CI {INTERVAL} pt\)", part)
    assert contribution, part
    for text, column in zip(contribution.groups(), ("total_effect", "total_low", "total_high")):
        assert shown_as(text, lead[column]), (column, text, lead[column])
    share = re.search(rf"{NUM}% of the (?:rise|fall) came from", headline)
    if share:
        assert shown_as(share.group(1), lead["total_effect"] / change), headline
    own = re.search(rf"its own churn rate (rose|fell) from {NUM}% to {NUM}%", part)
    base = re.search(rf"its share of the base (grew|shrank) from {NUM}% to {NUM}%", part)
    assert own or base, part
    if own:
        assert abs(lead["rate_effect"]) >= abs(lead["mix_effect"])
        assert (own.group(1) == "rose") == (lead["rate_effect"] > 0)
        assert shown_as(own.group(2), lead["rate_before"]) and shown_as(own.group(3), lead["rate_after"])
    else:
        assert abs(lead["mix_effect"]) > abs(lead["rate_effect"])
        assert shown_as(base.group(2), lead["share_before"]) and shown_as(base.group(3), lead["share_after"])
    return "named"


def check_kpis(kpis: list[dict], tables: dict[str, pd.DataFrame], month: pd.Period, window: int,
               subscriptions: pd.DataFrame) -> None:
    rates = tables["churn_rates"].set_index(["month", "window_months"])
    by_name = {k["name"]: k for k in kpis}
    short = month.strftime("%b %Y")
    for name, key, columns in (
        (f"Logo churn, {short}", (str(month), 1), ("logo_churn_rate", "logo_churn_low", "logo_churn_high")),
        (f"Logo churn, trailing {window} months", (str(month), window),
         ("logo_churn_rate", "logo_churn_low", "logo_churn_high")),
        (f"Gross revenue churn, {short}", (str(month), 1),
         ("gross_revenue_churn_rate", "gross_revenue_churn_low", "gross_revenue_churn_high")),
    ):
        k, row = by_name[name], rates.loc[key]
        assert k["value"] == pytest.approx(row[columns[0]]), name
        shown = re.match(rf"{NUM}%", k["display"])
        assert shown and shown_as(shown.group(1), row[columns[0]]), (name, k["display"])
        ci = re.search(rf"\(95% CI {PCT_INTERVAL}\)", k["display"])
        if ci:
            assert k["low"] == pytest.approx(row[columns[1]]) and k["high"] == pytest.approx(row[columns[2]])
            assert shown_as(ci.group(1), row[columns[1]]) and shown_as(ci.group(2), row[columns[2]]), k
        else:  # the interval's absence is said, and is true
            assert "no interval" in k["display"] and (pd.isna(row[columns[1]]) or row[columns[1]] == row[columns[2]])
    # gross revenue churn is the bridge's churn + contraction over starting MRR
    bridge = tables["mrr_bridge"].set_index("month").loc[str(month)]
    gross = -(bridge["churn"] + bridge["contraction"]) / bridge["starting_mrr"]
    assert by_name[f"Gross revenue churn, {short}"]["value"] == pytest.approx(gross)
    assert by_name[f"Net MRR change, {short}"]["value"] == pytest.approx(bridge["ending_mrr"] - bridge["starting_mrr"])
    # NRR and GRR: the 12-month cohort, from its CSV and straight from the subscriptions
    then_day, now_day = (month - 12).to_timestamp(how="end").normalize(), month.to_timestamp(how="end").normalize()
    then = mrr_on(subscriptions, then_day)
    now = mrr_on(subscriptions, now_day).reindex(then.index).fillna(0.0)
    retention = tables.get("net_retention_12m", pd.DataFrame())
    for name, truth in (("nrr", now.sum() / then.sum() if len(then) else np.nan),
                        ("grr", np.minimum(now, then).sum() / then.sum() if len(then) else np.nan)):
        k = by_name[f"{name.upper()}, 12-month cohort"]
        if not len(then):
            assert retention.empty and k["value"] is None and "no account paying in" in k["display"]
            continue
        row = retention.set_index("group").loc["all"]
        assert row["accounts_start"] == len(then) and row["starting_mrr"] == pytest.approx(then.sum())
        assert row["mrr_now"] == pytest.approx(now.sum())
        ratio = (row["mrr_now"] if name == "nrr" else row["retained_mrr"]) / row["starting_mrr"]
        assert row[name] == pytest.approx(ratio) and k["value"] == pytest.approx(truth), (name, k["value"], truth)
        shown = re.match(rf"{NUM}%", k["display"])
        assert shown and shown_as(shown.group(1), truth), k
        ci = re.search(rf"\(95% CI {PCT_INTERVAL}\)", k["display"])
        if ci:
            assert shown_as(ci.group(1), row[f"{name}_low"]) and shown_as(ci.group(2), row[f"{name}_high"]), k
            assert k["low"] == pytest.approx(row[f"{name}_low"]) and k["high"] == pytest.approx(row[f"{name}_high"])
            assert k["low"] <= k["value"] <= k["high"]
        else:
            assert "no interval" in k["display"], k


# --------------------------------------------------------------------------------------------------
# The small world, through the notebook
# --------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_run(small_world_path, tmp_path_factory):
    out = tmp_path_factory.mktemp("claims01")
    summary = execute_notebook(NAME, small_world_path, out)
    return summary, read_tables(out / NAME)


def test_headline_claims_on_the_small_world(small_run):
    summary, tables = small_run
    assert check_headline(summary["headline"], tables, MONTH, WINDOW) == "named"
    assert summary["change_driver"]["segment"] in summary["headline"]


def test_kpi_claims_on_the_small_world(small_run, small_dataset):
    summary, tables = small_run
    names = [k["name"] for k in summary["kpis"]]
    assert names == ["Logo churn, Oct 2026", "Logo churn, trailing 3 months", "Gross revenue churn, Oct 2026",
                     "NRR, 12-month cohort", "GRR, 12-month cohort", "Net MRR change, Oct 2026"]
    check_kpis(summary["kpis"], tables, MONTH, WINDOW, small_dataset.table("subscriptions"))
    # every estimate on the index carries its interval (the net MRR change is a count of money, exact)
    assert all("low" in k and "high" in k for k in summary["kpis"] if not k["name"].startswith("Net MRR"))
    assert summary["nrr_12m"] == pytest.approx(summary["kpis"][3]["value"])


# --------------------------------------------------------------------------------------------------
# The demo world and awkward shapes, without a kernel
# --------------------------------------------------------------------------------------------------
def built(ds, month: pd.Period, folder: Path):
    from csresearch.analyses.churn_decomposition import report, words

    result = report.build(ds, month, report.Settings())
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in result.tables().items():
        table.to_csv(folder / f"{name}.csv", index=False)
    return words.headline(result), [k.as_dict() for k in words.kpis(result)], read_tables(folder)


def test_claims_on_the_demo_world(demo_dataset, tmp_path):
    headline, kpis, tables = built(demo_dataset, MONTH, tmp_path)
    assert check_headline(headline, tables, MONTH, WINDOW) == "named"
    check_kpis(kpis, tables, MONTH, WINDOW, demo_dataset.table("subscriptions"))


SHAPES = [("core", 3, None), ("events", 6, None), ("all", 24, "no_churn"), ("all", 24, "everyone_churns"),
          ("all", 24, "single_account"), ("all", 24, "one_churn_date")]


@pytest.fixture(scope="module")
def base_tables() -> dict[str, pd.DataFrame]:
    import duckdb

    con = duckdb.connect(str(world_path(accounts=150, months=24, seed=5, end_month="2026-10")), read_only=True)
    tables = {t: con.table(t).df() for (t,) in con.execute("SHOW TABLES").fetchall()}
    con.close()
    return tables


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s[0]}-{s[1]}m" + (f"-{s[2]}" if s[2] else ""))
def test_claims_on_awkward_shapes(base_tables, shape, tmp_path):
    from csresearch.data import open_dataset

    tables_kind, months, scenario = shape
    cut, month = mw.cut(base_tables, months)
    shaped = mw.keep_tables(cut, tables_kind)
    if scenario:
        shaped = mw.scenario(shaped, scenario, month)
    ds = open_dataset(mw.write(shaped, tmp_path / "data"))
    headline, kpis, tables = built(ds, month, tmp_path / "out")
    kind = check_headline(headline, tables, month, WINDOW)
    if scenario in ("no_churn", "single_account"):
        assert kind == "no churn"
    check_kpis(kpis, tables, month, WINDOW, ds.table("subscriptions"))
