"""Sentences and KPI text of the data overview, read from its result (in the run's language)."""

from __future__ import annotations

import pandas as pd

from ...i18n import N_, _, get_language, join_sentences, ngettext, pgettext
from ...text import day, money, month_label, pct
from ..base import Kpi, Section, Table, kpi
from .result import Result

SECTIONS = {
    "intro": Section("data-overview", N_("Data overview"), N_(
        "What data this month's reports stand on: which tables arrived, how many rows were usable, and the "
        "shape of the business."), level=1),
    "quality": Section("data-quality", N_("Data quality"), N_(
        "Every row read is either used or rejected with a reason: nothing is dropped silently.")),
    "coverage": Section("tables-and-date-coverage", N_("Tables and date coverage")),
    "mrr": Section("monthly-recurring-revenue", N_("Monthly recurring revenue"), N_(
        "Total MRR and paying accounts at each month end (the contract rule: subscriptions active on the "
        "month's last day).")),
    "attributes": Section("accounts-by-segment", N_("Accounts by segment, touch tier and region")),
}

# the account attributes counted in the overview, as a reader names them
ATTRIBUTE_TITLES = {
    "segment": N_("Accounts by segment"),
    "touch_tier": N_("Accounts by touch tier"),
    "region": N_("Accounts by region"),
}

def table_name(table: str) -> str:
    """``usage_events`` -> usage events (ja: 利用イベント); ``usage_events.event_time`` -> usage events.event time
    (ja: 利用イベントのevent_time); a table the contract does not name, in words."""
    if "." in table:
        name, column = table.split(".", 1)
        return _("{table}.{column}").format(table=table_name(name), column=_column(column))
    names = {
        "accounts": pgettext("contract table", "accounts"), "subscriptions": pgettext("contract table", "subscriptions"),
        "usage_events": pgettext("contract table", "usage events"), "onboarding": pgettext("contract table", "onboarding"),
        "support_tickets": pgettext("contract table", "support tickets"),
        "cs_activities": pgettext("contract table", "CS activities"), "surveys": pgettext("contract table", "surveys"),
        "experiments": pgettext("contract table", "experiments"),
        "churn_reasons": pgettext("contract table", "churn reasons"),
    }
    return names.get(table, table.replace("_", " "))


def _column(column: str) -> str:
    """A column in a sentence: in words in English, its contract name where the language has no word for it."""
    return column.replace("_", " ") if get_language() == "en" else column


def section(key: str) -> Section:
    """A heading and its paragraph: ``nb.section(words.section("quality"))``."""
    return SECTIONS[key]


def _n(n: int) -> str:
    return f"{int(n):,}"


def headline(result: Result) -> str:
    """One sentence: how much data, how much of it usable, and where MRR stands."""
    month = month_label(result.month)
    if result.now.empty:
        return _("No subscription is active in {month}: check the report month against the data.").format(month=month)
    read, rejected = result.rows_read, result.rows_rejected
    if rejected == 0:
        usable = _("all usable")
    else:
        usable = _("{rejected} rejected ({share})").format(rejected=_n(rejected), share=pct(rejected / read, 2))
    values = dict(accounts=ngettext("{n} paying account", "{n} paying accounts", result.paying_accounts).format(
                      n=_n(result.paying_accounts)),
                  mrr=money(result.mrr), month=month,
                  rows=ngettext("{n} row", "{n} rows", read).format(n=_n(read)),
                  tables=ngettext("{n} table", "{n} tables", result.tables_read).format(n=_n(result.tables_read)),
                  usable=usable)
    growth = result.year_on_year_growth
    if growth is None:
        return _("{accounts} and {mrr} MRR at the end of {month}; {rows} read across {tables}, {usable}.").format(**values)
    if growth >= 0:
        text = _("{accounts} and {mrr} MRR at the end of {month}, up {growth} on a year earlier; {rows} read across "
                 "{tables}, {usable}.")
    else:
        text = _("{accounts} and {mrr} MRR at the end of {month}, down {growth} on a year earlier; {rows} read across "
                 "{tables}, {usable}.")
    return text.format(growth=pct(abs(growth), 0), **values)


def kpis(result: Result) -> list[Kpi]:
    return [
        # key: the same in every language, for the index and tests (the name is translated)
        kpi(_("MRR at month end"), result.mrr, money(result.mrr), key="mrr"),
        kpi(_("Paying accounts"), result.paying_accounts, _n(result.paying_accounts), key="paying_accounts"),
        kpi(_("Rows rejected"), result.rows_rejected,
            _("{rejected} of {read}").format(rejected=_n(result.rows_rejected), read=_n(result.rows_read)),
            key="rows_rejected"),
    ]


def trend_title(result: Result) -> str:
    return ngettext("MRR at month end, last {n} month", "MRR at month end, last {n} months",
                    result.trend_months).format(n=_n(result.trend_months))


def coverage(result: Result) -> str:
    """What dates the data covers, and which tables stop earlier than the others."""
    if result.covered_to is None:
        return ""
    text = _("The data covers to {day} (its latest record: {table}).").format(
        day=day(result.covered_to), table=table_name(result.covered_source))
    late = result.stops_early
    if late:
        table = result.coverage.set_index("table")
        parts = [_("{table} (last record {day})").format(table=table_name(name), day=day(table.loc[name, "last"]))
                 for name in late]
        listed = _(", ").join(parts)
        if len(parts) > 1:
            late_text = _("These tables stop a month or more earlier, so what they feed is missing for the latest "
                          "weeks: {tables}.")
        else:
            late_text = _("One table stops a month or more earlier, so what it feeds is missing for the latest "
                          "weeks: {tables}.")
        text = join_sentences(text, late_text.format(tables=listed))
    return text


def coverage_table(result: Result) -> Table:
    """The coverage table with a reader's headers (the CSV keeps the machine names)."""
    shown = result.coverage.copy()
    if "stops_early" in shown:
        shown["stops_early"] = shown["stops_early"].map(lambda v: _("yes") if bool(v) and not pd.isna(v) else "")
    headers = {"table": _("table"), "rows": _("rows"), "date_column": _("date column"), "first": _("first record"),
               "last": _("last record"), "stops_early": _("stops early")}
    shown = shown.rename(columns=headers)
    return Table(shown, formats={headers["rows"]: "{:,}"})


def paying_accounts_label() -> str:
    return _("paying accounts")


def paying_accounts_axis() -> str:
    return _("paying accounts (dashed)")


def accounts_axis() -> str:
    return _("accounts")


def attribute_title(column: str) -> str:
    """'Accounts by segment'; an attribute without a title reads its code name in words."""
    if column in ATTRIBUTE_TITLES:
        return _(ATTRIBUTE_TITLES[column])
    return _("Accounts by {attribute}").format(attribute=column.replace("_", " "))
