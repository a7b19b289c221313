"""Display tables of the churn-drivers report: the result's tables with readable column headers and
values written by :mod:`csresearch.text` (the CSVs beside the report keep the machine columns and
every row)."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pandas as pd

from ...core import features as feat
from ...core.health import _short
from ...text import day, interval, money, num, number, pct
from ..base import Table
from . import words


def _each(values: pd.Series, fmt: Callable[[Any], str]) -> pd.Series:
    """``fmt`` (a :mod:`csresearch.text` formatter) on every present value; a missing one stays missing
    (the table shows it as a dash)."""
    return values.map(fmt).where(values.notna(), None)


def _value_ci(values: pd.Series, lows: pd.Series, highs: pd.Series, decimals: int | None = None,
              suffix: str = "", churners: pd.Series | None = None, rows: pd.Series | None = None) -> list[str]:
    """``0.850 (0.830–0.870)``: each value with its interval, ``suffix`` after both; ``decimals`` digits
    (None: as many as the row's size needs, :func:`_digits`). A row without an interval says why
    (``churners`` and ``rows`` given) or shows the value alone."""
    out = []
    n = len(values)
    churners = churners if churners is not None else pd.Series([None] * n)
    rows = rows if rows is not None else pd.Series([None] * n)
    for v, lo, hi, c, r in zip(values, lows, highs, churners, rows):
        digits = _digits(v, lo, hi) if decimals is None else decimals
        if pd.isna(v):
            out.append("")
        elif pd.notna(lo) and pd.notna(hi):
            out.append(f"{number(v, digits)}{suffix} ({interval(lo, hi, 'number', digits)}{suffix})")
        elif c is not None and r is not None:
            out.append(f"{number(v, digits)}{suffix} ({words.no_interval(int(c), int(r))})")
        else:
            out.append(f"{number(v, digits)}{suffix}")
    return out


def _digits(*values: float) -> int:
    """Decimals that suit a metric's size (as :func:`csresearch.text.num` chooses them): none from
    100 up, one from 10, two below."""
    largest = max((abs(float(v)) for v in values if pd.notna(v)), default=0.0)
    return 0 if largest >= 100 else 1 if largest >= 10 else 2


def at_risk_display(at_risk: pd.DataFrame, rows: int = 25) -> pd.DataFrame:
    """The at-risk list as shown; without a model (no probability column) the health score's columns only."""
    d = at_risk.head(rows)
    health = np.where(d["health_score"].notna(),
                      d["health_score"].map(lambda v: number(v, 0)) + " " + d["health_band"], d["health_band"])
    out = {"#": d["rank"], "account": d["account_name"].fillna(d["account_id"]), "segment": d["segment"],
           "ARR": _each(d["arr"], money)}
    if "churn_probability" in d:
        out.update({"churn risk": _each(d["churn_probability"], lambda p: pct(p, 0)),
                    "ARR at risk": _each(d["arr_at_risk"], money), "health": health,
                    "why (model)": d["top_reasons"], "health triggers": d["health_triggers"],
                    "touch tier now → suggested": d["touch_tier"].astype(str) + " → " + d["suggested_touch_tier"]})
    else:
        out.update({"health": health, "health triggers": d["health_triggers"], "touch tier": d["touch_tier"]})
    out["playbook"] = d["playbook"]
    return pd.DataFrame(out)


def drivers_display(drivers: pd.DataFrame, rows: int = 12) -> pd.DataFrame:
    d = drivers.head(rows)
    return pd.DataFrame({
        "#": d["rank"], "driver": d["label"],
        "moves with": d["members"].map(lambda m: ", ".join(_short(feat.describe(x)) for x in m.split(", ")) if m else ""),
        "AUC lost (95% CI)": _value_ci(d["importance"], d["importance_low"], d["importance_high"], 3),
        "what it means": d["statement"],
    })


def backtest_display(metrics: pd.DataFrame) -> pd.DataFrame:
    def ci(k: str, decimals: int, suffix: str = "") -> list[str]:
        return _value_ci(metrics[k], metrics[k + "_low"], metrics[k + "_high"], decimals, suffix,
                         metrics["churners"], metrics["test_accounts"])

    def tested_on(label: str) -> str:
        if label == "pooled":
            return "all of them (pooled)"
        return label if label.startswith("fold") else day(label)
    return pd.DataFrame({
        "tested on": metrics["test_date"].map(tested_on), "model": metrics["model"],
        "accounts": metrics["test_accounts"],
        "churned": metrics["churners"], "churn rate": metrics["churn_rate"].map(pct),
        "AUC": ci("auc", 2), "PR-AUC": ci("pr_auc", 2), "top-decile lift": ci("top_decile_lift", 1, "x"),
        "Brier": ci("brier", 3),
    })


def profile_display(profile: pd.DataFrame, rows: int = 15) -> pd.DataFrame:
    d = profile.head(rows)
    return pd.DataFrame({
        "metric": d["label"], "loyal (median)": d["loyal_median"].map(num), "churned (median)": d["churned_median"].map(num),
        "difference in means (95% CI)": _value_ci(d["difference"], d["difference_low"], d["difference_high"]),
        "standardised difference": _each(d["standardised_difference"], lambda v: number(v, 2)),
    })


def expansion_display(expansion: pd.DataFrame, rows: int = 20) -> pd.DataFrame:
    d = expansion.head(rows)
    return pd.DataFrame({
        "#": d["rank"], "account": d["account_name"].fillna(d["account_id"]), "segment": d["segment"],
        "ARR": _each(d["arr"], money), "expansion chance": _each(d["expansion_probability"], lambda p: pct(p, 0)),
        "expected expansion ARR": _each(d["expected_expansion_arr"], money),
        "seats in use": _each(d["seat_utilisation"], lambda p: pct(p, 0)), "health": d["health_band"],
        "why (model)": d["top_reasons"],
        "suggested play": d["suggested_play"],
    })


# ---- the tables as the notebook shows them (None: the section has nothing to show) -----------------
def at_risk(result) -> Table:
    return Table(at_risk_display(result.at_risk, result.settings.at_risk_rows_shown), words.at_risk_caption(result))


def drivers(result) -> Table | None:
    if result.drivers.empty:
        return None
    return Table(drivers_display(result.drivers), "Drivers, biggest first (all in drivers.csv)")


def backtest(result) -> Table | None:
    if result.backtest is None:
        return None
    what = "by test date" if result.check_kind == "time-ordered" else "by fold of accounts"
    return Table(backtest_display(result.backtest.metrics), f"Model check {what} and model (95% CI)")


def profile(result) -> Table | None:
    if result.profile.empty:
        return None
    return Table(profile_display(result.profile), "Loyal vs churned accounts, largest standardised differences first")


def expansion(result) -> Table | None:
    if result.expansion_skipped:
        return None
    return Table(expansion_display(result.expansion), "Top 20 expansion candidates (every account in "
                 "expansion_candidates.csv)")
