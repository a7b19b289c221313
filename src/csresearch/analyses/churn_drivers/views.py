"""Display tables of the churn-drivers report: the result's tables with readable column headers and
number formats (the CSVs beside the report keep the machine columns and every row)."""

from __future__ import annotations

import pandas as pd

from ...core import features as feat
from ...core.health import _short
from ...text import num
from ..base import Table
from . import words

AT_RISK_FORMATS = {"ARR": "${:,.0f}", "churn risk": "{:.0%}", "ARR at risk": "${:,.0f}"}
EXPANSION_FORMATS = {"ARR": "${:,.0f}", "expansion chance": "{:.0%}", "expected expansion ARR": "${:,.0f}",
                     "seats in use": "{:.0%}"}


def at_risk_display(at_risk: pd.DataFrame, rows: int = 25) -> pd.DataFrame:
    d = at_risk.head(rows)
    return pd.DataFrame({
        "#": d["rank"], "account": d["account_name"].fillna(d["account_id"]), "segment": d["segment"],
        "ARR": d["arr"], "churn risk": d["churn_probability"], "ARR at risk": d["arr_at_risk"],
        "health": d["health_score"].round(0).astype("Int64").astype(str) + " " + d["health_band"],
        "why (model)": d["top_reasons"], "health triggers": d["health_triggers"],
        "touch tier now → suggested": d["touch_tier"].astype(str) + " → " + d["suggested_touch_tier"],
        "playbook": d["playbook"],
    })


def drivers_display(drivers: pd.DataFrame, rows: int = 12) -> pd.DataFrame:
    d = drivers.head(rows)
    return pd.DataFrame({
        "#": d["rank"], "driver": d["label"],
        "moves with": d["members"].map(lambda m: ", ".join(_short(feat.describe(x)) for x in m.split(", ")) if m else ""),
        "AUC lost (95% CI)": [f"{i:.3f} ({lo:.3f} to {hi:.3f})" for i, lo, hi in
                              zip(d["importance"], d["importance_low"], d["importance_high"])],
        "what it means": d["statement"],
    })


def backtest_display(metrics: pd.DataFrame) -> pd.DataFrame:
    def ci(r, k, fmt):
        return f"{fmt.format(r[k])} ({fmt.format(r[k + '_low'])}-{fmt.format(r[k + '_high'])})"
    return pd.DataFrame([{
        "test date": r["test_date"], "model": r["model"], "accounts": r["test_accounts"], "churned": r["churners"],
        "churn rate": f"{r['churn_rate']:.1%}", "AUC": ci(r, "auc", "{:.2f}"), "PR-AUC": ci(r, "pr_auc", "{:.2f}"),
        "top-decile lift": ci(r, "top_decile_lift", "{:.1f}x"), "Brier": ci(r, "brier", "{:.3f}"),
    } for _, r in metrics.iterrows()])


def profile_display(profile: pd.DataFrame, rows: int = 15) -> pd.DataFrame:
    d = profile.head(rows)
    return pd.DataFrame({
        "metric": d["label"], "loyal (median)": d["loyal_median"].map(num), "churned (median)": d["churned_median"].map(num),
        "difference in means (95% CI)": [f"{num(x)} ({num(lo)} to {num(hi)})" for x, lo, hi in
                                         zip(d["difference"], d["difference_low"], d["difference_high"])],
        "standardised difference": d["standardised_difference"].round(2),
    })


def expansion_display(expansion: pd.DataFrame, rows: int = 20) -> pd.DataFrame:
    d = expansion.head(rows)
    return pd.DataFrame({
        "#": d["rank"], "account": d["account_name"].fillna(d["account_id"]), "segment": d["segment"],
        "ARR": d["arr"], "expansion chance": d["expansion_probability"], "expected expansion ARR": d["expected_expansion_arr"],
        "seats in use": d["seat_utilisation"], "health": d["health_band"], "why (model)": d["top_reasons"],
        "suggested play": d["suggested_play"],
    })


# ---- the tables as the notebook shows them --------------------------------------------------------
def at_risk(result) -> Table:
    return Table(at_risk_display(result.at_risk, result.settings.at_risk_rows_shown), words.at_risk_caption(result),
                 AT_RISK_FORMATS)


def drivers(result) -> Table:
    return Table(drivers_display(result.drivers), "Drivers, biggest first (all in drivers.csv)")


def backtest(result) -> Table:
    return Table(backtest_display(result.backtest.metrics), "Backtest by test date and model (95% CI)")


def profile(result) -> Table:
    return Table(profile_display(result.profile), "Loyal vs churned accounts, largest standardised differences first")


def expansion(result) -> Table:
    return Table(expansion_display(result.expansion), "Top 20 expansion candidates (every account in "
                 "expansion_candidates.csv)", EXPANSION_FORMATS)
