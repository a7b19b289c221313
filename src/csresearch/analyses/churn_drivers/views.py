"""Display tables of the churn-drivers report: the result's tables with readable column headers and
values written by :mod:`csresearch.text` (the CSVs beside the report keep the machine columns and
every row). Headers and words are marked for the message catalog (context "churn drivers", so a short
English header here never clashes with another report's); machine values (billing period, touch tier,
health band) are shown through :func:`.words.value_label`."""

from __future__ import annotations

from typing import Any, Callable

import pandas as pd

from ...core import features as feat
from ...core.health import _short
from ...i18n import _, ngettext, pgettext
from ...text import day, interval, money, month_label, num, number, pct
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
            out.append(f"{number(v, digits)}{suffix}" + words.paren(f"{interval(lo, hi, 'number', digits)}{suffix}"))
        elif c is not None and r is not None:
            out.append(f"{number(v, digits)}{suffix}" + words.paren(words.no_interval(int(c), int(r))))
        else:
            out.append(f"{number(v, digits)}{suffix}")
    return out


def _digits(*values: float) -> int:
    """Decimals that suit a metric's size (as :func:`csresearch.text.num` chooses them): none from
    100 up, one from 10, two below."""
    largest = max((abs(float(v)) for v in values if pd.notna(v)), default=0.0)
    return 0 if largest >= 100 else 1 if largest >= 10 else 2


def renewal_text(d: pd.DataFrame) -> pd.Series:
    """``15 Jan 2027 (in 45 days)``; a monthly plan: ``monthly plan (any month end)``; an unknown
    billing period: ``billing period unknown``."""
    def one(date, days, period) -> str:
        if pd.notna(date):
            when = (_("today") if int(days) == 0 else
                    ngettext("in {n} day", "in {n} days", int(days)).format(n=f"{int(days):,}"))
            return day(date) + words.paren(when)
        if str(period) == "monthly":
            return _("monthly plan (any month end)")
        if str(period) in ("unknown", "", "nan"):
            return _("billing period unknown")
        return _("{period}: no date").format(period=words.value_label("billing_period", period))
    return pd.Series([one(a, b, c) for a, b, c in zip(d["renewal_date"], d["days_to_renewal"], d["billing_period"])],
                     index=d.index, dtype=object)


def _name(d: pd.DataFrame) -> pd.Series:
    return d["account_name"].where(d["account_name"].notna(), d["account_id"])


def at_risk_display(at_risk: pd.DataFrame, rows: int = 25, owner: bool = True, triggers: bool = True) -> pd.DataFrame:
    """The call list as shown; without a model (no probability column) the health score's columns only.
    ``owner``, ``triggers``: with the CSM owner and the health triggers (an owner's own list leaves
    both out: the owner is its heading, the triggers are in the full list and the CSVs)."""
    d = at_risk.head(rows)
    band = words.value_labels("health_band", d["health_band"])
    health = [_("{score} {band}").format(score=number(v, 0), band=b) if pd.notna(v) else b
              for v, b in zip(d["health_score"], band)]
    out = {"#": d["rank"], pgettext("churn drivers", "account"): _name(d),
           pgettext("churn drivers", "account ID"): d["account_id"]}
    if owner:
        out[pgettext("churn drivers", "CSM owner")] = d["csm_owner"].map(words.owner_label)
    out.update({pgettext("churn drivers", "segment"): d["segment"],
                pgettext("churn drivers", "ARR"): _each(d["arr"], money),
                pgettext("churn drivers", "renewal"): renewal_text(d)})
    out[pgettext("churn drivers", "at risk")] = d["at_risk"].map({True: pgettext("churn drivers", "yes"),
                                                                  False: pgettext("churn drivers", "no")})
    if "churn_probability" in d:
        out.update({pgettext("churn drivers", "churn risk"): _each(d["churn_probability"], lambda p: pct(p, 0)),
                    pgettext("churn drivers", "ARR at risk"): _each(d["arr_at_risk"], money),
                    pgettext("churn drivers", "why (model)"): d["top_reasons"]})
    out[pgettext("churn drivers", "health")] = pd.Series(health, index=d.index, dtype=object)
    if triggers:
        out[pgettext("churn drivers", "health triggers")] = d["health_triggers"].map(words.none_label)
    out[pgettext("churn drivers", "playbook")] = d["playbook"].map(words.playbook_name)
    if "suggested_touch_tier" in d:
        out[pgettext("churn drivers", "touch tier now → suggested")] = (
            words.value_labels("touch_tier", d["touch_tier"].astype(str)) + " → "
            + words.value_labels("touch_tier", d["suggested_touch_tier"]))
    else:
        out[pgettext("churn drivers", "touch tier")] = words.value_labels("touch_tier", d["touch_tier"])
    return pd.DataFrame(out)


def playbooks_legend(*tables: pd.DataFrame) -> str:
    """The playbooks the shown rows name, each spelled out once (markdown)."""
    plays = pd.unique(pd.concat([t["playbook"] for t in tables if len(t)], ignore_index=True)) if any(
        len(t) for t in tables) else []
    parts = [words.playbook_parts(p) for p in plays]
    lines = ["- " + _("**{name}**: {what}").format(name=name, what=what) for name, what in parts if name]
    return (_("**Playbooks** named above:") + "\n" + "\n".join(lines)) if lines else ""


def owners_display(owners: pd.DataFrame, model: bool) -> pd.DataFrame:
    out = {pgettext("churn drivers", "CSM owner"): owners["csm_owner"].map(words.owner_label),
           pgettext("churn drivers", "accounts"): owners["accounts"],
           pgettext("churn drivers", "at risk"): owners["at_risk_accounts"],
           pgettext("churn drivers", "ARR"): _each(owners["arr"], money)}
    if model:
        out[pgettext("churn drivers", "ARR at risk")] = _each(owners["arr_at_risk"], money)
    out.update({pgettext("churn drivers", "renewals due"): owners["renewals_due"],
                pgettext("churn drivers", "ARR renewing"): _each(owners["arr_renewing"], money),
                pgettext("churn drivers", "file"): owners["file"]})
    return pd.DataFrame(out)


def owner_display(rows: pd.DataFrame, shown: int) -> pd.DataFrame:
    """One owner's list as shown: the call list's columns without the owner, segment, health triggers
    and touch tiers (each owner's section stays short; the owner's CSV has every column)."""
    out = at_risk_display(rows, shown, owner=False, triggers=False)
    return out.drop(columns=[c for c in out if c in (pgettext("churn drivers", "touch tier now → suggested"),
                                                     pgettext("churn drivers", "touch tier"),
                                                     pgettext("churn drivers", "segment"))])


def renewal_weeks(renewals: pd.DataFrame) -> pd.DataFrame:
    """The renewals calendar by week (Monday): contracts, ARR renewing, at risk, ARR at risk, riskiest."""
    if renewals.empty:
        return pd.DataFrame()
    key = "arr_at_risk" if "arr_at_risk" in renewals else "arr"
    rows = []
    for week, d in renewals.groupby("week_of", sort=True):
        risky = d[d["at_risk"]]
        top = risky.sort_values(key, ascending=False).iloc[0] if len(risky) else None
        row = {pgettext("churn drivers", "month"): month_label(pd.Period(d["renewal_date"].min(), "M")),
               pgettext("churn drivers", "week of"): day(week), pgettext("churn drivers", "renewals"): len(d),
               pgettext("churn drivers", "ARR renewing"): money(float(d["arr"].sum())),
               pgettext("churn drivers", "at risk"): int(len(risky))}
        if "arr_at_risk" in d:
            row[pgettext("churn drivers", "ARR at risk")] = money(float(d["arr_at_risk"].sum()))
        row[pgettext("churn drivers", "riskiest at-risk renewal (owner)")] = (
            (top["account_name"] if pd.notna(top["account_name"]) else top["account_id"])
            + words.paren(words.owner_label(top["csm_owner"])) if top is not None else _("none at risk"))
        rows.append(row)
    return pd.DataFrame(rows)


def at_risk_renewals(renewals: pd.DataFrame, rows: int) -> tuple[pd.DataFrame, int]:
    """About ``rows`` at-risk renewals spread over the whole window, soonest first: every one when they
    fit, else the ``per_week`` with the most ARR at risk (health score, lowest first, without a model) in
    each week, ``per_week`` = rows // weeks but at least one. Returns them and ``per_week`` (0: all shown)."""
    risky = renewals[renewals["at_risk"]]
    if len(risky) <= rows:
        return risky, 0
    per_week = max(1, rows // max(1, risky["week_of"].nunique()))
    key, ascending = ("arr_at_risk", False) if "arr_at_risk" in risky else ("health_score", True)
    top = risky.sort_values([key, "account_id"], ascending=[ascending, True]).groupby("week_of").head(per_week)
    return risky.loc[sorted(top.index)], per_week  # the calendar's order: soonest first


def renewals_display(renewals: pd.DataFrame, rows: int) -> pd.DataFrame:
    """The at-risk renewals shown (:func:`at_risk_renewals`), soonest first."""
    d = at_risk_renewals(renewals, rows)[0]
    out = {pgettext("churn drivers", "renewal date"): d["renewal_date"].map(day),
           pgettext("churn drivers", "account"): _name(d), pgettext("churn drivers", "account ID"): d["account_id"],
           pgettext("churn drivers", "CSM owner"): d["csm_owner"].map(words.owner_label),
           pgettext("churn drivers", "ARR"): _each(d["arr"], money)}
    if "churn_probability" in d:
        out.update({pgettext("churn drivers", "churn risk"): _each(d["churn_probability"], lambda p: pct(p, 0)),
                    pgettext("churn drivers", "ARR at risk"): _each(d["arr_at_risk"], money)})
    out.update({pgettext("churn drivers", "health"): words.value_labels("health_band", d["health_band"]),
                pgettext("churn drivers", "playbook"): d["playbook"].map(words.playbook_name)})
    return pd.DataFrame(out)


def drivers_display(drivers: pd.DataFrame, rows: int = 12) -> pd.DataFrame:
    d = drivers.head(rows)
    return pd.DataFrame({
        "#": d["rank"], pgettext("churn drivers", "driver"): d["label"],
        pgettext("churn drivers", "moves with"): d["members"].map(
            lambda m: _(", ").join(_short(feat.describe(x)) for x in m.split(", ")) if m else ""),
        pgettext("churn drivers", "AUC lost (95% CI)"): _value_ci(d["importance"], d["importance_low"],
                                                                  d["importance_high"], 3),
        pgettext("churn drivers", "what it means"): d["statement"],
    })


def backtest_display(metrics: pd.DataFrame) -> pd.DataFrame:
    def ci(k: str, decimals: int, suffix: str = "") -> list[str]:
        return _value_ci(metrics[k], metrics[k + "_low"], metrics[k + "_high"], decimals, suffix,
                         metrics["churners"], metrics["test_accounts"])

    def tested_on(label: str) -> str:
        if label == "pooled":
            return _("all of them (pooled)")
        if label.startswith("fold"):
            found = label.split(maxsplit=1)
            return _("fold {n}").format(n=found[1]) if len(found) == 2 else label
        return day(label)
    return pd.DataFrame({
        pgettext("churn drivers", "tested on"): metrics["test_date"].map(tested_on),
        pgettext("churn drivers", "model"): metrics["model"].map(words.model_name),
        pgettext("churn drivers", "accounts"): metrics["test_accounts"],
        pgettext("churn drivers", "churned"): metrics["churners"],
        pgettext("churn drivers", "churn rate"): metrics["churn_rate"].map(pct),
        "AUC": ci("auc", 2), "PR-AUC": ci("pr_auc", 2),
        pgettext("churn drivers", "top-decile lift"): ci("top_decile_lift", 1, words.times()),
        "Brier": ci("brier", 3),
    })


def profile_display(profile: pd.DataFrame, rows: int = 15) -> pd.DataFrame:
    d = profile.head(rows)
    return pd.DataFrame({
        pgettext("churn drivers", "metric"): d["label"],
        pgettext("churn drivers", "loyal (median)"): d["loyal_median"].map(num),
        pgettext("churn drivers", "churned (median)"): d["churned_median"].map(num),
        pgettext("churn drivers", "difference in means (95% CI)"): _value_ci(d["difference"], d["difference_low"],
                                                                             d["difference_high"]),
        pgettext("churn drivers", "standardised difference"): _each(d["standardised_difference"],
                                                                    lambda v: number(v, 2)),
    })


def expansion_display(expansion: pd.DataFrame, rows: int = 20) -> pd.DataFrame:
    d = expansion.head(rows)
    return pd.DataFrame({
        "#": d["rank"], pgettext("churn drivers", "account"): d["account_name"].fillna(d["account_id"]),
        pgettext("churn drivers", "segment"): d["segment"],
        pgettext("churn drivers", "ARR"): _each(d["arr"], money),
        pgettext("churn drivers", "expansion chance"): _each(d["expansion_probability"], lambda p: pct(p, 0)),
        pgettext("churn drivers", "expected expansion ARR"): _each(d["expected_expansion_arr"], money),
        pgettext("churn drivers", "seats in use"): _each(d["seat_utilisation"], lambda p: pct(p, 0)),
        pgettext("churn drivers", "health"): words.value_labels("health_band", d["health_band"]),
        pgettext("churn drivers", "why (model)"): d["top_reasons"],
        pgettext("churn drivers", "suggested play"): d["suggested_play"],
    })


# ---- the tables as the notebook shows them (None: the section has nothing to show) -----------------
def at_risk(result) -> Table:
    return Table(at_risk_display(result.at_risk, result.settings.at_risk_rows_shown), words.at_risk_caption(result),
                 max_rows=result.settings.at_risk_rows_shown)


def call_list(result) -> list:
    """The call list's blocks: the table and the playbooks it names (the sentence opens the report)."""
    shown = result.at_risk.head(result.settings.at_risk_rows_shown)
    return [at_risk(result), playbooks_legend(shown)]


def owners(result) -> list:
    """"My accounts": the owners' table, then per owner a heading, a sentence and the first rows, and
    the playbooks those rows name."""
    if result.owners.empty:
        return []
    shown = result.settings.owner_rows_shown
    blocks: list = [words.owners_sentence(result),
                    Table(owners_display(result.owners, result.has_model), words.owners_caption(result),
                          max_rows=max(40, len(result.owners)))]
    for owner, rows in result.owner_lists.items():
        blocks += [words.owner_heading(owner), words.owner_sentence(result, owner),
                   Table(owner_display(rows, shown), None, max_rows=shown)]
    blocks.append(playbooks_legend(*(rows.head(shown) for rows in result.owner_lists.values())))
    return blocks


def renewals(result) -> list:
    """The renewals calendar: the sentence, the weeks, the at-risk renewals soonest first."""
    blocks: list = [words.renewals_sentence(result)]
    if result.renewals.empty:
        return blocks
    shown = result.settings.renewal_rows_shown
    blocks.append(Table(renewal_weeks(result.renewals), words.renewal_weeks_caption(result)))
    if result.renewals["at_risk"].any():
        table = renewals_display(result.renewals, shown)
        blocks.append(Table(table, words.renewals_caption(result, len(table), at_risk_renewals(result.renewals,
                                                                                                shown)[1]),
                            max_rows=len(table)))
    return blocks


def drivers(result) -> Table | None:
    if result.drivers.empty:
        return None
    return Table(drivers_display(result.drivers), _("Drivers, biggest first (all in drivers.csv)"))


def backtest(result) -> Table | None:
    if result.backtest is None:
        return None
    caption = (_("Model check by test date and model (95% CI)") if result.check_kind == "time-ordered" else
               _("Model check by fold of accounts and model (95% CI)"))
    return Table(backtest_display(result.backtest.metrics), caption)


def profile(result) -> Table | None:
    if result.profile.empty:
        return None
    return Table(profile_display(result.profile), _("Loyal vs churned accounts, largest standardised differences first"))


def expansion(result) -> Table | None:
    if result.expansion_skipped:
        return None
    return Table(expansion_display(result.expansion), _("Top 20 expansion candidates (every account in "
                                                        "expansion_candidates.csv)"))
