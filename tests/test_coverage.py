"""The dates the data covers decide which months can be reported (issue 15): the default month is the
last month the data covers completely, a month it does not cover is refused with one sentence, and a
partial month, asked for, counts no churn for subscriptions that simply stop at the export date."""

from __future__ import annotations

import pandas as pd
import pytest

from conftest import tiny_tables, write_tables
from csresearch.data import open_dataset
from csresearch.errors import ParameterError


def _export_ending(day: str, tmp_path):
    """The tiny world as an export taken on ``day``: one event that day, and A3's add-on stopping there."""
    tables = tiny_tables()
    events = tables["usage_events"]
    tables["usage_events"] = pd.concat([events, pd.DataFrame({
        "account_id": ["A2"], "user_id": ["u2"], "event_time": [pd.Timestamp(day) + pd.Timedelta(hours=9)],
        "event_name": ["login"], "quantity": [1.0]})], ignore_index=True)
    tables["subscriptions"].loc[3, "end_date"] = pd.Timestamp(day)
    return open_dataset(write_tables(tables, tmp_path / "export", fmt="parquet"))


def test_a_mid_month_export_covers_to_its_last_record_and_refuses_that_month(tmp_path):
    ds = _export_ending("2024-09-15", tmp_path)
    covered = ds.data_coverage()
    assert covered.last == pd.Timestamp("2024-09-15") and covered.source == "usage_events.event_time"
    assert covered.first == pd.Timestamp("2024-01-05")
    assert covered.last_complete_month == pd.Period("2024-08", "M")
    with pytest.raises(ParameterError, match=r"covers to 2024-09-15 .*September 2024 is not complete: run August 2024"):
        covered.check(pd.Period("2024-09", "M"))
    covered.check(pd.Period("2024-08", "M"))
    covered.check(pd.Period("2024-09", "M"), partial_month=True)  # asked for: allowed
    with pytest.raises(ParameterError, match="after the data ends"):
        covered.check(pd.Period("2024-11", "M"))
    with pytest.raises(ParameterError, match="before the data starts"):
        covered.check(pd.Period("2023-12", "M"))


def test_a_declared_data_as_of_extends_coverage_but_never_contradicts_the_data(tmp_path):
    ds = _export_ending("2024-09-15", tmp_path)
    assert ds.data_coverage("2024-09-30").last_complete_month == pd.Period("2024-09", "M")
    with pytest.raises(ParameterError, match="before the data's latest record"):
        ds.data_coverage("2024-09-01")


def test_future_end_dates_are_not_records(tmp_path):
    tables = tiny_tables()
    tables["subscriptions"].loc[1, "end_date"] = pd.Timestamp("2030-01-01")  # a scheduled end
    ds = open_dataset(write_tables(tables, tmp_path / "scheduled", fmt="parquet"))
    assert ds.data_coverage().last == pd.Timestamp("2024-04-01"), "the latest start date, not the scheduled end"


def test_a_partial_month_reads_subscriptions_stopping_at_the_export_as_running(tmp_path):
    ds = _export_ending("2024-09-15", tmp_path)
    cleared = ds.censor_subscriptions_at(pd.Timestamp("2024-09-15"))
    assert cleared == 1
    subs = ds.table("subscriptions").set_index("subscription_id")
    assert pd.isna(subs.loc["S4", "end_date"]) and subs.loc["S1", "end_date"] == pd.Timestamp("2024-06-05")


def test_an_activity_table_that_stops_early_is_flagged(tmp_path):
    tables = tiny_tables()
    tables["support_tickets"] = pd.DataFrame({
        "ticket_id": ["T1"], "account_id": ["A1"], "created_at": [pd.Timestamp("2024-01-10 10:00")],
        "resolved_at": [pd.NaT], "priority": ["low"], "category": ["billing"]})
    ds = open_dataset(write_tables(tables, tmp_path / "tickets", fmt="parquet"))
    flags = ds.data_coverage().tables.set_index("table")["stops_early"]
    assert bool(flags["support_tickets"]) and not bool(flags["usage_events"]) and not bool(flags["accounts"])
