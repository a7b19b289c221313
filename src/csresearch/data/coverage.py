"""Which dates the data covers: from its first record to the last day it is known to be complete.

An export nobody cleaned ends where it ends: mid-month, or months before today. Every run works out
the date the data covers to (the latest record of any table that records activity, or a declared
``data_as_of``), takes the last month it covers completely as the default report month, and refuses
a month it does not cover (unless a partial month is asked for, and then says so on every page).
Scheduled end dates in the future are not records of anything and do not count.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ..errors import ParameterError
from ..period import month_end

# the date each table records (subscription end dates are left out: they may be scheduled ahead)
RECORD_DATES = {
    "accounts": "created_at",
    "subscriptions": "start_date",
    "usage_events": "event_time",
    "onboarding": "achieved_at",
    "support_tickets": "created_at",
    "cs_activities": "occurred_at",
    "surveys": "answered_at",
    "experiments": "assigned_at",
    "churn_reasons": "churn_date",
}
# tables that record activity every day a business runs: one that stops well before the others
# means the export of that table was cut short
ACTIVITY = ("usage_events", "support_tickets", "cs_activities", "surveys")
STOPS_EARLY_DAYS = 31


@dataclass(frozen=True)
class Coverage:
    """The data's first and last record dates, what the last date came from, and per table."""

    first: pd.Timestamp
    last: pd.Timestamp
    source: str                      # "usage_events.event_time" or "data_as_of"
    tables: pd.DataFrame = field(default_factory=pd.DataFrame)   # table, rows, date_column, first, last, stops_early

    def covers(self, month: pd.Period) -> bool:
        """Whether every day of ``month`` is covered."""
        return self.last >= month_end(month)

    @property
    def last_complete_month(self) -> pd.Period:
        """The last month covered to its last day."""
        month = self.last.to_period("M")
        return month if self.covers(month) else month - 1

    def check(self, month: pd.Period, partial_month: bool = False) -> None:
        """:class:`ParameterError` with one sentence when ``month`` is not covered by the data."""
        if month_end(month) < self.first.normalize():
            raise ParameterError(
                f"{month.strftime('%B %Y')} is before the data starts ({self.first.date()}): choose a month from "
                f"{self.first.to_period('M').strftime('%B %Y')} to {self.last_complete_month.strftime('%B %Y')}")
        if self.covers(month):
            return
        if month.to_timestamp() > self.last:
            raise ParameterError(
                f"{month.strftime('%B %Y')} is after the data ends: it covers to {self.last.date()} ({self.source}); "
                f"the last complete month is {self.last_complete_month.strftime('%B %Y')}")
        if not partial_month:
            raise ParameterError(
                f"the data covers to {self.last.date()} ({self.source}), so {month.strftime('%B %Y')} is not complete: "
                f"run {self.last_complete_month.strftime('%B %Y')}, declare data_as_of if the export is complete, or "
                "ask for a partial month with -p partial_month=true")


def _date(value) -> pd.Timestamp | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).normalize()


def coverage(con, tables: list[str], data_as_of: str | pd.Timestamp | None = None) -> Coverage:
    """The coverage of the contract tables held in ``con`` (a DuckDB connection or a routed one)."""
    rows = []
    for name in tables:
        column = RECORD_DATES.get(name)
        if column is None:
            continue
        count, first, last = con.execute(
            f'SELECT count(*), min("{column}"), max("{column}") FROM "{name}"').fetchone()
        rows.append({"table": name, "rows": int(count), "date_column": column, "first": _date(first),
                     "last": _date(last)})
    frame = pd.DataFrame(rows, columns=["table", "rows", "date_column", "first", "last"])
    dated = frame.dropna(subset=["last"])
    if dated.empty:
        raise ParameterError("the data holds no dated record (accounts.created_at, subscriptions.start_date...)")
    latest = dated.loc[dated["last"].idxmax()]
    first = pd.Timestamp(dated["first"].min())
    last, source = pd.Timestamp(latest["last"]), f"{latest['table']}.{latest['date_column']}"
    if data_as_of is not None:
        declared = pd.Timestamp(data_as_of).normalize()
        if declared < last:
            raise ParameterError(
                f"data_as_of {declared.date()} is before the data's latest record ({last.date()}, {source})")
        last, source = declared, "data_as_of"
    frame["stops_early"] = frame["table"].isin(ACTIVITY) & frame["last"].notna() & (
        frame["last"] < last - pd.Timedelta(days=STOPS_EARLY_DAYS))
    return Coverage(first=first, last=last, source=source, tables=frame)
